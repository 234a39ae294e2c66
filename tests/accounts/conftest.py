"""People for the sign-in tests: a person with an address, a staff member, a provider."""

from __future__ import annotations

import html
import time

import pytest
from django.contrib.auth import get_user_model
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ..conftest import PASSWORD
from .oidc_op import OidcProvider

EMAIL = "camille.martin@example.org"
STAFF_EMAIL = "support@example.org"


@pytest.fixture
def person(db):
    return get_user_model().objects.create_user(
        username="camille", email=EMAIL, password=PASSWORD, first_name="Camille"
    )


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user(
        username="support", email=STAFF_EMAIL, password=PASSWORD, is_staff=True
    )


def sign_in(client, email: str, password: str = PASSWORD, **extra):
    return client.post("/connexion/", {"username": email, "password": password}, **extra)


def code_for(user, *, steps_ahead: int = 0) -> str:
    """The code the person's authenticator app shows now (or ``steps_ahead`` × 30 s later)."""
    device = TOTPDevice.objects.filter(user=user).order_by("-pk").first()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


@pytest.fixture(scope="module")
def oidc_provider():
    provider = OidcProvider().start()
    yield provider
    provider.stop()


def text(response) -> str:
    """The page as a person reads it: entities such as &#x27; turned back into characters."""
    return html.unescape(response.content.decode())
