"""OpenID Connect sign-in, through a real provider (django-oauth-toolkit) on loopback.

Every step is a real HTTP request with a cookie jar: the platform's sign-in button, the
provider's authorization endpoint and its own sign-in form, the redirect back with a code,
and the platform's server-to-server token and UserInfo requests.
"""

from __future__ import annotations

import re

import pytest
import requests
from django.contrib.auth import get_user_model

from ..conftest import PASSWORD
from .conftest import text
from .oidc_op import KNOWN, PROVIDER_PASSWORD, UNKNOWN, UNVERIFIED, ProviderAccount


@pytest.fixture
def oidc(oidc_provider, settings):
    oidc_provider.configure(settings)
    return oidc_provider


def browser() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # loopback only, never a proxy
    return session


def sign_in_with_provider(server, account: ProviderAccount, next_path: str = "/"):
    """Press the button, sign in at the provider, come back; the last response."""
    session = browser()
    page = session.get(f"{server.url}/connexion/?next={next_path}")
    button = re.search(r'href="(/connexion/oidc/[^"]*)"', page.text)
    assert button, "no OpenID Connect button on the sign-in page"
    provider_login = session.get(server.url + button.group(1).replace("&amp;", "&"))
    assert "Fournisseur d'identité de test" in provider_login.text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', provider_login.text)
    next_field = re.search(r'name="next" value="([^"]*)"', provider_login.text)
    back = session.post(
        provider_login.url,
        data={
            "csrfmiddlewaretoken": csrf.group(1),
            "username": account.username,
            "password": PROVIDER_PASSWORD,
            "next": next_field.group(1).replace("&amp;", "&"),
        },
    )
    return session, back


def test_no_button_without_a_provider(client, db):
    assert "/connexion/oidc/" not in text(client.get("/connexion/"))
    assert client.get("/connexion/oidc/").status_code == 404
    assert client.get("/connexion/oidc/retour/?code=x&state=y").status_code == 404


def test_a_known_verified_address_signs_in(oidc, asgi_server):
    # The provider sends « Marie.Curie@… »; the account was made in lower case.
    user = get_user_model().objects.create_user(
        username="marie", email="marie.curie@example.org", first_name="Marie", last_name="Curie"
    )
    session, page = sign_in_with_provider(asgi_server, KNOWN, next_path="/appairer/")
    assert page.status_code == 200
    assert page.url == f"{asgi_server.url}/appairer/"
    home = session.get(f"{asgi_server.url}/")
    assert "Marie Curie" in home.text
    assert "Se déconnecter" in home.text
    user.refresh_from_db()
    assert user.last_login is not None


@pytest.mark.parametrize(
    "account, active",
    [(UNKNOWN, True), (UNVERIFIED, True), (KNOWN, False)],
    ids=["unknown address", "address not verified", "deactivated account"],
)
def test_other_people_are_refused_in_french(oidc, asgi_server, account, active):
    users = get_user_model().objects
    users.create_user(username="pierre", email="pierre.curie@example.org")
    users.create_user(username="marie", email="marie.curie@example.org", is_active=active)
    session, page = sign_in_with_provider(asgi_server, account)
    assert page.status_code == 403
    assert page.url == f"{asgi_server.url}/connexion/oidc/refusee/"
    assert 'role="alert"' in page.text
    assert "Aucun compte Cartable connecté actif ne correspond" in page.text
    assert "Se déconnecter" not in session.get(f"{asgi_server.url}/").text
    assert users.count() == 2  # and no account was created


def test_staff_signing_in_with_the_provider_still_give_their_code(oidc, asgi_server):
    get_user_model().objects.create_user(
        username="marie", email="marie.curie@example.org", is_staff=True
    )
    session, page = sign_in_with_provider(asgi_server, KNOWN)
    assert page.url == f"{asgi_server.url}/connexion/code/activer/?next=%2F"
    assert "Activer le second facteur" in page.text


def test_a_provider_that_does_not_answer_is_explained(oidc, asgi_server, settings):
    settings.OIDC_ISSUER = "http://127.0.0.1:9/o"  # the discard port: nothing listens
    session = browser()
    page = session.get(f"{asgi_server.url}/connexion/oidc/")
    assert page.status_code == 503
    assert "ne répond pas pour le moment" in page.text


def test_a_forged_callback_is_refused(oidc, asgi_server):
    session = browser()
    page = session.get(f"{asgi_server.url}/connexion/oidc/retour/?code=forged&state=forged")
    assert page.status_code == 403
    assert page.url == f"{asgi_server.url}/connexion/oidc/refusee/"


def test_the_password_form_never_calls_the_provider(oidc, client, django_user_model):
    django_user_model.objects.create_user(
        username="marie", email="marie.curie@example.org", password=PASSWORD
    )
    response = client.post(
        "/connexion/?code=forged&state=forged",
        {"username": "marie.curie@example.org", "password": "pas le bon"},
    )
    assert response.status_code == 200
