"""Short-lived TURN credentials (the TURN REST scheme, coturn's ``use-auth-secret``).

The server and coturn share a secret. A credential is ``username = "<expiry>:<id>"`` and
``password = base64(HMAC-SHA1(secret, username))``: coturn recomputes it and refuses it
after the expiry. Nothing is stored; the id names the session side, never a person.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from django.conf import settings


def turn_credentials(*, session_id: int, side: str, now: float | None = None) -> dict | None:
    """An RTCIceServer entry for the TURN relay, or None when no relay is configured."""
    config = settings.LIVE
    urls, secret = config["TURN_URLS"], config["TURN_SECRET"]
    if not urls or not secret:
        return None
    expiry = int((now if now is not None else time.time()) + config["TURN_TTL_SECONDS"])
    username = f"{expiry}:s{session_id}{side[0]}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return {
        "urls": urls,
        "username": username,
        "credential": base64.b64encode(digest).decode(),
    }


def ice_servers(*, session_id: int | None = None, side: str = "") -> list[dict]:
    """ICE servers for a client: STUN for anyone admitted, TURN only inside a live session."""
    servers: list[dict] = []
    stun = settings.LIVE["STUN_URLS"]
    if stun:
        servers.append({"urls": stun})
    if session_id is not None:
        turn = turn_credentials(session_id=session_id, side=side)
        if turn is not None:
            servers.append(turn)
    return servers
