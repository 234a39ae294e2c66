"""A NUL character (U+0000) is refused everywhere, alike on SQLite and PostgreSQL: in the
address, a query parameter, a posted field or a file name (a French 400 before any view),
and in any text a model would save."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cartable.core.errors import NulRefused
from cartable.organisation.models import School, SchoolClass

from ..conftest import force_login


def refused(response) -> bool:
    return response.status_code == 400 and "Caractère nul" in response.content.decode()


def test_a_school_name_with_nul_is_not_saved(db):
    school = School(uai="0783774D", name="Collège\x00", kind=School.Kind.COLLEGE)
    with pytest.raises(NulRefused):
        school.save()
    assert not School.objects.exists()


def test_an_update_of_other_fields_is_not_held_up(loan):
    school = loan.school_class.school
    school.name = "École\x00"  # not saved: only the commune is
    school.commune = "Mantes"
    school.save(update_fields=["commune"])
    school.refresh_from_db()
    assert school.commune == "Mantes" and "\x00" not in school.name


def test_nul_in_the_query_the_path_or_a_form_is_a_french_400(teacher, loan):
    client = force_login(Client(), teacher)
    assert refused(client.get("/", {"q": "\x00"}))
    assert refused(client.get("/", {"\x00": "1"}))
    assert refused(client.get("/questionnaire/ab%00cd/"))
    assert refused(client.get("/connexion/?next=/%00"))
    before = SchoolClass.objects.count()
    response = client.post("/organisation/classes/nouvelle/", {"name": "CM2\x00", "level": "cm2"})
    assert refused(response)
    assert SchoolClass.objects.count() == before
    upload = SimpleUploadedFile("a\x00.csv", b"a;b\n", content_type="text/csv")
    # (Django's multipart parser may clean the name itself: refused or cleaned, never a 500.)
    assert client.post("/parc/appareils/import/", {"file": upload}).status_code < 500


def test_anonymous_visitors_get_it_too(db):
    response = Client().post("/connexion/", {"username": "a\x00@example.org", "password": "x"})
    assert refused(response)
    assert '<html lang="fr">' in response.content.decode()


def test_the_api_refuses_nul_in_json(ministry):
    response = force_login(Client(), ministry).get("/api/evaluation/indicators?annee=%00")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
    assert "Caractère nul" in response.json()["message"]
