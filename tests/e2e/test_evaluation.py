"""The review report in Chromium: reached from the home page, accessible (axe-core, CSP), the
year and the scope changed with the keyboard alone, and the PDF and the data files really
download; a DANE of Nice sees nothing of Versailles."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from ..conftest import make_person
from ..evaluation.conftest import build_review_data
from .conftest import assert_accessible
from .helpers import sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def review(transactional_db):
    from cartable.organisation.models import RoleGrant

    data = build_review_data()
    data.ministry = make_person("eval.ministere.e2e", {"role": RoleGrant.Role.NATIONAL})
    data.dane_nice = make_person(
        "eval.dane.nice.e2e", {"role": RoleGrant.Role.ACADEMY, "academy": data.nice}
    )
    return data


def download(page, link_name: str):
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    result = info.value
    return result.suggested_filename, Path(result.path()).read_bytes()


def test_the_ministry_reads_the_report_changes_it_by_keyboard_and_downloads_it(
    asgi_server, new_page, review
):
    page = new_page()
    sign_in(page, asgi_server, review.ministry)
    page.get_by_role("link", name="Rapport d'évaluation").click()
    page.wait_for_url(f"{asgi_server.url}/evaluation/")
    assert "France entière" in page.get_by_role("heading", level=1).inner_text()
    assert_accessible(page)

    # The year, then an académie, chosen with the keyboard only.
    year = page.get_by_label("Année scolaire")
    year.focus()
    year.select_option("2025-2026")  # what the arrow keys do on a focused select
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "report-academy"
    page.get_by_label("Académie").select_option("25")
    page.get_by_role("button", name="Afficher").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/evaluation/?annee=2025-2026&academie=25*")
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == "Rapport d'évaluation — académie de Versailles, année scolaire 2025-2026"
    loans = page.get_by_role("table", name="Prêts de la période")
    assert "Demandés" in loans.inner_text() and "7" in loans.inner_text()
    assert page.get_by_role("img", name="Élèves accompagnés par niveau").count() == 1
    assert "Prénom P" not in page.content()
    assert_accessible(page)

    name, content = download(page, "Rapport pour le comité de pilotage (PDF)")
    assert name == "rapport-evaluation-2025-2026-academie-25.pdf"
    assert content.startswith(b"%PDF-")
    name, content = download(page, "Données du rapport, format XLSX")
    assert name == "rapport-evaluation-2025-2026-academie-25.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(content))["Indicateurs"]
    values = {r[0]: r[1] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["Prêts demandés"] == 7 and values["Prêts terminés"] == "< 5"
    name, content = download(page, "Données du rapport, format CSV")
    assert name.endswith(".csv") and content.startswith("\ufeff".encode())


def test_a_dane_of_nice_sees_nothing_of_versailles(asgi_server, new_page, review):
    page = new_page()
    sign_in(page, asgi_server, review.dane_nice, "/evaluation/?annee=2025-2026")
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == "Rapport d'évaluation — académie de Nice, année scolaire 2025-2026"
    assert page.get_by_label("Académie").locator("option").all_inner_texts() == ["—", "Nice"]
    assert "Versailles" not in page.content()
    assert_accessible(page)
    name, content = download(page, "Données du rapport, format XLSX")
    assert name == "rapport-evaluation-2025-2026-academie-23.xlsx"
    response = page.goto(f"{asgi_server.url}/evaluation/?academie=25")
    assert response.status == 404
    response = page.goto(f"{asgi_server.url}/evaluation/rapport.pdf?departement=78")
    assert response.status == 404


def test_an_empty_year_says_so(asgi_server, new_page, review):
    page = new_page()
    sign_in(page, asgi_server, review.ministry, "/evaluation/?annee=2021-2022")
    status = page.get_by_role("status")
    assert "Aucune donnée pour année scolaire 2021-2022" in status.inner_text()
    assert_accessible(page)
