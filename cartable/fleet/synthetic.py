"""A generated national fleet, for benchmarks and for trying the reporting pages at scale.

``generate`` writes, with ``bulk_create`` in batches: schools spread over every
département, one class and one pupil per loan (synthetic first names ``Élève 123``), kits
(a tenth V5, lent only in the V5 pilot académies), their devices, loans one after the
other per kit over the period (the last one running today for nine kits in ten, a few of
them idle or silent so that the reclaim and offline lists are not empty), live sessions
with the class's and the pupil's presences, and the heartbeats of the kits' reporting
devices folded by day (``HeartbeatDay``) for every day a kit was on loan.

It is deterministic for a given seed. It never touches existing rows; its kits are named
``SYN-00001``… so a second run on the same database is refused by the unique codes.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from cartable.fleet.heartbeats import FOLDED_FIELDS
from cartable.live.models import Attendance, LiveSession
from cartable.organisation.models import Department, Pupil, School, SchoolClass
from cartable.organisation.services import academies_load
from cartable.organisation.validators import uai_check_letter

from .models import Device, HeartbeatDay, Kit, KitStatusChange, Loan

BATCH = 5000
LEVELS = [level for level, _ in SchoolClass.Level.choices]
PLACES = [place for place, _ in Loan.PlaceKind.choices]
REPORTING_KINDS = [Device.Kind.CLASS_BOX, Device.Kind.PUPIL_TABLET, Device.Kind.ROUTER_4G]
DEVICE_KINDS = [
    Device.Kind.CLASS_BOX,
    Device.Kind.PUPIL_TABLET,
    Device.Kind.ROUTER_4G,
    Device.Kind.TEACHER_TABLET,
    Device.Kind.BOARD_CAMERA,
    Device.Kind.CLASS_CAMERA,
]


@dataclass
class Generated:
    schools: int = 0
    kits: int = 0
    devices: int = 0
    loans: int = 0
    running: int = 0
    sessions: int = 0
    presences: int = 0
    heartbeat_days: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def _batches(items: Iterator, size: int = BATCH) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


HEARTBEAT_DAY_COLUMNS = ["device_id", "day", *FOLDED_FIELDS]


def _sqlite_datetime(value: datetime) -> str:
    """How Django stores an aware datetime in SQLite: UTC, without offset."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")


def _insert_raw(model, columns: list[str], rows: Iterator[tuple]) -> int:
    """Insert many rows fast, for the largest table (millions of rows): PostgreSQL's COPY,
    or SQLite's executemany, in transactions of 50,000 rows. Values must already be in
    the database's form (dates and datetimes as strings for SQLite)."""
    table = model._meta.db_table
    names = ", ".join(columns)
    count = 0
    if connection.vendor == "postgresql":
        for batch in _batches(rows, 50_000):
            with (
                transaction.atomic(),
                connection.cursor() as cursor,
                cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
            ):
                for row in batch:
                    copy.write_row(row)
            count += len(batch)
        return count
    marks = ", ".join("%s" for _ in columns)
    for batch in _batches(rows, 50_000):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", batch)  # noqa: S608
        count += len(batch)
    return count


def _aware(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _weekdays(start: date, end: date) -> list[date]:
    days = []
    day = start
    while day <= end:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def generate(
    *,
    kits: int = 5000,
    loans: int = 50_000,
    days: int = 730,
    sessions_per_loan: int = 8,
    devices_per_kit: int = 4,
    reporting_devices: int = 2,
    seed: int = 1,
    now: datetime | None = None,
    say: Callable[[str], None] = lambda message: None,
) -> Generated:
    """Write a national fleet: ``kits`` kits, ``loans`` loans over the last ``days`` days,
    about ``sessions_per_loan`` live sessions per loan, ``devices_per_kit`` devices per kit
    of which ``reporting_devices`` send heartbeats (folded by day)."""
    import time as clock

    rng = random.Random(seed)  # noqa: S311 (not for secrets: reproducible test data)
    now = now or timezone.now()
    today = timezone.localdate(now)
    first_day = today - timedelta(days=days)
    result = Generated()
    per_kit = max(1, loans // kits)
    devices_per_kit = max(reporting_devices, min(devices_per_kit, len(DEVICE_KINDS)))

    def step(name: str, started: float) -> None:
        result.seconds[name] = clock.perf_counter() - started
        say(f"  {name}: {result.seconds[name]:.1f} s")

    started = clock.perf_counter()
    academies_load()
    departments = list(Department.objects.select_related("academy"))
    pilot = set(settings.FLEET["V5_PILOT_ACADEMIES"])
    school_count = max(10, loans // 8)
    base = 9_000_000 - school_count - 1
    schools = []
    for n in range(school_count):
        digits = f"{base + n:07d}"
        department = departments[n % len(departments)]
        schools.append(
            School(
                uai=digits + uai_check_letter(digits),
                name=f"Établissement synthétique {n + 1}",
                kind=School.Kind.COLLEGE,
                commune=f"Commune {n + 1}",
                department=department,
            )
        )
    with transaction.atomic():
        School.objects.bulk_create(schools, batch_size=BATCH)
    pilot_schools = [s for s in schools if s.department.academy.code in pilot] or schools
    result.schools = len(schools)
    step("schools", started)

    # Kits and their devices.
    started = clock.perf_counter()
    kit_objects = [
        Kit(
            code=f"SYN-{n + 1:05d}",
            generation=Kit.Generation.V5 if n % 10 == 9 else Kit.Generation.G3,
            status=Kit.Status.IN_STOCK,
            status_changed_at=_aware(first_day, 9),
        )
        for n in range(kits)
    ]
    with transaction.atomic():
        Kit.objects.bulk_create(kit_objects, batch_size=BATCH)
    result.kits = len(kit_objects)
    step("kits", started)

    # Loans, one after the other per kit; each with its class and pupil.
    started = clock.perf_counter()
    slot = max(10, days // per_kit)
    plans = []  # (kit, school, start, end, running, ended_day)
    for index, kit in enumerate(kit_objects):
        pool = pilot_schools if kit.generation == Kit.Generation.V5 else schools
        for i in range(per_kit):
            last = i == per_kit - 1
            if last and index % 10 != 0:
                start = today - timedelta(days=rng.randint(5, 50))
                end = today + timedelta(days=rng.randint(15, 90))
                plans.append((kit, rng.choice(pool), start, end, True, None))
            else:
                start = first_day + timedelta(days=i * slot + rng.randint(0, 5))
                end = start + timedelta(days=rng.randint(slot // 2, max(slot // 2, slot - 8)))
                end = min(end, today - timedelta(days=2))
                start = min(start, end)
                plans.append((kit, rng.choice(pool), start, end, False, end))
    classes = [
        SchoolClass(
            school=school,
            name=f"Classe synthétique {n + 1}",
            level=rng.choice(LEVELS),
            school_year=f"{start.year if start.month >= 8 else start.year - 1}-"
            f"{start.year + 1 if start.month >= 8 else start.year}",
        )
        for n, (_, school, start, _, _, _) in enumerate(plans)
    ]
    with transaction.atomic():
        SchoolClass.objects.bulk_create(classes, batch_size=BATCH)
        pupils = [
            Pupil(display_name=f"Élève {n + 1}", school_class=klass)
            for n, klass in enumerate(classes)
        ]
        Pupil.objects.bulk_create(pupils, batch_size=BATCH)
    loan_objects = []
    for (kit, school, start, end, running, ended), klass, pupil in zip(
        plans, classes, pupils, strict=True
    ):
        requested = _aware(start - timedelta(days=rng.randint(3, 10)), 10)
        installed = _aware(start, 11)
        loan_objects.append(
            Loan(
                kit=kit,
                pupil=pupil,
                school_class=klass,
                starts_on=start,
                ends_on=end,
                place_kind=rng.choice(PLACES),
                pupil_department=school.department
                if rng.random() < 0.9
                else rng.choice(departments),
                status=Loan.Status.ACTIVE if running else Loan.Status.RETURNED,
                created_at=requested,
                assigned_at=requested + timedelta(hours=20),
                shipped_at=requested + timedelta(days=1, hours=2),
                class_installed_at=installed,
                pupil_installed_at=installed + timedelta(hours=3),
                ended_at=None if running else _aware(ended, 16),
                returned_at=None if running else _aware(ended + timedelta(days=2), 10),
            )
        )
    with transaction.atomic():
        Loan.objects.bulk_create(loan_objects, batch_size=BATCH)
    running_kits = {loan.kit_id for loan in loan_objects if loan.status == Loan.Status.ACTIVE}
    result.loans = len(loan_objects)
    result.running = len(running_kits)
    with transaction.atomic():
        for batch in _batches(iter(kit_objects)):
            for kit in batch:
                kit.status = Kit.Status.ON_LOAN if kit.pk in running_kits else Kit.Status.IN_STOCK
                kit.status_changed_at = _aware(today - timedelta(days=3), 9)
            Kit.objects.bulk_update(batch, ["status", "status_changed_at"])
        KitStatusChange.objects.bulk_create(
            [
                KitStatusChange(
                    kit=kit,
                    from_status="",
                    to_status=Kit.Status.IN_STOCK,
                    at=_aware(first_day, 9),
                    note="Entrée",
                )
                for kit in kit_objects
            ]
            + [
                KitStatusChange(
                    kit=kit,
                    from_status=Kit.Status.INSTALLED,
                    to_status=kit.status,
                    at=kit.status_changed_at,
                )
                for kit in kit_objects
                if kit.pk in running_kits
            ],
            batch_size=BATCH,
        )
    step("loans", started)

    # Live sessions and presences: on weekdays of each loan; one running loan in twenty
    # has had none for six weeks (a candidate to reclaim).
    started = clock.perf_counter()
    for batch in _batches(iter(loan_objects), 2000):
        sessions = []
        for loan in batch:
            last_day = min(loan.ends_on, today)
            weekdays = _weekdays(loan.starts_on, last_day)
            if loan.status == Loan.Status.ACTIVE and rng.random() < 0.05:
                weekdays = [d for d in weekdays if d < today - timedelta(days=42)]
            if not weekdays:
                continue
            chosen = sorted(rng.sample(weekdays, min(sessions_per_loan, len(weekdays))))
            if loan.status == Loan.Status.ACTIVE and weekdays[-1] >= today - timedelta(days=3):
                chosen[-1] = weekdays[-1]  # used lately
            for day in chosen:
                begin = _aware(day, rng.choice([8, 9, 10, 13, 14, 15]), rng.choice([0, 30]))
                ended = begin + timedelta(minutes=rng.randint(40, 60))
                if ended > now:
                    begin, ended = now - timedelta(hours=2), now - timedelta(hours=1)
                sessions.append(
                    LiveSession(
                        loan=loan,
                        started_at=begin,
                        ended_at=ended,
                        end_reason=LiveSession.EndReason.ENDED_BY_CLASS,
                    )
                )
        with transaction.atomic():
            LiveSession.objects.bulk_create(sessions, batch_size=BATCH)
            presences = []
            for session in sessions:
                presences.append(
                    Attendance(
                        session=session,
                        side=Attendance.Side.CLASS,
                        joined_at=session.started_at,
                        left_at=session.ended_at,
                    )
                )
                joined = session.started_at + timedelta(minutes=rng.randint(0, 8))
                presences.append(
                    Attendance(
                        session=session,
                        side=Attendance.Side.PUPIL,
                        joined_at=joined,
                        left_at=max(
                            joined, session.ended_at - timedelta(minutes=rng.randint(0, 5))
                        ),
                    )
                )
            Attendance.objects.bulk_create(presences, batch_size=BATCH)
        result.sessions += len(sessions)
        result.presences += len(presences)
    step("sessions", started)

    # Devices: the reporting ones beat every minute while the kit is on loan; one running
    # kit in thirty has been silent for days (offline).
    started = clock.perf_counter()
    device_objects = []
    for kit in kit_objects:
        silent = kit.pk in running_kits and rng.random() < 1 / 30
        for kind in DEVICE_KINDS[:devices_per_kit]:
            reporting = kind in REPORTING_KINDS[:reporting_devices]
            seen = None
            if reporting and kit.pk in running_kits:
                seen = now - (
                    timedelta(days=rng.randint(3, 9))
                    if silent
                    else timedelta(seconds=rng.randint(1, 90))
                )
            device_objects.append(
                Device(
                    kit=kit,
                    kind=kind,
                    serial=f"{kit.code}-{kind}",
                    software_version="5.2.1" if kit.generation == Kit.Generation.V5 else "3.8.4",
                    enrolled_at=_aware(first_day, 10) if reporting else None,
                    last_seen_at=seen,
                    last_network=Device.Network.CELLULAR if seen else "",
                    last_signal=rng.randint(30, 100) if seen else None,
                    last_battery=rng.randint(20, 100) if seen else None,
                    last_uptime_s=rng.randint(600, 86_400) if seen else None,
                )
            )
    with transaction.atomic():
        Device.objects.bulk_create(device_objects, batch_size=BATCH)
    result.devices = len(device_objects)
    step("devices", started)

    started = clock.perf_counter()
    reporting_by_kit: dict[int, list[int]] = {}
    for device in device_objects:
        if device.kind in REPORTING_KINDS[:reporting_devices]:
            reporting_by_kit.setdefault(device.kit_id, []).append(device.pk)

    day_bounds: dict[date, tuple] = {}

    def bounds(day: date) -> tuple:
        if day not in day_bounds:
            first, last = _aware(day, 7), _aware(day, 19)
            day_bounds[day] = (
                (day, first, last)
                if not sqlite
                else (
                    day.isoformat(),
                    _sqlite_datetime(first),
                    _sqlite_datetime(last),
                )
            )
        return day_bounds[day]

    sqlite = connection.vendor == "sqlite"

    def heartbeat_rows() -> Iterator[tuple]:
        for loan in loan_objects:
            last = min(loan.ends_on, today - timedelta(days=1))
            day = max(loan.starts_on, first_day)
            while day <= last:
                stamp, first_at, last_at = bounds(day)
                for device_id in reporting_by_kit.get(loan.kit_id, ()):
                    count = rng.randint(400, 1440)
                    yield (
                        device_id,
                        stamp,
                        count,
                        first_at,
                        last_at,
                        0,
                        count,
                        0,
                        count,
                        count * 70,
                        30,
                        20,
                        43_200,
                        "3.8.4",
                    )
                day += timedelta(days=1)

    result.heartbeat_days = _insert_raw(HeartbeatDay, HEARTBEAT_DAY_COLUMNS, heartbeat_rows())
    step("heartbeat days", started)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return result
