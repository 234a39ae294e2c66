"""Roles and scopes: each role holds over exactly its kind of scope, and the access layer
gives each role what it needs and nothing more.

The people (tests/conftest.py): ``teacher`` teaches the loan's class; ``coordinator`` holds
the loan's département (78), ``other_coordinator`` the Essonne (91); ``dane`` the académie
de Versailles; ``ministry`` the country; ``school_head`` the loan's school;
``hospital_staff`` and ``family`` the loan; ``fleet``, ``dpo``, ``administrator`` no scope;
``outsider`` no role at all.
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from cartable.fleet.models import Loan
from cartable.organisation.access import (
    Action,
    Actor,
    academies_for,
    can,
    classes_for,
    departments_for,
    invitable_roles,
    loans_for,
    may_grant,
    pupils_for,
    schools_for,
)
from cartable.organisation.models import (
    ROLE_SCOPE,
    Academy,
    Department,
    Pupil,
    Role,
    RoleGrant,
    School,
    SchoolClass,
)

from ..conftest import make_user

PEOPLE = [
    "teacher",
    "other_teacher",
    "coordinator",
    "other_coordinator",
    "dane",
    "ministry",
    "school_head",
    "hospital_staff",
    "family",
    "fleet",
    "dpo",
    "administrator",
    "outsider",
]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def people(request, loan, department):
    return {name: request.getfixturevalue(name) for name in PEOPLE}


def actor(people, name) -> Actor:
    return Actor(user=people[name])


# The model: each role with exactly its scope ------------------------------------------------


def scope_objects(loan):
    school = loan.school_class.school
    return {
        "academy": school.department.academy,
        "department": school.department,
        "school": school,
        "school_class": loan.school_class,
        "loan": loan,
    }


@pytest.mark.parametrize("role", list(Role))
def test_each_role_is_granted_over_its_own_kind_of_scope(loan, department, role):
    scope = ROLE_SCOPE[role]
    fields = {scope: scope_objects(loan)[scope]} if scope else {}
    grant = RoleGrant.objects.create(user=make_user("x"), role=role, **fields)
    assert grant.scope == (fields[scope] if scope else None)


@pytest.mark.parametrize("role", list(Role))
def test_the_database_refuses_a_role_over_another_kind_of_scope(loan, department, role):
    user = make_user("x")
    objects = scope_objects(loan)
    for field, value in objects.items():
        if field == ROLE_SCOPE[role]:
            continue
        own = {ROLE_SCOPE[role]: objects[ROLE_SCOPE[role]]} if ROLE_SCOPE[role] else {}
        with pytest.raises(IntegrityError), transaction.atomic():
            RoleGrant.objects.create(user=user, role=role, **own, **{field: value})


@pytest.mark.parametrize("role", [r for r, scope in ROLE_SCOPE.items() if scope])
def test_the_database_refuses_a_scoped_role_without_its_scope(db, role):
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleGrant.objects.create(user=make_user("x"), role=role)


def test_the_database_refuses_an_unknown_role(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleGrant.objects.create(user=make_user("x"), role="king")


def test_a_grant_is_held_once_per_role_and_scope(loan, department):
    user = make_user("x")
    RoleGrant.objects.create(user=user, role=Role.NATIONAL)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleGrant.objects.create(user=user, role=Role.NATIONAL)
    RoleGrant.objects.create(user=user, role=Role.DEPARTMENT, department=department)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleGrant.objects.create(user=user, role=Role.DEPARTMENT, department=department)


def test_a_person_may_hold_several_roles(people, loan):
    coordinator = people["coordinator"]
    RoleGrant.objects.create(user=coordinator, role=Role.TEACHER, school_class=loan.school_class)
    assert can(Actor(user=coordinator), Action.LIVE_CLASS_STATION, loan)  # as the teacher
    assert can(Actor(user=coordinator), Action.CLASS_MANAGE, loan.school_class)  # coordinator


# The access layer: what each role sees --------------------------------------------------------


@pytest.fixture
def elsewhere(make_loan):
    """A loan in the Essonne (91), the other coordinator's département."""
    other = make_loan()
    School.objects.filter(pk=other.school_class.school_id).update(
        department=Department.objects.get(code="91")
    )
    return Loan.objects.select_related("school_class__school").get(pk=other.pk)


NAMES = {"teacher", "coordinator", "school_head", "hospital_staff", "family"}


@pytest.mark.parametrize("who", PEOPLE)
def test_only_the_people_close_to_the_pupil_see_the_loan_with_its_name(people, loan, who):
    seen = can(actor(people, who), Action.VIEW, loan)
    assert seen == (who in NAMES)
    assert (loan.pupil in pupils_for(actor(people, who))) == (who in NAMES)


@pytest.mark.parametrize("who", ["dane", "ministry"])
def test_the_academie_and_national_levels_never_see_a_pupil(people, who):
    act = actor(people, who)
    assert not pupils_for(act, Action.VIEW).exists()
    for action in Action:
        # They follow where kits are lent (KIT_TRACK: places and dates, for the fleet
        # overview of their scope); pages built on it never show a pupil's name.
        if action is not Action.KIT_TRACK:
            assert not loans_for(act, action).exists()
        assert not pupils_for(act, action).exists()


def test_a_coordinator_sees_their_departement_only(people, loan, elsewhere):
    act = actor(people, "coordinator")
    assert set(loans_for(act, Action.VIEW)) == {loan}
    assert not can(act, Action.VIEW, elsewhere)
    assert can(actor(people, "other_coordinator"), Action.VIEW, elsewhere)
    assert not can(actor(people, "other_coordinator"), Action.VIEW, loan)


def test_a_coordinator_manages_pairing_but_is_not_a_class_station(people, loan, elsewhere):
    act = actor(people, "coordinator")
    assert can(act, Action.PAIRING_MANAGE, loan)
    assert not can(act, Action.LIVE_CLASS_STATION, loan)
    assert not can(act, Action.PAIRING_MANAGE, elsewhere)
    assert set(loans_for(act, Action.PAIRING_MANAGE)) == {loan}
    assert not loans_for(act, Action.LIVE_CLASS_STATION).exists()


def test_a_coordinator_manages_classes_and_pupils_of_their_departement(people, loan, elsewhere):
    act = actor(people, "coordinator")
    assert can(act, Action.CLASS_MANAGE, loan.school_class)
    assert can(act, Action.CLASS_MANAGE, loan.school_class.school)  # may create classes there
    assert can(act, Action.PUPIL_MANAGE, loan.pupil)
    assert not can(act, Action.CLASS_MANAGE, elsewhere.school_class)
    assert not can(act, Action.PUPIL_MANAGE, elsewhere.pupil)
    assert set(classes_for(act, Action.CLASS_MANAGE)) == {loan.school_class}
    # Nobody else manages classes or pupils.
    for who in set(PEOPLE) - {"coordinator", "other_coordinator"}:
        assert not can(actor(people, who), Action.CLASS_MANAGE, loan.school_class), who
        assert not can(actor(people, who), Action.PUPIL_MANAGE, loan.pupil), who


def test_a_school_head_sees_their_school(people, loan, elsewhere):
    act = actor(people, "school_head")
    assert set(loans_for(act, Action.VIEW)) == {loan}
    assert set(classes_for(act, Action.VIEW)) == {loan.school_class}
    assert not can(act, Action.PAIRING_MANAGE, loan)
    assert not can(act, Action.LIVE_CLASS_STATION, loan)


@pytest.mark.parametrize("who", ["hospital_staff", "family"])
def test_hospital_staff_and_family_see_their_loan_only(people, loan, elsewhere, make_loan, who):
    neighbour = make_loan()  # the same kind of loan, for another pupil
    act = actor(people, who)
    assert set(loans_for(act, Action.VIEW)) == {loan}
    assert set(pupils_for(act)) == {loan.pupil}
    assert not can(act, Action.VIEW, neighbour)
    assert not can(act, Action.PAIRING_MANAGE, loan)


def test_figures_follow_the_administrative_levels(people, loan, elsewhere):
    versailles = loan.school_class.school.department.academy
    paris = Academy.objects.get(code="01")
    assert set(academies_for(actor(people, "dane"))) == {versailles}
    assert not can(actor(people, "dane"), Action.FIGURES_VIEW, paris)
    assert set(departments_for(actor(people, "dane"))) == set(versailles.departments.all())
    assert academies_for(actor(people, "ministry")).count() == Academy.objects.count()
    assert can(actor(people, "ministry"), Action.FIGURES_VIEW)
    assert not can(actor(people, "dane"), Action.FIGURES_VIEW)  # national figures
    assert set(departments_for(actor(people, "coordinator"))) == {
        loan.school_class.school.department
    }


def test_the_dane_finds_schools_of_their_academie(people, loan, elsewhere, make_loan):
    outside = make_loan().school_class.school  # no département: outside every académie
    schools = set(schools_for(actor(people, "dane")))
    assert {loan.school_class.school, elsewhere.school_class.school} <= schools
    assert outside not in schools


def test_the_fleet_tracks_every_kit_without_names(people, loan, elsewhere):
    act = actor(people, "fleet")
    assert set(loans_for(act, Action.KIT_TRACK)) == set(Loan.objects.all())
    assert {loan, elsewhere} <= set(Loan.objects.all())
    assert not can(act, Action.VIEW, loan)
    assert not pupils_for(act).exists()


@pytest.mark.parametrize("who", ["dpo", "administrator", "outsider"])
def test_roles_without_pupil_data_see_no_pupil(people, loan, who):
    act = actor(people, who)
    for action in Action:
        # They follow where kits are lent (KIT_TRACK: places and dates, for the fleet
        # overview of their scope); pages built on it never show a pupil's name.
        if action is not Action.KIT_TRACK:
            assert not loans_for(act, action).exists()
        assert not pupils_for(act, action).exists()
        assert not classes_for(act, action).exists()


KINDS = {
    "loan": (Loan, loans_for),
    "pupil": (Pupil, pupils_for),
    "school_class": (SchoolClass, classes_for),
    "school": (School, schools_for),
    "department": (Department, departments_for),
    "academy": (Academy, academies_for),
}


@pytest.mark.parametrize("action", list(Action), ids=[a.value for a in Action])
@pytest.mark.parametrize("who", PEOPLE)
def test_scoped_lists_hold_exactly_what_can_allows(people, loan, elsewhere, who, action):
    act = actor(people, who)
    for kind, (model, scoped) in KINDS.items():
        objects = model.objects.all()
        if model is Department:
            objects = objects.filter(code__in=["78", "91", "75"])
        allowed = {obj.pk for obj in objects if can(act, action, obj)}
        listed = set(
            scoped(act, action).filter(pk__in=[o.pk for o in objects]).values_list("pk", flat=True)
        )
        assert listed == allowed, kind


# Who may give which role ----------------------------------------------------------------------


def test_a_coordinator_invites_teachers_heads_and_hospital_staff_in_their_departement(
    people, loan, elsewhere
):
    act = actor(people, "coordinator")
    assert invitable_roles(act) == [
        Role.SCHOOL_HEAD,
        Role.TEACHER,
        Role.HOSPITAL_STAFF,
        Role.APADHE_TEACHER,
    ]
    assert may_grant(act, Role.TEACHER, loan.school_class)
    assert may_grant(act, Role.SCHOOL_HEAD, loan.school_class.school)
    assert may_grant(act, Role.HOSPITAL_STAFF, loan)
    assert not may_grant(act, Role.TEACHER, elsewhere.school_class)
    assert not may_grant(act, Role.HOSPITAL_STAFF, elsewhere)
    assert not may_grant(act, Role.DEPARTMENT, loan.school_class.school.department)
    assert not may_grant(act, Role.TEACHER, loan.school_class.school)  # wrong kind of scope
    assert not may_grant(act, Role.NATIONAL, None)


def test_a_dane_invites_within_their_academie(people, loan, elsewhere, make_loan):
    act = actor(people, "dane")
    assert may_grant(act, Role.TEACHER, elsewhere.school_class)  # 91 is in Versailles too
    assert may_grant(act, Role.DEPARTMENT, Department.objects.get(code="92"))
    assert not may_grant(act, Role.DEPARTMENT, Department.objects.get(code="75"))
    assert not may_grant(act, Role.ACADEMY, loan.school_class.school.department.academy)
    assert not may_grant(act, Role.TEACHER, make_loan().school_class)  # no département


def test_an_administrator_invites_to_any_role_anywhere(people, loan):
    act = actor(people, "administrator")
    assert invitable_roles(act) == list(Role)
    assert may_grant(act, Role.NATIONAL, None)
    assert may_grant(act, Role.ACADEMY, Academy.objects.get(code="01"))
    assert not may_grant(act, Role.ACADEMY, None)  # but always over the right scope


@pytest.mark.parametrize(
    "who",
    [
        "teacher",
        "school_head",
        "hospital_staff",
        "family",
        "ministry",
        "fleet",
        "dpo",
        "outsider",
    ],
)
def test_other_roles_invite_nobody(people, loan, who):
    act = actor(people, who)
    assert invitable_roles(act) == []
    assert not can(act, Action.INVITE)
    assert not may_grant(act, Role.TEACHER, loan.school_class)
