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
    """coturn on 127.0.0.1: plain TURN on ``port`` (UDP and TCP); with ``tls`` (a
    certificate and key file, PEM) TURN over TLS on ``tls_port`` too. ``relay_ports`` is the
    range of the relayed addresses (the relay's side towards the peers)."""

    def __init__(
        self,
        port: int,
        *,
        production_peers: bool = False,
        tls: tuple[Path, Path] | None = None,
        tls_port: int | None = None,
        relay_ports: tuple[int, int] = (49152, 49999),
    ):
        self.port = port
        self.tls_port = tls_port if tls else None
        self.relay_ports = relay_ports
        self.secret = secrets.token_hex(16)
        self.dir = Path(tempfile.mkdtemp(prefix="coturn-"))
        config = self.dir / "turnserver.conf"
        # A test configuration: loopback only, and loopback peers allowed, which a
        # production relay must never do (docs/deploy.md has that configuration); with
        # ``production_peers`` the peer rules are production's, which must refuse them.
        peers = production_peer_rules() if production_peers else ["allow-loopback-peers"]
        if tls:
            cert, key = tls
            secure = [f"tls-listening-port={tls_port}", f"cert={cert}", f"pkey={key}", "no-dtls"]
        else:
            secure = ["no-tls", "no-dtls"]
        config.write_text(
            "\n".join(
                [
                    "listening-ip=127.0.0.1",
                    "relay-ip=127.0.0.1",
                    f"listening-port={port}",
                    f"min-port={relay_ports[0]}",
                    f"max-port={relay_ports[1]}",
                    "use-auth-secret",
                    f"static-auth-secret={self.secret}",
                    "realm=cartable.test",
                    *peers,
                    *secure,
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
        waiting = {port, *([tls_port] if tls else [])}
        while time.monotonic() < deadline and waiting:
            for each in list(waiting):
                with socket.socket() as sock:
                    if sock.connect_ex(("127.0.0.1", each)) == 0:
                        waiting.discard(each)
            time.sleep(0.05)
        if waiting:
            self.stop()
            raise RuntimeError(f"coturn did not start: {self.log()[-2000:]}")

    @property
    def urls(self) -> list[str]:
        return [
            f"turn:127.0.0.1:{self.port}?transport=udp",
            f"turn:127.0.0.1:{self.port}?transport=tcp",
        ]

    @property
    def tls_url(self) -> str:
        return f"turns:127.0.0.1:{self.tls_port}?transport=tcp"

    def log(self) -> str:
        path = self.dir / "turnserver.log"
        return path.read_text() if path.exists() else ""

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=5)


class TestAuthority:
    """A certificate authority made for one test, and the relay's certificate it signs
    (for 127.0.0.1, the address the tests' TURN URLs name). Nothing is trusted by default:
    the test's Chromium is told to accept it with ``--ignore-certificate-errors-spki-list``
    and the SPKI hashes below (base64 SHA-256 of the public keys)."""

    __test__ = False  # not a pytest class

    def __init__(self, directory: Path):
        import base64
        import datetime
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        now = datetime.datetime.now(datetime.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cartable test CA")])
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        pem = serialization.Encoding.PEM
        self.cert = directory / "relay.pem"  # the relay's certificate, then the CA's
        self.cert.write_bytes(cert.public_bytes(pem) + ca.public_bytes(pem))
        self.key = directory / "relay.key"
        self.key.write_bytes(
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )

        def spki(certificate) -> str:
            der = certificate.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            digest = hashes.Hash(hashes.SHA256())
            digest.update(der)
            return base64.b64encode(digest.finalize()).decode()

        self.spki_hashes = [spki(cert), spki(ca)]
