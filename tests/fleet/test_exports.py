"""The registers of kits and of loans, downloaded as CSV, ODS and XLSX: their contents
against hand-written expectations, their scope, their file names and types."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import openpyxl
import pytest
import tablib
import time_machine
from django.test import Client

from cartable.fleet.models import Device, Kit, Loan
from cartable.organisation.models import Pupil, RoleGrant, SchoolClass

from ..conftest import force_login
from .reporting_data import at, coordinator_of, dane_of, device, lesson, person, running_loan

NOW = at(2026, 11, 12, 10)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def signed_in(user) -> Client:
    return force_login(Client(), user)


@pytest.fixture
def registers(db):
    """Four loans: running in the Yvelines (used) and in the Alpes-Maritimes (unused),
    returned in the Essonne, requested in the Yvelines; and a kit in stock."""
    start = date(2026, 9, 7)
    returned = running_loan(
        "91", "V-0002", starts_on=start, requested_at=at(2026, 8, 20, 8), pupil_name="Hortense"
    )
    Loan.objects.filter(pk=returned.pk).update(
        status=Loan.Status.RETURNED, ended_at=at(2026, 10, 1, 12), returned_at=at(2026, 10, 5, 10)
    )
    Kit.objects.filter(pk=returned.kit_id).update(
        status=Kit.Status.IN_STOCK, status_changed_at=at(2026, 10, 5, 10)
    )
    used = running_loan(
        "78",
        "V-0001",
        starts_on=start,
        requested_at=at(2026, 8, 31, 8),
        pupil_name="Isidore",
        pupil_department="92",
    )
    lesson(used, at(2026, 10, 14, 9), 60)
    lesson(used, at(2026, 11, 3, 9), 55, pupil=[(0, 30)])
    device(used.kit, Device.Kind.CLASS_BOX, at(2026, 11, 12, 9, 59))
    device(used.kit, Device.Kind.PUPIL_TABLET, at(2026, 11, 11, 18))
    unused = running_loan(
        "06",
        "N-0001",
        starts_on=start,
        requested_at=at(2026, 9, 1, 8),
        pupil_name="Jacinthe",
        place_kind=Loan.PlaceKind.HOME,
    )
    klass = SchoolClass.objects.create(
        school=used.school_class.school, name="3e B", level="3e", school_year="2026-2027"
    )
    requested = Loan.objects.create(
        pupil=Pupil.objects.create(display_name="Kilian", school_class=klass),
        school_class=klass,
        starts_on=date(2026, 11, 16),
        ends_on=date(2027, 2, 1),
        place_kind=Loan.PlaceKind.HOSPITAL_SCHOOL,
        status=Loan.Status.REQUESTED,
        created_at=at(2026, 11, 10, 10),
    )
    Kit.objects.create(code="S-0001", status_changed_at=at(2026, 6, 1, 14, 30))
    return {"returned": returned, "used": used, "unused": unused, "requested": requested}


def school(loan):
    return loan.school_class.school


def expected_loans(data) -> list[list[str]]:
    returned, used, unused, requested = (
        data["returned"],
        data["used"],
        data["unused"],
        data["requested"],
    )
    return [
        # kit, UAI, school, académie, dép. school, dép. pupil, place, step, start, end,
        # requested, assigned, shipped, installed, ended, returned, days of provision,
        # lessons, live hours, first lesson, last lesson, days from request to first lesson
        [
            "V-0002",
            school(returned).uai,
            school(returned).name,
            "Versailles",
            "91",
            "91",
            "Hôpital",
            "Clos, cartable rendu",
            "2026-09-07",
            "2027-01-05",
            "2026-08-20 08:00",
            "2026-08-21 08:00",
            "2026-08-22 08:00",
            "2026-08-24 08:00",
            "2026-10-01 12:00",
            "2026-10-05 10:00",
            "25",
            "0",
            "0,00",
            "",
            "",
            "",
        ],
        [
            "V-0001",
            school(used).uai,
            school(used).name,
            "Versailles",
            "78",
            "92",
            "Hôpital",
            "En cours",
            "2026-09-07",
            "2027-01-05",
            "2026-08-31 08:00",
            "2026-09-01 08:00",
            "2026-09-02 08:00",
            "2026-09-04 08:00",
            "",
            "",
            "67",
            "2",
            "1,50",
            "2026-10-14 09:00",
            "2026-11-03 09:00",
            "44",
        ],
        [
            "N-0001",
            school(unused).uai,
            school(unused).name,
            "Nice",
            "06",
            "06",
            "Domicile",
            "En cours",
            "2026-09-07",
            "2027-01-05",
            "2026-09-01 08:00",
            "2026-09-02 08:00",
            "2026-09-03 08:00",
            "2026-09-05 08:00",
            "",
            "",
            "67",
            "0",
            "0,00",
            "",
            "",
            "",
        ],
        [
            "",
            school(requested).uai,
            school(requested).name,
            "Versailles",
            "78",
            "",
            "Unité d'enseignement à l'hôpital",
            "Demandé",
            "2026-11-16",
            "2027-02-01",
            "2026-11-10 10:00",
            "",
            "",
            "",
            "",
            "",
            "",
            "0",
            "0,00",
            "",
            "",
            "",
        ],
    ]


def expected_kits(data) -> list[list[str]]:
    return [
        # code, generation, status, since, devices, online, last heartbeat, current
        # loan's UAI, académie, département
        [
            "N-0001",
            "3e génération",
            "En prêt",
            "2026-09-07 09:00",
            "0",
            "0",
            "",
            school(data["unused"]).uai,
            "Nice",
            "06",
        ],
        ["S-0001", "3e génération", "En stock", "2026-06-01 14:30", "0", "0", "", "", "", ""],
        [
            "V-0001",
            "3e génération",
            "En prêt",
            "2026-09-07 09:00",
            "2",
            "1",
            "2026-11-12 09:59",
            school(data["used"]).uai,
            "Versailles",
            "78",
        ],
        ["V-0002", "3e génération", "En stock", "2026-10-05 10:00", "0", "0", "", "", "", ""],
    ]


def download(client, path):
    with time_machine.travel(NOW, tick=False):
        return client.get(path)


def read_csv(response) -> tuple[list[str], list[list[str]]]:
    content = response.content
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM French spreadsheets need
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    return rows[0], rows[1:]


@pytest.fixture
def fleet_team(db):
    return person("parc.registres", RoleGrant.Role.FLEET)


def test_the_loans_register_as_csv(registers, fleet_team):
    response = download(signed_in(fleet_team), "/parc/registre/prets.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="registre-prets-national-2026-11-12.csv"'
    )
    header, rows = read_csv(response)
    assert header[:3] == ["Cartable", "UAI", "Établissement"]
    assert header[-1] == "Jours de la demande à la première séance"
    assert rows == expected_loans(registers)
    for name in ["Hortense", "Isidore", "Jacinthe", "Kilian"]:
        assert name.encode() not in response.content


def test_the_kits_register_as_csv(registers, fleet_team):
    response = download(signed_in(fleet_team), "/parc/registre/cartables.csv")
    header, rows = read_csv(response)
    assert header == [
        "Référence",
        "Génération",
        "Statut",
        "Statut depuis",
        "Appareils",
        "Appareils en ligne",
        "Dernier signal de vie",
        "UAI de l'établissement du prêt en cours",
        "Académie du prêt en cours",
        "Département du prêt en cours",
    ]
    assert rows == expected_kits(registers)


def test_the_registers_as_xlsx_keep_dates_and_numbers(registers, fleet_team):
    client = signed_in(fleet_team)
    response = download(client, "/parc/registre/prets.xlsx")
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert 'filename="registre-prets-national-2026-11-12.xlsx"' in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet.title == "Mises à disposition"
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "Cartable"
    used = rows[2]
    assert used[0] == "V-0001"
    assert used[8] == datetime(2026, 9, 7)  # a date cell (openpyxl reads dates as datetimes)
    assert used[13] == datetime(2026, 9, 4, 8, 0)  # installed, local time
    assert used[16:22] == [67, 2, 1.5, datetime(2026, 10, 14, 9), datetime(2026, 11, 3, 9), 44]
    assert rows[4][0] in (None, "") and rows[4][16] is None  # requested: no kit, no provision
    as_text = [[_text(v, i) for i, v in enumerate(row)] for row in rows[1:]]
    assert as_text == expected_loans(registers)

    kits = openpyxl.load_workbook(
        io.BytesIO(download(client, "/parc/registre/cartables.xlsx").content)
    ).active
    kit_rows = [list(row) for row in kits.iter_rows(values_only=True)][1:]
    assert [[_text(v, 0) for v in row] for row in kit_rows] == expected_kits(registers)


def _text(value, column: int) -> str:
    """A spreadsheet's typed cell written as the CSV writes it (column 18 of the loans
    register holds hours, with two decimals; other numbers are whole)."""
    if value is None:
        return ""
    if type(value) is date:
        return value.isoformat()
    if isinstance(value, datetime):
        if value.hour == value.minute == 0:
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, int | float) and column != 18:
        return str(int(value))
    if isinstance(value, int | float):
        return f"{float(value):.2f}".replace(".", ",")
    return value


def test_the_registers_as_ods(registers, fleet_team):
    response = download(signed_in(fleet_team), "/parc/registre/prets.ods")
    assert response["Content-Type"] == "application/vnd.oasis.opendocument.spreadsheet"
    assert 'filename="registre-prets-national-2026-11-12.ods"' in response["Content-Disposition"]
    data = tablib.Dataset().load(response.content, format="ods")
    assert data.headers[0] == "Cartable"
    rows = [list(row) for row in data]
    used = rows[1]
    assert used[0] == "V-0001"
    assert used[8] == date(2026, 9, 7)
    assert used[13] == datetime(2026, 9, 4, 8, 0)
    assert used[16:19] == [67, 2, 1.5]
    as_text = [[_text(v, i) for i, v in enumerate(row)] for row in rows]
    assert as_text == expected_loans(registers)


def test_a_dane_downloads_their_academie_only(registers):
    client = signed_in(dane_of("Nice"))
    for kind in ("prets", "cartables"):
        for fmt in ("csv", "xlsx", "ods"):
            response = download(client, f"/parc/registre/{kind}.{fmt}")
            assert response.status_code == 200
            assert (
                f"registre-{kind}-academie-23-2026-11-12.{fmt}" in response["Content-Disposition"]
            )
            if fmt == "csv":
                _, rows = read_csv(response)
                assert [row[0] for row in rows] == ["N-0001"]
                assert b"V-000" not in response.content
    sheet = openpyxl.load_workbook(
        io.BytesIO(download(client, "/parc/registre/prets.xlsx").content)
    ).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["N-0001"]
    assert download(client, "/parc/registre/prets.csv?academie=25").status_code == 404
    assert download(client, "/parc/registre/cartables.csv?departement=78").status_code == 404


def test_a_coordinator_downloads_their_departement_only(registers):
    client = signed_in(coordinator_of("78"))
    _, rows = read_csv(download(client, "/parc/registre/prets.csv"))
    assert rows == [expected_loans(registers)[1], expected_loans(registers)[3]]
    _, kits = read_csv(download(client, "/parc/registre/cartables.csv?departement=78"))
    assert [row[0] for row in kits] == ["V-0001"]
    assert download(client, "/parc/registre/prets.csv?departement=91").status_code == 404


def test_the_fleet_team_downloads_one_departement(registers, fleet_team):
    _, rows = read_csv(download(signed_in(fleet_team), "/parc/registre/prets.csv?departement=91"))
    assert rows == [expected_loans(registers)[0]]


def test_unknown_registers_and_formats_are_not_found(registers, fleet_team):
    client = signed_in(fleet_team)
    for path in ("/parc/registre/eleves.csv", "/parc/registre/prets.pdf", "/parc/registre/prets"):
        assert download(client, path).status_code == 404


def test_refusals(registers, teacher, outsider):
    response = Client().get("/parc/registre/cartables.xlsx")
    assert response.status_code == 302 and response["Location"].startswith("/connexion/")
    for user in (teacher, outsider):
        assert download(signed_in(user), "/parc/registre/cartables.xlsx").status_code == 404


def test_a_cell_that_looks_like_a_formula_is_shown_not_run(registers, fleet_team):
    school(registers["used"]).__class__.objects.filter(pk=school(registers["used"]).pk).update(
        name='=HYPERLINK("http://example.org")'
    )
    client = signed_in(fleet_team)
    _, rows = read_csv(download(client, "/parc/registre/prets.csv"))
    assert rows[1][2] == '\'=HYPERLINK("http://example.org")'
    sheet = openpyxl.load_workbook(
        io.BytesIO(download(client, "/parc/registre/prets.xlsx").content)
    ).active
    cell = sheet.cell(row=3, column=3)
    assert cell.data_type == "s" and cell.value.startswith("'=")
