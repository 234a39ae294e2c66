"""The fleet overview, a kit's page and the registers' downloads in Chromium: reached from
the home page, accessible (axe-core), scoped (a DANE of Nice sees no kit of Versailles),
and the files really download."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
import tablib
from django.utils import timezone

from cartable.fleet.models import Device
from cartable.organisation.models import RoleGrant

from ..fleet.reporting_data import dane_of, device, lesson, person, running_loan
from .conftest import assert_accessible
from .helpers import sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def fleet_data(transactional_db):
    today = timezone.localdate()
    now = timezone.now()
    versailles = running_loan(
        "78", "V-0100", starts_on=today - timedelta(days=40), pupil_name="Anatolie"
    )
    nice = running_loan("06", "N-0100", starts_on=today - timedelta(days=40), pupil_name="Bertille")
    lesson(versailles, now - timedelta(days=1, hours=2), 50)
    lesson(nice, now - timedelta(days=25), 55)  # idle since: a candidate to reclaim
    device(versailles.kit, Device.Kind.CLASS_BOX, now - timedelta(seconds=30))
    device(nice.kit, Device.Kind.CLASS_BOX, now - timedelta(days=4))  # offline
    return {"versailles": versailles, "nice": nice}


def download(page, link_name: str):
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    result = info.value
    return result.suggested_filename, Path(result.path()).read_bytes()


def test_the_fleet_team_follows_the_fleet_and_downloads_the_registers(
    asgi_server, new_page, fleet_data
):
    fleet = person("parc.e2e", RoleGrant.Role.FLEET)
    page = new_page()
    sign_in(page, asgi_server, fleet)
    page.get_by_role("link", name="Suivi du parc").click()
    page.wait_for_url(f"{asgi_server.url}/parc/")
    assert page.get_by_role("heading", level=1).inner_text() == "Suivi du parc — France entière"
    reclaim = page.get_by_role("table", name="sans séance depuis")
    assert "N-0100" in reclaim.inner_text() and "V-0100" not in reclaim.inner_text()
    offline = page.get_by_role("table", name="hors ligne depuis plus de 48 heures")
    assert "N-0100" in offline.inner_text() and "V-0100" not in offline.inner_text()
    assert "Anatolie" not in page.content() and "Bertille" not in page.content()
    assert_accessible(page)

    name, content = download(page, "Mises à disposition, format CSV")
    assert name.startswith("registre-prets-national-") and name.endswith(".csv")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Cartable"
    assert sorted(row[0] for row in rows[1:]) == ["N-0100", "V-0100"]
    name, content = download(page, "Cartables, format XLSX")
    assert name.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        "N-0100",
        "V-0100",
    ]

    # A département, chosen with the selector.
    page.get_by_label("Département").select_option("78")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url("**/parc/?*departement=78*")
    assert "département 78" in page.get_by_role("heading", level=1).inner_text()
    assert_accessible(page)

    page.goto(f"{asgi_server.url}/parc/")
    page.get_by_role("link", name="N-0100").first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "Cartable N-0100"
    assert page.get_by_role("table", name="Heures en direct par semaine").count() == 1
    assert "hors ligne" in page.get_by_role("table", name="État des appareils").inner_text()
    assert page.get_by_role("heading", name="Gestion du cartable N-0100").count() == 1
    assert "Bertille" not in page.content()
    assert_accessible(page)


def test_a_dane_of_nice_sees_no_kit_of_versailles(asgi_server, new_page, fleet_data):
    dane = dane_of("Nice", username="dane.nice.e2e")
    page = new_page()
    sign_in(page, asgi_server, dane, "/parc/")
    assert page.get_by_role("heading", level=1).inner_text() == "Suivi du parc — académie de Nice"
    assert "N-0100" in page.content()
    assert "V-0100" not in page.content()
    assert_accessible(page)
    name, content = download(page, "Mises à disposition, format ODS")
    assert name.startswith("registre-prets-academie-23-") and name.endswith(".ods")

    data = tablib.Dataset().load(content, format="ods")
    assert [row[0] for row in data] == ["N-0100"]

    page.get_by_role("link", name="N-0100").first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "Cartable N-0100"
    assert page.get_by_role("heading", name="Gestion du cartable N-0100").count() == 0
    assert_accessible(page)
    response = page.goto(f"{asgi_server.url}/parc/cartables/{fleet_data['versailles'].kit_id}/")
    assert response.status == 404
    response = page.goto(f"{asgi_server.url}/parc/?academie=25")
    assert response.status == 404
