"""The review report: its page, its PDF (read back with pdftotext) and its data files (read
back with openpyxl and tablib), on the fixed data set ``review_data`` (see conftest.py)
and a few survey responses; small counts, scope, an empty period and refusals."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import date

import openpyxl
import pytest
import tablib

from cartable.evaluation.scope import current_school_year
from cartable.surveys.models import Respondent, Round, SurveyAnswer, SurveyResponse

YEAR = "annee=2025-2026"


def row(header: str, *cells: str) -> str:
    """A table row as the page writes it."""
    return f'<th scope="row">{header}</th>' + "".join(
        f'<td class="number">{cell}</td>' for cell in cells
    )


def pdf_text(content: bytes) -> str:
    """The PDF's text, every run of blanks made one space."""
    assert content.startswith(b"%PDF-")
    if shutil.which("pdftotext") is None:
        pytest.fail(
            "pdftotext is missing (apt-get install poppler-utils; scripts/bootstrap --test)"
        )
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=content, capture_output=True, check=True
    )
    return " ".join(done.stdout.decode("utf-8").split())


def respond(department, kind: str, on: date, value: int, text: str = "", review: str = ""):
    response = SurveyResponse.objects.create(
        respondent_kind=kind,
        round=Round.END,
        school_year="2025-2026",
        academy=department.academy,
        department=department,
        level_group="elementaire",
        place_kind="home",
        submitted_on=on,
    )
    SurveyAnswer.objects.create(
        response=response, question="quality", value=value, text=text, review=review
    )
    return response


@pytest.fixture
def surveys(review_data):
    """Seven teachers of the Yvelines (one approved text, one awaiting review, one rejected
    and erased), one family of the Alpes-Maritimes with an approved text."""
    yvelines, nice = review_data.yvelines, review_data.alpes_maritimes
    approved = SurveyAnswer.Review.APPROVED
    respond(
        yvelines, Respondent.TEACHER, date(2025, 10, 6), 4, "La classe a gardé le lien.", approved
    )
    respond(yvelines, Respondent.TEACHER, date(2025, 10, 6), 3, "Texte pas encore relu", "pending")
    respond(yvelines, Respondent.TEACHER, date(2026, 2, 9), 3, "", SurveyAnswer.Review.REJECTED)
    for _ in range(4):
        respond(yvelines, Respondent.TEACHER, date(2026, 3, 30), 4)
    respond(nice, Respondent.FAMILY, date(2025, 10, 20), 2, "Un mot de Nice.", approved)


# The page -------------------------------------------------------------------------------------


def test_the_ministry_sees_the_national_report_with_its_figures(
    client, review_people, signed_in, surveys
):
    signed_in(review_people.ministry)
    response = client.get(f"/evaluation/?{YEAR}")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Rapport d'évaluation — France entière, année scolaire 2025-2026" in page
    # Loans of the period (computed by hand in conftest.py and test_indicators.py).
    assert row("Demandés", "8") in page
    assert row("Démarrés", "5") in page
    assert row("Actifs", "5") in page
    assert row("Séances en direct", "8") in page
    assert row("Durée médiane d&#x27;une séance (minutes)", "47,5") in page
    # Every chart is an image named by its title and described, with its data table.
    assert page.count('role="img"') == page.count("<figure") >= 5
    assert "<caption>Prêts de la période — France entière, année scolaire 2025-2026" in page
    assert 'style="' not in page
    # Surveys: 8 responses; the approved texts only.
    assert "<strong>8</strong> questionnaires reçus" in page
    assert row("Enseignant·e", "7") in page
    assert "La classe a gardé le lien." in page and "Un mot de Nice." in page
    assert "Texte pas encore relu" not in page
    # No pupil is named.
    assert "Prénom P" not in page
    # Downloads with the same choice.
    assert 'href="/evaluation/rapport.pdf?annee=2025-2026"' in page
    assert 'href="/evaluation/donnees.xlsx?annee=2025-2026"' in page


def test_small_counts_show_as_under_five_in_the_page(client, review_people, signed_in, surveys):
    signed_in(review_people.dane_versailles)
    page = client.get(f"/evaluation/?{YEAR}").content.decode()
    assert "académie de Versailles" in page
    # Versailles: 7 loans asked (all but L3), 3 ended (L1, L7, L4): under 5.
    assert row("Demandés", "7") in page
    assert row("Terminés", "&lt; 5") in page
    assert row("Collège", "&lt; 5") in page
    assert row("Hôpital", "&lt; 5") in page
    # A hidden count draws no bar, and the quality shares (all under 5) are not drawn.
    assert "Effectifs trop petits pour être montrés." in page
    assert row("Bonne", "&lt; 5", "&lt; 5") in page
    # The family of Nice is not in Versailles.
    assert "Un mot de Nice." not in page
    assert "La classe a gardé le lien." in page


def test_the_default_is_the_current_school_year_and_the_widest_scope(
    client, review_people, signed_in
):
    signed_in(review_people.coordinator_78)
    page = client.get("/evaluation/").content.decode()
    period = current_school_year()
    assert f"Rapport d'évaluation — département 78, {period.label}</h1>" in page
    assert f'<option value="{period.start.year}-{period.end.year}" selected>' in page


def test_a_period_without_data_says_so(client, review_people, signed_in):
    signed_in(review_people.ministry)
    response = client.get("/evaluation/?annee=2020-2021")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Aucune donnée pour année scolaire 2020-2021" in page
    assert 'role="status"' in page
    pdf = client.get("/evaluation/rapport.pdf?annee=2020-2021")
    assert "Aucune donnée pour année scolaire 2020-2021" in pdf_text(pdf.content)


def test_a_malformed_year_gets_a_clear_message(client, review_people, signed_in):
    signed_in(review_people.ministry)
    response = client.get("/evaluation/?annee=2025")
    assert response.status_code == 400
    assert "Année scolaire attendue sous la forme 2025-2026." in response.content.decode()
    for path in ("/evaluation/rapport.pdf", "/evaluation/donnees.csv"):
        response = client.get(f"{path}?annee=2025/26")
        assert response.status_code == 400
        assert "Année scolaire attendue" in response.content.decode()


# The PDF --------------------------------------------------------------------------------------


def test_the_pdf_holds_the_headings_and_the_figures(client, review_people, signed_in, surveys):
    signed_in(review_people.ministry)
    response = client.get(f"/evaluation/rapport.pdf?{YEAR}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="rapport-evaluation-2025-2026-national.pdf"'
    )
    info = subprocess.run(["pdfinfo", "-"], input=response.content, capture_output=True)
    assert "Tagged:          yes" in info.stdout.decode()
    assert "Title:           Rapport d'évaluation — France entière" in info.stdout.decode()
    text = pdf_text(response.content)
    for heading in (
        "Rapport d'évaluation du Cartable connecté",
        "France entière — année scolaire 2025-2026",
        "Prêts et élèves accompagnés",
        "Usage des séances en direct",
        "Qualité de connexion",
        "Cartables",
        "Questionnaires",
        "Réponses libres relues",
    ):
        assert heading in text, heading
    assert "Demandés 8 Démarrés 5 Actifs 5" in text
    assert "Durée médiane d'une séance (minutes) 47,5" in text
    assert "La classe a gardé le lien." in text
    assert "Texte pas encore relu" not in text and "Prénom P" not in text


def test_small_counts_show_as_under_five_in_the_pdf(client, review_people, signed_in):
    signed_in(review_people.dane_nice)
    response = client.get(f"/evaluation/rapport.pdf?{YEAR}")
    assert response["Content-Disposition"].endswith('rapport-evaluation-2025-2026-academie-23.pdf"')
    text = pdf_text(response.content)
    assert "académie de Nice" in text
    squeezed = text.replace(" ", "")
    # Nice: one loan (L3), asked, started, ended in the period; one pupil, one lesson.
    assert "Demandés<5Démarrés<5Actifs<5Terminés<5" in squeezed
    assert "Lycéeprofessionnel<5" in squeezed
    assert "Séancesendirect<5" in squeezed


# The data files -----------------------------------------------------------------------------


def test_the_spreadsheets_hold_one_sheet_per_table_with_small_counts_hidden(
    client, review_people, signed_in, surveys
):
    signed_in(review_people.dane_versailles)
    response = client.get(f"/evaluation/donnees.xlsx?{YEAR}")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="rapport-evaluation-2025-2026-academie-25.xlsx"'
    )
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    for sheet in ("Indicateurs", "Prêts", "Niveaux", "Lieux", "Qualité", "Questionnaires"):
        assert sheet in book.sheetnames
    indicators = {r[0]: r[1] for r in book["Indicateurs"].iter_rows(min_row=2, values_only=True)}
    assert indicators["Prêts demandés"] == 7
    assert indicators["Prêts terminés"] == "< 5"
    assert indicators["Élèves accompagnés — Collège"] == "< 5"
    assert indicators["Élèves accompagnés — Maternelle"] == 0
    levels = {r[0]: r[1] for r in book["Niveaux"].iter_rows(min_row=2, values_only=True)}
    assert levels["Élémentaire"] == "< 5" and levels["Lycée professionnel"] == 0
    answers = [r for r in book["Questionnaires"].iter_rows(min_row=2, values_only=True)]
    assert ("Qualité des usages pédagogiques", "Enseignant·e", "Très bonne", 5) in answers
    assert ("Qualité des usages pédagogiques", "Enseignant·e", "Bonne", "< 5") in answers

    response = client.get(f"/evaluation/donnees.ods?{YEAR}")
    assert response["Content-Type"] == "application/vnd.oasis.opendocument.spreadsheet"
    book = tablib.Databook().load(response.content, "ods")
    sheets = {sheet.title: sheet for sheet in book.sheets()}
    assert list(sheets)[0] == "Indicateurs"
    indicators = {r[0]: r[1] for r in sheets["Indicateurs"]}
    assert indicators["Prêts demandés"] == 7
    assert indicators["Prêts terminés"] == "< 5"
    quality = {r[0]: r[1] for r in sheets["Qualité"]}
    assert quality["Bonne"] == "< 5"

    response = client.get(f"/evaluation/donnees.csv?{YEAR}")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Indicateur", "Valeur"]
    values = dict(rows[1:])
    assert values["Prêts demandés"] == "7"
    assert values["Prêts terminés"] == "< 5"
    assert "Prénom" not in response.content.decode("utf-8-sig")


# Scope and refusals ---------------------------------------------------------------------------


def test_a_dane_of_nice_sees_nothing_of_versailles(client, review_people, signed_in, surveys):
    signed_in(review_people.dane_nice)
    page = client.get(f"/evaluation/?{YEAR}").content.decode()
    assert "Rapport d'évaluation — académie de Nice" in page
    assert "Un mot de Nice." in page and "La classe a gardé le lien." not in page
    assert "Versailles" not in page and "Yvelines" not in page
    for query in ("academie=25", "departement=78", "departement=91"):
        for path in (
            "/evaluation/",
            "/evaluation/rapport.pdf",
            "/evaluation/donnees.csv",
            "/evaluation/donnees.ods",
            "/evaluation/donnees.xlsx",
        ):
            assert client.get(f"{path}?{YEAR}&{query}").status_code == 404, (path, query)
    # The Alpes-Maritimes are theirs.
    assert client.get(f"/evaluation/?{YEAR}&departement=06").status_code == 200


def test_a_coordinator_may_not_widen_their_scope(client, review_people, signed_in):
    signed_in(review_people.coordinator_78)
    assert client.get(f"/evaluation/?{YEAR}&departement=78").status_code == 200
    assert client.get(f"/evaluation/?{YEAR}&academie=25").status_code == 404
    assert client.get(f"/evaluation/donnees.csv?{YEAR}&departement=91").status_code == 404


@pytest.mark.parametrize(
    "path", ["/evaluation/", "/evaluation/rapport.pdf", "/evaluation/donnees.xlsx"]
)
def test_anonymous_visitors_are_sent_to_sign_in(client, review_data, path):
    response = client.get(f"{path}?{YEAR}")
    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/?next=")


@pytest.mark.parametrize("who", ["teacher", "fleet", "outsider"])
@pytest.mark.parametrize(
    "path", ["/evaluation/", "/evaluation/rapport.pdf", "/evaluation/donnees.csv"]
)
def test_people_without_figures_are_refused(client, review_people, signed_in, who, path):
    signed_in(getattr(review_people, who))
    assert client.get(f"{path}?{YEAR}").status_code == 404


def test_the_home_page_links_to_the_report_for_those_who_may_see_it(
    client, review_people, signed_in
):
    signed_in(review_people.dane_nice)
    assert "Rapport d'évaluation</a>" in client.get("/").content.decode()
    signed_in(review_people.teacher)
    assert "Rapport d'évaluation</a>" not in client.get("/").content.decode()


def test_the_page_quotes_a_few_free_texts_and_the_data_files_hold_them_all(
    client, review_people, signed_in, review_data
):
    from cartable.evaluation.report import FREE_TEXTS_SHOWN_PER_QUESTION

    approved = SurveyAnswer.Review.APPROVED
    many = FREE_TEXTS_SHOWN_PER_QUESTION + 3
    for n in range(many):
        respond(
            review_data.yvelines,
            Respondent.TEACHER,
            date(2025, 11, 3),
            3,
            f"Avis {n:02d}",
            approved,
        )
    signed_in(review_people.ministry)
    page = client.get(f"/evaluation/?{YEAR}").content.decode()
    assert page.count("« Avis ") == FREE_TEXTS_SHOWN_PER_QUESTION
    assert "Et 3 autres réponses libres approuvées, dans les fichiers de données" in page
    book = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/evaluation/donnees.xlsx?{YEAR}").content)
    )
    texts = [r[2] for r in book["Réponses libres"].iter_rows(min_row=2, values_only=True)]
    assert sorted(texts) == [f"Avis {n:02d}" for n in range(many)]
