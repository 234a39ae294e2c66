"""Devices' heartbeats: recording one, and folding old ones into one row per device and day.

A device beats every minute. Each heartbeat is one raw ``Heartbeat`` row, and the device's
``last_*`` fields say what it reported last, so "which devices are online" is one query on
``Device``. Raw rows are kept ``settings.FLEET['HEARTBEAT_RAW_DAYS']`` days; ``fold`` (the
``cartable fold_heartbeats`` command) then sums them up into ``HeartbeatDay`` (per device
and local day) and deletes them, so years of history stay small.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from .models import Device, Heartbeat, HeartbeatDay

HEARTBEAT_INTERVAL_S = 60  # what a device is told at enrolment


# What a day of heartbeats keeps (besides its device and day), in HeartbeatDay's order.
FOLDED_FIELDS = [
    "count",
    "first_at",
    "last_at",
    "wifi",
    "cellular",
    "wired",
    "signal_n",
    "signal_sum",
    "signal_min",
    "battery_min",
    "uptime_max",
    "software_version",
]


def heartbeat_record(
    *,
    device_id: int,
    software_version: str,
    network: str,
    signal: int | None,
    battery: int | None,
    uptime_s: int,
    at: datetime | None = None,
    cameras: list[str] | None = None,
    temperature_c: float | None = None,
    disk_free_pct: int | None = None,
) -> datetime:
    """Store one heartbeat and note it on the device, in one transaction of two statements
    (an INSERT and an UPDATE by primary key: no read, no model ``save``)."""
    at = at or timezone.now()
    with transaction.atomic():
        Heartbeat.objects.create(
            device_id=device_id,
            at=at,
            software_version=software_version,
            network=network,
            signal=signal,
            battery=battery,
            uptime_s=uptime_s,
        )
        Device.objects.filter(pk=device_id).update(
            software_version=software_version,
            last_seen_at=at,
            last_network=network,
            last_signal=signal,
            last_battery=battery,
            last_uptime_s=uptime_s,
            # A kit's agent reports these too (cartable_kit); other devices do not.
            **(
                {
                    "last_cameras": cameras,
                    "last_temperature_c": temperature_c,
                    "last_disk_free_pct": disk_free_pct,
                }
                if cameras is not None
                else {}
            ),
        )
    return at


# Folding ---------------------------------------------------------------------------------


@dataclass
class FoldReport:
    days: int = 0  # local days folded
    heartbeats: int = 0  # raw rows folded and deleted
    created: int = 0  # HeartbeatDay rows created
    updated: int = 0  # HeartbeatDay rows added to


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_default_timezone()
    start = timezone.make_aware(datetime.combine(day, time.min), tz)
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min), tz)
    return start, end


def fold_cutoff(now: datetime | None = None) -> datetime:
    """Raw heartbeats before this instant are folded: the local midnight that starts the
    day ``HEARTBEAT_RAW_DAYS`` days ago, so only whole days are folded."""
    today = timezone.localdate(now or timezone.now())
    return _day_bounds(today - timedelta(days=settings.FLEET["HEARTBEAT_RAW_DAYS"]))[0]


def _min(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def _fold_day(start: datetime, end: datetime, day: date, report: FoldReport) -> None:
    raw = Heartbeat.objects.filter(at__gte=start, at__lt=end)
    # The day's last software version of each device: that of its latest heartbeat.
    latest_version = (
        Heartbeat.objects.filter(device_id=OuterRef("device_id"), at__gte=start, at__lt=end)
        .order_by("-at", "-pk")
        .values("software_version")[:1]
    )
    rows = list(
        raw.order_by()
        .values("device_id")
        .annotate(
            count=Count("pk"),
            first_at=Min("at"),
            last_at=Max("at"),
            wifi=Count("pk", filter=Q(network=Device.Network.WIFI)),
            cellular=Count("pk", filter=Q(network=Device.Network.CELLULAR)),
            wired=Count("pk", filter=Q(network=Device.Network.WIRED)),
            signal_n=Count("signal"),
            signal_sum=Sum("signal"),
            signal_min=Min("signal"),
            battery_min=Min("battery"),
            uptime_max=Max("uptime_s"),
            version=Subquery(latest_version),
        )
    )
    if not rows:
        return
    existing = {
        folded.device_id: folded
        for folded in HeartbeatDay.objects.select_for_update().filter(
            day=day, device_id__in=[row["device_id"] for row in rows]
        )
    }
    to_create, to_update = [], []
    for row in rows:
        folded = existing.get(row["device_id"])
        if folded is None:
            to_create.append(
                HeartbeatDay(
                    device_id=row["device_id"],
                    day=day,
                    count=row["count"],
                    first_at=row["first_at"],
                    last_at=row["last_at"],
                    wifi=row["wifi"],
                    cellular=row["cellular"],
                    wired=row["wired"],
                    signal_n=row["signal_n"],
                    signal_sum=row["signal_sum"] or 0,
                    signal_min=row["signal_min"],
                    battery_min=row["battery_min"],
                    uptime_max=row["uptime_max"] or 0,
                    software_version=row["version"] or "",
                )
            )
            continue
        # Adding to a day already folded (a part of it folded earlier).
        if row["last_at"] >= folded.last_at:
            folded.software_version = row["version"] or ""
        folded.count += row["count"]
        folded.first_at = min(folded.first_at, row["first_at"])
        folded.last_at = max(folded.last_at, row["last_at"])
        folded.wifi += row["wifi"]
        folded.cellular += row["cellular"]
        folded.wired += row["wired"]
        folded.signal_n += row["signal_n"]
        folded.signal_sum += row["signal_sum"] or 0
        folded.signal_min = _min(folded.signal_min, row["signal_min"])
        folded.battery_min = _min(folded.battery_min, row["battery_min"])
        folded.uptime_max = max(folded.uptime_max, row["uptime_max"] or 0)
        to_update.append(folded)
    HeartbeatDay.objects.bulk_create(to_create, batch_size=2000)
    HeartbeatDay.objects.bulk_update(
        to_update,
        FOLDED_FIELDS,
        batch_size=500,
    )
    deleted, _ = raw.delete()
    report.days += 1
    report.heartbeats += deleted
    report.created += len(to_create)
    report.updated += len(to_update)


def fold(*, now: datetime | None = None, before: datetime | None = None) -> FoldReport:
    """Fold every raw heartbeat before ``before`` (by default ``fold_cutoff(now)``) into
    ``HeartbeatDay`` and delete it: one transaction per local day, oldest day first.

    Idempotent: a second run finds nothing left to fold. A day folded in parts (a
    ``before`` in the middle of a day) is added to its existing row."""
    before = before or fold_cutoff(now)
    report = FoldReport()
    raw = Heartbeat.objects.filter(at__lt=before)
    # Each round folds the oldest day left (and deletes its rows): empty days cost nothing.
    while (oldest := raw.aggregate(oldest=Min("at"))["oldest"]) is not None:
        day = timezone.localdate(oldest)
        start, end = _day_bounds(day)
        with transaction.atomic():
            _fold_day(start, min(end, before), day, report)
    return report
