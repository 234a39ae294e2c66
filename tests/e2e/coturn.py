"""A real coturn relay for the tests, on this namespace's loopback."""

from __future__ import annotations

import secrets
import socket
import subprocess
import tempfile
import time
from pathlib import Path

TURN_BIN = "/usr/bin/turnserver"
DEPLOY_DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


def production_peer_rules() -> list[str]:
    """The peer rules of the production coturn configuration, read from docs/deploy.md so
    that what is documented is what is tested."""
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    block = text.split("A production coturn", 1)[1].split("```", 2)[1]
    rules = [
        line.strip()
        for line in block.splitlines()
        if line.strip().startswith(("denied-peer-ip=", "no-multicast-peers", "allow-"))
    ]
    assert any(rule.startswith("denied-peer-ip=127.") for rule in rules), rules
    assert not any(rule.startswith("allow-") for rule in rules), rules
    return rules


class Coturn:
    def __init__(self, port: int, *, production_peers: bool = False):
        self.port = port
        self.secret = secrets.token_hex(16)
        self.dir = Path(tempfile.mkdtemp(prefix="coturn-"))
        config = self.dir / "turnserver.conf"
        # A test configuration: loopback only, and loopback peers allowed, which a
        # production relay must never do (docs/deploy.md has that configuration); with
        # ``production_peers`` the peer rules are production's, which must refuse them.
        peers = production_peer_rules() if production_peers else ["allow-loopback-peers"]
        config.write_text(
            "\n".join(
                [
                    "listening-ip=127.0.0.1",
                    "relay-ip=127.0.0.1",
                    f"listening-port={port}",
                    "min-port=49152",
                    "max-port=49999",
                    "use-auth-secret",
                    f"static-auth-secret={self.secret}",
                    "realm=cartable.test",
                    *peers,
                    "no-tls",
                    "no-dtls",
                    "no-cli",
                    "fingerprint",
                    f"pidfile={self.dir / 'turnserver.pid'}",
                    f"log-file={self.dir / 'turnserver.log'}",
                    "simple-log",
                    "verbose",  # sessions, allocations and refusals in the log
                ]
            )
            + "\n"
        )
        self.process = subprocess.Popen(  # noqa: S603
            [TURN_BIN, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("coturn did not start")

    @property
    def urls(self) -> list[str]:
        return [
            f"turn:127.0.0.1:{self.port}?transport=udp",
            f"turn:127.0.0.1:{self.port}?transport=tcp",
        ]

    def log(self) -> str:
        path = self.dir / "turnserver.log"
        return path.read_text() if path.exists() else ""

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=5)
