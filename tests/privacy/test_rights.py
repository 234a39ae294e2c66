"""Export and erasure of a pupil's data by the data protection officer, end to end; the
register; and every page refused to whoever has no right to it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from cartable.fleet.models import Loan
from cartable.live.models import LiveSession
from cartable.organisation.models import Pupil
from cartable.privacy.models import AuditEntry
from cartable.privacy.services import PSEUDONYM

from ..conftest import force_login
from ..organisation.test_access_table import PEOPLE


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def returned_loan(make_loan):
    loan = make_loan(ended=True)
    Loan.objects.filter(pk=loan.pk).update(status=Loan.Status.RETURNED)
    LiveSession.objects.create(loan=loan, started_at=loan.created_at, ended_at=loan.created_at)
    return Loan.objects.get(pk=loan.pk)


def test_the_dpo_finds_exports_and_erases_a_pupil(dpo, returned_loan):
    client = force_login(Client(), dpo)
    pupil = returned_loan.pupil
    school = pupil.school_class.school
    found = client.get(
        "/confidentialite/droits/", {"name": pupil.display_name, "school": school.uai}
    )
    assert found.status_code == 200
    assert f"/confidentialite/droits/eleves/{pupil.pk}/" in found.content.decode()
    nothing = client.get("/confidentialite/droits/", {"name": "x"})
    assert nothing.status_code == 400
    assert "Saisissez au moins deux lettres du prénom." in nothing.content.decode()

    page = client.get(f"/confidentialite/droits/eleves/{pupil.pk}/")
    assert page.status_code == 200
    assert returned_loan.kit.code in page.content.decode()
    download = client.get(f"/confidentialite/droits/eleves/{pupil.pk}/donnees.json")
    assert download["Content-Disposition"] == f'attachment; filename="eleve-{pupil.pk}.json"'
    data = json.loads(download.content)
    assert data["élève"]["prénom d'usage"] == pupil.display_name
    assert data["mises à disposition"][0]["cartable"] == returned_loan.kit.code
    assert len(data["mises à disposition"][0]["séances en direct"]) == 1
    assert list(AuditEntry.objects.filter(action="export").values_list("detail", flat=True)) == [
        "json",
        "page",
    ]

    path = f"/confidentialite/droits/eleves/{pupil.pk}/effacer/"
    wrong = client.post(path, {"mode": "erase", "confirm": "Quelqu'un d'autre"})
    assert wrong.status_code == 400
    assert "ne correspond pas" in wrong.content.decode()
    assert Pupil.objects.filter(pk=pupil.pk).exists()

    done = client.post(path, {"mode": "erase", "confirm": pupil.display_name})
    assert done.status_code == 302
    assert not Pupil.objects.filter(pk=pupil.pk).exists()
    assert not Loan.objects.filter(pk=returned_loan.pk).exists()
    assert not LiveSession.objects.filter(loan_id=returned_loan.pk).exists()
    assert AuditEntry.objects.filter(
        action="erase", object_type="organisation.pupil", object_id=str(pupil.pk)
    ).exists()


def test_erasure_is_refused_while_the_kit_is_out_and_nothing_is_deleted(dpo, loan):
    client = force_login(Client(), dpo)
    path = f"/confidentialite/droits/eleves/{loan.pupil_id}/effacer/"
    response = client.post(path, {"mode": "erase", "confirm": loan.pupil.display_name})
    assert response.status_code == 409
    assert "pas rendu" in response.content.decode()
    assert Loan.objects.filter(pk=loan.pk).exists()
    assert not AuditEntry.objects.filter(action="erase").exists()


def test_the_dpo_pseudonymises_a_pupil(dpo, returned_loan):
    client = force_login(Client(), dpo)
    pupil = returned_loan.pupil
    path = f"/confidentialite/droits/eleves/{pupil.pk}/effacer/"
    assert (
        client.post(path, {"mode": "pseudonymise", "confirm": pupil.display_name}).status_code
        == 302
    )
    assert Pupil.objects.get(pk=pupil.pk).display_name == PSEUDONYM
    assert Loan.objects.filter(pk=returned_loan.pk).exists()
    assert AuditEntry.objects.filter(action="pseudonymise", object_id=str(pupil.pk)).exists()


def test_the_register_is_shown_and_docs_hold_the_same_table(dpo):
    from cartable.privacy.register import declarations

    page = force_login(Client(), dpo).get("/confidentialite/registre/").content.decode()
    for declaration in declarations():
        assert declaration.title.replace("'", "&#x27;") in page
    root = Path(__file__).resolve().parents[2]
    check = subprocess.run(
        [
            sys.executable,
            "-m",
            "cartable.cli",
            "privacy_register",
            "--check",
            "--docs",
            str(root / "docs" / "privacy.md"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    assert "to be set by the privacy issue" not in (root / "docs" / "privacy.md").read_text()


def test_the_audit_log_filters_and_pages(dpo, coordinator, loan):
    from cartable.privacy import audit

    for _ in range(55):
        audit.record(coordinator, "view", loan.pupil)
    audit.record(dpo, "export", loan.pupil)
    client = force_login(Client(), dpo)
    page = client.get("/confidentialite/journal/", {"person": coordinator.email})
    assert page.status_code == 200
    assert "55 entrées" in page.content.decode()
    assert "Page 1 sur 2" in page.content.decode()
    only = client.get("/confidentialite/journal/", {"action": "export"}).content.decode()
    assert "1 entrée." in only
    bad = client.get("/confidentialite/journal/", {"person": "personne@example.org"})
    assert bad.status_code == 400
    assert "Aucun compte n&#x27;a cette adresse électronique." in bad.content.decode()


DPO_PATHS = [
    "/confidentialite/",
    "/confidentialite/registre/",
    "/confidentialite/journal/",
    "/confidentialite/droits/",
    "/confidentialite/droits/eleves/{pupil}/",
    "/confidentialite/droits/eleves/{pupil}/donnees.json",
    "/confidentialite/droits/eleves/{pupil}/effacer/",
]


@pytest.mark.parametrize("path", DPO_PATHS)
def test_every_dpo_page_is_refused_to_everyone_else(request, loan, department, path):
    path = path.format(pupil=loan.pupil_id)
    anonymous = Client().get(path)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/connexion/")
    for role in PEOPLE:
        if role == "dpo":
            continue
        person = request.getfixturevalue({"no_role": "outsider"}.get(role, role))
        assert force_login(Client(), person).get(path).status_code == 404, role
        assert force_login(Client(), person).post(path, {}).status_code in (404, 405), role
    assert force_login(Client(), request.getfixturevalue("dpo")).get(path).status_code == 200
    assert (
        not Pupil.objects.filter(pk=loan.pupil_id)
        .exclude(display_name=loan.pupil.display_name)
        .exists()
    )


def test_the_notices_are_public_and_linked_from_every_page(db):
    for path in ("/informations/familles/", "/informations/eleves/"):
        assert Client().get(path).status_code == 200
    home = Client().get("/").content.decode()
    assert 'href="/informations/familles/"' in home and 'href="/informations/eleves/"' in home
