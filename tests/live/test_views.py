"""The live link's pages: each one, with someone who has the right and someone who has not.

Objects out of someone's scope answer 404 (their existence is not revealed); pages that
need a person send an anonymous visitor to the sign-in page.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from cartable.fleet.models import DeviceCredential, Loan
from cartable.fleet.services import credential_issue, credential_revoke
from cartable.live.services import pairing_code_create

from ..conftest import force_login


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


def holding(token: str) -> Client:
    """A browser holding a device credential in its cookie (a tablet, a class station)."""
    client = Client()
    client.cookies[settings.DEVICE_COOKIE_NAME] = token
    return client


def sign_in_url(path: str) -> str:
    return f"/connexion/?next={path}"


def credential_of(token: str) -> DeviceCredential:
    return DeviceCredential.objects.get(pk=int(token.split(".")[0]))


# Home ----------------------------------------------------------------------------------


def test_home_lists_the_teachers_own_loans(loan, teacher):
    response = signed_in(teacher).get("/")
    assert response.status_code == 200
    assert loan.pupil.display_name in response.text
    assert f"/station/{loan.pk}/" in response.text


def test_home_shows_another_teacher_nothing_of_the_loan(loan, other_teacher):
    response = signed_in(other_teacher).get("/")
    assert response.status_code == 200
    assert loan.pupil.display_name not in response.text
    assert f"/station/{loan.pk}/" not in response.text


def test_home_shows_an_outsider_no_loan(loan, outsider):
    response = signed_in(outsider).get("/")
    assert response.status_code == 200
    assert loan.pupil.display_name not in response.text
    assert list(response.context["loans"]) == []


def test_home_shows_an_anonymous_visitor_only_the_way_in(loan):
    response = Client().get("/")
    assert response.status_code == 200
    assert loan.pupil.display_name not in response.text
    assert "/connexion/" in response.text
    assert "/appairer/" in response.text


def test_home_leaves_out_ended_loans(loan, teacher):
    Loan.objects.filter(pk=loan.pk).update(ended_at=loan.created_at)
    response = signed_in(teacher).get("/")
    assert loan.pupil.display_name not in response.text


def test_home_sends_a_paired_tablet_to_the_pupil_page(pupil_token):
    response = holding(pupil_token).get("/")
    assert response.status_code == 302
    assert response.url == "/eleve/"


# Sign-in ---------------------------------------------------------------------------------


def test_sign_in_page_is_open_to_anyone(db):
    assert Client().get("/connexion/").status_code == 200


def test_wrong_password_does_not_sign_in(loan, teacher):
    client = Client()
    response = client.post("/connexion/", {"username": teacher.username, "password": "nope"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert client.get(f"/station/{loan.pk}/").status_code == 302


def test_signed_in_person_is_sent_on_from_the_sign_in_page(teacher):
    response = signed_in(teacher).get("/connexion/")
    assert response.status_code == 302
    assert response.url == "/"


# Class station page --------------------------------------------------------------------------


def test_station_opens_for_the_teacher_of_the_class(loan, teacher):
    response = signed_in(teacher).get(f"/station/{loan.pk}/")
    assert response.status_code == 200
    assert loan.pupil.display_name in response.text


def test_station_opens_for_the_kits_class_station(loan, station_token):
    assert holding(station_token).get(f"/station/{loan.pk}/").status_code == 200


def test_station_sends_an_anonymous_visitor_to_sign_in(loan):
    response = Client().get(f"/station/{loan.pk}/")
    assert response.status_code == 302
    assert response.url == sign_in_url(f"/station/{loan.pk}/")


def test_station_sends_a_pupil_tablet_alone_to_sign_in(loan, pupil_token):
    response = holding(pupil_token).get(f"/station/{loan.pk}/")
    assert response.status_code == 302
    assert response.url == sign_in_url(f"/station/{loan.pk}/")


def test_station_is_not_found_for_an_outsider(loan, outsider):
    assert signed_in(outsider).get(f"/station/{loan.pk}/").status_code == 404


def test_station_is_not_found_for_a_teacher_of_another_class(loan, other_teacher):
    response = signed_in(other_teacher).get(f"/station/{loan.pk}/")
    assert response.status_code == 404
    assert loan.pupil.display_name not in response.text


def test_station_is_not_found_for_another_kits_class_station(loan, make_loan):
    _, foreign = credential_issue(kind="class_station", kit=make_loan().kit)
    assert holding(foreign).get(f"/station/{loan.pk}/").status_code == 404


def test_station_of_an_unknown_loan_is_not_found(loan, teacher):
    client = signed_in(teacher)
    assert client.get(f"/station/{loan.pk + 1000}/").status_code == 404
    assert client.get(f"/station/{10**30}/").status_code == 404


def test_station_sends_a_revoked_class_station_to_sign_in(loan, station_token):
    credential_revoke(credential=credential_of(station_token))
    assert holding(station_token).get(f"/station/{loan.pk}/").status_code == 302


@pytest.mark.parametrize("forged", ["\u00b2.secret", "1.secret", "garbage", "9" * 40 + ".x"])
def test_station_sends_a_forged_cookie_to_sign_in(loan, forged):
    assert holding(forged).get(f"/station/{loan.pk}/").status_code == 302


def test_station_of_an_ended_loan_says_so(loan, teacher):
    Loan.objects.filter(pk=loan.pk).update(ended_at=loan.created_at)
    response = signed_in(teacher).get(f"/station/{loan.pk}/")
    assert response.status_code == 200
    assert response.context["active"] is False


# Pupil page --------------------------------------------------------------------------------


def test_pupil_page_opens_on_the_paired_tablet(loan, pupil_token):
    response = holding(pupil_token).get("/eleve/")
    assert response.status_code == 200
    assert response.context["loan"] == loan


@pytest.mark.parametrize("who", ["anonymous", "teacher", "class_station"])
def test_pupil_page_sends_anyone_but_a_paired_tablet_to_pairing(loan, teacher, station_token, who):
    client = {
        "anonymous": Client(),
        "teacher": signed_in(teacher),
        "class_station": holding(station_token),
    }[who]
    response = client.get("/eleve/")
    assert response.status_code == 302
    assert response.url == "/appairer/"


def test_pupil_page_sends_a_revoked_tablet_to_pairing(pupil_token):
    credential_revoke(credential=credential_of(pupil_token))
    response = holding(pupil_token).get("/eleve/")
    assert response.status_code == 302
    assert response.url == "/appairer/"


@pytest.mark.parametrize("forged", ["\u00b2.secret", "1.secret", "garbage"])
def test_pupil_page_sends_a_forged_cookie_to_pairing(db, forged):
    response = holding(forged).get("/eleve/")
    assert response.status_code == 302
    assert response.url == "/appairer/"


# Pairing pages -----------------------------------------------------------------------------


def test_pairing_page_is_open_to_anyone(db):
    response = Client().get("/appairer/")
    assert response.status_code == 200


def test_pairing_page_takes_only_get_and_post(db):
    assert Client().put("/appairer/").status_code == 405


def test_pairing_management_opens_for_the_teacher_of_the_class(loan, teacher):
    response = signed_in(teacher).get(f"/prets/{loan.pk}/appairage/")
    assert response.status_code == 200
    assert loan.pupil.display_name in response.text


@pytest.mark.parametrize("method", ["get", "post"])
def test_pairing_management_sends_an_anonymous_visitor_to_sign_in(loan, method):
    response = getattr(Client(), method)(f"/prets/{loan.pk}/appairage/")
    assert response.status_code == 302
    assert response.url == sign_in_url(f"/prets/{loan.pk}/appairage/")


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("device", ["pupil_token", "station_token"])
def test_pairing_management_is_for_people_not_devices(loan, request, device, method):
    # A device credential never manages pairing, not even the kit's own class station.
    client = holding(request.getfixturevalue(device))
    response = getattr(client, method)(f"/prets/{loan.pk}/appairage/", {"action": "code"})
    assert response.status_code == 302
    assert response.url.startswith("/connexion/")


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("who", ["outsider", "other_teacher"])
def test_pairing_management_is_not_found_for_people_without_the_class(loan, request, who, method):
    client = signed_in(request.getfixturevalue(who))
    response = getattr(client, method)(f"/prets/{loan.pk}/appairage/", {"action": "code"})
    assert response.status_code == 404
    assert loan.pupil.display_name not in response.text
    assert not loan.pairing_codes.exists()


def test_pairing_management_of_an_unknown_loan_is_not_found(loan, teacher):
    assert signed_in(teacher).get(f"/prets/{loan.pk + 1000}/appairage/").status_code == 404


def test_pairing_management_of_an_ended_loan_shows_no_code(loan, teacher):
    Loan.objects.filter(pk=loan.pk).update(ended_at=loan.created_at)
    response = signed_in(teacher).post(f"/prets/{loan.pk}/appairage/", {"action": "code"})
    assert response.status_code == 200
    assert response.context["issued"] is None
    assert not loan.pairing_codes.exists()


def test_pairing_management_lists_only_this_loans_live_tablets(loan, teacher, make_loan):
    other = make_loan()
    issued = pairing_code_create(loan=other)
    Client().post("/appairer/", {"code": issued.code})  # a tablet for the other loan
    response = signed_in(teacher).get(f"/prets/{loan.pk}/appairage/")
    assert list(response.context["tablets"]) == []
