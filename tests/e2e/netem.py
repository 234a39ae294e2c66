"""Impairing the media path inside the tests' private network namespace.

This kernel has no netem or prio queueing disciplines, so losses are made with nftables:
UDP packets (WebRTC media and its ICE checks) are dropped at random, or all of them for a
cut. The signalling WebSocket, the channel layer and the database use TCP or Unix sockets
and pass untouched.
"""

from __future__ import annotations

import subprocess
from contextlib import contextmanager

TABLE = "cartable_test"


def _nft(*args: str, check: bool = True):
    return subprocess.run(["nft", *args], check=check, capture_output=True)  # noqa: S603, S607


@contextmanager
def udp_loss(percent: int):
    """Drop ``percent`` % of UDP packets on loopback (100 cuts the media path)."""
    _nft("delete", "table", "inet", TABLE, check=False)
    _nft("add", "table", "inet", TABLE)
    # On the input hook: a packet dropped on output fails its sendto() and the browser
    # simply sends it again, so nothing would be lost.
    _nft("add", "chain", "inet", TABLE, "out", "{ type filter hook input priority 0; }")
    rule = ["meta", "l4proto", "udp"]
    if percent < 100:
        rule += ["numgen", "random", "mod", "100", "<", str(percent)]
    _nft("add", "rule", "inet", TABLE, "out", *rule, "drop")
    try:
        yield
    finally:
        _nft("delete", "table", "inet", TABLE, check=False)
