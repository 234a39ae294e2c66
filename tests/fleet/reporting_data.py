"""Builders for the reporting tests (overview, kit page, registers): loans in chosen
départements, live sessions with the pupil's presences, devices that last beat at a
given time, and the Toussaint holidays of zone C. Used by the server-side and browser
tests alike."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from cartable.fleet.models import Device, Kit, KitStatusChange, Loan, LoanEvent
from cartable.live.models import Attendance, LiveSession
from cartable.organisation.models import (
    Department,
    Pupil,
    RoleGrant,
    School,
    SchoolClass,
    SchoolHoliday,
)
from cartable.organisation.services import academies_load
from cartable.organisation.validators import uai_check_letter

PARIS = ZoneInfo("Europe/Paris")
_counter = iter(range(1, 100_000))


def at(year, month, day, hour=0, minute=0) -> datetime:
    """An aware datetime, Paris time."""
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def school_in(department_code: str, *, name: str | None = None) -> School:
    n = next(_counter)
    digits = f"{770_0000 + n:07d}"
    academies_load()
    return School.objects.create(
        uai=digits + uai_check_letter(digits),
        name=name or f"Collège n°{n} du rapport",
        kind=School.Kind.COLLEGE,
        commune=f"Commune {n}",
        department=Department.objects.get(code=department_code),
    )


def running_loan(
    department_code: str,
    kit_code: str,
    *,
    starts_on: date,
    ends_on: date | None = None,
    generation: str = Kit.Generation.G3,
    pupil_name: str = "Prénom",
    pupil_department: str | None = None,
    place_kind: str = Loan.PlaceKind.HOSPITAL,
    status: str = Loan.Status.ACTIVE,
    school: School | None = None,
    requested_at: datetime | None = None,
) -> Loan:
    """A loan of a new kit (on loan) for a new pupil in a class of a school of the
    département, with its steps dated."""
    school = school or school_in(department_code)
    klass = SchoolClass.objects.create(
        school=school,
        name=f"4e {next(_counter)}",
        level=SchoolClass.Level.QUATRIEME,
        school_year="2026-2027",
    )
    pupil = Pupil.objects.create(display_name=pupil_name, school_class=klass)
    kit = Kit.objects.create(
        code=kit_code,
        generation=generation,
        status=Kit.Status.ON_LOAN if status == Loan.Status.ACTIVE else Kit.Status.SHIPPED,
        status_changed_at=at(starts_on.year, starts_on.month, starts_on.day, 9),
    )
    requested_at = requested_at or at(
        starts_on.year, starts_on.month, starts_on.day, 8
    ) - timedelta(days=7)
    loan = Loan.objects.create(
        kit=kit,
        pupil=pupil,
        school_class=klass,
        starts_on=starts_on,
        ends_on=ends_on or starts_on + timedelta(days=120),
        place_kind=place_kind,
        pupil_department=Department.objects.get(code=pupil_department or department_code),
        status=status,
        created_at=requested_at,
        assigned_at=requested_at + timedelta(days=1),
        shipped_at=requested_at + timedelta(days=2),
        class_installed_at=(requested_at + timedelta(days=3))
        if status == Loan.Status.ACTIVE
        else None,
        pupil_installed_at=(requested_at + timedelta(days=4))
        if status == Loan.Status.ACTIVE
        else None,
    )
    LoanEvent.objects.create(loan=loan, kind=LoanEvent.Kind.REQUESTED, at=requested_at)
    LoanEvent.objects.create(loan=loan, kind=LoanEvent.Kind.SHIPPED, at=loan.shipped_at)
    KitStatusChange.objects.create(
        kit=kit, from_status="", to_status=Kit.Status.IN_STOCK, at=requested_at, note="Entrée"
    )
    return loan


def lesson(
    loan: Loan,
    start: datetime,
    minutes: int,
    *,
    pupil: list[tuple[int, int | None]] | None = None,
    ended: bool = True,
    seen: int | None = None,
) -> LiveSession:
    """A live session of ``minutes`` from ``start``; the class attends it all; the pupil's
    presences are (minutes after the start they joined, minutes they stayed or None for a
    presence never closed, whose last sign of life is ``seen`` minutes after the start)."""
    session = LiveSession.objects.create(
        loan=loan,
        started_at=start,
        ended_at=start + timedelta(minutes=minutes) if ended else None,
        end_reason=LiveSession.EndReason.ENDED_BY_CLASS if ended else "",
    )
    Attendance.objects.create(
        session=session,
        side=Attendance.Side.CLASS,
        joined_at=start,
        left_at=start + timedelta(minutes=minutes) if ended else None,
    )
    for offset, stayed in pupil if pupil is not None else [(0, minutes)]:
        joined = start + timedelta(minutes=offset)
        Attendance.objects.create(
            session=session,
            side=Attendance.Side.PUPIL,
            joined_at=joined,
            left_at=joined + timedelta(minutes=stayed) if stayed is not None else None,
            last_seen_at=(
                start + timedelta(minutes=seen) if stayed is None and seen is not None else None
            ),
        )
    return session


def device(kit: Kit, kind: str, last_seen_at: datetime | None) -> Device:
    return Device.objects.create(
        kit=kit,
        kind=kind,
        serial=f"SN-{kit.code}-{kind}-{next(_counter)}",
        last_seen_at=last_seen_at,
        last_network=Device.Network.WIFI if last_seen_at else "",
    )


def toussaint_zone_c() -> SchoolHoliday:
    """Toussaint 2026, zone C: last class on Saturday 17 October, back on Monday 2 November
    (as the national calendar writes it)."""
    return SchoolHoliday.objects.create(
        zone="C",
        description="Vacances de la Toussaint",
        school_year="2026-2027",
        first_day=date(2026, 10, 18),
        resumes_on=date(2026, 11, 2),
    )


def person(username: str, role: str, **scope):
    from ..conftest import make_person

    return make_person(username, {"role": role, **scope})


def dane_of(academy_name: str, username: str = "dane.rapport"):
    from cartable.organisation.models import Academy

    academies_load()
    return person(username, RoleGrant.Role.ACADEMY, academy=Academy.objects.get(name=academy_name))


def coordinator_of(department_code: str, username: str = "coordo.rapport"):
    academies_load()
    return person(
        username,
        RoleGrant.Role.DEPARTMENT,
        department=Department.objects.get(code=department_code),
    )
