"""Faults during a lesson, end to end: the records stay true.

A server process killed with SIGKILL (no disconnect handler runs) and a Redis restart (the
channel layer goes away under every consumer). The server runs as its own process
(``cartable serve``, as in test_multi_worker.py), on the test's PostgreSQL database; the
browsers are real Chromium pages.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from cartable.fleet import reports
from cartable.live.models import Attendance, LiveSession

from .conftest import WorkerProcess, free_port
from .helpers import open_station, pair_tablet
from .test_lesson import STATUS_LOG, said
from .test_live_link import rising, wait_until

pytestmark = pytest.mark.e2e

# Every close code the page's WebSockets saw.
CLOSE_LOG = """
window.wsCloses = [];
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener('close', (event) => window.wsCloses.push(event.code));
  }
};
"""

# A fast heartbeat and sweep, so that a silent row is stale within seconds here.
FAST_PRESENCE = {
    "LIVE_HEARTBEAT_SECONDS": "1",
    "LIVE_PRESENCE_STALE_SECONDS": "2",
    "LIVE_SWEEP_SECONDS": "1",
}


@pytest.fixture
def fast_presence(monkeypatch, settings, transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("a server process shares the database through PostgreSQL")
    for name, value in FAST_PRESENCE.items():
        monkeypatch.setenv(name, value)
    settings.LIVE = {
        **settings.LIVE,
        "HEARTBEAT_SECONDS": 1,
        "PRESENCE_STALE_SECONDS": 2,
        "SWEEP_SECONDS": 1,
    }


class Server:
    """One ``cartable serve`` process on a fixed port, that can be killed and started again."""

    def __init__(self):
        self.port = free_port()
        self.worker = None

    def start(self):
        self.worker = WorkerProcess(self.port).wait_ready()
        self.url = self.worker.url
        return self

    def kill(self):
        self.worker.process.send_signal(signal.SIGKILL)
        self.worker.process.wait(timeout=10)

    def stop(self):
        if self.worker and self.worker.process.poll() is None:
            self.worker.stop()


@pytest.fixture
def server(fast_presence):
    running = Server()
    yield running
    running.stop()


def start_lesson(new_page, server, loan, teacher):
    station_page = new_page()
    station_page.add_init_script(STATUS_LOG)
    station_page.add_init_script(CLOSE_LOG)
    station = open_station(station_page, server, teacher, loan)
    pupil_page = new_page()
    pupil_page.add_init_script(STATUS_LOG)
    pupil_page.add_init_script(CLOSE_LOG)
    pupil = pair_tablet(pupil_page, server, loan, teacher)
    station.get_by_role("button", name="Démarrer la séance").click()
    pupil.get_by_role("button", name="Rejoindre la classe").click()
    assert rising(pupil, "board")
    # Both sides attend, and their heartbeats have been heard at least once.
    wait_until(
        lambda: (
            Attendance.objects.filter(
                left_at__isnull=True, last_seen_at__gt=timezone.now() - timedelta(seconds=2)
            ).count()
            == 2
        )
    )
    return station, pupil


def presences_are_true(session: LiveSession):
    """Every row closed, none overlapping another of its side, the report their sum."""
    rows = list(Attendance.objects.filter(session=session).order_by("side", "joined_at"))
    assert rows and all(row.left_at is not None for row in rows)
    for side in ("class", "pupil"):
        mine = [row for row in rows if row.side == side]
        for before, after in zip(mine, mine[1:], strict=False):
            assert before.left_at <= after.joined_at
    pupil = Attendance.objects.filter(session=session, side="pupil")
    total = sum(((row.left_at - row.joined_at) for row in pupil), timedelta())
    assert reports.live_seconds(pupil) == pytest.approx(total.total_seconds())
    return rows


def test_a_server_killed_during_a_lesson_leaves_true_records(server, new_page, loan, teacher):
    server.start()
    station, pupil = start_lesson(new_page, server, loan, teacher)
    session = LiveSession.objects.get(loan=loan)
    server.kill()
    killed_at = timezone.now()
    # Nobody comes back (the tablets were switched off meanwhile).
    for page in (station, pupil):
        page.context.close()
    server.start()
    # The rows stay open until the sweep finds them silent; open, they count only up to their
    # last sign of life already.
    dead = Attendance.objects.filter(session=session, side="pupil")
    assert reports.live_seconds(dead) <= (killed_at - session.started_at).total_seconds()
    # Both sides' rows: their last heartbeats may be up to a heartbeat apart, so one side
    # can be found silent a sweep before the other.
    still_open = Attendance.objects.filter(session=session, left_at__isnull=True)
    wait_until(lambda: call_command("live_sweep") or not still_open.exists(), 15)
    rows = presences_are_true(session)
    for row in rows:
        assert row.left_at == row.last_seen_at <= killed_at
    # Not abandoned yet: a class coming back within 30 minutes resumes it.
    session.refresh_from_db()
    assert session.ended_at is None


def test_the_class_coming_back_after_a_kill_goes_on_with_true_records(
    server, new_page, loan, teacher
):
    server.start()
    station, pupil = start_lesson(new_page, server, loan, teacher)
    session = LiveSession.objects.get(loan=loan)
    before = set(Attendance.objects.values_list("pk", flat=True))
    server.kill()
    killed_at = timezone.now()
    for page in (station, pupil):
        wait_until(lambda page=page: said(page, "Reconnexion…"))
    restarted_at = timezone.now()
    server.start()
    # The pages reconnect by themselves, into the same session.
    for page in (station, pupil):
        wait_until(lambda page=page: said(page, "Connexion rétablie."), timeout=20)
    wait_until(
        lambda: Attendance.objects.filter(left_at__isnull=True).exclude(pk__in=before).count() == 2
    )
    assert rising(pupil, "board")
    station.get_by_role("button", name="Terminer la séance").click()
    pupil.locator("#pupil[data-state=out]").wait_for(state="attached")
    session.refresh_from_db()
    assert session.end_reason == LiveSession.EndReason.ENDED_BY_CLASS
    rows = presences_are_true(session)
    for row in rows:
        if row.pk in before:  # cut by the kill: ended at its last sign of life
            assert row.left_at == row.last_seen_at <= killed_at
        else:  # joined again after the restart
            assert row.joined_at >= restarted_at


# Redis restarted during a lesson ---------------------------------------------------------


class Redis:
    """A redis-server of the test's own, on this namespace's loopback, that can restart."""

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="cartable-redis-")
        self.process = None

    def start(self):
        self.process = subprocess.Popen(  # noqa: S603
            [
                shutil.which("redis-server") or "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_until(self._ready)
        return self

    def _ready(self) -> bool:
        import socket

        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def redis(fast_presence, monkeypatch):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("the Redis channel layer is tested in the PostgreSQL + Redis pass")
    running = Redis().start()
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{running.port}/0")
    yield running
    running.close()


def test_a_redis_restart_during_a_lesson_is_survived(server, redis, new_page, loan, teacher):
    server.start()
    station, pupil = start_lesson(new_page, server, loan, teacher)
    session = LiveSession.objects.get(loan=loan)
    before = set(Attendance.objects.values_list("pk", flat=True))
    redis.stop()
    # Every consumer loses the layer: it closes its attendance row and asks its client to
    # come back (1013); the clients keep their media and reconnect by themselves.
    wait_until(lambda: not Attendance.objects.filter(pk__in=before, left_at__isnull=True), 20)
    for page in (station, pupil):
        wait_until(lambda page=page: said(page, "Reconnexion…"))
        # Closed by the consumer after its cleanup, not dropped (1006).
        assert 1013 in page.evaluate("window.wsCloses")
    assert rising(pupil, "board")
    redis.start()
    for page in (station, pupil):
        wait_until(lambda page=page: said(page, "Connexion rétablie."), timeout=30)
    # Back in the same session, each side with a new row, and they hear of each other.
    wait_until(
        lambda: (
            Attendance.objects.filter(session=session, left_at__isnull=True)
            .exclude(pk__in=before)
            .count()
            == 2
        ),
        20,
    )
    station.locator("#station[data-pupil=connected]").wait_for(state="attached")
    station.get_by_label("Écrire un message").fill("Toujours là ?")
    station.get_by_role("button", name="Envoyer", exact=True).click()
    pupil.get_by_role("log").get_by_text("Toujours là ?").wait_for()
    assert rising(pupil, "board")
    station.get_by_role("button", name="Terminer la séance").click()
    pupil.locator("#pupil[data-state=out]").wait_for(state="attached")
    session.refresh_from_db()
    assert session.end_reason == LiveSession.EndReason.ENDED_BY_CLASS
    assert LiveSession.objects.filter(loan=loan).count() == 1
    presences_are_true(session)
