"""Where the OpenID Connect provider's endpoints are: from the settings or by discovery.

With ``OIDC_ISSUER`` only, the endpoints are read from the issuer's
``/.well-known/openid-configuration`` when first needed (not at start-up, so a provider
that is down never stops the platform) and kept an hour in the cache.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.cache import cache

DISCOVERY_CACHE_SECONDS = 3600


class OidcUnavailable(Exception):
    """The provider cannot be reached or answered something unusable."""


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_endpoint: str
    client_id: str
    client_secret: str
    sign_algo: str


def enabled() -> bool:
    """Whether sign-in through OpenID Connect is offered (read at each request)."""
    return bool(settings.OIDC_RP_CLIENT_ID)


def button_label() -> str:
    return settings.OIDC_BUTTON_LABEL


def _discover(issuer: str) -> dict:
    key = f"accounts:oidc-discovery:{issuer}"
    document = cache.get(key)
    if document is not None:
        return document
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise OidcUnavailable(f"discovery failed at {url}: {exc}") from exc
    # OpenID Connect Discovery 4.3: the document must name the issuer it was asked for.
    if not isinstance(document, dict) or document.get("issuer", "").rstrip("/") != issuer:
        raise OidcUnavailable(f"discovery at {url} names another issuer")
    needed = ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"]
    missing = [name for name in needed if not document.get(name)]
    if missing:
        raise OidcUnavailable(f"discovery at {url} lacks {', '.join(missing)}")
    cache.set(key, document, DISCOVERY_CACHE_SECONDS)
    return document


def provider() -> Provider:
    """The provider's endpoints and our client's credentials; raises ``OidcUnavailable``."""
    issuer = settings.OIDC_ISSUER.rstrip("/")
    explicit = {
        "authorization_endpoint": settings.OIDC_OP_AUTHORIZATION_ENDPOINT,
        "token_endpoint": settings.OIDC_OP_TOKEN_ENDPOINT,
        "userinfo_endpoint": settings.OIDC_OP_USER_ENDPOINT,
        "jwks_uri": settings.OIDC_OP_JWKS_ENDPOINT,
    }
    if issuer and not all(explicit.values()):
        discovered = _discover(issuer)
        explicit = {name: value or discovered[name] for name, value in explicit.items()}
    return Provider(
        issuer=issuer,
        authorization_endpoint=explicit["authorization_endpoint"],
        token_endpoint=explicit["token_endpoint"],
        userinfo_endpoint=explicit["userinfo_endpoint"],
        jwks_endpoint=explicit["jwks_uri"],
        client_id=settings.OIDC_RP_CLIENT_ID,
        client_secret=settings.OIDC_RP_CLIENT_SECRET,
        sign_algo=settings.OIDC_RP_SIGN_ALGO,
    )
