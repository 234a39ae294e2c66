"""Every role's pages in real Chromium, checked with axe-core: the home page of each role,
and the forms they use, blank and with their errors shown."""

from __future__ import annotations

import pytest

from cartable.organisation import services
from cartable.organisation.models import Role

from .conftest import assert_accessible
from .helpers import sign_in

pytestmark = pytest.mark.e2e

# role fixture -> the pages (besides the home page) that role uses.
PAGES = {
    "teacher": [],
    "coordinator": [
        "/organisation/classes/nouvelle/",
        "/organisation/eleves/nouveau/",
        "/organisation/invitations/nouvelle/",
        "/organisation/classes/{class_id}/",
        "/organisation/eleves/{pupil_id}/",
        "/prets/{loan_id}/appairage/",
    ],
    "dane": ["/organisation/invitations/nouvelle/"],
    "ministry": [],
    "school_head": [],
    "hospital_staff": [],
    "family": [],
    "fleet": [],
    "dpo": [],
    "administrator": ["/organisation/annuaire/", "/organisation/invitations/nouvelle/"],
    "outsider": [],
}
# Forms sent empty, so their error messages are checked too.
SUBMIT = {
    "/organisation/classes/nouvelle/": "Créer la classe",
    "/organisation/eleves/nouveau/": "Ajouter l'élève",
    "/organisation/invitations/nouvelle/": "Envoyer l'invitation",
    "/organisation/annuaire/": "Importer",
}


@pytest.mark.parametrize("role", list(PAGES))
def test_each_roles_pages_are_accessible(request, asgi_server, new_page, loan, department, role):
    user = request.getfixturevalue(role)
    page = new_page()
    sign_in(page, asgi_server, user)
    page.wait_for_url(f"{asgi_server.url}/")
    assert page.locator("h1").inner_text() == "Accueil"
    assert_accessible(page)
    ids = {"class_id": loan.school_class_id, "pupil_id": loan.pupil_id, "loan_id": loan.pk}
    for path in PAGES[role]:
        response = page.goto(asgi_server.url + path.format(**ids))
        assert response.status == 200, path
        assert_accessible(page)
        if path in SUBMIT:
            page.get_by_role("button", name=SUBMIT[path]).click()
            assert page.get_by_role("alert").first.is_visible(), path
            assert_accessible(page)


def test_a_coordinator_creates_a_class_and_a_pupil_by_keyboard(
    asgi_server, new_page, loan, coordinator
):
    page = new_page()
    sign_in(page, asgi_server, coordinator)
    page.wait_for_url(f"{asgi_server.url}/")
    page.get_by_role("link", name="Créer une classe").click()
    page.get_by_label("Établissement").select_option(index=1)
    page.get_by_label("Nom de la classe").fill("6e Z")
    page.get_by_label("Niveau").select_option("6e")
    page.get_by_role("button", name="Créer la classe").press("Enter")
    page.wait_for_url(f"{asgi_server.url}/")
    assert "La classe 6e Z est créée." in page.get_by_role("status").first.inner_text()
    assert_accessible(page)
    page.get_by_role("link", name="Ajouter un élève", exact=True).click()
    page.get_by_label("Prénom d'usage de l'élève").fill("Octave")
    page.get_by_label("Classe").select_option(
        label=page.locator("option", has_text="6e Z").inner_text()
    )
    page.get_by_role("button", name="Ajouter l'élève").click()
    page.wait_for_url(f"{asgi_server.url}/")
    assert page.get_by_role("link", name="Modifier l'élève Octave").is_visible()


def test_an_invitation_is_accepted_in_the_browser(asgi_server, new_page, loan, coordinator):
    links = []
    services.invitation_create(
        by=coordinator,
        email="nouvelle@example.org",
        role=Role.TEACHER,
        scope=loan.school_class,
        accept_url=lambda token: links.append(f"/invitation/{token}/") or links[-1],
    )
    page = new_page()
    page.goto(asgi_server.url + links[0])
    assert_accessible(page)
    page.get_by_label("Mot de passe", exact=True).fill("court")
    page.get_by_label("Confirmez le mot de passe").fill("court")
    page.get_by_role("button", name="Créer mon compte").click()
    assert page.get_by_role("alert").is_visible()
    assert_accessible(page)
    password = "une-phrase-de-passe-solide"  # noqa: S105 (test-only password)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_label("Confirmez le mot de passe").fill(password)
    page.get_by_role("button", name="Créer mon compte").click()
    page.wait_for_url(f"{asgi_server.url}/")
    assert page.get_by_role("link", name="Ouvrir le poste de la classe").is_visible()

    # The link served once: opened again, it says so, in French.
    other = new_page()
    other.goto(asgi_server.url + links[0])
    assert "déjà servi" in other.get_by_role("alert").inner_text()
    assert_accessible(other)


def test_the_anonymous_home_page_is_accessible(asgi_server, new_page, loan):
    page = new_page()
    page.goto(f"{asgi_server.url}/")
    assert_accessible(page)
