"""Folding raw heartbeats into one row per device and local day, with a frozen clock."""

from __future__ import annotations

from datetime import date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cartable.fleet.heartbeats import fold, fold_cutoff, heartbeat_record
from cartable.fleet.models import Device, Heartbeat, HeartbeatDay

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=PARIS)  # raw heartbeats are kept 7 days


def local(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def paris(settings):
    settings.TIME_ZONE = "Europe/Paris"
    settings.FLEET = {**settings.FLEET, "HEARTBEAT_RAW_DAYS": 7}


@pytest.fixture
def box(db):
    return Device.objects.create(kind=Device.Kind.CLASS_BOX, serial="SN-BOX")


@pytest.fixture
def router(db):
    return Device.objects.create(kind=Device.Kind.ROUTER_4G, serial="SN-4G")


def record(device, at, network="wifi", signal=None, battery=None, uptime_s=0, version="1.0"):
    heartbeat_record(
        device_id=device.pk,
        at=at,
        network=network,
        signal=signal,
        battery=battery,
        uptime_s=uptime_s,
        software_version=version,
    )


@pytest.fixture
def history(box, router):
    # The box on 10 March: three networks, a signal missing, a battery missing.
    record(box, local(2026, 3, 10, 8, 0), "wifi", 50, 90, 100, "1.0")
    record(box, local(2026, 3, 10, 9, 0), "4g", None, 70, 3700, "1.1")
    record(box, local(2026, 3, 10, 23, 30), "wired", 80, None, 55000, "1.2")
    # 00:30 in Paris on 11 March is still 10 March in UTC: it belongs to the 11th.
    record(box, local(2026, 3, 11, 0, 30), "4g", 20, 65, 57000, "1.2")
    # The router on 10 March.
    record(router, local(2026, 3, 10, 12, 0), "4g", 30, 20, 10, "9.0")
    # The last minute of the last day folded, and the first minute of the first day kept.
    record(box, local(2026, 3, 12, 23, 59), "wifi", 40, 60, 600, "1.3")
    record(box, local(2026, 3, 13, 0, 0), "wifi", 41, 61, 660, "1.3")
    # Yesterday: kept raw.
    record(box, local(2026, 3, 19, 10, 0), "wifi", 90, 99, 60, "1.4")


# (device serial, day) → the folded row, by hand.
EXPECTED = {
    ("SN-BOX", date(2026, 3, 10)): {
        "count": 3,
        "first_at": local(2026, 3, 10, 8, 0),
        "last_at": local(2026, 3, 10, 23, 30),
        "wifi": 1,
        "cellular": 1,
        "wired": 1,
        "signal_n": 2,
        "signal_sum": 130,
        "signal_min": 50,
        "battery_min": 70,
        "uptime_max": 55000,
        "software_version": "1.2",
    },
    ("SN-BOX", date(2026, 3, 11)): {
        "count": 1,
        "first_at": local(2026, 3, 11, 0, 30),
        "last_at": local(2026, 3, 11, 0, 30),
        "wifi": 0,
        "cellular": 1,
        "wired": 0,
        "signal_n": 1,
        "signal_sum": 20,
        "signal_min": 20,
        "battery_min": 65,
        "uptime_max": 57000,
        "software_version": "1.2",
    },
    ("SN-BOX", date(2026, 3, 12)): {
        "count": 1,
        "first_at": local(2026, 3, 12, 23, 59),
        "last_at": local(2026, 3, 12, 23, 59),
        "wifi": 1,
        "cellular": 0,
        "wired": 0,
        "signal_n": 1,
        "signal_sum": 40,
        "signal_min": 40,
        "battery_min": 60,
        "uptime_max": 600,
        "software_version": "1.3",
    },
    ("SN-4G", date(2026, 3, 10)): {
        "count": 1,
        "first_at": local(2026, 3, 10, 12, 0),
        "last_at": local(2026, 3, 10, 12, 0),
        "wifi": 0,
        "cellular": 1,
        "wired": 0,
        "signal_n": 1,
        "signal_sum": 30,
        "signal_min": 30,
        "battery_min": 20,
        "uptime_max": 10,
        "software_version": "9.0",
    },
}
FIELDS = list(EXPECTED[("SN-BOX", date(2026, 3, 10))])


def folded() -> dict:
    return {
        (row.device.serial, row.day): {field: getattr(row, field) for field in FIELDS}
        for row in HeartbeatDay.objects.select_related("device")
    }


def raw_left() -> list[datetime]:
    return sorted(Heartbeat.objects.values_list("at", flat=True))


def run_command() -> str:
    out = StringIO()
    call_command("fold_heartbeats", stdout=out)
    return out.getvalue()


def test_the_cutoff_is_the_local_midnight_seven_days_back():
    with time_machine.travel(NOW, tick=False):
        assert fold_cutoff() == local(2026, 3, 13, 0, 0)


def test_old_heartbeats_are_folded_by_local_day_and_deleted(history):
    with time_machine.travel(NOW, tick=False):
        output = run_command()
    assert folded() == EXPECTED
    assert raw_left() == [local(2026, 3, 13, 0, 0), local(2026, 3, 19, 10, 0)]
    assert "6 folded over 3 days into 4 new and 0 updated daily rows" in output


def test_folding_twice_changes_nothing(history):
    with time_machine.travel(NOW, tick=False):
        run_command()
        output = run_command()
    assert folded() == EXPECTED
    assert len(raw_left()) == 2
    assert "0 folded over 0 days" in output


def test_a_day_folded_in_two_parts_adds_up_to_the_same_row(history):
    # First up to 10 March 12:30 (the box's first two, the router's), then the rest.
    with time_machine.travel(NOW, tick=False):
        first = fold(before=local(2026, 3, 10, 12, 30))
        assert (first.heartbeats, first.created, first.updated) == (3, 2, 0)
        partial = folded()[("SN-BOX", date(2026, 3, 10))]
        assert (partial["count"], partial["software_version"], partial["signal_n"]) == (2, "1.1", 1)
        second = fold()
    assert (second.heartbeats, second.created, second.updated) == (3, 2, 1)
    assert folded() == EXPECTED


def test_a_day_already_folded_gets_later_heartbeats_added(box):
    # A row folded by an earlier run, then more heartbeats of that day arrive raw (a day
    # folded in parts, or rows restored from a backup): they are added, not replaced.
    record(box, local(2026, 3, 1, 10, 0), "wifi", 70, 50, 100, "2.0")
    with time_machine.travel(NOW, tick=False):
        fold()
    record(box, local(2026, 3, 1, 9, 0), "wired", None, 40, 5000, "1.9")
    record(box, local(2026, 3, 1, 11, 0), "4g", 10, None, 50, "2.1")
    with time_machine.travel(NOW, tick=False):
        report = fold()
    assert (report.created, report.updated) == (0, 1)
    assert folded()[("SN-BOX", date(2026, 3, 1))] == {
        "count": 3,
        "first_at": local(2026, 3, 1, 9, 0),
        "last_at": local(2026, 3, 1, 11, 0),
        "wifi": 1,
        "cellular": 1,
        "wired": 1,
        "signal_n": 2,
        "signal_sum": 80,
        "signal_min": 10,
        "battery_min": 40,
        "uptime_max": 5000,
        "software_version": "2.1",
    }


def test_a_day_of_clock_change_is_one_day(box):
    # 29 March 2026: clocks go from 02:00 to 03:00 in Paris; the day has 23 hours.
    record(box, local(2026, 3, 29, 0, 30), uptime_s=1)  # UTC 28 March 23:30
    record(box, local(2026, 3, 29, 23, 30), uptime_s=2)  # UTC 29 March 21:30
    record(box, local(2026, 3, 30, 0, 10), uptime_s=3)  # UTC 29 March 22:10
    with time_machine.travel(datetime(2026, 4, 10, 12, tzinfo=PARIS), tick=False):
        fold()
    rows = {day: values["count"] for (_, day), values in folded().items()}
    assert rows == {date(2026, 3, 29): 2, date(2026, 3, 30): 1}


def test_folding_is_done_in_the_database_not_row_by_row(box, router):
    def queries_to_fold(per_device: int) -> int:
        HeartbeatDay.objects.all().delete()
        for n in range(per_device):
            record(box, local(2026, 3, 2, 8, n), signal=n % 100)
            record(router, local(2026, 3, 2, 9, n), signal=n % 100)
        with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as ctx:
            report = fold()
        assert report.heartbeats == 2 * per_device
        return len(ctx.captured_queries)

    assert queries_to_fold(3) == queries_to_fold(50)
    assert folded()[("SN-BOX", date(2026, 3, 2))]["count"] == 50
