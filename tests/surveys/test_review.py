"""The coordinators' review of free texts: their département's only, never who wrote it;
refusals for everyone else."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from django.test import Client

from cartable.evaluation.scope import DEPARTMENT, Scope, school_year
from cartable.organisation.models import Department
from cartable.surveys.models import Respondent, Round, SurveyAnswer, SurveyResponse
from cartable.surveys.reports import summary

from ..conftest import force_login

REVIEW = "/questionnaires/relecture/"


def response_with_text(department, text: str, kind=Respondent.FAMILY) -> SurveyAnswer:
    response = SurveyResponse.objects.create(
        respondent_kind=kind,
        round=Round.END,
        school_year="2026-2027",
        academy=department.academy,
        department=department,
        level_group="college",
        place_kind="home",
        submitted_on=date(2026, 11, 20),
    )
    for question in ("quality", "interest", "vigilance", "difficulties"):
        SurveyAnswer.objects.create(response=response, question=question, value=3)
    return SurveyAnswer.objects.create(
        response=response, question="needs", value=2, text=text, review="pending"
    )


@pytest.fixture
def texts(department):
    essonne = Department.objects.get(code="91")
    return {
        "here": response_with_text(department, "Il faudrait suivre les TP d'atelier."),
        "there": response_with_text(essonne, "Texte de l'Essonne.", Respondent.TEACHER),
    }


def test_the_coordinator_sees_their_departments_texts_without_who_wrote_them(
    texts, coordinator, loan
):
    page = force_login(Client(), coordinator).get(REVIEW)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Il faudrait suivre les TP d&#x27;atelier." in html
    assert "Besoins nouveaux" in html and "Famille" in html
    assert "<caption>Textes à relire : 1</caption>" in html
    assert "Essonne" not in html
    assert loan.pupil.display_name not in html


def test_approving_puts_the_text_in_reports_and_rejecting_erases_it(texts, coordinator, department):
    client = force_login(Client(), coordinator)
    here = texts["here"]
    response = client.post(f"{REVIEW}{here.pk}/", {"decision": "approve"}, follow=True)
    assert "Texte retenu : il figurera dans les bilans." in response.content.decode()
    here.refresh_from_db()
    assert here.review == SurveyAnswer.Review.APPROVED
    scope = Scope(DEPARTMENT, academy=department.academy, department=department)
    texts_in_report = summary(school_year(2026), scope)["free_texts"]
    assert [t["text"] for t in texts_in_report] == ["Il faudrait suivre les TP d'atelier."]

    # Reviewed once: a second decision is refused, the text stays as it is.
    again = client.post(f"{REVIEW}{here.pk}/", {"decision": "reject"}, follow=True)
    assert "Ce texte a déjà été relu" in again.content.decode()
    here.refresh_from_db()
    assert here.review == SurveyAnswer.Review.APPROVED

    other = response_with_text(department, "Le prénom de l'élève, Léa, ici.")
    client.post(f"{REVIEW}{other.pk}/", {"decision": "reject"})
    other.refresh_from_db()
    assert (other.review, other.text) == (SurveyAnswer.Review.REJECTED, "")
    assert len(summary(school_year(2026), scope)["free_texts"]) == 1
    assert "Aucun texte à relire" in client.get(REVIEW).content.decode()


def test_pending_texts_do_not_reach_reports(texts, department):
    scope = Scope(DEPARTMENT, academy=department.academy, department=department)
    assert summary(school_year(2026), scope)["free_texts"] == []


def test_a_bad_decision_gets_a_french_message_and_changes_nothing(texts, coordinator):
    client = force_login(Client(), coordinator)
    here = texts["here"]
    page = client.post(f"{REVIEW}{here.pk}/", {"decision": "publier"}, follow=True)
    assert "Choisissez « Retenir » ou « Écarter »." in page.content.decode()
    unknown = client.post(f"{REVIEW}{uuid.uuid4()}/", {"decision": "approve"}, follow=True)
    assert "n&#x27;est pas de votre département" in unknown.content.decode()
    here.refresh_from_db()
    assert here.review == SurveyAnswer.Review.PENDING


def test_another_departments_coordinator_can_neither_see_nor_decide(texts, other_coordinator):
    client = force_login(Client(), other_coordinator)
    html = client.get(REVIEW).content.decode()
    assert "Texte de l&#x27;Essonne." in html
    assert "atelier" not in html
    here = texts["here"]
    client.post(f"{REVIEW}{here.pk}/", {"decision": "reject"})
    here.refresh_from_db()
    assert (here.review, here.text) == ("pending", "Il faudrait suivre les TP d'atelier.")


def test_anonymous_visitors_are_sent_to_sign_in(texts):
    client = Client()
    page = client.get(REVIEW)
    assert page.status_code == 302 and page["Location"].startswith("/connexion/?next=")
    posted = client.post(f"{REVIEW}{texts['here'].pk}/", {"decision": "approve"})
    assert posted.status_code == 302 and posted["Location"].startswith("/connexion/")
    texts["here"].refresh_from_db()
    assert texts["here"].review == "pending"


@pytest.mark.parametrize("who", ["teacher", "fleet", "dane", "ministry", "outsider", "family"])
def test_others_get_404(request, texts, who):
    client = force_login(Client(), request.getfixturevalue(who))
    assert client.get(REVIEW).status_code == 404
    posted = client.post(f"{REVIEW}{texts['here'].pk}/", {"decision": "approve"})
    assert posted.status_code == 404
    texts["here"].refresh_from_db()
    assert texts["here"].review == "pending"


def test_the_coordinators_home_page_leads_to_the_review(coordinator, teacher):
    link = 'href="/questionnaires/relecture/"'
    assert link in force_login(Client(), coordinator).get("/").content.decode()
    assert link not in force_login(Client(), teacher).get("/").content.decode()
