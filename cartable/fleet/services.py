"""Writes on kits, loans and device credentials."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.db import transaction
from django.utils import timezone

from .models import DeviceCredential, Kit, Loan


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def credential_issue(
    *, kind: str, loan: Loan | None = None, kit: Kit | None = None, label: str = "", by=None
) -> tuple[DeviceCredential, str]:
    """Create a credential and return it with its token, which is shown once and never stored."""
    secret = secrets.token_urlsafe(32)
    credential = DeviceCredential.objects.create(
        kind=kind, loan=loan, kit=kit, label=label[:80], secret_hash=_hash(secret), created_by=by
    )
    return credential, f"{credential.pk}.{secret}"


def credential_authenticate(token: str | None) -> DeviceCredential | None:
    """The live credential for ``token``, or None (unknown, malformed, forged or revoked)."""
    if not token or len(token) > 200 or "." not in token:
        return None
    pk, _, secret = token.partition(".")
    # ASCII digits only: str.isdigit() also accepts "²" and other Unicode digits, which int()
    # then rejects with ValueError, so a forged cookie or header crashed every page and the
    # WebSocket handshake with a 500 instead of being refused.
    if not (pk.isascii() and pk.isdigit()):
        return None
    credential = DeviceCredential.objects.select_related("loan", "kit").filter(pk=int(pk)).first()
    # Hash the secret even when the id is unknown, so timing does not tell ids apart.
    presented = _hash(secret)
    if credential is None:
        hmac.compare_digest(presented, "0" * 64)
        return None
    if not hmac.compare_digest(presented, credential.secret_hash):
        return None
    if credential.revoked_at is not None:
        return None
    return credential


def credential_touch(credential: DeviceCredential) -> None:
    """Note that the device was seen (at most once a minute, to spare the database)."""
    now = timezone.now()
    if credential.last_seen_at is None or (now - credential.last_seen_at).total_seconds() > 60:
        credential.last_seen_at = now
        credential.save(update_fields=["last_seen_at"])


@transaction.atomic
def credential_revoke(*, credential: DeviceCredential, by=None) -> DeviceCredential:
    if credential.revoked_at is None:
        credential.revoked_at = timezone.now()
        credential.revoked_by = by
        credential.save(update_fields=["revoked_at", "revoked_by"])
    return credential
