"""The loan workflow in the services: each step in order, each step out of order refused,
no kit on two loans at once (even when two people assign it at the same moment), the V5
pilot rule, and the dated, attributed trace each step leaves."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, close_old_connections, connection, transaction

from cartable.fleet import services
from cartable.fleet.models import (
    LOAN_STEPS,
    Kit,
    KitStatusChange,
    Loan,
    LoanEvent,
    LoanQuerySet,
    LoanStep,
    loan_may,
)
from cartable.fleet.services import CLASS_SIDE, PUPIL_SIDE, FleetError
from cartable.organisation.models import Department, Pupil, RoleGrant, School, SchoolClass
from cartable.organisation.services import academies_load
from cartable.organisation.validators import uai_check_letter

from ..conftest import make_person

PARIS = ZoneInfo("Europe/Paris")
_counter = iter(range(1, 100_000))


def make_pupil(department_code: str, name: str = "Maëlys") -> Pupil:
    """A pupil in a class of a new school of the département ``department_code``."""
    n = next(_counter)
    digits = f"{760_0000 + n:07d}"
    school = School.objects.create(
        uai=digits + uai_check_letter(digits),
        name=f"Collège {n}",
        kind=School.Kind.COLLEGE,
        commune=f"Commune {n}",
        department=Department.objects.get(code=department_code),
    )
    klass = SchoolClass.objects.create(
        school=school, name=f"5e {n}", level=SchoolClass.Level.CINQUIEME, school_year="2026-2027"
    )
    return Pupil.objects.create(display_name=name, school_class=klass)


def make_kit(code: str, generation: str = Kit.Generation.G3) -> Kit:
    return services.kit_create(code=code, generation=generation)


def request_for(pupil: Pupil, by=None, *, days: int = 60) -> Loan:
    today = date(2026, 9, 14)
    return services.loan_request(
        pupil=pupil,
        starts_on=today,
        ends_on=today + timedelta(days=days),
        place_kind=Loan.PlaceKind.HOSPITAL,
        pupil_department=pupil.school_class.school.department,
        by=by,
    )


@pytest.fixture
def academies(db):
    academies_load()


@pytest.fixture
def versailles_pupil(academies) -> Pupil:
    return make_pupil("78")


@pytest.fixture
def paris_pupil(academies) -> Pupil:
    return make_pupil("75", name="Basile")


@pytest.fixture
def coordo_78(academies):
    return make_person(
        "coordo.78",
        {"role": RoleGrant.Role.DEPARTMENT, "department": Department.objects.get(code="78")},
    )


@pytest.fixture
def fleet_person(db):
    return make_person("equipe.parc", {"role": RoleGrant.Role.FLEET})


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 9, day, hour, 0, tzinfo=PARIS)


def kit_trail(kit: Kit) -> list[tuple[str, str]]:
    return list(kit.status_changes.order_by("pk").values_list("from_status", "to_status"))


# The whole workflow ---------------------------------------------------------------------------


def test_the_whole_workflow_is_dated_and_attributed_step_by_step(
    versailles_pupil, coordo_78, fleet_person
):
    teacher = make_person(
        "prof.5e",
        {"role": RoleGrant.Role.TEACHER, "school_class": versailles_pupil.school_class},
    )
    kit = make_kit("CC-G3-0001")
    with time_machine.travel(at(10, 9), tick=False):
        loan = request_for(versailles_pupil, coordo_78)
    assert loan.status == Loan.Status.REQUESTED and loan.kit is None
    assert loan.created_at == at(10, 9)
    assert loan.school_class == versailles_pupil.school_class

    steps = [
        (at(10, 14), lambda: services.loan_assign(loan=loan, kit=kit, by=fleet_person)),
        (at(11, 8), lambda: services.loan_ship(loan=loan, by=fleet_person)),
        (
            at(12, 10),
            lambda: services.loan_confirm_installation(loan=loan, side=CLASS_SIDE, by=teacher),
        ),
        (
            at(12, 17),
            lambda: services.loan_confirm_installation(loan=loan, side=PUPIL_SIDE, by=coordo_78),
        ),
    ]
    expected = [
        (Loan.Status.ASSIGNED, Kit.Status.RESERVED, "assigned_at"),
        (Loan.Status.SHIPPED, Kit.Status.SHIPPED, "shipped_at"),
        (Loan.Status.SHIPPED, Kit.Status.INSTALLED, "class_installed_at"),
        (Loan.Status.ACTIVE, Kit.Status.ON_LOAN, "pupil_installed_at"),
    ]
    for (when, step), (loan_status, kit_status, field) in zip(steps, expected, strict=True):
        with time_machine.travel(when, tick=False):
            step()
        loan.refresh_from_db()
        kit.refresh_from_db()
        assert (loan.status, kit.status, getattr(loan, field)) == (loan_status, kit_status, when)
        assert kit.status_changed_at == when

    with time_machine.travel(at(20, 9), tick=False):
        services.loan_extend(loan=loan, ends_on=date(2026, 12, 18), by=coordo_78)
    with time_machine.travel(at(25, 16), tick=False):
        services.loan_end(loan=loan, by=coordo_78)
    loan.refresh_from_db()
    kit.refresh_from_db()
    assert (loan.status, loan.ends_on, loan.ended_at) == (
        Loan.Status.ENDED,
        date(2026, 12, 18),
        at(25, 16),
    )
    assert kit.status == Kit.Status.RETURNING
    with time_machine.travel(at(28, 11), tick=False):
        services.loan_return(loan=loan, by=fleet_person)
    loan.refresh_from_db()
    kit.refresh_from_db()
    assert (loan.status, loan.returned_at, kit.status) == (
        Loan.Status.RETURNED,
        at(28, 11),
        Kit.Status.IN_STOCK,
    )

    K = LoanEvent.Kind
    assert list(loan.events.values_list("kind", "at", "by__username")) == [
        (K.REQUESTED, at(10, 9), "coordo.78"),
        (K.ASSIGNED, at(10, 14), "equipe.parc"),
        (K.SHIPPED, at(11, 8), "equipe.parc"),
        (K.CLASS_INSTALLED, at(12, 10), "prof.5e"),
        (K.PUPIL_INSTALLED, at(12, 17), "coordo.78"),
        (K.EXTENDED, at(20, 9), "coordo.78"),
        (K.ENDED, at(25, 16), "coordo.78"),
        (K.RETURNED, at(28, 11), "equipe.parc"),
    ]
    assert loan.events.get(kind=K.EXTENDED).detail == "2026-11-13 → 2026-12-18"
    assert loan.events.get(kind=K.ASSIGNED).detail == "CC-G3-0001"
    S = Kit.Status
    assert kit_trail(kit) == [
        ("", S.IN_STOCK),
        (S.IN_STOCK, S.RESERVED),
        (S.RESERVED, S.SHIPPED),
        (S.SHIPPED, S.INSTALLED),
        (S.INSTALLED, S.ON_LOAN),
        (S.ON_LOAN, S.RETURNING),
        (S.RETURNING, S.IN_STOCK),
    ]
    changes = kit.status_changes.exclude(to_status=S.IN_STOCK, from_status="")
    assert {change.by.username for change in changes} == {"equipe.parc", "prof.5e", "coordo.78"}


def test_the_pupil_side_may_be_confirmed_first(versailles_pupil, fleet_person):
    kit = make_kit("CC-G3-0002")
    loan = request_for(versailles_pupil)
    services.loan_assign(loan=loan, kit=kit)
    services.loan_ship(loan=loan)
    services.loan_confirm_installation(loan=loan, side=PUPIL_SIDE, by=fleet_person)
    loan.refresh_from_db()
    assert loan.status == Loan.Status.SHIPPED and loan.class_installed_at is None
    services.loan_confirm_installation(loan=loan, side=CLASS_SIDE, by=fleet_person)
    loan.refresh_from_db()
    kit.refresh_from_db()
    assert (loan.status, kit.status) == (Loan.Status.ACTIVE, Kit.Status.ON_LOAN)


# Requests -----------------------------------------------------------------------------------


def test_a_request_ending_before_it_starts_is_refused_and_nothing_is_written(versailles_pupil):
    with pytest.raises(FleetError, match="La fin prévue doit suivre le début"):
        services.loan_request(
            pupil=versailles_pupil,
            starts_on=date(2026, 9, 14),
            ends_on=date(2026, 9, 13),
            place_kind=Loan.PlaceKind.HOME,
        )
    assert not Loan.objects.exists() and not LoanEvent.objects.exists()


def test_a_second_open_request_for_the_same_pupil_is_refused(versailles_pupil):
    first = request_for(versailles_pupil)
    with pytest.raises(FleetError, match="déjà demandée ou en cours pour cet élève"):
        request_for(versailles_pupil)
    assert list(Loan.objects.values_list("pk", flat=True)) == [first.pk]
    services.loan_cancel(loan=first)
    assert request_for(versailles_pupil).status == Loan.Status.REQUESTED  # once cancelled


# Steps out of order ---------------------------------------------------------------------------


def _snapshot(loan: Loan) -> tuple:
    loan = Loan.objects.get(pk=loan.pk)
    kit_status = loan.kit.status if loan.kit_id else None
    return (
        loan.status,
        loan.kit_id,
        kit_status,
        LoanEvent.objects.count(),
        KitStatusChange.objects.count(),
    )


def _at_step(pupil: Pupil, kit: Kit, status: str) -> Loan:
    """A loan of ``pupil`` brought through the services to ``status``."""
    loan = request_for(pupil)
    path = {
        Loan.Status.REQUESTED: [],
        Loan.Status.ASSIGNED: ["assign"],
        Loan.Status.SHIPPED: ["assign", "ship"],
        Loan.Status.ACTIVE: ["assign", "ship", "class", "pupil"],
        Loan.Status.ENDED: ["assign", "ship", "class", "pupil", "end"],
        Loan.Status.RETURNED: ["assign", "ship", "class", "pupil", "end", "return"],
        Loan.Status.CANCELLED: ["cancel"],
    }[status]
    for step in path:
        {
            "assign": lambda: services.loan_assign(loan=loan, kit=kit),
            "ship": lambda: services.loan_ship(loan=loan),
            "class": lambda: services.loan_confirm_installation(loan=loan, side=CLASS_SIDE),
            "pupil": lambda: services.loan_confirm_installation(loan=loan, side=PUPIL_SIDE),
            "end": lambda: services.loan_end(loan=loan),
            "return": lambda: services.loan_return(loan=loan),
            "cancel": lambda: services.loan_cancel(loan=loan),
        }[step]()
    loan.refresh_from_db()
    assert loan.status == status
    return loan


STEPS = {
    "assign": lambda loan, kit: services.loan_assign(loan=loan, kit=kit),
    "ship": lambda loan, kit: services.loan_ship(loan=loan),
    "install_class": lambda loan, kit: services.loan_confirm_installation(
        loan=loan, side=CLASS_SIDE
    ),
    "install_pupil": lambda loan, kit: services.loan_confirm_installation(
        loan=loan, side=PUPIL_SIDE
    ),
    "extend": lambda loan, kit: services.loan_extend(loan=loan, ends_on=date(2027, 6, 30)),
    "end": lambda loan, kit: services.loan_end(loan=loan),
    "cancel": lambda loan, kit: services.loan_cancel(loan=loan),
    "return": lambda loan, kit: services.loan_return(loan=loan),
}
S = Loan.Status
# Each step and the steps at which it is refused.
OUT_OF_ORDER = [
    ("ship", S.REQUESTED),
    ("ship", S.SHIPPED),
    ("ship", S.CANCELLED),
    ("install_class", S.REQUESTED),
    ("install_class", S.ASSIGNED),
    ("install_pupil", S.ASSIGNED),
    ("install_class", S.ENDED),
    ("install_pupil", S.RETURNED),
    ("extend", S.ENDED),
    ("extend", S.CANCELLED),
    ("end", S.REQUESTED),
    ("end", S.ASSIGNED),
    ("end", S.ENDED),
    ("cancel", S.SHIPPED),
    ("cancel", S.ACTIVE),
    ("cancel", S.RETURNED),
    ("return", S.ACTIVE),
    ("return", S.SHIPPED),
    ("return", S.RETURNED),
]


@pytest.mark.parametrize(("step", "status"), OUT_OF_ORDER)
def test_a_step_out_of_order_is_refused_in_french_and_writes_nothing(
    versailles_pupil, step, status
):
    kit = make_kit("CC-G3-0003")
    loan = _at_step(versailles_pupil, kit, status)
    other_kit = make_kit("CC-G3-0004")
    before = _snapshot(loan)
    with pytest.raises(FleetError, match=f"étape « {Loan.Status(status).label} »"):
        STEPS[step](loan, other_kit)
    assert _snapshot(loan) == before


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("step", list(LoanStep))
def test_every_step_is_taken_exactly_where_the_life_cycle_table_allows_it(
    versailles_pupil, step, status
):
    """The services and ``loan_may`` (which pages and templates ask) agree with
    ``LOAN_STEPS`` for every step from every status."""
    kit = make_kit("CC-G3-0005")
    loan = _at_step(versailles_pupil, kit, status)
    other_kit = make_kit("CC-G3-0006")
    allowed = status in LOAN_STEPS[step] and loan_may(loan, step)
    if allowed:
        events = LoanEvent.objects.filter(loan=loan).count()
        STEPS[step](loan, other_kit)
        assert LoanEvent.objects.filter(loan=loan).count() == events + 1  # the step, dated
    else:
        before = _snapshot(loan)
        with pytest.raises(FleetError):
            STEPS[step](loan, other_kit)
        assert _snapshot(loan) == before


def test_assigning_a_second_kit_to_an_assigned_loan_is_refused(versailles_pupil):
    kit, other = make_kit("CC-G3-0005"), make_kit("CC-G3-0006")
    loan = _at_step(versailles_pupil, kit, S.ASSIGNED)
    with pytest.raises(FleetError, match="cette action n'est plus possible"):
        services.loan_assign(loan=loan, kit=other)
    other.refresh_from_db()
    assert other.status == Kit.Status.IN_STOCK


def test_an_installation_is_confirmed_once(versailles_pupil):
    loan = _at_step(versailles_pupil, make_kit("CC-G3-0007"), S.SHIPPED)
    services.loan_confirm_installation(loan=loan, side=CLASS_SIDE)
    before = _snapshot(loan)
    with pytest.raises(FleetError, match="déjà confirmée"):
        services.loan_confirm_installation(loan=loan, side=CLASS_SIDE)
    assert _snapshot(loan) == before


def test_a_kit_not_in_stock_cannot_be_assigned(versailles_pupil):
    kit = make_kit("CC-G3-0008")
    services.kit_set_status(kit=kit, to=Kit.Status.IN_REPAIR)
    loan = request_for(versailles_pupil)
    with pytest.raises(FleetError, match="n'est pas en stock"):
        services.loan_assign(loan=loan, kit=kit)
    loan.refresh_from_db()
    assert (loan.status, loan.kit_id) == (S.REQUESTED, None)


# No kit on two loans at once ------------------------------------------------------------------


@pytest.fixture
def two_requests(academies):
    return request_for(make_pupil("78", "Inès")), request_for(make_pupil("78", "Noé"))


def _no_half_write(loser: Loan, kit: Kit) -> None:
    loser.refresh_from_db()
    kit.refresh_from_db()
    assert (loser.status, loser.kit_id, loser.assigned_at) == (S.REQUESTED, None, None)
    assert not loser.events.filter(kind=LoanEvent.Kind.ASSIGNED).exists()
    assert kit.status == Kit.Status.RESERVED
    assert kit.status_changes.filter(to_status=Kit.Status.RESERVED).count() == 1
    assert Loan.objects.holding_kit().filter(kit=kit).count() == 1


def test_a_kit_on_a_loan_cannot_go_to_another(two_requests):
    first, second = two_requests
    kit = make_kit("CC-G3-0010")
    services.loan_assign(loan=first, kit=kit)
    with pytest.raises(FleetError, match="n'est pas en stock"):
        services.loan_assign(loan=second, kit=kit)
    _no_half_write(second, kit)


def test_the_database_refuses_a_second_loan_holding_the_same_kit(two_requests):
    first, second = two_requests
    kit = make_kit("CC-G3-0011")
    services.loan_assign(loan=first, kit=kit)
    with pytest.raises(IntegrityError), transaction.atomic():
        Loan.objects.filter(pk=second.pk).update(kit=kit, status=S.ASSIGNED)


def test_without_row_locks_the_database_still_lets_only_one_assignment_through(
    two_requests, monkeypatch
):
    # As if the second assignment had read the kit (in stock, free) before the first wrote,
    # on a database without row locks: its checks pass, and the database's constraint
    # refuses it, with the French message and nothing half written.
    first, second = two_requests
    kit = make_kit("CC-G3-0012")
    stale = Kit.objects.get(pk=kit.pk)
    services.loan_assign(loan=first, kit=kit)
    real_lock = services._lock
    monkeypatch.setattr(
        services, "_lock", lambda model, pk: stale if model is Kit else real_lock(model, pk)
    )
    monkeypatch.setattr(LoanQuerySet, "holding_kit", lambda self: self.none())
    with pytest.raises(FleetError, match="déjà attribué à une autre mise à disposition"):
        services.loan_assign(loan=second, kit=kit)
    monkeypatch.undo()
    _no_half_write(second, kit)


@pytest.mark.django_db(transaction=True)
def test_two_people_assigning_the_same_kit_at_once_one_wins():
    academies_load()
    first, second = request_for(make_pupil("78", "Inès")), request_for(make_pupil("78", "Noé"))
    kit = make_kit("CC-G3-0013")
    barrier = threading.Barrier(2)
    outcomes: dict[int, object] = {}

    def assign(loan):
        try:
            barrier.wait(timeout=10)
            services.loan_assign(loan=loan, kit=kit)
            outcomes[loan.pk] = "won"
        except FleetError as exc:
            outcomes[loan.pk] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=assign, args=(loan,)) for loan in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    close_old_connections()
    assert sorted(str(type(o).__name__) for o in outcomes.values()) == ["FleetError", "str"]
    winner = next(pk for pk, o in outcomes.items() if o == "won")
    loser = second if winner == first.pk else first
    assert Loan.objects.get(pk=winner).kit_id == kit.pk
    _no_half_write(loser, kit)


# The V5 pilot ---------------------------------------------------------------------------------


def test_a_v5_kit_goes_to_a_school_of_versailles(versailles_pupil):
    kit = make_kit("CC-V5-0001", Kit.Generation.V5)
    loan = request_for(versailles_pupil)
    assert services.pilot_allows(kit, loan)
    services.loan_assign(loan=loan, kit=kit)
    loan.refresh_from_db()
    assert loan.kit == kit


def test_a_v5_kit_is_refused_to_a_school_of_another_academie(paris_pupil):
    kit = make_kit("CC-V5-0002", Kit.Generation.V5)
    loan = request_for(paris_pupil)
    assert not services.pilot_allows(kit, loan)
    with pytest.raises(FleetError, match="pilote V5"):
        services.loan_assign(loan=loan, kit=kit)
    loan.refresh_from_db()
    kit.refresh_from_db()
    assert (loan.status, loan.kit_id, kit.status) == (S.REQUESTED, None, Kit.Status.IN_STOCK)


def test_a_third_generation_kit_goes_anywhere(paris_pupil, versailles_pupil):
    for pupil, code in ((paris_pupil, "CC-G3-0020"), (versailles_pupil, "CC-G3-0021")):
        loan = request_for(pupil)
        services.loan_assign(loan=loan, kit=make_kit(code))
        loan.refresh_from_db()
        assert loan.status == S.ASSIGNED


def test_the_pilot_is_a_setting(paris_pupil, settings):
    settings.FLEET = {**settings.FLEET, "V5_PILOT_ACADEMIES": ["01"]}
    loan = request_for(paris_pupil)
    services.loan_assign(loan=loan, kit=make_kit("CC-V5-0003", Kit.Generation.V5))
    loan.refresh_from_db()
    assert loan.status == S.ASSIGNED


# Extend, cancel, return -----------------------------------------------------------------------


def test_a_loan_is_extended_only_to_a_later_date(versailles_pupil, coordo_78):
    loan = _at_step(versailles_pupil, make_kit("CC-G3-0030"), S.ACTIVE)
    before = _snapshot(loan)
    for earlier in (loan.ends_on, loan.ends_on - timedelta(days=1)):
        with pytest.raises(FleetError, match="après la fin prévue actuelle"):
            services.loan_extend(loan=loan, ends_on=earlier, by=coordo_78)
    assert _snapshot(loan) == before
    services.loan_extend(loan=loan, ends_on=loan.ends_on + timedelta(days=1), by=coordo_78)
    event = loan.events.get(kind=LoanEvent.Kind.EXTENDED)
    assert event.by == coordo_78


def test_cancelling_an_assigned_loan_returns_the_reserved_kit_to_stock(versailles_pupil, coordo_78):
    kit = make_kit("CC-G3-0031")
    loan = _at_step(versailles_pupil, kit, S.ASSIGNED)
    services.loan_cancel(loan=loan, by=coordo_78)
    loan.refresh_from_db()
    kit.refresh_from_db()
    assert (loan.status, kit.status) == (S.CANCELLED, Kit.Status.IN_STOCK)
    assert loan.ended_at is not None
    assert kit_trail(kit)[-1] == (Kit.Status.RESERVED, Kit.Status.IN_STOCK)
    assert loan.events.last().kind == LoanEvent.Kind.CANCELLED
    assert loan.events.last().by == coordo_78
    # The kit may go to someone else now.
    other = request_for(make_pupil("78", "Lou"))
    services.loan_assign(loan=other, kit=kit)


def test_cancelling_a_request_without_kit(versailles_pupil):
    loan = request_for(versailles_pupil)
    services.loan_cancel(loan=loan)
    loan.refresh_from_db()
    assert (loan.status, loan.kit_id) == (S.CANCELLED, None)


@pytest.mark.parametrize(
    ("needs_repair", "lands_in"), [(True, Kit.Status.IN_REPAIR), (False, Kit.Status.IN_STOCK)]
)
def test_a_returned_kit_goes_to_repair_or_to_stock(
    versailles_pupil, fleet_person, needs_repair, lands_in
):
    kit = make_kit("CC-G3-0032")
    loan = _at_step(versailles_pupil, kit, S.ENDED)
    services.loan_return(loan=loan, by=fleet_person, needs_repair=needs_repair)
    loan.refresh_from_db()
    kit.refresh_from_db()
    assert (loan.status, kit.status) == (S.RETURNED, lands_in)
    assert kit_trail(kit)[-1] == (Kit.Status.RETURNING, lands_in)
    event = loan.events.last()
    assert (event.kind, event.by) == (LoanEvent.Kind.RETURNED, fleet_person)
    assert event.detail == ("à réparer" if needs_repair else "")
