"""Honest presence: the last sign of life of each attendance row, the sweep that closes the
rows no live socket holds, and consumers that survive a channel-layer outage.

The server tests talk to the real ASGI application (uvicorn on 127.0.0.1), as in
test_signalling.py; the sweep and the reports are called directly on rows written as a
server killed mid-lesson leaves them (open, last seen some time ago).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.layers import get_channel_layer
from django.core.management import call_command
from django.utils import timezone

from cartable.fleet import reports
from cartable.live import consumers, services
from cartable.live.models import Attendance, LiveSession

from .test_signalling import both_present, live_session
from .wsclient import Links, wait_until


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def links(asgi_server):
    opened = Links(asgi_server)
    yield opened
    opened.close_all()


def crashed_lesson(loan, teacher, *, minutes_ago: int, seen_minutes_ago: int) -> LiveSession:
    """A session whose server was killed: both rows open, last seen ``seen_minutes_ago``."""
    now = timezone.now()
    session = LiveSession.objects.create(
        loan=loan, started_at=now - timedelta(minutes=minutes_ago), started_by=teacher
    )
    for side in ("class", "pupil"):
        Attendance.objects.create(
            session=session,
            side=side,
            joined_at=now - timedelta(minutes=minutes_ago),
            last_seen_at=now - timedelta(minutes=seen_minutes_ago),
        )
    return session


def open_rows():
    return Attendance.objects.filter(left_at__isnull=True)


# The last sign of life -----------------------------------------------------------------


def test_joining_sets_the_last_sign_of_life(links, loan, teacher, pupil_token):
    live_session(links, loan, teacher, pupil_token)
    for row in Attendance.objects.all():
        # Its joining, or the message that made it join (the class's start).
        assert row.last_seen_at >= row.joined_at


def test_the_heartbeat_refreshes_the_last_sign_of_life(links, loan, teacher, pupil_token, settings):
    settings.LIVE = {**settings.LIVE, "HEARTBEAT_SECONDS": 1}
    live_session(links, loan, teacher, pupil_token)
    rows = {row.pk: row.last_seen_at for row in open_rows()}
    assert len(rows) == 2
    wait_until(
        lambda: all(Attendance.objects.get(pk=pk).last_seen_at > seen for pk, seen in rows.items())
    )


def test_a_message_refreshes_the_last_sign_of_life(links, loan, teacher, pupil_token, monkeypatch):
    monkeypatch.setattr(consumers, "TOUCH_MIN_INTERVAL_S", 0)
    klass, pupil = live_session(links, loan, teacher, pupil_token)
    row = Attendance.objects.get(side="pupil")
    pupil.send("hand", raised=True)
    klass.expect("hand", raised=True)
    wait_until(lambda: Attendance.objects.get(pk=row.pk).last_seen_at > row.last_seen_at)


def test_leaving_writes_the_last_sign_of_life(links, loan, teacher, pupil_token):
    klass, pupil = live_session(links, loan, teacher, pupil_token)
    pupil.send("leave")
    klass.expect("peer_left")
    row = wait_until(lambda: Attendance.objects.filter(side="pupil", left_at__isnull=False).first())
    assert row.last_seen_at == row.left_at


def test_a_row_swept_under_a_live_connection_is_taken_back(
    links, loan, teacher, pupil_token, settings
):
    # The server stalled longer than the stale delay: the sweep closed a row whose socket is
    # still there. Its next heartbeat opens a new row, so presence goes on being counted.
    settings.LIVE = {**settings.LIVE, "HEARTBEAT_SECONDS": 1}
    live_session(links, loan, teacher, pupil_token)
    row = Attendance.objects.get(side="pupil")
    Attendance.objects.filter(pk=row.pk).update(left_at=row.last_seen_at)
    again = wait_until(lambda: open_rows().filter(side="pupil").exclude(pk=row.pk).first())
    assert again.session_id == row.session_id


# The sweep ---------------------------------------------------------------------------------


def test_the_sweep_closes_silent_rows_at_their_last_sign_of_life(loan, teacher):
    session = crashed_lesson(loan, teacher, minutes_ago=50, seen_minutes_ago=10)
    seen = {row.pk: row.last_seen_at for row in open_rows()}
    swept = services.presence_sweep()
    assert swept.rows_closed == 2
    for row in Attendance.objects.filter(session=session):
        assert row.left_at == seen[row.pk]
    # Last seen 10 minutes ago: not abandoned yet (30 minutes), a rejoin resumes it.
    assert swept.sessions_abandoned == 0
    assert LiveSession.objects.get(pk=session.pk).ended_at is None
    # Twice changes nothing.
    assert services.presence_sweep() == services.Swept(rows_closed=0, sessions_abandoned=0)


def test_the_sweep_leaves_rows_with_a_recent_sign_of_life(loan, teacher):
    crashed_lesson(loan, teacher, minutes_ago=50, seen_minutes_ago=0)
    assert services.presence_sweep().rows_closed == 0
    assert open_rows().count() == 2


def test_the_sweep_ends_a_session_abandoned_after_a_crash_at_its_last_presence(loan, teacher):
    session = crashed_lesson(loan, teacher, minutes_ago=180, seen_minutes_ago=150)
    last = open_rows().first().last_seen_at
    swept = services.presence_sweep()
    assert swept == services.Swept(rows_closed=2, sessions_abandoned=1)
    session.refresh_from_db()
    assert session.end_reason == LiveSession.EndReason.ABANDONED
    assert session.ended_at == last


def test_the_live_sweep_command_says_what_it_did(loan, teacher, capsys):
    crashed_lesson(loan, teacher, minutes_ago=180, seen_minutes_ago=150)
    call_command("live_sweep")
    out = capsys.readouterr().out
    assert "closed at their last sign of life: 2" in out
    assert "sessions ended as abandoned: 1" in out
    assert not open_rows().exists()


def test_ending_a_session_closes_a_dead_sides_row_at_its_last_sign_of_life(loan, teacher):
    session = crashed_lesson(loan, teacher, minutes_ago=50, seen_minutes_ago=10)
    pupil = Attendance.objects.get(session=session, side="pupil")
    services.session_end(session=session)
    pupil.refresh_from_db()
    assert pupil.left_at == pupil.last_seen_at


# Rejoining -------------------------------------------------------------------------------


def test_a_rejoin_after_the_abandon_delay_starts_a_new_session(links, loan, teacher):
    old = crashed_lesson(loan, teacher, minutes_ago=180, seen_minutes_ago=150)
    last = open_rows().first().last_seen_at
    klass = links.open(loan.pk, "class", user=teacher)
    assert klass.hello()["session"] is None
    klass.send("start")
    started = klass.expect("session_started")
    assert started["session"]["id"] != old.pk
    old.refresh_from_db()
    assert (old.end_reason, old.ended_at) == (LiveSession.EndReason.ABANDONED, last)
    assert not open_rows().filter(session=old).exists()


def test_a_rejoin_within_the_abandon_delay_resumes_the_session(links, loan, teacher, pupil_token):
    old = crashed_lesson(loan, teacher, minutes_ago=50, seen_minutes_ago=10)
    dead = list(open_rows())
    pupil = links.open(loan.pk, "pupil", device=pupil_token)
    assert pupil.hello()["session"]["id"] == old.pk
    # Both dead rows ended at their last sign of life; the pupil has a new one.
    for row in dead:
        row.refresh_from_db()
        assert row.left_at == row.last_seen_at
    assert open_rows().get().side == "pupil"


# Reports ---------------------------------------------------------------------------------


def test_reports_count_an_open_row_only_up_to_its_last_sign_of_life(loan, teacher):
    session = crashed_lesson(loan, teacher, minutes_ago=180, seen_minutes_ago=150)
    pupil = Attendance.objects.filter(session=session, side="pupil")
    # Still open (no sweep ran): 30 minutes, not three hours.
    assert reports.live_seconds(pupil) == pytest.approx(30 * 60, abs=1)
    services.presence_sweep()
    assert reports.live_seconds(pupil) == pytest.approx(30 * 60, abs=1)


# Channel-layer outage ----------------------------------------------------------------------


class FlakyLayer:
    """Makes the channel layer's ``method`` (in memory or Redis) fail ``times`` times, as
    Redis does while it restarts (redis-py raises its ConnectionError; the builtin one
    stands in)."""

    def __init__(self, monkeypatch, method: str, times: int, only=None):
        self.left = times
        layer_class = type(get_channel_layer())
        original = getattr(layer_class, method)
        flaky = self

        async def failing(layer, *args, **kwargs):
            if flaky.left > 0 and (only is None or only(*args)):
                flaky.left -= 1
                raise ConnectionError("Connection closed by server.")
            return await original(layer, *args, **kwargs)

        monkeypatch.setattr(layer_class, method, failing)


def test_a_stale_pooled_connection_is_retried_once(links, loan, teacher, monkeypatch):
    monkeypatch.setattr(consumers, "LAYER_RETRY_DELAY_S", 0)
    flaky = FlakyLayer(monkeypatch, "group_add", times=1)
    klass = links.open(loan.pk, "class", user=teacher)
    assert klass.hello()["type"] == "welcome"
    assert flaky.left == 0


def test_a_layer_down_at_the_hello_closes_with_1013(links, loan, teacher, monkeypatch):
    monkeypatch.setattr(consumers, "LAYER_RETRY_DELAY_S", 0)
    FlakyLayer(monkeypatch, "group_add", times=2)
    klass = links.open(loan.pk, "class", user=teacher)
    klass.send("hello", version=1)
    klass.expect_error("unavailable")
    assert klass.expect_close() == consumers.CLOSE_TRY_AGAIN
    # The layer is back: the client's next try is welcomed.
    again = links.open(loan.pk, "class", user=teacher)
    assert again.hello()["type"] == "welcome"


def test_a_layer_lost_during_a_lesson_closes_with_1013_after_the_cleanup(
    links, loan, teacher, pupil_token, monkeypatch
):
    monkeypatch.setattr(consumers, "LAYER_RETRY_DELAY_S", 0)
    klass, pupil = live_session(links, loan, teacher, pupil_token)
    session = LiveSession.objects.get(loan=loan)
    # The class's relay to the pupil fails twice running (Redis went away).
    FlakyLayer(monkeypatch, "send", times=2, only=lambda channel, message: "relay" in str(message))
    klass.send("media", microphone=True, camera=True)
    klass.expect_error("unavailable")
    assert klass.expect_close() == consumers.CLOSE_TRY_AGAIN
    # Cleaned up: the class's row is closed, the pupil is told the class was cut.
    assert pupil.expect("peer_left", side="class")["reason"] == "lost"
    wait_until(lambda: not open_rows().filter(side="class").exists())
    # The class comes back by itself into the same session and both hear of each other.
    again = links.open(loan.pk, "class", user=teacher)
    assert again.hello()["session"]["id"] == session.pk
    assert pupil.expect("peer_joined")["side"] == "class"
    assert open_rows().filter(side="class").count() == 1


def test_a_layer_lost_while_waiting_for_events_closes_with_1013(
    links, loan, teacher, pupil_token, monkeypatch
):
    monkeypatch.setattr(consumers, "LAYER_RETRY_DELAY_S", 0)
    klass, pupil = both_present(links, loan, teacher, pupil_token)
    klass.send("start")
    klass.expect("session_started")
    pupil.expect("session_started")
    # The receive loop's read from the layer fails, as after a Redis restart.
    FlakyLayer(monkeypatch, "receive", times=4)
    # The event that wakes the loop: the class's relay reaches the pupil's channel.
    klass.send("media", microphone=False, camera=False)
    messages, code = pupil.drain_until_closed()
    assert code == consumers.CLOSE_TRY_AGAIN
    assert {"type": "error", "code": "unavailable"}.items() <= messages[-1].items()
    wait_until(lambda: not open_rows().filter(side="pupil").exists())
