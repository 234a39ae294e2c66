"""Writes for accounts: email addresses, TOTP devices. Keyword-only, one transaction each."""

from __future__ import annotations

import math
from base64 import b32encode
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

DEVICE_NAME = "Application d'authentification"


class AccountError(Exception):
    """A refusal to show to the person, in French."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def email_normalise(email: str) -> str:
    """The form an address is stored and compared in: trimmed, lower case.

    Mailbox names are case-sensitive in theory, never in the school systems people use,
    and two accounts differing only by case would be one person twice.
    """
    return (email or "").strip().lower()


def email_taken(email: str, *, exclude_user=None) -> bool:
    """Whether an active account already signs in with ``email`` (case-insensitive)."""
    users = get_user_model().objects.filter(email__iexact=email_normalise(email), is_active=True)
    if exclude_user is not None:
        users = users.exclude(pk=exclude_user.pk)
    return users.exists()


@transaction.atomic
def user_email_set(*, user, email: str):
    """Give ``user`` the address they sign in with; refused if another active account has it.

    The database enforces the same rule (a unique index on the lower-cased address of
    active accounts), so two requests racing cannot both win.
    """
    email = email_normalise(email)
    if "@" not in email:
        raise AccountError("Saisissez une adresse électronique valide.")
    if email_taken(email, exclude_user=user):
        raise AccountError("Cette adresse électronique est déjà celle d'un autre compte.")
    user.email = email
    user.save(update_fields=["email"])
    return user


# Second factor (TOTP).


def confirmed_totp_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


@transaction.atomic
def totp_device_pending(*, user) -> TOTPDevice:
    """The not yet confirmed device ``user`` is enrolling (made on first call, then kept).

    Kept across page loads so the QR code does not change under a person who is scanning
    it; replaced only once confirmed or reset.
    """
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def totp_provisioning_uri(device: TOTPDevice) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code.

    Labelled with the sign-in address (django-otp's own uses the internal username).
    """
    issuer = settings.OTP_TOTP_ISSUER.replace(":", "")
    label = f"{issuer}:{device.user.email or device.user.get_username()}"
    params = urlencode(
        {
            "secret": b32encode(device.bin_key).decode(),
            "algorithm": "SHA1",
            "digits": device.digits,
            "period": device.step,
        }
    )
    return f"otpauth://totp/{quote(label)}?{params}&issuer={quote(issuer)}"


def totp_secret_for_typing(device: TOTPDevice) -> str:
    """The key in groups of four letters, for people who type it instead of scanning."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@dataclass(frozen=True)
class CodeCheck:
    device: TOTPDevice | None
    retry_after_seconds: int = 0

    @property
    def ok(self) -> bool:
        return self.device is not None


def _check(device: TOTPDevice, token: str) -> CodeCheck:
    # Throttling (django-otp): after n wrong codes in a row, no code is even compared until
    # 2^(n-1) seconds have passed; the row is locked so parallel guesses wait their turn.
    allowed, data = device.verify_is_allowed()
    if not allowed:
        wait = (data or {}).get("locked_until")
        seconds = math.ceil((wait - timezone.now()).total_seconds()) if wait else 1
        return CodeCheck(device=None, retry_after_seconds=max(seconds, 1))
    token = "".join((token or "").split())
    if device.verify_token(token):
        return CodeCheck(device=device)
    return CodeCheck(device=None)


@transaction.atomic
def totp_device_confirm(*, user, token: str) -> CodeCheck:
    """Confirm the device ``user`` is enrolling with a first code from it."""
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False)
        .order_by("pk")
        .first()
    )
    if device is None:
        return CodeCheck(device=None)
    check = _check(device, token)
    if check.ok:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return check


@transaction.atomic
def totp_verify(*, user, token: str) -> CodeCheck:
    """Check a code from the confirmed device of ``user`` (throttled; a code serves once)."""
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=True)
        .order_by("pk")
        .first()
    )
    if device is None:
        return CodeCheck(device=None)
    return _check(device, token)


@transaction.atomic
def second_factor_reset(*, user) -> int:
    """Forget every TOTP device of ``user`` (a lost phone): they enrol again at next sign-in."""
    deleted, _ = TOTPDevice.objects.filter(user=user).delete()
    return deleted
