"""Privacy headers and error pages: ``Cache-Control: private, no-store`` on every answer to
someone signed in (pages naming pupils among them), a ``Permissions-Policy`` that lets only
the live pages use the camera and the microphone, and French 400/403/404/500 pages in the
site's layout (the 500 one rendered without a request context)."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory

from cartable.core.middleware import PERMISSIONS_POLICY, PERMISSIONS_POLICY_MEDIA

from ..conftest import force_login
from ..live.test_views import holding


def private(response) -> bool:
    directives = {part.strip() for part in response.headers.get("Cache-Control", "").split(",")}
    return {"private", "no-store"} <= directives


def test_every_page_to_a_signed_in_person_is_private_and_not_stored(teacher, loan):
    client = force_login(Client(), teacher)
    for path in ("/", f"/prets/{loan.pk}/", f"/station/{loan.pk}/", "/page-qui-n-existe-pas/"):
        response = client.get(path)
        assert private(response), path
    assert loan.pupil.display_name in client.get(f"/prets/{loan.pk}/").content.decode()


def test_device_answers_are_private_too(loan, pupil_token, station_token):
    assert private(holding(pupil_token).get("/eleve/"))
    assert private(holding(station_token).get(f"/station/{loan.pk}/"))
    response = Client().get("/api/devices/me", HTTP_AUTHORIZATION=f"Bearer {station_token}")
    assert private(response)


def test_anonymous_pages_may_be_cached_as_before(db):
    assert not private(Client().get("/informations/familles/"))


def test_the_camera_and_microphone_only_on_the_live_pages(teacher, loan, pupil_token):
    client = force_login(Client(), teacher)
    for path in ("/", f"/prets/{loan.pk}/", "/connexion/", "/api/openapi.json"):
        policy = client.get(path).headers["Permissions-Policy"]
        assert policy == PERMISSIONS_POLICY
        assert "camera=()" in policy and "microphone=()" in policy
    station = client.get(f"/station/{loan.pk}/")
    assert station.status_code == 200
    assert station.headers["Permissions-Policy"] == PERMISSIONS_POLICY_MEDIA
    assert "camera=(self)" in PERMISSIONS_POLICY_MEDIA
    assert "microphone=(self)" in PERMISSIONS_POLICY_MEDIA
    pupil = holding(pupil_token).get("/eleve/")
    assert pupil.status_code == 200
    assert pupil.headers["Permissions-Policy"] == PERMISSIONS_POLICY_MEDIA


def french_page(response, status: int, title: str) -> str:
    assert response.status_code == status
    text = response.content.decode()
    assert '<html lang="fr">' in text and f"<h1>{title}</h1>" in text
    assert 'class="site-header"' in text and 'class="site-footer"' in text
    assert "Not Found" not in text and "Server Error" not in text
    return text


def test_404_is_french_in_the_layout(teacher):
    french_page(Client().get("/page-qui-n-existe-pas/"), 404, "Page introuvable")
    french_page(force_login(Client(), teacher).get("/prets/999999/"), 404, "Page introuvable")


def test_400_is_french_and_says_why(db):
    text = french_page(Client().get("/?x=%00"), 400, "Demande invalide")
    assert "Caractère nul" in text


def test_a_form_without_its_token_gets_the_french_403(teacher):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/connexion/", {"username": "a@example.org", "password": "x"})
    text = french_page(response, 403, "Accès refusé")
    assert "Le formulaire a expiré" in text


@pytest.mark.urls("tests.core.urls_errors")
def test_403_and_500_are_french(db):
    french_page(Client().get("/test-interdit/"), 403, "Accès refusé")
    client = Client(raise_request_exception=False)
    text = french_page(client.get("/test-erreur/"), 500, "Erreur du serveur")
    assert "a bug" not in text


def test_the_500_page_needs_no_request_context(db, django_assert_num_queries):
    from django.views.defaults import server_error

    request = RequestFactory().get("/")
    with django_assert_num_queries(0):
        response = server_error(request)
    assert response.status_code == 500
    assert "Erreur du serveur" in response.content.decode()
