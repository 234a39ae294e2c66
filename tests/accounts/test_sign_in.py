"""Signing in with an email address and a password; one active account per address."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.test import Client

from cartable.accounts.services import AccountError, user_email_set

from ..conftest import PASSWORD
from .conftest import EMAIL, sign_in, text


def signed_in_user(client):
    return client.get("/").wsgi_request.user


def test_it_signs_in_with_the_email_address_in_any_case(client, person):
    response = sign_in(client, "  Camille.MARTIN@example.org ")
    assert response.status_code == 302
    assert response.url == "/"
    assert signed_in_user(client) == person


def test_it_goes_back_where_the_person_was_going(client, person):
    response = client.post(
        "/connexion/?next=/appairer/",
        {"username": EMAIL, "password": PASSWORD, "next": "/appairer/"},
    )
    assert response.url == "/appairer/"


def test_the_username_alone_does_not_sign_in(client, person):
    response = sign_in(client, person.username)
    assert response.status_code == 200
    assert not signed_in_user(client).is_authenticated


@pytest.mark.parametrize("email, password", [(EMAIL, "pas le bon"), ("qui@example.org", PASSWORD)])
def test_a_wrong_password_or_address_gets_the_same_french_answer(client, person, email, password):
    response = sign_in(client, email, password)
    assert response.status_code == 200
    page = text(response)
    assert 'role="alert"' in page
    assert "Adresse électronique ou mot de passe incorrect" in page
    assert not signed_in_user(client).is_authenticated


def test_a_deactivated_account_cannot_sign_in(client, person):
    person.is_active = False
    person.save(update_fields=["is_active"])
    assert sign_in(client, EMAIL).status_code == 200
    assert not signed_in_user(client).is_authenticated


def test_the_page_is_french_with_labels(client):
    page = text(client.get("/connexion/"))
    assert '<html lang="fr">' in page
    assert '<label for="id_username">Adresse électronique (identifiant)</label>' in page
    assert '<label for="id_password">Mot de passe</label>' in page
    assert 'autocomplete="username"' in page
    assert "Mot de passe oublié" in page
    # No OpenID Connect button unless a provider is configured.
    assert "/connexion/oidc/" not in page


# Attempt limits (django-axes).


def test_five_failures_lock_the_account_from_that_address_for_fifteen_minutes(client, person):
    for _ in range(4):
        assert sign_in(client, EMAIL, "pas le bon").status_code == 200
    # Case does not make another account: the fifth failure locks.
    locked = sign_in(client, EMAIL.upper(), "pas le bon")
    assert locked.status_code == 429
    page = text(locked)
    assert "Connexion bloquée pour 15 minutes" in page
    assert 'role="alert"' in page
    assert locked["Retry-After"] == "900"
    # Now even the right password is refused from here…
    assert sign_in(client, EMAIL).status_code == 429
    assert not signed_in_user(client).is_authenticated
    # …but not from another address, and not for another account.
    other = Client(REMOTE_ADDR="192.0.2.10")
    assert sign_in(other, EMAIL).status_code == 302


def test_a_success_before_the_limit_starts_the_count_again(client, person):
    for _ in range(4):
        sign_in(client, EMAIL, "pas le bon")
    assert sign_in(client, EMAIL).status_code == 302
    client.post("/deconnexion/")
    for _ in range(4):
        assert sign_in(client, EMAIL, "pas le bon").status_code == 200


def test_the_lock_lifts_after_the_cool_off(client, person, settings):
    from datetime import timedelta

    # A short cool-off, long enough for a slow machine to see the lock first.
    settings.AXES_COOLOFF_TIME = timedelta(seconds=4)
    for _ in range(5):
        sign_in(client, EMAIL, "pas le bon")
    assert sign_in(client, EMAIL).status_code == 429
    time.sleep(5)  # the counters expire in the cache itself (Redis or local memory)
    assert sign_in(client, EMAIL).status_code == 302


# One active account per address.


def test_two_active_accounts_cannot_share_an_address_whatever_its_case(person):
    users = get_user_model().objects
    with pytest.raises(IntegrityError), transaction.atomic():
        users.create_user(username="double", email=EMAIL.upper())
    # A deactivated account keeps its old address without blocking anyone.
    users.create_user(username="ancien", email=EMAIL, is_active=False)
    # Accounts without an address are many.
    users.create_user(username="a", email="")
    users.create_user(username="b", email="")


def test_the_service_refuses_an_address_already_taken(person):
    other = get_user_model().objects.create_user(username="autre")
    with pytest.raises(AccountError, match="déjà celle d'un autre compte"):
        user_email_set(user=other, email=" CAMILLE.martin@example.org")
    user_email_set(user=other, email=" Autre@Example.org ")
    other.refresh_from_db()
    assert other.email == "autre@example.org"
