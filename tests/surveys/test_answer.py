"""The questionnaire pages, as respondents use them through their link: answers stored
anonymously, once; expired, reused and unknown links get a clear French message."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone

from cartable.organisation.models import Academy, Department
from cartable.surveys import services
from cartable.surveys.models import (
    LevelGroup,
    Respondent,
    Round,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
)
from cartable.surveys.questions import Question

from .conftest import people_of, token_in

QUESTIONS = Question.values


@pytest.fixture
def links(loan, department, mailoutbox):
    """The end-of-loan links of ``loan`` (in the Yvelines), by respondent kind."""
    from cartable.fleet.models import Loan

    people_of(loan)
    Loan.objects.filter(pk=loan.pk).update(status=Loan.Status.ENDED, ended_at=timezone.now())
    assert services.send_due().invitations == 5
    out = {}
    for message in mailoutbox:
        kind = SurveyInvitation.objects.get(
            token_hash=services.token_hash(token_in(message))
        ).respondent_kind
        out[kind] = token_in(message)
    return out


def adult_answers(**texts) -> dict:
    data = {q: str(n) for n, q in enumerate(QUESTIONS, start=1) if n <= 4}
    data["needs"] = "2"
    data.update({f"{q}_text": t for q, t in texts.items()})
    return data


def test_a_teacher_answers_anonymously(links, loan):
    client = Client()
    url = f"/questionnaire/{links[Respondent.TEACHER]}/"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    for text in ("Votre avis sur le cartable connecté", "Question 1 sur 5", "anonymes"):
        assert text in html
    assert "qualité des usages pédagogiques" in html
    assert "besoins nouveaux" in html and "agricole" in html
    assert loan.pupil.display_name not in html

    response = client.post(url, adult_answers(needs="Suivre les TP d'atelier."))
    assert response.status_code == 302 and response["Location"] == "/questionnaire/merci/"
    assert "Vos réponses sont enregistrées" in client.get(response["Location"]).content.decode()

    stored = SurveyResponse.objects.get()
    assert (stored.respondent_kind, stored.round) == (Respondent.TEACHER, Round.END)
    assert stored.school_year == loan.school_class.school_year
    assert stored.department == Department.objects.get(code="78")
    assert stored.academy == Academy.objects.get(code="25")
    assert stored.level_group == LevelGroup.ELEMENTAIRE  # a CM1
    assert stored.place_kind == loan.place_kind
    assert stored.submitted_on == timezone.localdate()
    values = dict(stored.answers.values_list("question", "value"))
    assert values == {"quality": 1, "interest": 2, "vigilance": 3, "difficulties": 4, "needs": 2}
    needs = stored.answers.get(question="needs")
    assert (needs.text, needs.review) == ("Suivre les TP d'atelier.", SurveyAnswer.Review.PENDING)
    assert stored.answers.exclude(question="needs").filter(review="").count() == 4
    invitation = SurveyInvitation.objects.get(respondent_kind=Respondent.TEACHER)
    assert invitation.answered_at is not None


def test_missing_answers_are_asked_for_in_french_and_nothing_is_stored(links):
    client = Client()
    url = f"/questionnaire/{links[Respondent.FAMILY]}/"
    data = adult_answers()
    del data["vigilance"]
    data["interest"] = "9"
    data["quality_text"] = "x" * 1001
    page = client.post(url, data)
    assert page.status_code == 400
    html = page.content.decode()
    assert "Le formulaire n'est pas enregistré" in html
    assert "Choisissez une réponse." in html
    assert "Choisissez une des réponses proposées." in html
    assert "Ce texte tient en 1000 caractères au plus." in html
    assert SurveyResponse.objects.count() == SurveyAnswer.objects.count() == 0
    assert not SurveyInvitation.objects.filter(answered_at__isnull=False).exists()


def test_answering_twice_is_refused_and_nothing_is_stored_twice(links):
    client = Client()
    url = f"/questionnaire/{links[Respondent.HOSPITAL_STAFF]}/"
    assert client.post(url, adult_answers()).status_code == 302
    again = client.post(url, adult_answers())
    assert again.status_code == 409
    assert "a déjà reçu une réponse par ce lien" in again.content.decode()
    assert "rien n&#x27;a été enregistré en double" in again.content.decode()
    reopened = client.get(url)
    assert reopened.status_code == 409
    assert SurveyResponse.objects.count() == 1
    assert SurveyAnswer.objects.count() == 5


def test_two_submissions_at_once_store_one_response(transactional_db, links):
    """Two requests with the same link at the same time: the invitation is locked and
    marked used in the same transaction as the response is stored."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite has no row locks; the transaction alone is tested below")
    token = links[Respondent.TEACHER]
    answers = {q: (2, "") for q in QUESTIONS}
    results = []

    def submit():
        try:
            services.answer(token, answers)
            results.append("ok")
        except services.SurveyError as error:
            results.append(str(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == sorted(["ok", services.USED])
    assert SurveyResponse.objects.count() == 1


def test_a_second_answer_through_the_service_is_refused(links):
    token = links[Respondent.TEACHER]
    answers = {q: (3, "") for q in QUESTIONS}
    services.answer(token, answers)
    with pytest.raises(services.SurveyError, match="déjà reçu une réponse"):
        services.answer(token, answers)
    assert SurveyResponse.objects.count() == 1


def test_an_expired_link_is_refused_in_french(links, settings):
    later = timezone.now() + timedelta(days=settings.SURVEYS["LINK_VALID_DAYS"], minutes=1)
    url = f"/questionnaire/{links[Respondent.TEACHER]}/"
    with time_machine.travel(later, tick=False):
        page = Client().get(url)
        posted = Client().post(url, adult_answers())
    assert page.status_code == posted.status_code == 410
    assert "Ce lien de questionnaire a expiré" in page.content.decode()
    assert SurveyResponse.objects.count() == 0


@pytest.mark.parametrize("token", ["pas-un-jeton", "x" * 101])
def test_an_unknown_link_is_refused_in_french(db, token):
    page = Client().get(f"/questionnaire/{token}/")
    assert page.status_code == 404
    assert "Ce lien de questionnaire n&#x27;est pas valide" in page.content.decode()


def test_the_pupil_page_has_faces_read_aloud_and_no_free_text(links):
    client = Client()
    url = f"/questionnaire/{links[Respondent.PUPIL]}/"
    html = client.get(url).content.decode()
    assert "Ton avis sur le cartable" in html
    for words in ("Content", "Moyen", "Pas content"):
        assert f'<span class="face-words">{words}</span>' in html
    assert html.count('type="radio"') == 15
    assert html.count("Écouter la question") == 5
    assert (
        'data-say="Est-ce que tu as aimé utiliser le cartable ? Pas content, Moyen, Content."'
        in html
    )
    assert "/static/surveys/listen.js" in html
    assert "<textarea" not in html
    assert "<script>" not in html and "style=" not in html

    data = {q: "3" for q in QUESTIONS}
    data["quality_text"] = "Un texte qu'un élève n'écrit pas ici"
    response = client.post(url, data)
    assert response.status_code == 302 and response["Location"] == "/questionnaire/merci/?eleve=1"
    assert "Tes réponses sont bien envoyées" in client.get(response["Location"]).content.decode()
    stored = SurveyResponse.objects.get()
    assert stored.respondent_kind == Respondent.PUPIL
    assert set(stored.answers.values_list("value", "text", "review")) == {(3, "", "")}


def test_a_pupil_cannot_answer_beyond_three_faces(links):
    url = f"/questionnaire/{links[Respondent.PUPIL]}/"
    page = Client().post(url, {q: "4" for q in QUESTIONS})
    assert page.status_code == 400
    assert SurveyResponse.objects.count() == 0


def test_nothing_links_a_response_back_to_a_person():
    """The response and its answers hold no invitation, person, loan, pupil, class or
    school: only the fields the reports need, and random keys."""
    response_fields = {f.name for f in SurveyResponse._meta.get_fields() if f.concrete}
    assert response_fields == {
        "id",
        "respondent_kind",
        "round",
        "school_year",
        "academy",
        "department",
        "level_group",
        "place_kind",
        "submitted_on",
    }
    answer_fields = {f.name for f in SurveyAnswer._meta.get_fields() if f.concrete}
    assert answer_fields == {"id", "response", "question", "value", "text", "review"}
    related = {
        f.related_model
        for model in (SurveyResponse, SurveyAnswer)
        for f in model._meta.get_fields()
        if f.is_relation
    }
    assert related == {Academy, Department, SurveyResponse, SurveyAnswer}
    assert not any(
        f.is_relation and f.related_model is SurveyResponse
        for f in SurveyInvitation._meta.get_fields()
    )
    # Random keys: the order of the rows does not follow the order of the answers.
    assert SurveyResponse._meta.pk.get_internal_type() == "UUIDField"
    assert SurveyAnswer._meta.pk.get_internal_type() == "UUIDField"
    # The day, never the time.
    assert SurveyResponse._meta.get_field("submitted_on").get_internal_type() == "DateField"
