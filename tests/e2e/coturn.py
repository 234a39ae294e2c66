"""A real coturn relay for the tests, on this namespace's loopback."""

from __future__ import annotations

import secrets
import socket
import subprocess
import tempfile
import time
from pathlib import Path

TURN_BIN = "/usr/bin/turnserver"


class Coturn:
    def __init__(self, port: int):
        self.port = port
        self.secret = secrets.token_hex(16)
        self.dir = Path(tempfile.mkdtemp(prefix="coturn-"))
        config = self.dir / "turnserver.conf"
        # A test configuration: loopback only, and loopback peers allowed, which a
        # production relay must never do (docs/deploy.md has that configuration).
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
                    "allow-loopback-peers",
                    "no-tls",
                    "no-dtls",
                    "no-cli",
                    "no-multicast-peers",
                    "fingerprint",
                    f"pidfile={self.dir / 'turnserver.pid'}",
                    f"log-file={self.dir / 'turnserver.log'}",
                    "simple-log",
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
