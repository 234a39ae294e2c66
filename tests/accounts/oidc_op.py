"""Start and stop the test OpenID Connect provider (see ``oidc_provider``)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CALLBACK = "http://127.0.0.1/connexion/oidc/retour/"  # any port: RFC 8252 loopback rule
PROVIDER_PASSWORD = "mot-de-passe-du-fournisseur"  # noqa: S105


@dataclass(frozen=True)
class ProviderAccount:
    username: str
    email: str
    email_verified: bool = True


# The people the provider knows. The tests give cartable accounts to some of them.
KNOWN = ProviderAccount("marie", "Marie.Curie@example.org")
UNKNOWN = ProviderAccount("inconnu", "inconnu@example.org")
UNVERIFIED = ProviderAccount("pierre", "pierre.curie@example.org", email_verified=False)


class OidcProvider:
    client_id = "cartable-test"
    client_secret = "secret-du-client-cartable-de-test"  # noqa: S105

    def __init__(self, accounts=(KNOWN, UNKNOWN, UNVERIFIED)):
        self.accounts = list(accounts)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.tmp = tempfile.TemporaryDirectory(prefix="oidc-provider-")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.url}/o"

    def start(self) -> OidcProvider:
        spec = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "redirect_uri": CALLBACK,
            "users": [
                {
                    "username": account.username,
                    "email": account.email,
                    "email_verified": account.email_verified,
                    "password": PROVIDER_PASSWORD,
                }
                for account in self.accounts
            ],
        }
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "CARTABLE_"))
        }
        env.update(
            OIDC_PROVIDER_SPEC=json.dumps(spec),
            OIDC_PROVIDER_DB=str(Path(self.tmp.name) / "provider.sqlite3"),
            OIDC_PROVIDER_ISSUER=self.issuer,
            PYTHONPATH=str(ROOT),
        )
        fd = self.sock.fileno()
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "tests.accounts.oidc_provider", "--fd", str(fd)],
            cwd=ROOT,
            env=env,
            pass_fds=[fd],
        )
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 60.0) -> None:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + timeout
        discovery = f"{self.issuer}/.well-known/openid-configuration"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the OIDC provider exited ({self.process.returncode})")
            try:
                with opener.open(discovery, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the OIDC provider did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.sock.close()
        self.tmp.cleanup()

    def configure(self, settings) -> None:
        """Point the platform at this provider (``settings``: pytest-django's fixture)."""
        settings.OIDC_ISSUER = self.issuer
        settings.OIDC_OP_AUTHORIZATION_ENDPOINT = ""
        settings.OIDC_OP_TOKEN_ENDPOINT = ""
        settings.OIDC_OP_USER_ENDPOINT = ""
        settings.OIDC_OP_JWKS_ENDPOINT = ""
        settings.OIDC_RP_CLIENT_ID = self.client_id
        settings.OIDC_RP_CLIENT_SECRET = self.client_secret
        settings.OIDC_BUTTON_LABEL = "Se connecter avec le fournisseur de test"
