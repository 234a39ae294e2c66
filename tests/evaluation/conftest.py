"""Shared fixtures of the evaluation tests: ``review_data``, a small fixed data set whose
every indicator was computed by hand (below, and in test_indicators.py), and the people
who look at it.

The period is the school year 2025-2026 (1 Sept. 2025 – 31 Aug. 2026), Paris time.

Places: académie de Versailles (25) with the Yvelines (78) and the Essonne (91); académie
de Nice (23) with the Alpes-Maritimes (06).

Schools and classes (school year 2025-2026 unless said):
- ``s1`` école élémentaire (78): ``c1`` CM1, ``c5`` GS; ``c0`` CM1 of 2024-2025;
- ``s2`` collège (91): ``c2`` 4e;
- ``s3`` lycée professionnel (06, Nice): ``c3`` CAP1;
- ``s4`` lycée agricole (78): ``c4`` 1re_agri.

Kits, now: K1 G3 in stock (lent twice, back), K2 G3 on loan, K3 V5 returning, K4 G3 in
stock, K5 G3 reserved, K6 G3 in stock, K7 G3 retired.

Loans (created 10:00 Paris time on the day given):
==== ===== ===== ======= ============== ============ ========================= =========
loan kit   class pupil   place          created      lent (starts_on → end)    status
==== ===== ===== ======= ============== ============ ========================= =========
L0   K6    c0    P0      home           2024-10-01   2024-10-07 → 2024-12-20   returned
L1   K1    c1    P1      home           2025-09-01   2025-09-08 → 2025-10-05  returned
L7   K1    c1    P1      home           2026-01-05   2026-01-12 → 2026-02-08  returned
L2   K2    c2    P2      hospital       2026-07-20   2026-08-03 → (running)   active
L3   K3    c3    P3      hosp. school   2025-09-15   2025-09-22 → 2025-10-19  ended
L4   K4    c4    P4      home           2026-02-23   2026-03-02 → 2026-03-29  returned
L5   K5    c5    P5      home           2026-08-20   2026-09-07 (assigned)    assigned
L6   —     c2    P6      home           2025-12-01   —                        cancelled
L8   —     c5    P7      home           2026-08-25   —                        requested
==== ===== ===== ======= ============== ============ ========================= =========

Lessons (Paris time; pupil presence; pupil-side quality good/degraded/poor/relayed of
samples):
- L0: 2024-10-10 10:00–10:45 (out of the period).
- L1: 2025-09-08 10:00–10:50, pupil 10:02–10:47, 8/2/0/0 of 10 (good);
  2025-09-15 10:00–11:00, pupil 10:00–10:30, 3/5/2/10 of 10 (degraded, relayed);
  2025-09-22 14:00–14:40, pupil 14:00–14:40, no quality row.
- L7: 2026-01-15 09:00–09:45, pupil 09:00–09:45, 2/2/2/0 of 6 (a tie: poor); its class side
  6/0/0/0 of 6 (ignored: the pupil's side decides).
- L2: 2026-08-04 10:00–10:30, pupil 10:00–10:30, 5/0/5/6 of 10 (tie: poor; relayed);
  2026-08-05 10:00–10:55, pupil 10:00–10:20 and 10:25–10:55, 9/1/0/0 of 10 (good);
  2026-09-02 10:00–10:30 (after the period).
- L3: 2025-09-29 13:00–14:00, pupil 13:10–14:00, a quality row of 0 samples.
- L4: 2026-03-10 09:00–09:20, pupil 09:00–09:20, 4/0/0/0 of 4 (good).

K2's two devices last beat 3 days ago (offline); K1's beat a minute ago (not on loan).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from cartable.evaluation.scope import school_year
from cartable.fleet.models import Device, Kit, Loan
from cartable.live.models import Attendance, LiveSession, SessionQuality
from cartable.organisation.models import (
    Academy,
    Department,
    Pupil,
    RoleGrant,
    School,
    SchoolClass,
)
from cartable.organisation.services import academies_load
from cartable.organisation.validators import uai_check_letter
from tests.conftest import force_login, make_person

PARIS = ZoneInfo("Europe/Paris")
YEAR = "2025-2026"


def at(year, month, day, hour=0, minute=0) -> datetime:
    """An aware datetime, Paris time."""
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def _school(n: int, department: Department, kind: str, name: str) -> School:
    digits = f"{660_0000 + n:07d}"
    return School.objects.create(
        uai=digits + uai_check_letter(digits),
        name=name,
        kind=kind,
        commune=f"Commune {n}",
        department=department,
    )


def _lesson(loan: Loan, start: datetime, minutes: int, pupil=(), quality=None, class_q=None):
    """A finished lesson with the class's presence, the pupil's presences (start, end)
    and the pupil side's quality (good, degraded, poor, relayed, samples)."""
    session = LiveSession.objects.create(
        loan=loan,
        started_at=start,
        ended_at=start + timedelta(minutes=minutes),
        end_reason=LiveSession.EndReason.ENDED_BY_CLASS,
    )
    Attendance.objects.create(
        session=session,
        side=Attendance.Side.CLASS,
        joined_at=session.started_at,
        left_at=session.ended_at,
    )
    for joined, left in pupil:
        Attendance.objects.create(
            session=session, side=Attendance.Side.PUPIL, joined_at=joined, left_at=left
        )
    for side, values in ((Attendance.Side.PUPIL, quality), (Attendance.Side.CLASS, class_q)):
        if values is not None:
            good, degraded, poor, relayed, samples = values
            SessionQuality.objects.create(
                session=session,
                side=side,
                samples=samples,
                good=good,
                degraded=degraded,
                poor=poor,
                relayed=relayed,
            )
    return session


def build_review_data() -> SimpleNamespace:
    """Write the data set described in this module's docstring; return its objects."""
    academies_load()
    dep = {code: Department.objects.get(code=code) for code in ("78", "91", "06")}
    versailles = Academy.objects.get(code="25")
    nice = Academy.objects.get(code="23")
    K = School.Kind
    s1 = _school(1, dep["78"], K.ELEMENTAIRE, "École élémentaire du bilan")
    s2 = _school(2, dep["91"], K.COLLEGE, "Collège du bilan")
    s3 = _school(3, dep["06"], K.LYCEE_PRO, "Lycée professionnel du bilan")
    s4 = _school(4, dep["78"], K.LYCEE_AGRICOLE, "Lycée agricole du bilan")
    L = SchoolClass.Level

    def klass(school, name, level, year=YEAR):
        return SchoolClass.objects.create(school=school, name=name, level=level, school_year=year)

    c0 = klass(s1, "CM1 A", L.CM1, "2024-2025")
    c1 = klass(s1, "CM1 A", L.CM1)
    c2 = klass(s2, "4e B", L.QUATRIEME)
    c3 = klass(s3, "CAP 1 C", L.CAP1)
    c4 = klass(s4, "1re agri D", L.PREMIERE_AGRI)
    c5 = klass(s1, "GS E", L.GS)
    pupils = {
        name: Pupil.objects.create(display_name=f"Prénom {name}", school_class=c)
        for name, c in (
            ("P0", c0),
            ("P1", c1),
            ("P2", c2),
            ("P3", c3),
            ("P4", c4),
            ("P5", c5),
            ("P6", c2),
            ("P7", c5),
        )
    }
    G, S = Kit.Generation, Kit.Status
    kits = {
        code: Kit.objects.create(code=code, generation=generation, status=status)
        for code, generation, status in (
            ("K1", G.G3, S.IN_STOCK),
            ("K2", G.G3, S.ON_LOAN),
            ("K3", G.V5, S.RETURNING),
            ("K4", G.G3, S.IN_STOCK),
            ("K5", G.G3, S.RESERVED),
            ("K6", G.G3, S.IN_STOCK),
            ("K7", G.G3, S.RETIRED),
        )
    }
    P, St = Loan.PlaceKind, Loan.Status

    def loan(kit, school_class, pupil, place, created: date, status, start=None, end=None, **kw):
        created_at = at(created.year, created.month, created.day, 10)
        start = start or created + timedelta(days=7)
        return Loan.objects.create(
            kit=kits[kit] if kit else None,
            school_class=school_class,
            pupil=pupils[pupil],
            place_kind=place,
            status=status,
            created_at=created_at,
            starts_on=start,
            ends_on=end or start + timedelta(days=60),
            pupil_department=school_class.school.department,
            **kw,
        )

    def lent(start: date, end: date | None, *, returned: bool = True, ended: bool = True) -> dict:
        """The step dates of a loan installed on its first day (class at 9:00, pupil at
        14:00) and, if ``ended``, ended on ``end`` at 16:00."""
        steps = {
            "assigned_at": at(start.year, start.month, start.day, 8) - timedelta(days=5),
            "shipped_at": at(start.year, start.month, start.day, 8) - timedelta(days=3),
            "class_installed_at": at(start.year, start.month, start.day, 9),
            "pupil_installed_at": at(start.year, start.month, start.day, 14),
        }
        if ended:
            steps["ended_at"] = at(end.year, end.month, end.day, 16)
        if returned:
            steps["returned_at"] = at(end.year, end.month, end.day, 16) + timedelta(days=2)
        return steps

    today = timezone.localdate()
    loans = {
        "L0": loan(
            "K6", c0, "P0", P.HOME, date(2024, 10, 1), St.RETURNED, date(2024, 10, 7),
            date(2024, 12, 20), **lent(date(2024, 10, 7), date(2024, 12, 20)),
        ),
        "L1": loan(
            "K1", c1, "P1", P.HOME, date(2025, 9, 1), St.RETURNED, date(2025, 9, 8),
            date(2025, 10, 5), **lent(date(2025, 9, 8), date(2025, 10, 5)),
        ),
        "L7": loan(
            "K1", c1, "P1", P.HOME, date(2026, 1, 5), St.RETURNED, date(2026, 1, 12),
            date(2026, 2, 8), **lent(date(2026, 1, 12), date(2026, 2, 8)),
        ),
        "L2": loan(
            "K2", c2, "P2", P.HOSPITAL, date(2026, 7, 20), St.ACTIVE, date(2026, 8, 3),
            max(date(2027, 7, 2), today + timedelta(days=90)),
            **lent(date(2026, 8, 3), None, returned=False, ended=False),
        ),
        "L3": loan(
            "K3", c3, "P3", P.HOSPITAL_SCHOOL, date(2025, 9, 15), St.ENDED, date(2025, 9, 22),
            date(2025, 11, 2), **lent(date(2025, 9, 22), date(2025, 10, 19), returned=False),
        ),
        "L4": loan(
            "K4", c4, "P4", P.HOME, date(2026, 2, 23), St.RETURNED, date(2026, 3, 2),
            date(2026, 3, 29), **lent(date(2026, 3, 2), date(2026, 3, 29)),
        ),
        "L5": loan(
            "K5", c5, "P5", P.HOME, date(2026, 8, 20), St.ASSIGNED, date(2026, 9, 7),
            date(2026, 12, 18), assigned_at=at(2026, 8, 21, 9),
        ),
        "L6": loan(None, c2, "P6", P.HOME, date(2025, 12, 1), St.CANCELLED),
        "L8": loan(None, c5, "P7", P.HOME, date(2026, 8, 25), St.REQUESTED),
    }  # fmt: skip
    lo = loans
    _lesson(lo["L0"], at(2024, 10, 10, 10), 45, [(at(2024, 10, 10, 10), at(2024, 10, 10, 10, 45))])
    _lesson(
        lo["L1"],
        at(2025, 9, 8, 10),
        50,
        [(at(2025, 9, 8, 10, 2), at(2025, 9, 8, 10, 47))],
        (8, 2, 0, 0, 10),
    )
    _lesson(
        lo["L1"],
        at(2025, 9, 15, 10),
        60,
        [(at(2025, 9, 15, 10), at(2025, 9, 15, 10, 30))],
        (3, 5, 2, 10, 10),
    )
    _lesson(lo["L1"], at(2025, 9, 22, 14), 40, [(at(2025, 9, 22, 14), at(2025, 9, 22, 14, 40))])
    _lesson(
        lo["L7"],
        at(2026, 1, 15, 9),
        45,
        [(at(2026, 1, 15, 9), at(2026, 1, 15, 9, 45))],
        (2, 2, 2, 0, 6),
        class_q=(6, 0, 0, 0, 6),
    )
    _lesson(
        lo["L2"],
        at(2026, 8, 4, 10),
        30,
        [(at(2026, 8, 4, 10), at(2026, 8, 4, 10, 30))],
        (5, 0, 5, 6, 10),
    )
    _lesson(
        lo["L2"],
        at(2026, 8, 5, 10),
        55,
        [
            (at(2026, 8, 5, 10), at(2026, 8, 5, 10, 20)),
            (at(2026, 8, 5, 10, 25), at(2026, 8, 5, 10, 55)),
        ],
        (9, 1, 0, 0, 10),
    )
    _lesson(lo["L2"], at(2026, 9, 2, 10), 30, [(at(2026, 9, 2, 10), at(2026, 9, 2, 10, 30))])
    _lesson(
        lo["L3"],
        at(2025, 9, 29, 13),
        60,
        [(at(2025, 9, 29, 13, 10), at(2025, 9, 29, 14))],
        (0, 0, 0, 0, 0),
    )
    _lesson(
        lo["L4"],
        at(2026, 3, 10, 9),
        20,
        [(at(2026, 3, 10, 9), at(2026, 3, 10, 9, 20))],
        (4, 0, 0, 0, 4),
    )
    now = timezone.now()
    for kit, seen in (("K2", now - timedelta(days=3)), ("K1", now - timedelta(minutes=1))):
        for kind in (Device.Kind.CLASS_BOX, Device.Kind.PUPIL_TABLET):
            Device.objects.create(
                kit=kits[kit], kind=kind, serial=f"{kit}-{kind}", last_seen_at=seen
            )
    return SimpleNamespace(
        year=YEAR,
        period=school_year(2025),
        versailles=versailles,
        nice=nice,
        yvelines=dep["78"],
        essonne=dep["91"],
        alpes_maritimes=dep["06"],
        schools=(s1, s2, s3, s4),
        kits=kits,
        loans=loans,
        pupils=pupils,
    )


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def review_data(db) -> SimpleNamespace:
    """The fixed data set of this module's docstring."""
    return build_review_data()


@pytest.fixture
def review_people(review_data) -> SimpleNamespace:
    """People around ``review_data``: the ministry, the DANE of Versailles and of Nice, the
    coordinator of the Yvelines, a teacher of c1, the fleet team, someone with no role."""
    data = review_data
    teacher_class = data.loans["L1"].school_class
    return SimpleNamespace(
        ministry=make_person("eval.ministere", {"role": RoleGrant.Role.NATIONAL}),
        dane_versailles=make_person(
            "eval.dane.versailles", {"role": RoleGrant.Role.ACADEMY, "academy": data.versailles}
        ),
        dane_nice=make_person(
            "eval.dane.nice", {"role": RoleGrant.Role.ACADEMY, "academy": data.nice}
        ),
        coordinator_78=make_person(
            "eval.coordo.78", {"role": RoleGrant.Role.DEPARTMENT, "department": data.yvelines}
        ),
        teacher=make_person(
            "eval.prof", {"role": RoleGrant.Role.TEACHER, "school_class": teacher_class}
        ),
        fleet=make_person("eval.parc", {"role": RoleGrant.Role.FLEET}),
        outsider=make_person("eval.intrus"),
    )


@pytest.fixture
def signed_in(client):
    """``signed_in(user)``: the test client, signed in as ``user`` (second factor done)."""

    def sign(user):
        return force_login(client, user)

    return sign
