"""TURN REST credentials, as coturn's use-auth-secret checks them."""

import base64
import hashlib
import hmac

from cartable.live.turn import ice_servers, turn_credentials


def test_credentials_follow_the_turn_rest_scheme(settings):
    settings.LIVE = {
        **settings.LIVE,
        "TURN_URLS": ["turn:relay.example:3478"],
        "TURN_SECRET": "shared",
        "TURN_TTL_SECONDS": 600,
    }
    entry = turn_credentials(session_id=42, side="pupil", now=1_000_000)
    assert entry["username"] == "1000600:s42p"
    expected = hmac.new(b"shared", b"1000600:s42p", hashlib.sha1).digest()
    assert base64.b64decode(entry["credential"]) == expected


def test_no_relay_without_configuration_or_outside_a_session(settings):
    settings.LIVE = {**settings.LIVE, "TURN_URLS": [], "TURN_SECRET": ""}
    assert turn_credentials(session_id=1, side="class") is None
    settings.LIVE = {**settings.LIVE, "TURN_URLS": ["turn:relay.example"], "TURN_SECRET": "x"}
    assert ice_servers(session_id=None, side="class") == []
    assert len(ice_servers(session_id=1, side="class")) == 1
