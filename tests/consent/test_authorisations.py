"""Authorisations before the first lesson: the coordinator's page, the teacher's own
agreement, and the live link that refuses to start without them (over a real WebSocket)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cartable.consent import services
from cartable.consent.models import (
    FamiliesInformed,
    FrameExclusion,
    GuardianAuthorisation,
    PupilAgreement,
    TeacherAgreement,
)
from cartable.core.demo import demo_setup
from cartable.fleet.models import Loan
from cartable.live.models import LiveSession

from ..conftest import force_login, make_user
from ..live.wsclient import Links

ALL = (GuardianAuthorisation, PupilAgreement, TeacherAgreement, FamiliesInformed, FrameExclusion)
MISSING = [
    "l'autorisation des représentants légaux",
    "l'accord de l'élève",
    "l'accord de l'enseignant·e",
    "l'information des familles de la classe",
]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def loan(make_loan) -> Loan:
    """A running loan whose authorisations are not recorded yet."""
    return make_loan(authorised=False)


def as_user(user) -> Client:
    return force_login(Client(), user)


def page(loan) -> str:
    return f"/prets/{loan.pk}/autorisations/"


def today() -> str:
    return timezone.localdate().isoformat()


def records_count(loan) -> int:
    return sum(model.objects.filter(loan=loan).count() for model in ALL)


VALID = {
    "guardians": {
        "guardians-signed_on": "",
        "guardians-signed_as": "mother",
        "guardians-method": "paper",
    },
    "pupil": {"pupil-agreed_on": "", "pupil-method": "oral", "pupil-shown": "on"},
    "teacher": {"teacher-agreed_on": "", "teacher-teacher": ""},
    "families": {"families-informed_on": "", "families-channel": "liaison_book"},
}
DATE_FIELD = {
    "guardians": "guardians-signed_on",
    "pupil": "pupil-agreed_on",
    "teacher": "teacher-agreed_on",
    "families": "families-informed_on",
}


def post(client, loan, record: str, **changes):
    data = {"record": record, **VALID.get(record, {})}
    if record in DATE_FIELD:
        data[DATE_FIELD[record]] = today()
    data.update(changes)
    return client.post(page(loan), data)


def record_all(client, loan):
    for record in ("guardians", "pupil", "teacher", "families"):
        response = post(client, loan, record)
        assert response.status_code == 302, response.content.decode()


# Services -------------------------------------------------------------------------------


def test_missing_records_until_all_four_exist(loan, coordinator):
    assert services.missing_records(loan) == MISSING
    client = as_user(coordinator)
    post(client, loan, "guardians")
    post(client, loan, "families")
    assert services.missing_records(loan) == [MISSING[1], MISSING[2]]
    post(client, loan, "pupil")
    post(client, loan, "teacher")
    assert services.missing_records(loan) == []


def test_demo_loan_is_authorised(db):
    demo = demo_setup()
    assert services.missing_records(demo.loan) == []
    demo_setup()  # idempotent: no second set of records
    assert GuardianAuthorisation.objects.filter(loan=demo.loan).count() == 1


# The live link ------------------------------------------------------------------------


@pytest.fixture
def links(asgi_server):
    opened = Links(asgi_server)
    yield opened
    opened.close_all()


def test_live_session_cannot_start_without_the_records_and_can_once_they_exist(
    links, loan, teacher, coordinator, pupil_token
):
    pupil = links.open(loan.pk, "pupil", device=pupil_token)
    pupil.hello()
    klass = links.open(loan.pk, "class", user=teacher)
    klass.hello()
    klass.expect("peer_joined", side="pupil")
    pupil.expect("peer_joined", side="class")

    klass.send("start")
    error = klass.expect_error("consent_missing")
    assert error["missing"] == MISSING
    assert not LiveSession.objects.filter(loan=loan).exists()
    pupil.expect_nothing()

    # Three of four are not enough: the one left is named.
    client = as_user(coordinator)
    for record in ("guardians", "pupil", "families"):
        post(client, loan, record)
    klass.send("start")
    assert klass.expect_error("consent_missing")["missing"] == ["l'accord de l'enseignant·e"]
    assert not LiveSession.objects.filter(loan=loan).exists()

    post(client, loan, "teacher")
    klass.send("start")
    started = klass.expect("session_started")["session"]
    assert pupil.expect("session_started")["session"] == started
    assert LiveSession.objects.filter(loan=loan, ended_at__isnull=True).count() == 1


# The coordinator's page -----------------------------------------------------------------


def test_page_shows_what_is_missing_and_the_wording_for_the_pupils_age(loan, coordinator):
    response = as_user(coordinator).get(page(loan))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Aucune séance en direct ne peut démarrer tant qu'il manque" in text
    assert text.count("<strong>Manquant</strong>") == 4
    # The loan's class is a CM1: the elementary wording is shown, and its version.
    assert "version elementaire-1" in text
    assert "Tu peux dire non, ou arrêter quand tu veux." in text


def test_each_record_is_dated_and_attributed(loan, coordinator, teacher):
    client = as_user(coordinator)
    response = post(client, loan, "guardians", **{"guardians-signed_as": "guardian"})
    assert response.status_code == 302
    assert response.url == f"{page(loan)}#guardians-title"
    post(client, loan, "pupil", **{"pupil-method": "pictures"})
    post(client, loan, "teacher", **{"teacher-teacher": str(teacher.pk)})
    post(client, loan, "families", **{"families-channel": "ent"})
    post(client, loan, "frame", **{"frame-required": "yes", "frame-count": "2"})

    guardians = GuardianAuthorisation.objects.get(loan=loan)
    assert (guardians.signed_as, guardians.method, guardians.recorded_by) == (
        "guardian",
        "paper",
        coordinator,
    )
    assert guardians.signed_on == timezone.localdate()
    pupil = PupilAgreement.objects.get(loan=loan)
    assert (pupil.method, pupil.wording, pupil.recorded_by) == (
        "pictures",
        "elementaire-1",
        coordinator,
    )
    agreement = TeacherAgreement.objects.get(loan=loan)
    assert (agreement.teacher, agreement.recorded_by, agreement.on_behalf) == (
        teacher,
        coordinator,
        True,
    )
    assert FamiliesInformed.objects.get(loan=loan).channel == "ent"
    frame = FrameExclusion.objects.get(loan=loan)
    assert (frame.required, frame.count, frame.recorded_by) == (True, 2, coordinator)

    # Each record is also in the audit log, with who wrote it and never what it says.
    from cartable.privacy.models import AuditEntry

    entries = AuditEntry.objects.filter(action="create", detail=f"prêt {loan.pk}")
    assert entries.count() == 5
    assert set(entries.values_list("user_id", flat=True)) == {coordinator.pk}

    text = client.get(page(loan)).content.decode()
    assert "Tout est enregistré : les séances en direct peuvent démarrer." in text
    assert "Signée le" in text and "Tuteur ou tutrice légale" in text
    assert "Oui : 2 élèves hors du champ" in text
    assert "Manquant" not in text


def test_recording_again_keeps_the_history(loan, coordinator):
    client = as_user(coordinator)
    post(client, loan, "families", **{"families-channel": "letter"})
    post(client, loan, "families", **{"families-channel": "meeting"})
    assert FamiliesInformed.objects.filter(loan=loan).count() == 2
    assert FamiliesInformed.latest(loan).channel == "meeting"
    text = client.get(page(loan)).content.decode()
    current = text.split('id="current-families"', 1)[1].split("</tr>", 1)[0]
    assert "Réunion" in current and "Courrier" not in current
    history = text.split('id="history-title"', 1)[1]
    assert "Réunion" in history and "Courrier" in history


def test_frame_no_then_no_reminder(loan, coordinator, teacher):
    client = as_user(coordinator)
    post(client, loan, "frame", **{"frame-required": "no"})
    station = as_user(teacher).get(f"/station/{loan.pk}/").content.decode()
    assert 'id="frame-reminder"' not in station
    post(client, loan, "frame", **{"frame-required": "yes"})
    station = as_user(teacher).get(f"/station/{loan.pk}/").content.decode()
    assert (
        "Certains élèves ne doivent pas apparaître à l'image : cadrez la caméra de la "
        "classe en conséquence." in station
    )


BAD = [
    # (record, changes, the French message)
    ("guardians", {"guardians-signed_on": "+1"}, "La date ne peut pas être dans le futur."),
    ("guardians", {"guardians-signed_on": "31/02/2026"}, "Date attendue au format JJ/MM/AAAA"),
    ("guardians", {"guardians-signed_on": ""}, "Indiquez la date."),
    ("guardians", {"guardians-signed_as": ""}, "Choisissez qui a signé."),
    ("guardians", {"guardians-signed_as": "Madame Dupont"}, "Choisissez qui a signé."),
    ("guardians", {"guardians-method": "fax"}, "Choisissez comment l&#x27;autorisation a été"),
    ("guardians", {"guardians-signed_on": "-500"}, "plus d&#x27;un an avant le début"),
    ("pupil", {"pupil-agreed_on": "+3"}, "La date ne peut pas être dans le futur."),
    ("pupil", {"pupil-shown": ""}, "Cochez cette case une fois le texte présenté"),
    ("pupil", {"pupil-method": ""}, "Choisissez comment l&#x27;accord a été recueilli."),
    ("teacher", {"teacher-agreed_on": "+1"}, "La date ne peut pas être dans le futur."),
    ("teacher", {"teacher-teacher": "999999"}, "Cette personne n&#x27;enseigne pas"),
    ("families", {"families-channel": "pigeon"}, "Choisissez comment les familles"),
    ("families", {"families-informed_on": "+1"}, "La date ne peut pas être dans le futur."),
    ("frame", {"frame-required": ""}, "Répondez par oui ou par non."),
    ("frame", {"frame-required": "no", "frame-count": "3"}, "Ne donnez un nombre que si"),
    ("frame", {"frame-required": "yes", "frame-count": "0"}, "Le nombre d&#x27;élèves va de 1"),
    ("frame", {"frame-required": "yes", "frame-count": "trois"}, "Donnez un nombre entier."),
]


def _dated(changes: dict) -> dict:
    """``+N`` / ``-N`` stand for N days after or before today."""
    out = {}
    for key, value in changes.items():
        if value[:1] in "+-" and value[1:].isdigit():
            value = (timezone.localdate() + timedelta(days=int(value))).isoformat()
        out[key] = value
    return out


@pytest.mark.parametrize(("record", "changes", "message"), BAD)
def test_bad_input_gets_a_french_message_and_writes_nothing(
    loan, coordinator, record, changes, message
):
    response = post(as_user(coordinator), loan, record, **_dated(changes))
    assert response.status_code == 400
    text = response.content.decode()
    assert "Le formulaire n'est pas enregistré" in text
    assert message in text
    assert 'aria-invalid="true"' in text
    assert records_count(loan) == 0


def test_a_date_after_the_loans_end_is_refused(loan, coordinator):
    Loan.objects.filter(pk=loan.pk).update(
        starts_on=timezone.localdate() - timedelta(days=60),
        ends_on=timezone.localdate() - timedelta(days=10),
    )
    loan.refresh_from_db()
    response = post(as_user(coordinator), loan, "families")
    assert response.status_code == 400
    assert "La date est après la fin prévue de la mise à disposition" in response.content.decode()
    assert records_count(loan) == 0


def test_a_closed_loan_takes_no_record(loan, coordinator):
    Loan.objects.filter(pk=loan.pk).update(status=Loan.Status.CANCELLED)
    response = post(as_user(coordinator), loan, "guardians")
    assert response.status_code == 400
    assert "Cette mise à disposition est close" in response.content.decode()
    assert records_count(loan) == 0


def test_an_unknown_record_kind_is_not_found(loan, coordinator):
    assert post(as_user(coordinator), loan, "notes").status_code == 404
    assert records_count(loan) == 0


# Who may ----------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client, loan):
    for path in (page(loan), f"{page(loan)}mon-accord/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.url.startswith("/connexion/?next=")
        response = client.post(path, {"record": "guardians"})
        assert response.status_code == 302
    assert records_count(loan) == 0


@pytest.mark.parametrize(
    "person", ["teacher", "other_coordinator", "dane", "fleet", "outsider", "school_head"]
)
def test_others_get_not_found_and_write_nothing(request, loan, department, person):
    client = as_user(request.getfixturevalue(person))
    assert client.get(page(loan)).status_code == 404
    for record in ("guardians", "pupil", "teacher", "families", "frame"):
        assert post(client, loan, record, **{"frame-required": "yes"}).status_code == 404
    assert records_count(loan) == 0


def test_a_loan_that_does_not_exist_is_not_found(coordinator):
    assert as_user(coordinator).get("/prets/999999/autorisations/").status_code == 404


# The teacher's own agreement ------------------------------------------------------------


def test_teacher_gives_their_own_agreement(loan, teacher):
    client = as_user(teacher)
    station = client.get(f"/station/{loan.pk}/").content.decode()
    assert "Donner votre accord d'enseignant·e" in station
    response = client.post(
        f"{page(loan)}mon-accord/", {"agreed_on": today(), "agree": "on"}, follow=True
    )
    assert "Votre accord est enregistré." in response.content.decode()
    agreement = TeacherAgreement.objects.get(loan=loan)
    assert (agreement.teacher, agreement.recorded_by, agreement.on_behalf) == (
        teacher,
        teacher,
        False,
    )
    from cartable.privacy.models import AuditEntry

    assert AuditEntry.objects.filter(user_id=teacher.pk, action="create").count() == 1
    assert (
        "l&#x27;accord de l&#x27;enseignant·e"
        not in client.get(f"/station/{loan.pk}/").content.decode()
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"agreed_on": "+2", "agree": "on"}, "La date ne peut pas être dans le futur."),
        ({"agreed_on": "+0"}, "Cochez la case pour donner votre accord."),
        ({"agreed_on": "hier", "agree": "on"}, "Date attendue au format JJ/MM/AAAA"),
    ],
)
def test_teacher_bad_input(loan, teacher, data, message):
    response = as_user(teacher).post(f"{page(loan)}mon-accord/", _dated(data))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert records_count(loan) == 0


@pytest.mark.parametrize("person", ["coordinator", "other_teacher", "fleet", "outsider"])
def test_only_the_class_teachers_give_their_own_agreement(request, loan, department, person):
    client = as_user(request.getfixturevalue(person))
    path = f"{page(loan)}mon-accord/"
    assert client.get(path).status_code == 404
    assert client.post(path, {"agreed_on": today(), "agree": "on"}).status_code == 404
    assert records_count(loan) == 0


# Links and the station ----------------------------------------------------------------


def test_station_lists_what_is_missing(loan, teacher):
    text = as_user(teacher).get(f"/station/{loan.pk}/").content.decode()
    block = text.split('id="consent-missing"', 1)[1].split("</div>", 1)[0]
    for label in MISSING:
        assert label.replace("'", "&#x27;") in block


def test_station_of_an_authorised_loan_shows_nothing_missing(make_loan):
    loan = make_loan()  # authorised by default
    teacher = make_user("prof.autorise")
    from cartable.organisation.models import RoleGrant

    RoleGrant.objects.create(
        user=teacher, role=RoleGrant.Role.TEACHER, school_class=loan.school_class
    )
    text = as_user(teacher).get(f"/station/{loan.pk}/").content.decode()
    assert 'id="consent-missing"' not in text
    assert 'id="frame-reminder"' not in text


def test_coordinator_home_and_loan_page_link_to_the_authorisations(loan, coordinator, teacher):
    link = f'href="{page(loan)}"'
    assert link in as_user(coordinator).get("/").content.decode()
    assert link in as_user(coordinator).get(f"/prets/{loan.pk}/").content.decode()
    assert link not in as_user(teacher).get(f"/prets/{loan.pk}/").content.decode()
