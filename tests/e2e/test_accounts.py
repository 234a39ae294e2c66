"""Signing in as a person does, in Chromium: pages checked with axe-core, and OpenID
Connect through a real provider (django-oauth-toolkit) on loopback."""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from ..accounts.conftest import code_for
from ..accounts.oidc_op import KNOWN, PROVIDER_PASSWORD, UNKNOWN, OidcProvider
from ..conftest import PASSWORD
from .conftest import assert_accessible
from .helpers import sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def person(transactional_db):
    return get_user_model().objects.create_user(
        username="camille", email="camille.martin@example.org", password=PASSWORD
    )


@pytest.fixture
def staff(transactional_db):
    return get_user_model().objects.create_user(
        username="support", email="support@example.org", password=PASSWORD, is_staff=True
    )


def test_sign_in_with_an_email_address(asgi_server, new_page, person):
    page = new_page()
    page.goto(f"{asgi_server.url}/connexion/")
    assert_accessible(page)
    page.get_by_label("Adresse électronique").fill("Camille.Martin@example.org")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{asgi_server.url}/")
    assert page.get_by_role("button", name="Se déconnecter").is_visible()


def test_five_failures_show_the_lockout_page(asgi_server, new_page, person):
    page = new_page()
    page.goto(f"{asgi_server.url}/connexion/")
    for _ in range(5):
        page.get_by_label("Adresse électronique").fill(person.email)
        page.get_by_label("Mot de passe").fill("pas le bon")
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name="Se connecter").click()
    assert navigation.value.status == 429
    assert page.get_by_role("heading", level=1).inner_text() == "Connexion bloquée pour 15 minutes"
    assert "Trop d'essais ont échoué" in page.get_by_role("alert").inner_text()
    assert_accessible(page)


def test_password_reset_pages(asgi_server, new_page, person):
    page = new_page()
    page.goto(f"{asgi_server.url}/connexion/")
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    assert_accessible(page)
    page.get_by_label("Adresse électronique").fill("pas une adresse")
    page.get_by_role("button", name="Recevoir le lien par courriel").click()
    assert "adresse électronique valide" in page.get_by_role("alert").inner_text()
    field = page.get_by_label("Adresse électronique")
    assert field.get_attribute("aria-invalid") == "true"
    assert_accessible(page)
    field.fill(person.email)
    page.get_by_role("button", name="Recevoir le lien par courriel").click()
    page.wait_for_url(re.compile(r".*/envoye/$"))
    assert_accessible(page)

    link = re.search(r"(http://\S+/nouveau-mot-de-passe/\S+/)", mail.outbox[-1].body).group(1)
    page.goto(link)
    assert_accessible(page)
    page.get_by_label("Nouveau mot de passe", exact=True).fill("court")
    page.get_by_label("Confirmez le nouveau mot de passe").fill("court")
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    assert "trop court" in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    new_password = "une phrase de passe toute neuve"
    page.get_by_label("Nouveau mot de passe", exact=True).fill(new_password)
    page.get_by_label("Confirmez le nouveau mot de passe").fill(new_password)
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    page.wait_for_url(re.compile(r".*/nouveau-mot-de-passe/fait/$"))
    assert_accessible(page)
    page.goto(link)
    assert "ne fonctionne plus" in page.get_by_role("alert").inner_text()
    assert_accessible(page)


def test_staff_enrol_then_give_their_code(asgi_server, new_page, staff):
    page = new_page()
    sign_in(page, asgi_server, staff, second_factor=False)
    page.wait_for_url(re.compile(r".*/connexion/code/activer/\?next=%2F$"))
    assert page.locator(".qr svg title").count() == 1
    assert_accessible(page)
    page.get_by_label("Code à 6 chiffres").fill("000000")
    page.get_by_role("button", name="Activer et continuer").click()
    assert "pas le bon" in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    time.sleep(1.1)  # one wrong code: the next one is checked after a second
    page.get_by_label("Code à 6 chiffres").fill(code_for(staff))
    page.get_by_role("button", name="Activer et continuer").click()
    page.wait_for_url(f"{asgi_server.url}/")
    page.get_by_role("button", name="Se déconnecter").click()

    sign_in(page, asgi_server, staff, second_factor=False)
    page.wait_for_url(re.compile(r".*/connexion/code/\?next=%2F$"))
    assert_accessible(page)
    page.get_by_label("Code à 6 chiffres").fill("000000")
    page.keyboard.press("Enter")
    assert "pas le bon" in page.get_by_role("alert").inner_text()
    field = page.get_by_label("Code à 6 chiffres")
    assert field.get_attribute("aria-invalid") == "true"
    assert_accessible(page)
    time.sleep(1.1)
    # The code of the next 30 seconds: the one just used at enrolment serves only once.
    field.fill(code_for(staff, steps_ahead=1))
    page.get_by_role("button", name="Valider le code").click()
    page.wait_for_url(f"{asgi_server.url}/")


@pytest.fixture(scope="module")
def oidc_provider():
    provider = OidcProvider().start()
    yield provider
    provider.stop()


def sign_in_at_provider(page, server, account):
    page.goto(f"{server.url}/connexion/")
    page.get_by_role("link", name="Se connecter avec le fournisseur de test").click()
    page.get_by_label("Identifiant du fournisseur").fill(account.username)
    page.get_by_label("Mot de passe du fournisseur").fill(PROVIDER_PASSWORD)
    page.get_by_role("button", name="Se connecter au fournisseur").click()


def test_openid_connect_in_the_browser(asgi_server, new_page, oidc_provider, settings):
    oidc_provider.configure(settings)
    get_user_model().objects.create_user(
        username="marie", email="marie.curie@example.org", first_name="Marie", last_name="Curie"
    )
    page = new_page()
    page.goto(f"{asgi_server.url}/connexion/")
    assert_accessible(page)
    sign_in_at_provider(page, asgi_server, KNOWN)
    page.wait_for_url(f"{asgi_server.url}/")
    assert page.get_by_text("Marie Curie").is_visible()

    stranger = new_page()
    sign_in_at_provider(stranger, asgi_server, UNKNOWN)
    stranger.wait_for_url(f"{asgi_server.url}/connexion/oidc/refusee/")
    assert "Aucun compte Cartable connecté actif" in stranger.get_by_role("alert").inner_text()
    assert_accessible(stranger)
    assert stranger.get_by_role("button", name="Se déconnecter").count() == 0
