"""Password spraying: past ``SIGN_IN_ADDRESS_FAILURE_LIMIT`` failures from one address, over
any number of accounts, every sign-in from that address is refused (French page, 429) for the
lockout time; other addresses are not held up."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from ..conftest import PASSWORD
from .conftest import EMAIL, sign_in, text


@pytest.fixture
def accounts(db, person):
    users = get_user_model()
    return [
        users.objects.create_user(
            username=f"u{n}", email=f"personne{n}@example.org", password=PASSWORD
        ).email
        for n in range(8)
    ]


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.SIGN_IN_ADDRESS_FAILURE_LIMIT = 6
    # Fast hashing: the window must not run out while the test signs in a few times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_a_few_tries_on_many_accounts_block_the_address(client, accounts):
    # One wrong password per account: axes' per-account lock never triggers…
    for email in accounts[:6]:
        assert sign_in(client, email, "Printemps2026!").status_code == 200
    # …but the address has used up its failures: even a right password is refused now.
    blocked = sign_in(client, EMAIL)
    assert blocked.status_code == 429
    page = text(blocked)
    assert "Connexions suspendues depuis cette adresse" in page
    assert 'role="alert"' in page and '<html lang="fr">' in page
    assert blocked["Retry-After"] == "900"
    assert not client.get("/").wsgi_request.user.is_authenticated
    # Another address signs in as usual.
    assert sign_in(Client(REMOTE_ADDR="192.0.2.10"), EMAIL).status_code == 302


def test_below_the_limit_nothing_changes_and_a_success_does_not_reset(client, accounts):
    for email in accounts[:5]:
        sign_in(client, email, "pas le bon")
    assert sign_in(client, EMAIL).status_code == 302  # the fifth failure was not the limit
    client.post("/deconnexion/")
    # A sprayer signing in to an account of their own does not start the count again.
    assert sign_in(client, accounts[6], "pas le bon").status_code == 200
    assert sign_in(client, EMAIL).status_code == 429


def test_unknown_addresses_count_too(client, accounts):
    for n in range(6):
        sign_in(client, f"personne-inconnue-{n}@example.org", "x")
    assert sign_in(client, EMAIL).status_code == 429


def test_the_limit_lifts_after_the_lockout_time(client, accounts, settings):
    import time
    from datetime import timedelta

    settings.AXES_COOLOFF_TIME = timedelta(seconds=5)
    for email in accounts[:6]:
        sign_in(client, email, "pas le bon")
    assert sign_in(client, EMAIL).status_code == 429
    time.sleep(6)  # the counter expires in the cache itself
    assert sign_in(client, EMAIL).status_code == 302
