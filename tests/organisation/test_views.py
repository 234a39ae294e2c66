"""The organisation's pages: each role's home page, class and pupil forms, the school
directory upload. Outside one's scope, an object answers 404.
"""

from __future__ import annotations

import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cartable.fleet.models import Kit, Loan
from cartable.organisation.models import Department, Pupil, School, SchoolClass

from ..conftest import force_login
from .annuaire import make_csv, school_row


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def signed_in(user) -> Client:
    client = Client()
    force_login(client, user)
    return client


def text(response) -> str:
    # Some addresses answer files (the evaluation's PDF): their bytes are read as they come.
    return html.unescape(response.content.decode(errors="replace"))


@pytest.fixture
def elsewhere(make_loan, department):
    """A loan in the Essonne (91), with a distinctive pupil name."""
    other = make_loan()
    School.objects.filter(pk=other.school_class.school_id).update(
        department=Department.objects.get(code="91")
    )
    Pupil.objects.filter(pk=other.pupil_id).update(display_name="Zéphyrine")
    return Loan.objects.select_related("school_class__school", "pupil").get(pk=other.pk)


# Home pages -----------------------------------------------------------------------------------


def test_a_coordinator_sees_their_departements_pupils_loans_and_schools(
    loan, coordinator, elsewhere
):
    page = text(signed_in(coordinator).get("/"))
    assert "Département 78" in page
    assert loan.pupil.display_name in page
    assert loan.school_class.school.name in page
    assert f"/prets/{loan.pk}/appairage/" in page
    assert f"/organisation/classes/{loan.school_class.pk}/" in page
    assert "Zéphyrine" not in page
    assert f"/station/{loan.pk}/" not in page  # a coordinator is not a class station


def test_a_school_head_sees_their_schools_classes_and_loans(loan, school_head, elsewhere):
    page = text(signed_in(school_head).get("/"))
    assert loan.school_class.school.name in page
    assert loan.school_class.name in page
    assert loan.pupil.display_name in page
    assert "Zéphyrine" not in page


def test_a_dane_sees_counts_of_their_academie(loan, dane, elsewhere):
    response = signed_in(dane).get("/")
    page = text(response)
    assert "Académie de Versailles" in page
    assert "prêts en cours" in page
    academy = response.context["academies"][0]
    assert academy["figures"].active_loans == 2  # the Yvelines and the Essonne loans


def test_the_ministry_sees_counts_per_academie(loan, ministry, elsewhere):
    response = signed_in(ministry).get("/")
    assert response.status_code == 200
    assert "France entière" in text(response)
    assert response.context["national"]["active_loans"] == 2


@pytest.mark.parametrize("who", ["hospital_staff", "family"])
def test_hospital_staff_and_family_see_their_loan(request, loan, elsewhere, who):
    page = text(signed_in(request.getfixturevalue(who)).get("/"))
    assert loan.pupil.display_name in page
    assert "Zéphyrine" not in page


def test_the_fleet_sees_where_kits_are_without_names(loan, fleet, elsewhere):
    page = text(signed_in(fleet).get("/"))
    assert loan.kit.code in page and elsewhere.kit.code in page
    assert loan.pupil.display_name not in page and "Zéphyrine" not in page


def test_someone_without_a_role_is_told_how_to_get_one(loan, outsider):
    page = text(signed_in(outsider).get("/"))
    assert "Aucun rôle ne vous est attribué" in page
    assert loan.pupil.display_name not in page


# No pupil name at the académie and national levels --------------------------------------------

DISTINCTIVE = ["Anatoline", "Barnabée", "Cunégonde"]


@pytest.fixture
def named_pupils(make_loan, department):
    """Loans in three départements of two académies, for pupils with names found nowhere
    else in the pages."""
    loans = []
    for name, code in zip(DISTINCTIVE, ["78", "91", "75"], strict=True):
        loan = make_loan()
        School.objects.filter(pk=loan.school_class.school_id).update(
            department=Department.objects.get(code=code)
        )
        Pupil.objects.filter(pk=loan.pupil_id).update(display_name=name)
        loans.append(loan)
    return loans


@pytest.mark.parametrize("who", ["dane", "ministry"])
def test_no_pupil_name_appears_in_any_page_of_the_academie_and_national_levels(
    request, named_pupils, who
):
    from .test_access_table import routes_with_arguments

    client = signed_in(request.getfixturevalue(who))
    home = text(client.get("/"))
    assert "prêts en cours" in home  # the page shows figures…
    for path in routes_with_arguments(named_pupils[0]):
        page = text(client.get(path))
        for name in DISTINCTIVE:
            assert name not in page, (who, path)  # …and never a name


def test_the_distinctive_names_are_shown_to_their_coordinator(named_pupils, coordinator):
    # The check above is worth something only if the names do reach pages that may show them.
    page = text(signed_in(coordinator).get("/"))
    assert "Anatoline" in page
    assert "Barnabée" not in page and "Cunégonde" not in page


# Classes ---------------------------------------------------------------------------------------


def test_a_coordinator_creates_a_class_in_their_departement(loan, coordinator):
    school = loan.school_class.school
    response = signed_in(coordinator).post(
        "/organisation/classes/nouvelle/",
        {"school": school.pk, "name": " 5e  B ", "level": "5e", "school_year": "2026-2027"},
    )
    assert response.status_code == 302
    created = SchoolClass.objects.get(school=school, name="5e B")
    assert (created.level, created.school_year) == ("5e", "2026-2027")


def test_the_class_form_asks_only_for_school_name_level_and_year(loan, coordinator):
    response = signed_in(coordinator).get("/organisation/classes/nouvelle/")
    assert response.status_code == 200
    assert list(response.context["form"].fields) == ["school", "name", "level", "school_year"]


def test_class_errors_are_clear_and_in_french(loan, coordinator):
    client = signed_in(coordinator)
    response = client.post(
        "/organisation/classes/nouvelle/",
        {"school": "", "name": "", "level": "", "school_year": "2026-2028"},
    )
    assert response.status_code == 400
    page = text(response)
    assert "Choisissez l'établissement de la classe." in page
    assert "Donnez un nom à la classe." in page
    assert "Choisissez le niveau de la classe." in page
    assert "deux années qui se suivent" in page
    duplicate = client.post(
        "/organisation/classes/nouvelle/",
        {
            "school": loan.school_class.school.pk,
            "name": loan.school_class.name.upper(),
            "level": "CM1",
            "school_year": loan.school_class.school_year,
        },
    )
    assert duplicate.status_code == 400
    assert "Une classe porte déjà ce nom" in text(duplicate)


def test_a_class_cannot_be_created_in_a_school_of_another_departement(coordinator, elsewhere):
    response = signed_in(coordinator).post(
        "/organisation/classes/nouvelle/",
        {
            "school": elsewhere.school_class.school.pk,
            "name": "6e A",
            "level": "6e",
            "school_year": "2026-2027",
        },
    )
    assert response.status_code == 400
    assert "hors de votre département" in text(response)
    assert not SchoolClass.objects.filter(name="6e A").exists()


def test_a_coordinator_edits_a_class(loan, coordinator):
    klass = loan.school_class
    response = signed_in(coordinator).post(
        f"/organisation/classes/{klass.pk}/",
        {"school": klass.school.pk, "name": "CM2 A", "level": "CM2", "school_year": "2027-2028"},
    )
    assert response.status_code == 302
    klass.refresh_from_db()
    assert (klass.name, klass.level, klass.school_year) == ("CM2 A", "CM2", "2027-2028")


@pytest.mark.parametrize(
    "who", ["other_coordinator", "teacher", "school_head", "dane", "ministry", "outsider"]
)
def test_a_class_outside_ones_scope_is_not_found(request, loan, department, who):
    client = signed_in(request.getfixturevalue(who))
    path = f"/organisation/classes/{loan.school_class.pk}/"
    assert client.get(path).status_code == 404
    data = {"school": loan.school_class.school.pk, "name": "X", "level": "CM2"}
    assert client.post(path, {**data, "school_year": "2026-2027"}).status_code == 404
    assert SchoolClass.objects.get(pk=loan.school_class.pk).name != "X"


def test_an_unknown_class_is_not_found(coordinator):
    assert signed_in(coordinator).get("/organisation/classes/999999/").status_code == 404


# Pupils ----------------------------------------------------------------------------------------


def test_a_coordinator_adds_a_pupil_to_a_class(loan, coordinator):
    response = signed_in(coordinator).post(
        "/organisation/eleves/nouveau/",
        {"display_name": "  Inès ", "school_class": loan.school_class.pk},
    )
    assert response.status_code == 302
    assert Pupil.objects.filter(display_name="Inès", school_class=loan.school_class).exists()


def test_the_pupil_form_asks_only_for_a_first_name_and_a_class(loan, coordinator):
    response = signed_in(coordinator).get(
        f"/organisation/eleves/nouveau/?classe={loan.school_class.pk}"
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.fields) == ["display_name", "school_class"]
    assert str(form.initial["school_class"]) == str(loan.school_class.pk)


def test_pupil_errors_are_clear_and_in_french(loan, coordinator, elsewhere):
    response = signed_in(coordinator).post(
        "/organisation/eleves/nouveau/",
        {"display_name": "", "school_class": elsewhere.school_class.pk},
    )
    assert response.status_code == 400
    page = text(response)
    assert "Indiquez le prénom d'usage de l'élève." in page
    assert "Cette classe est hors de votre département." in page
    assert Pupil.objects.count() == 2


def test_a_coordinator_edits_a_pupil(loan, coordinator):
    response = signed_in(coordinator).post(
        f"/organisation/eleves/{loan.pupil.pk}/",
        {"display_name": "Lou", "school_class": loan.school_class.pk},
    )
    assert response.status_code == 302
    loan.pupil.refresh_from_db()
    assert loan.pupil.display_name == "Lou"


def test_a_pupil_cannot_be_moved_into_a_class_of_another_departement(loan, coordinator, elsewhere):
    response = signed_in(coordinator).post(
        f"/organisation/eleves/{loan.pupil.pk}/",
        {"display_name": "Lou", "school_class": elsewhere.school_class.pk},
    )
    assert response.status_code == 400
    loan.pupil.refresh_from_db()
    assert loan.pupil.school_class_id == loan.school_class_id


@pytest.mark.parametrize(
    "who", ["other_coordinator", "teacher", "school_head", "hospital_staff", "dane", "outsider"]
)
def test_a_pupil_outside_ones_scope_is_not_found(request, loan, department, who):
    client = signed_in(request.getfixturevalue(who))
    path = f"/organisation/eleves/{loan.pupil.pk}/"
    assert client.get(path).status_code == 404
    data = {"display_name": "X", "school_class": loan.school_class.pk}
    assert client.post(path, data).status_code == 404
    assert Pupil.objects.get(pk=loan.pupil.pk).display_name != "X"


@pytest.mark.parametrize(
    "path", ["/organisation/classes/nouvelle/", "/organisation/eleves/nouveau/"]
)
def test_people_who_manage_no_class_do_not_find_the_forms(loan, teacher, dane, path):
    for user in (teacher, dane):
        assert signed_in(user).get(path).status_code == 404
    assert Client().get(path).status_code == 302


# School directory ------------------------------------------------------------------------------


def upload(client, content: str):
    file = SimpleUploadedFile("annuaire.csv", content.encode(), content_type="text/csv")
    return client.post("/organisation/annuaire/", {"file": file})


def test_an_administrator_imports_the_school_directory(administrator, academies):
    content = make_csv([school_row(Nom_etablissement="Collège Test")])
    response = upload(signed_in(administrator), content)
    assert response.status_code == 200
    assert "1 établissement créé" in text(response)
    assert School.objects.filter(uai="0783774D", name="Collège Test").exists()


def test_every_bad_line_is_shown_and_nothing_is_imported(administrator, academies):
    content = make_csv(
        [
            school_row(Nom_etablissement="Bon collège"),
            school_row(Identifiant_de_l_etablissement="0783775X", Nom_etablissement="Mauvais"),
            school_row(Identifiant_de_l_etablissement="0010005A", Code_departement="999"),
        ]
    )
    response = upload(signed_in(administrator), content)
    assert response.status_code == 400
    page = text(response)
    assert "Rien n'a été importé" in page
    assert "Ligne 3 :" in page and "Ligne 4 :" in page
    assert not School.objects.filter(uai="0783774D").exists()


def test_the_upload_asks_for_a_file(administrator):
    response = signed_in(administrator).post("/organisation/annuaire/", {})
    assert response.status_code == 400
    assert "Choisissez le fichier à importer." in text(response)


@pytest.mark.parametrize("who", ["coordinator", "dane", "ministry", "fleet", "outsider"])
def test_only_an_administrator_imports_the_directory(request, loan, department, who):
    client = signed_in(request.getfixturevalue(who))
    assert client.get("/organisation/annuaire/").status_code == 404


def test_kits_are_untouched_by_the_forms(loan, coordinator):
    # The forms write classes and pupils only.
    before = list(Kit.objects.values_list("pk", "code"))
    signed_in(coordinator).post(
        "/organisation/eleves/nouveau/",
        {"display_name": "Inès", "school_class": loan.school_class.pk},
    )
    assert list(Kit.objects.values_list("pk", "code")) == before
