"""How a person is recognised: by email and password, or by OpenID Connect."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from . import oidc
from .services import email_normalise

log = logging.getLogger("cartable.accounts")


def axes_username(request, credentials) -> str | None:
    """The name django-axes counts failures under: the address as it is compared.

    Without this, « Prof@… » and « prof@… » would be two accounts with five tries each.
    """
    # The typed address first: on success axes passes the account's internal username,
    # and the failures to forget were counted under what the person typed.
    username = None
    if request is not None and request.method == "POST":
        username = request.POST.get("username")
    if not username:
        username = (credentials or {}).get("username")
    return email_normalise(username) if username else None


class EmailBackend(ModelBackend):
    """Email address (any case) and password, for active accounts.

    The username stays Django's internal identifier; people never type it.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        email = email_normalise(username)
        if not email or "@" not in email or password is None:
            return None
        users = get_user_model()._default_manager.filter(email__iexact=email, is_active=True)
        user = users.first() if len(users[:2]) == 1 else None
        if user is None:
            # Hash anyway, so the time taken does not tell which addresses have an account.
            get_user_model()().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


class OidcBackend(OIDCAuthenticationBackend):
    """OpenID Connect (authorization code with PKCE), matching existing accounts only.

    mozilla-django-oidc does the protocol; this class adds what the ministry's services
    and our rules need: endpoints found by discovery, the ID token's issuer and audience
    checked, the UserInfo subject checked against the ID token's, a verified email
    required, and only active accounts matched. No account is ever created here.
    """

    def __init__(self, *args, **kwargs):
        # Django makes a backend object for every authenticate() and every session's
        # get_user(): read the provider's settings only when a callback arrives.
        self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        # Only the OIDC callback passes a nonce; a password sign-in never reaches the
        # provider, even with ?code=…&state=… in its address.
        if request is None or "nonce" not in kwargs or not oidc.enabled():
            return None
        provider = oidc.provider()
        self.OIDC_OP_TOKEN_ENDPOINT = provider.token_endpoint
        self.OIDC_OP_USER_ENDPOINT = provider.userinfo_endpoint
        self.OIDC_OP_JWKS_ENDPOINT = provider.jwks_endpoint
        self.OIDC_RP_CLIENT_ID = provider.client_id
        self.OIDC_RP_CLIENT_SECRET = provider.client_secret
        self.OIDC_RP_SIGN_ALGO = provider.sign_algo
        self.OIDC_RP_IDP_SIGN_KEY = None
        self._issuer = provider.issuer
        return super().authenticate(request, **kwargs)

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("OIDC: the ID token is not for this client")
        if self._issuer and payload.get("iss") != self._issuer:
            raise SuspiciousOperation("OIDC: the ID token comes from another issuer")
        if not payload.get("sub"):
            raise SuspiciousOperation("OIDC: the ID token names no subject")
        return payload

    def get_userinfo(self, access_token, id_token, payload):
        claims = super().get_userinfo(access_token, id_token, payload)
        # OpenID Connect Core 5.3.2: the UserInfo subject must be the ID token's.
        if claims.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("OIDC: UserInfo is about another subject")
        return claims

    def verify_claims(self, claims):
        # The provider must vouch for the address: it is what links the person to an
        # account made by an invitation.
        return bool(claims.get("email")) and claims.get("email_verified") is True

    def filter_users_by_claims(self, claims):
        email = email_normalise(claims.get("email"))
        if not email:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(email__iexact=email, is_active=True)

    def get_or_create_user(self, access_token, id_token, payload):
        user = super().get_or_create_user(access_token, id_token, payload)
        if user is None:
            log.info("OIDC sign-in refused: no active account has the provider's address")
        return user

    def create_user(self, claims):  # pragma: no cover - OIDC_CREATE_USER is off
        raise SuspiciousOperation("OIDC never creates accounts: they come from invitations")

    def get_user(self, user_id):
        # mozilla-django-oidc's own get_user forgets is_active: use Django's.
        return ModelBackend.get_user(self, user_id)
