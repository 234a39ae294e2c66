"""The access layer (cartable/organisation/access.py): who may do what to which loan.

``can`` answers for one loan; ``loans_for`` must list exactly the loans ``can`` allows,
since pages list with the one and act with the other.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from cartable.fleet.models import Loan
from cartable.fleet.services import credential_issue, credential_revoke
from cartable.live.services import pairing_code_create, pairing_redeem
from cartable.organisation.access import Action, Actor, can, loans_for, teaches
from cartable.organisation.models import RoleGrant

from ..conftest import make_user

ALL_ACTIONS = list(Action)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def tablet_for(loan):
    issued = pairing_code_create(loan=loan)
    credential, _ = pairing_redeem(code=issued.code)
    return credential


def station_for(kit):
    credential, _ = credential_issue(kind="class_station", kit=kit)
    return credential


@pytest.fixture
def world(make_loan, loan, teacher, other_teacher, outsider):
    """The loan, a loan of another class, a later loan of the same kit, and their devices."""
    other = Loan.objects.exclude(pk=loan.pk).get()
    same_kit_later = Loan.objects.create(
        kit=loan.kit,
        pupil=other.pupil,
        school_class=other.school_class,
        starts_on=loan.ends_on,
        ends_on=loan.ends_on,
    )
    revoked_tablet = tablet_for(loan)
    credential_revoke(credential=revoked_tablet)
    revoked_station = station_for(loan.kit)
    credential_revoke(credential=revoked_station)
    return {
        "loan": loan,
        "other": other,
        "same_kit_later": same_kit_later,
        "tablet": tablet_for(loan),
        "other_tablet": tablet_for(other),
        "revoked_tablet": revoked_tablet,
        "station": station_for(loan.kit),
        "other_station": station_for(other.kit),
        "revoked_station": revoked_station,
        "teacher": teacher,
        "other_teacher": other_teacher,
        "outsider": outsider,
    }


def test_teacher_of_the_class_runs_the_class_side_and_manages_pairing(world):
    actor = Actor(user=world["teacher"])
    assert can(actor, Action.LIVE_CLASS_STATION, world["loan"])
    assert can(actor, Action.PAIRING_MANAGE, world["loan"])
    assert not can(actor, Action.LIVE_PUPIL, world["loan"])


def test_teacher_of_another_class_may_do_nothing_to_the_loan(world):
    actor = Actor(user=world["other_teacher"])
    for action in ALL_ACTIONS:
        assert not can(actor, action, world["loan"])
    assert can(actor, Action.LIVE_CLASS_STATION, world["other"])


@pytest.mark.parametrize("user", ["outsider", "anonymous", "nobody"])
def test_person_without_a_role_may_do_nothing(world, user):
    person = {"outsider": world["outsider"], "anonymous": AnonymousUser(), "nobody": None}[user]
    for loan in (world["loan"], world["other"]):
        for action in ALL_ACTIONS:
            assert not can(Actor(user=person), action, loan)


def test_teaching_is_holding_the_teacher_role_for_that_class(world):
    assert teaches(world["teacher"], world["loan"].school_class_id)
    assert not teaches(world["teacher"], world["other"].school_class_id)
    assert not teaches(world["outsider"], world["loan"].school_class_id)


def test_paired_tablet_is_the_pupil_side_of_its_loan_only(world):
    actor = Actor(device=world["tablet"])
    assert can(actor, Action.LIVE_PUPIL, world["loan"])
    assert not can(actor, Action.LIVE_CLASS_STATION, world["loan"])
    assert not can(actor, Action.PAIRING_MANAGE, world["loan"])
    assert not can(actor, Action.LIVE_PUPIL, world["other"])


def test_tablet_of_another_loan_is_not_the_pupil(world):
    assert not can(Actor(device=world["other_tablet"]), Action.LIVE_PUPIL, world["loan"])


def test_class_station_runs_the_class_side_of_its_kits_loans_only(world):
    actor = Actor(device=world["station"])
    assert can(actor, Action.LIVE_CLASS_STATION, world["loan"])
    assert can(actor, Action.LIVE_CLASS_STATION, world["same_kit_later"])
    assert not can(actor, Action.LIVE_CLASS_STATION, world["other"])
    # A device is never a person: it shows no pairing codes and is not the pupil.
    assert not can(actor, Action.PAIRING_MANAGE, world["loan"])
    assert not can(actor, Action.LIVE_PUPIL, world["loan"])


def test_class_station_of_another_kit_is_refused(world):
    assert not can(Actor(device=world["other_station"]), Action.LIVE_CLASS_STATION, world["loan"])


@pytest.mark.parametrize("device", ["revoked_tablet", "revoked_station"])
def test_revoked_device_may_do_nothing(world, device):
    actor = Actor(device=world[device])
    for action in ALL_ACTIONS:
        assert not can(actor, action, world["loan"])


def test_revocation_is_seen_on_a_device_loaded_before_it(world):
    tablet = world["tablet"]
    credential_revoke(credential=tablet)  # the same object: is_revoked is now true
    assert not can(Actor(device=tablet), Action.LIVE_PUPIL, world["loan"])


def test_person_and_device_together_have_the_rights_of_either(world):
    actor = Actor(user=world["other_teacher"], device=world["station"])
    assert can(actor, Action.LIVE_CLASS_STATION, world["loan"])  # through the kit
    assert can(actor, Action.LIVE_CLASS_STATION, world["other"])  # as the teacher
    assert not can(actor, Action.PAIRING_MANAGE, world["loan"])  # the kit manages nothing


ACTORS = {
    "teacher": lambda w: Actor(user=w["teacher"]),
    "other_teacher": lambda w: Actor(user=w["other_teacher"]),
    "outsider": lambda w: Actor(user=w["outsider"]),
    "anonymous": lambda w: Actor(user=AnonymousUser()),
    "tablet": lambda w: Actor(device=w["tablet"]),
    "other_tablet": lambda w: Actor(device=w["other_tablet"]),
    "revoked_tablet": lambda w: Actor(device=w["revoked_tablet"]),
    "station": lambda w: Actor(device=w["station"]),
    "other_station": lambda w: Actor(device=w["other_station"]),
    "revoked_station": lambda w: Actor(device=w["revoked_station"]),
    "teacher_with_other_station": lambda w: Actor(user=w["teacher"], device=w["other_station"]),
    "teacher_with_tablet": lambda w: Actor(user=w["teacher"], device=w["tablet"]),
}


@pytest.mark.parametrize("action", ALL_ACTIONS, ids=[a.value for a in ALL_ACTIONS])
@pytest.mark.parametrize("who", list(ACTORS))
def test_loans_for_lists_exactly_the_loans_can_allows(world, who, action):
    actor = ACTORS[who](world)
    allowed = {loan.pk for loan in Loan.objects.all() if can(actor, action, loan)}
    assert set(loans_for(actor, action).values_list("pk", flat=True)) == allowed


def test_loans_for_a_teacher_of_several_classes(world, make_loan):
    second = make_loan()
    RoleGrant.objects.create(
        user=world["teacher"], role=RoleGrant.Role.TEACHER, school_class=second.school_class
    )
    listed = set(loans_for(Actor(user=world["teacher"]), Action.LIVE_CLASS_STATION))
    assert listed == {world["loan"], second}


def test_can_does_not_care_whether_the_loan_is_running(world):
    # Whether a loan is running is the live link's own check (refused at the handshake);
    # rights stay, so the teacher still sees an ended loan's page.
    Loan.objects.filter(pk=world["loan"].pk).update(ended_at=timezone.now())
    ended = Loan.objects.get(pk=world["loan"].pk)
    assert can(Actor(user=world["teacher"]), Action.LIVE_CLASS_STATION, ended)
    assert can(Actor(device=world["tablet"]), Action.LIVE_PUPIL, ended)


def test_a_new_person_has_no_rights_until_granted(world):
    newcomer = make_user("nouveau")
    assert not can(Actor(user=newcomer), Action.PAIRING_MANAGE, world["loan"])
    RoleGrant.objects.create(
        user=newcomer, role=RoleGrant.Role.TEACHER, school_class=world["loan"].school_class
    )
    assert can(Actor(user=newcomer), Action.PAIRING_MANAGE, world["loan"])
