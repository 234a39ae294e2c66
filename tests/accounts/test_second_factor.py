"""Staff add a TOTP code after their password before reaching any page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from cartable.accounts.second_factor import requires_second_factor
from cartable.accounts.websocket import SecondFactorGuard

from .conftest import STAFF_EMAIL, code_for, sign_in, text

CODE_PAGE = "/connexion/code/"
SETUP_PAGE = "/connexion/code/activer/"


def test_who_needs_a_second_factor(person, staff, django_user_model):
    assert requires_second_factor(staff)
    assert requires_second_factor(django_user_model(username="root", is_superuser=True))
    assert not requires_second_factor(person)
    assert not requires_second_factor(AnonymousUser())


@pytest.mark.parametrize(
    ("role", "needs"),
    [
        ("fleet", True),
        ("admin", True),
        ("dpo", True),
        ("national", False),
        ("academy", False),
        ("department", False),
        ("teacher", False),
    ],
)
def test_the_fleet_team_administrators_and_dpo_need_a_second_factor(
    client, person, role, needs, make_loan
):
    """Roles that reach every kit, account or record, whatever the scope, add a code."""
    from cartable.organisation.models import ROLE_SCOPE, Department, RoleGrant

    loan = make_loan()
    scope = {
        None: {},
        "academy": {"academy": Department.objects.get(code="78").academy},
        "department": {"department": Department.objects.get(code="78")},
        "school_class": {"school_class": loan.school_class},
    }[ROLE_SCOPE[role]]
    RoleGrant.objects.create(user=person, role=role, **scope)
    assert requires_second_factor(person) is needs
    sign_in(client, person.email)
    home = client.get("/")
    if needs:
        assert home.status_code == 302
        assert home.url == f"{CODE_PAGE}?next=%2F"
    else:
        assert home.status_code == 200


def test_a_teacher_goes_straight_in(client, person):
    assert sign_in(client, person.email).url == "/"
    assert client.get("/").status_code == 200


def enrol(client, staff):
    sign_in(client, STAFF_EMAIL)
    client.get(SETUP_PAGE)
    return client.post(SETUP_PAGE, {"code": code_for(staff), "next": "/"})


def test_staff_enrol_an_authenticator_app_after_their_password(client, staff):
    response = sign_in(client, STAFF_EMAIL)
    assert response.url == "/"
    # No page before the second factor: first the code page, which sends to enrolment.
    home = client.get("/")
    assert home.status_code == 302
    assert home.url == f"{CODE_PAGE}?next=%2F"
    assert client.get(home.url).url == f"{SETUP_PAGE}?next=%2F"
    assert client.get("/station/1/").url == f"{CODE_PAGE}?next=%2Fstation%2F1%2F"

    page = client.get(f"{SETUP_PAGE}?next=/")
    page_text = text(page)
    assert page.status_code == 200
    assert "<svg" in page_text
    assert "<title>Code QR à scanner avec votre application d'authentification</title>" in page_text
    assert '<label for="id_code">Code à 6 chiffres</label>' in page_text
    device = TOTPDevice.objects.get(user=staff)
    assert not device.confirmed
    # The key is also shown for typing, and the QR code stays the same on reload.
    secret = page_text.split('<p class="secret-key"><code>')[1].split("</code>")[0]
    assert len(secret.replace(" ", "")) == 32
    assert secret in text(client.get(SETUP_PAGE))

    wrong = client.post(SETUP_PAGE, {"code": "000000", "next": "/"})
    assert wrong.status_code == 400
    assert "Ce code n'est pas le bon" in text(wrong)
    assert 'aria-invalid="true"' in text(wrong)

    device.throttle_reset()
    done = client.post(SETUP_PAGE, {"code": code_for(staff), "next": "/"})
    assert done.status_code == 302
    assert done.url == "/"
    assert client.get("/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed


@pytest.fixture
def clock(time_machine):
    """Time that flows, and can be moved forward."""
    time_machine.move_to(timezone.now(), tick=True)
    return time_machine


def test_enrolled_staff_enter_a_code_at_each_sign_in(staff, clock):
    time_machine = clock
    enrol(Client(), staff)
    time_machine.shift(timedelta(seconds=60))  # a code serves once: wait for the next one

    client = Client()
    sign_in(client, STAFF_EMAIL)
    assert client.get("/").url == f"{CODE_PAGE}?next=%2F"
    page = client.get(f"{CODE_PAGE}?next=/")
    assert page.status_code == 200
    assert "Code de vérification" in text(page)

    wrong = client.post(CODE_PAGE, {"code": "12345", "next": "/"})
    assert wrong.status_code == 400
    assert "6 chiffres" in text(wrong)
    assert 'role="alert"' in text(wrong)

    wrong = client.post(CODE_PAGE, {"code": "000000", "next": "/"})
    assert "Ce code n'est pas le bon" in text(wrong)
    assert client.get("/").status_code == 302

    # Codes are throttled: right after a wrong one, even the right code waits.
    throttled = client.post(CODE_PAGE, {"code": code_for(staff), "next": "/"})
    assert throttled.status_code == 400
    assert "Attendez 1 seconde" in text(throttled)

    time_machine.shift(timedelta(seconds=2))
    ok = client.post(CODE_PAGE, {"code": code_for(staff), "next": "/"})
    assert ok.status_code == 302
    assert ok.url == "/"
    assert client.get("/").status_code == 200


def test_each_wrong_code_doubles_the_wait(staff, clock):
    time_machine = clock
    enrol(Client(), staff)
    time_machine.shift(timedelta(seconds=60))
    client = Client()
    sign_in(client, STAFF_EMAIL)
    for expected_wait in (1, 2, 4, 8):
        wrong = client.post(CODE_PAGE, {"code": "000000"})
        assert "Ce code n'est pas le bon" in text(wrong)
        throttled = client.post(CODE_PAGE, {"code": code_for(staff)})
        assert f"Attendez {expected_wait} seconde" in text(throttled)
        time_machine.shift(timedelta(seconds=expected_wait))


def test_a_code_cannot_be_used_twice(staff):
    client = Client()
    sign_in(client, STAFF_EMAIL)
    client.get(SETUP_PAGE)
    code = code_for(staff)
    client.post(SETUP_PAGE, {"code": code})
    other = Client()
    sign_in(other, STAFF_EMAIL)
    assert "Ce code n'est pas le bon" in text(other.post(CODE_PAGE, {"code": code}))


def test_the_code_pages_send_a_teacher_on(client, person):
    sign_in(client, person.email)
    assert client.get(f"{CODE_PAGE}?next=/appairer/").url == "/appairer/"
    assert client.get(SETUP_PAGE).url == "/"
    # …and never to another site.
    assert client.get(f"{CODE_PAGE}?next=https://example.com/").url == "/"


def test_anonymous_people_are_sent_to_sign_in(client, db):
    assert client.get(CODE_PAGE).url.startswith("/connexion/?next=")
    assert client.get(SETUP_PAGE).url.startswith("/connexion/?next=")


def test_staff_may_still_sign_out_before_their_code(client, staff):
    sign_in(client, STAFF_EMAIL)
    assert client.post("/deconnexion/").status_code == 302
    assert not client.get("/").wsgi_request.user.is_authenticated


def test_the_api_answers_in_json_before_the_code(client, staff):
    sign_in(client, STAFF_EMAIL)
    response = client.get("/api/n-importe-quoi")
    assert response.status_code == 403
    assert response.json() == {"detail": "Saisissez d'abord votre code de vérification."}


def test_a_lost_phone_is_reset_by_command(client, staff):
    enrol(client, staff)
    call_command("second_factor_reset", STAFF_EMAIL.upper())
    assert not TOTPDevice.objects.filter(user=staff).exists()
    # The session verified by that device is verified no more.
    assert client.get("/").url == f"{CODE_PAGE}?next=%2F"


# WebSockets: the same rule, on the connection's scope.


class Inner:
    def __init__(self):
        self.scope = None

    async def __call__(self, scope, receive, send):
        self.scope = scope


def staff_session(staff, *, verified: bool):
    client = Client()
    if verified:
        enrol(client, staff)
    else:
        sign_in(client, STAFF_EMAIL)
    return client.session


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("verified", [False, True])
async def test_websockets_see_a_session_waiting_for_its_code_as_anonymous(verified, staff):
    from asgiref.sync import sync_to_async

    session = await sync_to_async(staff_session)(staff, verified=verified)
    inner = Inner()
    await SecondFactorGuard(inner)(
        {"type": "websocket", "user": staff, "session": session}, None, None
    )
    assert inner.scope["user"].is_authenticated is verified


@pytest.mark.django_db(transaction=True)
async def test_websockets_leave_teachers_alone(person):
    inner = Inner()
    await SecondFactorGuard(inner)({"type": "websocket", "user": person, "session": {}}, None, None)
    assert inner.scope["user"] == person
