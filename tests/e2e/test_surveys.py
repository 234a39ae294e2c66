"""Surveys in real Chromium: a teacher answers through their link, the pupil answers with
the face scale by keyboard only (each question read aloud on request), and the
département's coordinator reviews the teacher's free text. axe-clean on every page."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cartable.fleet.models import Loan
from cartable.surveys import services
from cartable.surveys.models import Respondent, SurveyAnswer, SurveyInvitation, SurveyResponse

from ..surveys.conftest import people_of, token_in
from .conftest import assert_accessible
from .helpers import sign_in

pytestmark = pytest.mark.e2e

# The page's speech is recorded rather than heard: the test sees what would be said.
RECORD_SPEECH = """
window.__spoken = [];
if (window.speechSynthesis) {
  window.speechSynthesis.speak = (u) => { window.__spoken.push([u.text, u.lang]); };
}
"""


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def links(loan, department, mailoutbox):
    people_of(loan)
    Loan.objects.filter(pk=loan.pk).update(status=Loan.Status.ENDED, ended_at=timezone.now())
    services.send_due()
    out = {}
    for message in mailoutbox:
        token = token_in(message)
        kind = SurveyInvitation.objects.get(token_hash=services.token_hash(token)).respondent_kind
        out[kind] = token
    return out


def test_a_teacher_answers_and_the_coordinator_reviews_the_free_text(
    asgi_server, new_page, links, coordinator
):
    page = new_page()
    page.goto(f"{asgi_server.url}/questionnaire/{links[Respondent.TEACHER]}/")
    page.get_by_role("heading", name="Votre avis sur le cartable connecté").wait_for()
    assert_accessible(page)

    # Sent with a question left out: a French message, nothing stored.
    page.get_by_role("button", name="Envoyer mes réponses").click()
    page.get_by_role("alert").filter(has_text="Le formulaire n'est pas enregistré").wait_for()
    assert SurveyResponse.objects.count() == 0
    assert_accessible(page)

    choices = {
        "Question 1 sur 5": "Bonne",
        "Question 2 sur 5": "Très grand",
        "Question 3 sur 5": "Quelques-uns",
        "Question 4 sur 5": "Aucune",
        "Question 5 sur 5": "Plusieurs",
    }
    for legend, words in choices.items():
        group = page.get_by_role("group", name=legend)
        group.get_by_label(words, exact=True).check()
    page.get_by_role("group", name="Question 5 sur 5").get_by_label("Lesquels ? (facultatif)").fill(
        "Suivre les travaux pratiques d'atelier en lycée professionnel."
    )
    page.get_by_role("button", name="Envoyer mes réponses").click()
    page.get_by_role("status").filter(has_text="Vos réponses sont enregistrées").wait_for()
    assert_accessible(page)
    stored = SurveyResponse.objects.get()
    assert dict(stored.answers.values_list("question", "value")) == {
        "quality": 3,
        "interest": 4,
        "vigilance": 2,
        "difficulties": 1,
        "needs": 3,
    }

    # The link served once.
    page.goto(f"{asgi_server.url}/questionnaire/{links[Respondent.TEACHER]}/")
    page.get_by_role("alert").filter(has_text="a déjà reçu une réponse").wait_for()
    assert_accessible(page)

    coordo = new_page()
    sign_in(coordo, asgi_server, coordinator)
    coordo.get_by_role("link", name="Relecture des questionnaires").click()
    table = coordo.get_by_role("table", name="Textes à relire : 1")
    row = table.get_by_role("row").filter(has_text="travaux pratiques d'atelier")
    assert "Enseignant·e" in row.inner_text() and "Besoins nouveaux" in row.inner_text()
    assert_accessible(coordo)
    row.get_by_role("button", name="Retenir").click()
    coordo.get_by_role("status").filter(has_text="Texte retenu").wait_for()
    coordo.get_by_text("Aucun texte à relire pour l'instant.").wait_for()
    assert_accessible(coordo)
    assert stored.answers.get(question="needs").review == SurveyAnswer.Review.APPROVED


def focused(page) -> dict:
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          const label = el && el.labels && el.labels[0];
          return {
            tag: el.tagName, type: el.type || "", name: el.name || "",
            text: (label ? label.innerText : el.innerText || "").trim(),
            checked: !!el.checked,
            ring: label ? getComputedStyle(label).outlineStyle : getComputedStyle(el).outlineStyle,
          };
        }"""
    )


def tab_to(page, predicate, limit: int = 12) -> dict:
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if predicate(now):
            return now
    raise AssertionError(f"never reached by Tab; last: {now}")


def test_the_pupil_answers_with_the_faces_by_keyboard_only(asgi_server, new_page, links):
    page = new_page()
    page.context.add_init_script(RECORD_SPEECH)
    page.goto(f"{asgi_server.url}/questionnaire/{links[Respondent.PUPIL]}/")
    page.get_by_role("heading", name="Ton avis sur le cartable").wait_for()
    for words in ("Content", "Moyen", "Pas content"):
        assert page.get_by_role("radio", name=words, exact=True).count() == 5
    assert page.get_by_role("button", name="Écouter la question").count() == 5
    assert_accessible(page)

    # Per question: listen, then move among the faces with the arrow keys (Space picks the
    # first one); the keys pressed and the face they land on.
    plan = [
        ("quality", ["ArrowRight", "ArrowRight"], "Content", 3),
        ("interest", ["ArrowRight"], "Moyen", 2),
        ("vigilance", ["Space"], "Pas content", 1),
        ("difficulties", ["ArrowRight", "ArrowRight", "ArrowLeft"], "Moyen", 2),
        ("needs", ["ArrowRight", "ArrowRight"], "Content", 3),
    ]
    for number, (question, keys, words, _) in enumerate(plan, start=1):
        now = tab_to(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "Écouter la question")
        assert now["ring"] != "none"  # visible focus
        page.keyboard.press("Enter")
        spoken = page.evaluate("() => window.__spoken")
        assert len(spoken) == number and spoken[-1][1] == "fr-FR"
        assert spoken[-1][0].endswith("Pas content, Moyen, Content.")
        now = tab_to(page, lambda f: f["type"] == "radio", limit=1)
        assert now["name"] == question and now["text"] == "Pas content"
        assert now["ring"] != "none"  # the focused face shows it
        for key in keys:
            page.keyboard.press(key)
        now = focused(page)
        assert (now["text"], now["checked"]) == (words, True)
        assert page.get_by_role("radio", name=words, exact=True).nth(number - 1).is_checked()
    assert "le cartable" in page.evaluate("() => window.__spoken")[1][0]

    tab_to(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "J'ai fini, j'envoie")
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Tes réponses sont bien envoyées").wait_for()
    assert_accessible(page)
    stored = SurveyResponse.objects.get()
    assert stored.respondent_kind == Respondent.PUPIL
    assert dict(stored.answers.values_list("question", "value")) == {
        question: value for question, _, _, value in plan
    }
