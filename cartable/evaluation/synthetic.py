"""A synthetic school year, for the tests at small scale and the benchmark at full scale.

``generate_year`` writes, for the school year starting in September of ``year``, in bulk
(``bulk_create`` for the thousands, PostgreSQL's COPY / SQLite's executemany through
``cartable.fleet.synthetic._insert_raw`` for the hundreds of thousands):

- schools spread over every département (of every kind, classes of every level, so every
  level group and kind of place shows), one class and one pupil (« Élève 123 ») per loan;
- ``kits`` kits (one in ten V5) with two reporting devices each;
- ``loans`` loans one after the other per kit, every request and every step inside the
  year: asked (``created_at``), assigned the next day, shipped two days later, installed
  (class, then pupil) on ``starts_on``, ended and returned (or still running when the year
  is not over, or, for the last loan of a kit, past its end); 3 % cancelled and 2 % still
  requested (no kit);
- ``lessons`` live sessions over the lent loans' weekdays (at most one per hour slot),
  20 to 60 minutes, with the class's presence and one to four presences of the pupil
  (reconnections; 2.75 on average: 400,000 lessons make about 1,500,000 presences);
- each lesson's ``SessionQuality`` on both sides: the pupil's mostly good (about 7 lessons
  in 10), else degraded (2 in 10) or poor (1 in 10); about one lesson in eight relayed;
- then the surveys' answers, by ``cartable.surveys.synthetic.add_answers``, for every loan.

Requests later than ``now`` are not written (a year in progress stops today), nor lessons
from today on. A kit goes to one loan at a time: a later request for a kit still lent is
left waiting (requested, no kit).

Deterministic for a seed. Never touches existing rows; kits are named ``EVA-00001``…
"""

from __future__ import annotations

import random
import time as clock
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from cartable.fleet.models import Device, Kit, KitStatusChange, Loan
from cartable.fleet.synthetic import _aware, _batches, _insert_raw, _sqlite_datetime, _weekdays
from cartable.live.models import Attendance, LiveSession, SessionQuality
from cartable.organisation.models import Department, Pupil, School, SchoolClass
from cartable.organisation.services import academies_load
from cartable.organisation.validators import uai_check_letter
from cartable.surveys.synthetic import add_answers

from .scope import school_year

BATCH = 5000
KIT_PREFIX = "EVA-"
LEVELS = list(SchoolClass.Level.values)
PLACES = list(Loan.PlaceKind.values)
PLACE_WEIGHTS = [4, 5, 1]  # hospital, home, hospital school
SCHOOL_KIND = {
    "PS": School.Kind.MATERNELLE,
    "CP": School.Kind.ELEMENTAIRE,
    "6e": School.Kind.COLLEGE,
    "2nde": School.Kind.LYCEE_GT,
    "CAP1": School.Kind.LYCEE_PRO,
    "2nde_agri": School.Kind.LYCEE_AGRICOLE,
}
HOURS = [8, 9, 10, 11, 13, 14, 15, 16]  # one lesson at most per slot
PUPIL_PRESENCES = ([1, 2, 3, 4], [15, 25, 30, 30])  # mean 2.75
SESSION_COLUMNS = ["id", "loan_id", "started_at", "ended_at", "end_reason"]
ATTENDANCE_COLUMNS = ["session_id", "side", "joined_at", "left_at"]
QUALITY_COLUMNS = [
    "session_id",
    "side",
    "samples",
    "good",
    "degraded",
    "poor",
    "relayed",
    "rtt_samples",
    "rtt_ms_sum",
    "rtt_ms_max",
    "loss_pct_sum",
    "fps_samples",
    "fps_sum",
    "freezes",
    "bitrate_samples",
    "bitrate_kbps_sum",
]


@dataclass
class GeneratedYear:
    schools: int = 0
    kits: int = 0
    loans: int = 0
    lessons: int = 0
    presences: int = 0
    qualities: int = 0
    survey_responses: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def _db_value(value):
    """A value as ``_insert_raw`` wants it on this database."""
    if connection.vendor == "sqlite" and isinstance(value, datetime):
        return _sqlite_datetime(value)
    return value


def _split(rng: random.Random, total: int, weights: list[float]) -> list[int]:
    """``total`` spread over ``weights`` (largest remainders), exactly."""
    whole = sum(weights) or 1
    raw = [total * w / whole for w in weights]
    counts = [int(x) for x in raw]
    rest = total - sum(counts)
    order = sorted(range(len(raw)), key=lambda i: (raw[i] - counts[i], rng.random()), reverse=True)
    for i in order[:rest]:
        counts[i] += 1
    return counts


def _quality_row(rng: random.Random, session_id: int, side: str, minutes: int) -> tuple:
    samples = minutes * 6  # one every 10 s
    draw = rng.random()
    if side == Attendance.Side.CLASS or draw < 0.7:
        main = "good"
    elif draw < 0.9:
        main = "degraded"
    else:
        main = "poor"
    share = rng.uniform(0.55, 1.0)
    first = round(samples * share)
    others = samples - first
    second = rng.randint(0, others)
    parts = {
        "good": (first, second, others - second),
        "degraded": (second, first, others - second),
        "poor": (second, others - second, first),
    }[main]
    relayed = samples if side == Attendance.Side.PUPIL and rng.random() < 0.125 else 0
    rtt = rng.uniform(25, 90) if main == "good" else rng.uniform(90, 400)
    fps = rng.uniform(24, 30) if main == "good" else rng.uniform(8, 24)
    return (
        session_id,
        side,
        samples,
        *parts,
        relayed,
        samples,
        rtt * samples,
        rtt * rng.uniform(1.5, 4),
        rng.uniform(0, 2 if main == "good" else 8) * samples,
        samples,
        fps * samples,
        rng.randint(0, 2 if main == "good" else 12),
        samples,
        rng.uniform(600, 2500) * samples,
    )


def _schools(rng: random.Random, count: int) -> list[School]:
    academies_load()
    departments = list(Department.objects.select_related("academy").order_by("code"))
    base = 8_000_000 - count - 1
    first_levels = list(SCHOOL_KIND)
    schools = []
    for n in range(count):
        digits = f"{base + n:07d}"
        kind = SCHOOL_KIND[first_levels[n % len(first_levels)]]
        schools.append(
            School(
                uai=digits + uai_check_letter(digits),
                name=f"Établissement d'évaluation {n + 1}",
                kind=kind,
                commune=f"Commune {n + 1}",
                department=departments[n % len(departments)],
            )
        )
    with transaction.atomic():
        School.objects.bulk_create(schools, batch_size=BATCH)
    return schools


# A level fitting each kind of school.
KIND_LEVELS = {
    School.Kind.MATERNELLE: ["PS", "MS", "GS"],
    School.Kind.ELEMENTAIRE: ["CP", "CE1", "CE2", "CM1", "CM2"],
    School.Kind.COLLEGE: ["6e", "5e", "4e", "3e"],
    School.Kind.LYCEE_GT: ["2nde", "1re", "Tle"],
    School.Kind.LYCEE_PRO: ["CAP1", "CAP2", "2nde_pro", "1re_pro", "Tle_pro"],
    School.Kind.LYCEE_AGRICOLE: ["2nde_agri", "1re_agri", "Tle_agri"],
}


def generate_year(
    *,
    kits: int = 3000,
    loans: int = 10_000,
    lessons: int = 400_000,
    year: int = 2025,
    seed: int = 1,
    now: datetime | None = None,
    say: Callable[[str], None] = lambda message: None,
) -> GeneratedYear:
    """Write the synthetic school year starting in September of ``year`` (see the module
    docstring)."""
    rng = random.Random(seed)  # noqa: S311 (reproducible synthetic data, not secrets)
    now = now or timezone.now()
    today = timezone.localdate(now)
    period = school_year(year)
    result = GeneratedYear()

    def step(name: str, started: float) -> None:
        result.seconds[name] = clock.perf_counter() - started
        say(f"  {name} : {result.seconds[name]:.1f} s")

    started = clock.perf_counter()
    schools = _schools(rng, max(6, loans // 6))
    result.schools = len(schools)
    kit_objects = [
        Kit(
            code=f"{KIT_PREFIX}{n + 1:05d}",
            generation=Kit.Generation.V5 if n % 10 == 9 else Kit.Generation.G3,
            status=Kit.Status.IN_STOCK,
            status_changed_at=_aware(period.start, 9),
        )
        for n in range(kits)
    ]
    with transaction.atomic():
        Kit.objects.bulk_create(kit_objects, batch_size=BATCH)
    result.kits = len(kit_objects)
    step("établissements et cartables", started)

    # Loans: the kits' share, one after the other per kit inside the year.
    started = clock.perf_counter()
    year_days = (period.end - period.start).days + 1
    plans = []  # (kit or None, status, created, starts_on, ends_on)
    lent_count = round(loans * 0.95)
    per_kit = _split(rng, lent_count, [1] * kits)
    for kit, n in zip(kit_objects, per_kit, strict=True):
        if not n:
            continue
        slot = year_days // n
        for i in range(n):
            created = period.start + timedelta(days=i * slot + rng.randint(0, max(0, slot // 5)))
            starts_on = min(created + timedelta(days=rng.randint(3, 14)), period.end)
            length = rng.randint(max(7, slot // 3), max(8, slot - 21))
            ends_on = starts_on + timedelta(days=length)
            plans.append((kit, created, starts_on, ends_on))
    for _ in range(loans - lent_count):
        created = period.start + timedelta(days=rng.randint(0, year_days - 1))
        plans.append((None, created, created + timedelta(days=10), created + timedelta(days=60)))
    plans = [plan for plan in plans if plan[1] < today]
    classes = []
    for n, _plan in enumerate(plans):
        school = schools[rng.randrange(len(schools))]
        classes.append(
            SchoolClass(
                school=school,
                name=f"Classe d'évaluation {n + 1}",
                level=rng.choice(KIND_LEVELS.get(school.kind, LEVELS)),
                school_year=f"{period.start.year}-{period.end.year}",
            )
        )
    with transaction.atomic():
        SchoolClass.objects.bulk_create(classes, batch_size=BATCH)
        pupils = [
            Pupil(display_name=f"Élève {n + 1}", school_class=klass)
            for n, klass in enumerate(classes)
        ]
        Pupil.objects.bulk_create(pupils, batch_size=BATCH)
    loan_objects = []
    running_kits = set()
    St = Loan.Status
    for (kit, created, starts_on, ends_on), klass, pupil in zip(
        plans, classes, pupils, strict=True
    ):
        requested_at = _aware(created, rng.choice([9, 10, 11, 14, 15]), rng.choice([0, 30]))
        steps = {}
        if kit is None:
            status = St.CANCELLED if rng.random() < 0.6 else St.REQUESTED
            if status == St.REQUESTED and created < today - timedelta(days=30):
                status = St.CANCELLED
        elif rng.random() < 0.03:
            status, kit = St.CANCELLED, None
        elif kit.pk in running_kits or requested_at + timedelta(days=1) > now:
            status, kit = St.REQUESTED, None  # waiting for a kit
        else:
            assigned = requested_at + timedelta(days=1)
            steps = {"assigned_at": assigned}
            status = St.ASSIGNED
            if starts_on <= today:
                steps["shipped_at"] = assigned + timedelta(days=2)
                steps["class_installed_at"] = _aware(starts_on, 9)
                steps["pupil_installed_at"] = _aware(starts_on, 15)
                status = St.ACTIVE
                if ends_on < today:
                    steps["ended_at"] = _aware(ends_on, 16)
                    steps["returned_at"] = _aware(ends_on + timedelta(days=2), 10)
                    status = St.RETURNED
            if status in Loan.HOLDING_KIT:
                running_kits.add(kit.pk)
        loan_objects.append(
            Loan(
                kit=kit,
                pupil=pupil,
                school_class=klass,
                starts_on=starts_on,
                ends_on=ends_on,
                place_kind=rng.choices(PLACES, PLACE_WEIGHTS)[0],
                pupil_department=klass.school.department,
                status=status,
                created_at=requested_at,
                **steps,
            )
        )
    with transaction.atomic():
        Loan.objects.bulk_create(loan_objects, batch_size=BATCH)
        for batch in _batches(iter(kit_objects)):
            for kit in batch:
                if kit.pk in running_kits:
                    kit.status = Kit.Status.ON_LOAN
                elif rng.random() < 0.02:
                    kit.status = Kit.Status.IN_REPAIR
                kit.status_changed_at = now - timedelta(days=rng.randint(1, 30))
            Kit.objects.bulk_update(batch, ["status", "status_changed_at"])
        KitStatusChange.objects.bulk_create(
            [
                KitStatusChange(
                    kit=kit, from_status="", to_status=kit.status, at=kit.status_changed_at
                )
                for kit in kit_objects
            ],
            batch_size=BATCH,
        )
    result.loans = len(loan_objects)
    step("prêts", started)

    # Devices: two reporting ones per kit; one running kit in thirty silent for days.
    started = clock.perf_counter()
    devices = []
    for kit in kit_objects:
        silent = rng.random() < 1 / 30
        for kind in (Device.Kind.CLASS_BOX, Device.Kind.PUPIL_TABLET):
            seen = None
            if kit.pk in running_kits:
                seen = now - (
                    timedelta(days=rng.randint(3, 9))
                    if silent
                    else timedelta(seconds=rng.randint(1, 90))
                )
            devices.append(
                Device(
                    kit=kit,
                    kind=kind,
                    serial=f"{kit.code}-{kind}",
                    last_seen_at=seen,
                    last_network=Device.Network.CELLULAR if seen else "",
                )
            )
    with transaction.atomic():
        Device.objects.bulk_create(devices, batch_size=BATCH)
    step("appareils", started)

    # Lessons, spread over the lent loans by their weekdays within the year.
    started = clock.perf_counter()
    last_day = min(period.end, today - timedelta(days=1))
    lent = [loan for loan in loan_objects if loan.shipped_at is not None]
    spans = [
        _weekdays(loan.starts_on, min(loan.ends_on, last_day)) if loan.starts_on <= last_day else []
        for loan in lent
    ]
    counts = _split(rng, lessons, [len(days) for days in spans])
    next_id = (LiveSession.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
    pairs = list(zip(lent, spans, counts, strict=True))
    for chunk in _batches(iter(pairs), 1000):
        sessions, presences, qualities = [], [], []
        for loan, days, n in chunk:
            n = min(n, len(days) * len(HOURS))
            for index in sorted(rng.sample(range(len(days) * len(HOURS)), n)):
                day, hour = days[index // len(HOURS)], HOURS[index % len(HOURS)]
                begin = _aware(day, hour, rng.choice([0, 5, 10]))
                minutes = rng.randint(20, 60)
                end = begin + timedelta(minutes=minutes)
                sid = next_id
                next_id += 1
                sessions.append((sid, loan.pk, begin, end, LiveSession.EndReason.ENDED_BY_CLASS))
                presences.append((sid, Attendance.Side.CLASS, begin, end))
                pieces = rng.choices(*PUPIL_PRESENCES)[0]
                cursor = begin + timedelta(minutes=rng.randint(0, 4))
                share = (end - cursor) / pieces
                for _ in range(pieces):
                    left = cursor + share * rng.uniform(0.7, 0.95)
                    presences.append((sid, Attendance.Side.PUPIL, cursor, left))
                    cursor += share
                qualities.append(_quality_row(rng, sid, Attendance.Side.PUPIL, minutes))
                qualities.append(_quality_row(rng, sid, Attendance.Side.CLASS, minutes))
        result.lessons += _insert_raw(
            LiveSession, SESSION_COLUMNS, ([_db_value(v) for v in row] for row in sessions)
        )
        result.presences += _insert_raw(
            Attendance, ATTENDANCE_COLUMNS, ([_db_value(v) for v in row] for row in presences)
        )
        result.qualities += _insert_raw(SessionQuality, QUALITY_COLUMNS, iter(qualities))
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [LiveSession]):
            cursor.execute(sql)
    step("séances, présences et qualité", started)

    started = clock.perf_counter()
    result.survey_responses = add_answers([loan.pk for loan in loan_objects], seed=seed)
    step("questionnaires", started)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return result
