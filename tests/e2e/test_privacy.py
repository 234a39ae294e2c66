"""The data protection officer exports then erases a pupil's data in Chromium; every public
page and every page of the officer loads nothing from another origin and carries the
security headers."""

from __future__ import annotations

import re

from cartable.fleet.models import Loan
from cartable.organisation.models import Pupil
from cartable.privacy.models import AuditEntry

from .conftest import assert_accessible
from .helpers import sign_in


def test_the_dpo_exports_then_erases_a_pupil(new_page, asgi_server, make_loan, dpo):
    loan = make_loan(ended=True)
    Loan.objects.filter(pk=loan.pk).update(status=Loan.Status.RETURNED)
    pupil = loan.pupil
    page = new_page()
    sign_in(page, asgi_server, dpo, "/confidentialite/droits/")
    assert_accessible(page)
    page.get_by_label("Prénom d'usage de l'élève").fill(pupil.display_name)
    page.get_by_role("button", name="Chercher").click()
    page.get_by_role("status").filter(has_text="1 élève trouvé").wait_for()
    assert_accessible(page)
    page.get_by_role("link", name=f"Voir les données de {pupil.display_name}").click()
    page.get_by_role(
        "heading", name=f"Données conservées sur l'élève {pupil.display_name}"
    ).wait_for()
    assert loan.kit.code in page.content()
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger les données (JSON)").click()
    assert download.value.suggested_filename == f"eleve-{pupil.pk}.json"
    page.get_by_role("link", name="Effacer ou pseudonymiser").click()
    assert_accessible(page)
    page.get_by_label("Effacer : tout ce qui concerne l'élève est supprimé").check()
    page.get_by_label("Pour confirmer, saisissez le prénom d'usage de l'élève").fill("Autre")
    page.get_by_role("button", name="Confirmer").click()
    page.get_by_role("alert").filter(has_text="ne correspond pas").wait_for()
    assert_accessible(page)
    assert Pupil.objects.filter(pk=pupil.pk).exists()
    page.get_by_label("Effacer : tout ce qui concerne l'élève est supprimé").check()
    page.get_by_label("Pour confirmer, saisissez le prénom d'usage de l'élève").fill(
        pupil.display_name
    )
    page.get_by_role("button", name="Confirmer").click()
    page.get_by_role("status").filter(has_text="Les données de l'élève sont effacées.").wait_for()
    assert_accessible(page)
    assert not Pupil.objects.filter(pk=pupil.pk).exists()
    assert set(AuditEntry.objects.values_list("action", flat=True)) == {"export", "erase"}


HEADERS = {
    "content-security-policy": re.compile(r"default-src 'self'"),
    "x-frame-options": re.compile(r"^DENY$"),
    "referrer-policy": re.compile(r"^same-origin$"),
    "x-content-type-options": re.compile(r"^nosniff$"),
}


def test_every_page_loads_only_from_its_own_origin(new_page, asgi_server, loan, dpo):
    page = new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    public = ["/", "/connexion/", "/appairer/", "/informations/familles/", "/informations/eleves/"]
    public.append("/code-source/")
    for path in public:
        response = page.goto(f"{asgi_server.url}{path}")
        for name, pattern in HEADERS.items():
            assert pattern.search(response.headers.get(name, "")), (path, name)
        assert_accessible(page)
    sign_in(page, asgi_server, dpo)
    for path in [
        "/confidentialite/",
        "/confidentialite/registre/",
        "/confidentialite/journal/",
        "/confidentialite/droits/",
        f"/confidentialite/droits/eleves/{loan.pupil_id}/",
        f"/confidentialite/droits/eleves/{loan.pupil_id}/effacer/",
    ]:
        response = page.goto(f"{asgi_server.url}{path}")
        assert response.status == 200, path
        for name, pattern in HEADERS.items():
            assert pattern.search(response.headers.get(name, "")), (path, name)
        assert_accessible(page)
    assert requests
    foreign = [url for url in requests if not url.startswith(f"{asgi_server.url}/")]
    assert foreign == []


def test_error_pages_are_french_accessible_and_kept_out_of_caches(new_page, asgi_server, dpo):
    page = new_page()
    for path, status, words in [
        ("/page-qui-n-existe-pas/", 404, "introuvable"),
        ("/connexion/?next=%00", 400, "Caractère nul"),
    ]:
        response = page.goto(f"{asgi_server.url}{path}")
        assert response.status == status, path
        assert page.locator("html").get_attribute("lang") == "fr"
        assert words.lower() in page.locator("main").inner_text().lower(), path
        assert "camera=()" in response.headers.get("permissions-policy", "")
        assert_accessible(page)
    sign_in(page, asgi_server, dpo)
    for path, status in [
        (f"/confidentialite/droits/eleves/{10**9}/", 404),
        ("/confidentialite/journal/?page=%00", 400),
        ("/confidentialite/droits/", 200),
    ]:
        response = page.goto(f"{asgi_server.url}{path}")
        assert response.status == status, path
        cache = response.headers.get("cache-control", "")
        assert "private" in cache and "no-store" in cache, path
        assert_accessible(page)
