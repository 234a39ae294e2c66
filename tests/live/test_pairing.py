"""Pairing a pupil's tablet with a loan: the one-time code, the pages, and revocation.

The teacher shows a code on /prets/<id>/appairage/; the tablet types it on /appairer/ and
gets a device cookie. Everything a wrong or stale code meets is the same generic refusal.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from cartable.fleet.models import DeviceCredential, Loan
from cartable.fleet.services import credential_authenticate
from cartable.live import services
from cartable.live.models import PairingCode
from cartable.live.views import IP_TRIES, PAIR_ERROR

from ..conftest import force_login
from .wsclient import Links


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_pairing_limit():
    # The per-address count of failed pairings lives in the cache, which outlives a test.
    cache.clear()
    yield
    cache.clear()


def signed_in(user) -> Client:
    client = Client()
    force_login(client, user)
    return client


def pair(code: str, client: Client | None = None):
    """A tablet types ``code`` on the pairing page."""
    return (client or Client()).post("/appairer/", {"code": code})


def show_code(client: Client, loan) -> str:
    """The teacher asks for a code on the management page; the code shown."""
    response = client.post(f"/prets/{loan.pk}/appairage/", {"action": "code"})
    assert response.status_code == 200
    return response.context["issued"].code


def wrong_secret(code: str) -> str:
    """The same code with another secret (the first four digits pick the code)."""
    secret = code[4:]
    return code[:4] + f"{(int(secret) + 1) % 10 ** len(secret):0{len(secret)}d}"


def assert_refused(response):
    assert response.status_code == 400
    assert response.context["error"] == PAIR_ERROR  # one message, whatever the reason
    assert settings.DEVICE_COOKIE_NAME not in response.cookies


def paired_tablets(loan):
    return DeviceCredential.objects.filter(loan=loan, kind="pupil_tablet", revoked_at=None)


# A good code -----------------------------------------------------------------------------


def test_good_code_pairs_the_tablet_and_sets_its_cookie(loan, teacher):
    issued = services.pairing_code_create(loan=loan, by=teacher)
    tablet = Client()
    response = pair(issued.display, tablet)  # as shown: "1234 567 890"

    assert response.status_code == 302
    assert response.url == "/eleve/"
    cookie = response.cookies[settings.DEVICE_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    assert int(cookie["max-age"]) == settings.DEVICE_COOKIE_MAX_AGE
    credential = credential_authenticate(cookie.value)
    assert credential.kind == "pupil_tablet"
    assert credential.loan == loan
    assert credential.created_by == teacher

    assert tablet.get("/eleve/").status_code == 200
    pairing = PairingCode.objects.get(pk=issued.pairing.pk)
    assert pairing.used_at is not None
    assert pairing.credential == credential


def test_code_is_accepted_with_dashes_and_spaces(loan):
    code = services.pairing_code_create(loan=loan).code
    assert pair(f" {code[:4]}-{code[4:7]}.{code[7:]} ").status_code == 302


def test_code_is_stored_hashed(loan):
    issued = services.pairing_code_create(loan=loan)
    assert issued.code[4:] not in issued.pairing.secret_hash


def test_code_pairs_only_once(loan):
    code = services.pairing_code_create(loan=loan).code
    assert pair(code).status_code == 302
    assert_refused(pair(code))
    assert paired_tablets(loan).count() == 1


def test_code_pairs_only_once_through_the_service(loan):
    code = services.pairing_code_create(loan=loan).code
    services.pairing_redeem(code=code)
    with pytest.raises(services.PairingRefused):
        services.pairing_redeem(code=code)


# Codes that do not pair ----------------------------------------------------------------------


def test_expired_code_is_refused(loan):
    issued = services.pairing_code_create(loan=loan)
    later = timezone.now() + timedelta(seconds=settings.PAIRING["VALID_SECONDS"] + 1)
    with time_machine.travel(later, tick=False):
        assert_refused(pair(issued.code))
    assert not paired_tablets(loan).exists()
    assert PairingCode.objects.get(pk=issued.pairing.pk).dead_at is not None


def test_code_just_before_its_expiry_pairs(loan):
    issued = services.pairing_code_create(loan=loan)
    later = issued.pairing.expires_at - timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        assert pair(issued.code).status_code == 302


def test_five_wrong_secrets_kill_the_code(loan):
    code = services.pairing_code_create(loan=loan).code
    for _ in range(settings.PAIRING["MAX_WRONG_TRIES"]):
        assert_refused(pair(wrong_secret(code)))
    assert_refused(pair(code))  # the right code, sixth try: too late
    assert not paired_tablets(loan).exists()
    pairing = PairingCode.objects.get(loan=loan)
    assert pairing.wrong_tries == settings.PAIRING["MAX_WRONG_TRIES"]
    assert pairing.dead_at is not None


def test_four_wrong_secrets_leave_the_code_usable(loan):
    code = services.pairing_code_create(loan=loan).code
    for _ in range(settings.PAIRING["MAX_WRONG_TRIES"] - 1):
        assert_refused(pair(wrong_secret(code)))
    assert pair(code).status_code == 302


@pytest.mark.parametrize(
    "code",
    [
        "",
        "abcd efg hij",
        "1234",
        "1234 567 89",  # one digit short
        "1234 567 8901",  # one digit too many
        "\u00b2" * 10,  # digits to str.isdigit, not ASCII
        "1234 567 89O",  # a letter O for a zero
        "9" * 100,
    ],
    ids=["empty", "letters", "short", "one-short", "one-long", "superscript", "letter-o", "long"],
)
def test_malformed_code_is_refused(loan, code):
    services.pairing_code_create(loan=loan)
    assert_refused(pair(code))
    assert not paired_tablets(loan).exists()


def test_unknown_code_is_refused(loan):
    code = services.pairing_code_create(loan=loan).code
    other_locator = f"{(int(code[:4]) + 1) % 10_000:04d}"
    assert_refused(pair(other_locator + code[4:]))


def test_new_code_kills_the_previous_one(loan, teacher):
    teacher_page = signed_in(teacher)
    first = show_code(teacher_page, loan)
    second = show_code(teacher_page, loan)
    assert_refused(pair(first))
    assert pair(second).status_code == 302


def test_codes_of_different_loans_live_side_by_side(loan, make_loan):
    other = make_loan()
    mine = services.pairing_code_create(loan=loan).code
    theirs = services.pairing_code_create(loan=other).code
    assert pair(mine).status_code == 302
    assert pair(theirs).status_code == 302
    assert paired_tablets(loan).count() == paired_tablets(other).count() == 1


def test_code_of_a_loan_ended_since_is_refused(loan):
    code = services.pairing_code_create(loan=loan).code
    Loan.objects.filter(pk=loan.pk).update(ended_at=timezone.now())
    assert_refused(pair(code))
    assert not paired_tablets(loan).exists()


def test_no_code_for_an_inactive_loan(make_loan):
    ended = make_loan(ended=True)
    with pytest.raises(services.LiveError) as refused:
        services.pairing_code_create(loan=ended)
    assert refused.value.code == "loan_inactive"


def test_refused_pairing_logs_neither_the_code_nor_the_pupil(loan, caplog):
    caplog.set_level(logging.INFO)
    code = services.pairing_code_create(loan=loan).code
    assert_refused(pair(wrong_secret(code)))
    assert "pairing refused reason=wrong_secret" in caplog.text
    assert code[4:] not in caplog.text
    assert wrong_secret(code)[4:] not in caplog.text
    assert loan.pupil.display_name not in caplog.text


# The per-address limit -----------------------------------------------------------------------


def test_too_many_failed_tries_from_one_address_are_stopped(loan):
    code = services.pairing_code_create(loan=loan).code
    for _ in range(IP_TRIES):
        assert_refused(pair("0000 000 000"))
    response = pair(code)  # even the right code, now
    assert response.status_code == 429
    assert settings.DEVICE_COOKIE_NAME not in response.cookies
    assert not paired_tablets(loan).exists()

    # Another address is not held back by this one.
    elsewhere = Client(REMOTE_ADDR="192.0.2.7")
    assert pair(code, elsewhere).status_code == 302


def test_successful_pairings_do_not_count_against_the_address(loan):
    for _ in range(IP_TRIES + 1):
        assert pair(services.pairing_code_create(loan=loan).code).status_code == 302


# Managing paired tablets ---------------------------------------------------------------------


def test_teacher_sees_a_code_and_its_qr(loan, teacher):
    response = signed_in(teacher).post(f"/prets/{loan.pk}/appairage/", {"action": "code"})
    issued = response.context["issued"]
    page = response.content.decode()
    assert issued.display in page
    assert "<svg" in page
    assert PairingCode.objects.get(loan=loan, used_at=None, dead_at=None).created_by == teacher


def test_teacher_sees_the_paired_tablets(loan, teacher, pupil_token):
    response = signed_in(teacher).get(f"/prets/{loan.pk}/appairage/")
    assert [t.pk for t in response.context["tablets"]] == [int(pupil_token.split(".")[0])]


def test_revoking_through_the_page_makes_the_tablets_cookie_useless(asgi_server, loan, teacher):
    tablet = Client()
    pair(services.pairing_code_create(loan=loan).code, tablet)
    token = tablet.cookies[settings.DEVICE_COOKIE_NAME].value
    assert tablet.get("/eleve/").status_code == 200
    credential = credential_authenticate(token)

    response = signed_in(teacher).post(
        f"/prets/{loan.pk}/appairage/", {"action": "revoke", "credential": credential.pk}
    )
    assert response.status_code == 200
    assert list(response.context["tablets"]) == []

    page = tablet.get("/eleve/")
    assert page.status_code == 302
    assert page.url == "/appairer/"
    links = Links(asgi_server)
    try:
        assert links.refused(loan.pk, "pupil", device=token) == 403
    finally:
        links.close_all()


def test_revoked_tablet_can_be_paired_again_with_a_new_code(loan, teacher, pupil_token):
    old = credential_authenticate(pupil_token)
    signed_in(teacher).post(
        f"/prets/{loan.pk}/appairage/", {"action": "revoke", "credential": old.pk}
    )
    tablet = Client()
    assert pair(services.pairing_code_create(loan=loan).code, tablet).status_code == 302
    assert tablet.get("/eleve/").status_code == 200
    assert list(paired_tablets(loan)) != [old]


def test_revoking_another_loans_tablet_is_not_found(loan, teacher, make_loan):
    other = make_loan()
    credential, _ = services.pairing_redeem(code=services.pairing_code_create(loan=other).code)
    response = signed_in(teacher).post(
        f"/prets/{loan.pk}/appairage/", {"action": "revoke", "credential": credential.pk}
    )
    assert response.status_code == 404
    assert DeviceCredential.objects.get(pk=credential.pk).revoked_at is None


def test_revoking_the_class_station_through_the_pairing_page_is_not_found(
    loan, teacher, station_token
):
    station = DeviceCredential.objects.get(pk=int(station_token.split(".")[0]))
    response = signed_in(teacher).post(
        f"/prets/{loan.pk}/appairage/", {"action": "revoke", "credential": station.pk}
    )
    assert response.status_code == 404
    assert credential_authenticate(station_token) == station


@pytest.mark.parametrize("raw", ["", "abc", "\u00b2", "-1", "9" * 30])
def test_revoking_with_a_malformed_id_is_not_found(loan, teacher, pupil_token, raw):
    response = signed_in(teacher).post(
        f"/prets/{loan.pk}/appairage/", {"action": "revoke", "credential": raw}
    )
    assert response.status_code == 404
    assert credential_authenticate(pupil_token) is not None


def test_unknown_action_is_refused(loan, teacher):
    response = signed_in(teacher).post(f"/prets/{loan.pk}/appairage/", {"action": "delete"})
    assert response.status_code == 400


@pytest.mark.parametrize("who", ["outsider", "other_teacher"])
def test_people_without_the_class_can_neither_show_codes_nor_revoke(
    loan, pupil_token, request, who
):
    client = signed_in(request.getfixturevalue(who))
    credential = credential_authenticate(pupil_token)
    url = f"/prets/{loan.pk}/appairage/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "code"}).status_code == 404
    assert client.post(url, {"action": "revoke", "credential": credential.pk}).status_code == 404
    assert not PairingCode.objects.filter(loan=loan, used_at=None).exists()
    assert credential_authenticate(pupil_token) == credential


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_is_sent_to_sign_in_from_pairing_management(loan, method):
    url = f"/prets/{loan.pk}/appairage/"
    response = getattr(Client(), method)(url, {"action": "code"})
    assert response.status_code == 302
    assert response.url == f"/connexion/?next={url}"
    assert not loan.pairing_codes.exists()
