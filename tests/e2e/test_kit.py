"""The classroom kit's agent against the real server and a real Chromium pupil page: enrol
with the label's code, heartbeats, a lesson in kit mode, both pictures on the pupil's page,
the pupil's voice at the kit, pause, steering, a still, the end; and it recovers."""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest

from cartable.fleet.models import Device

from ..live.wsclient import Links
from .helpers import pair_tablet
from .kitagent import AgentThread
from .netem import TABLE, _nft
from .test_live_link import rising, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def kit(asgi_server, loan, tmp_path):
    agent = AgentThread(asgi_server, loan, tmp_path).start()
    yield agent
    agent.stop()


@pytest.fixture
def tablet_ws(asgi_server):
    opened = Links(asgi_server)
    yield opened
    opened.close_all()


def test_a_lesson_with_the_kit(asgi_server, new_page, loan, teacher, kit, tablet_ws):
    # Heartbeats with the cameras it has.
    wait_until(lambda: Device.objects.get(pk=kit.box.pk).last_seen_at is not None)
    wait_until(lambda: kit.link is not None and kit.link.connected.is_set())

    pupil = pair_tablet(new_page(), asgi_server, loan, teacher)
    tablet = tablet_ws.open(loan.pk, "class", user=teacher)
    tablet.hello()
    tablet.send("start")
    pupil.get_by_role("button", name="Rejoindre la classe").click()
    assert rising(pupil, "board", 1.0)
    assert rising(pupil, "class", 1.0)
    # The pupil's voice reaches the kit (Chromium's fake microphone beeps).
    wait_until(lambda: kit.sink.frames > 50 and kit.sink.peak > 0, timeout=15)
    assert True in kit.lights


@contextmanager
def network_cut(port: int):
    """Nothing arrives on loopback: the media (UDP) and the server's port (TCP)."""
    _nft("delete", "table", "inet", TABLE, check=False)
    _nft("add", "table", "inet", TABLE)
    _nft("add", "chain", "inet", TABLE, "in", "{ type filter hook input priority 0; }")
    _nft("add", "rule", "inet", TABLE, "in", "meta", "l4proto", "udp", "drop")
    _nft("add", "rule", "inet", TABLE, "in", "tcp", "dport", str(port), "drop")
    _nft("add", "rule", "inet", TABLE, "in", "tcp", "sport", str(port), "drop")
    try:
        yield
    finally:
        _nft("delete", "table", "inet", TABLE, check=False)


@pytest.fixture
def kit_lesson(asgi_server, new_page, loan, teacher, kit, tablet_ws):
    wait_until(lambda: kit.link is not None and kit.link.connected.is_set())
    pupil = pair_tablet(new_page(), asgi_server, loan, teacher)
    tablet = tablet_ws.open(loan.pk, "class", user=teacher)
    tablet.hello()
    tablet.send("start")
    pupil.get_by_role("button", name="Rejoindre la classe").click()
    # Two agents' encoders and a browser on a shared 2-core machine: give the first frame time.
    wait_until(lambda: rising(pupil, "board"), timeout=30)
    return tablet, pupil


def test_pause_steering_still_hand_and_end(kit_lesson, kit):
    tablet, pupil = kit_lesson
    # The pupil steers the class view: the kit crops.
    pupil.locator("#pupil-pad").get_by_role("button", name="Zoomer (+)").click()
    wait_until(lambda: kit.link.view.zoom > 1)
    wait_until(lambda: pupil.evaluate("window.cartableSteer.view.zoom") > 1)
    # A still of the board, from the kit's camera.
    pupil.get_by_role("button", name="Photo du tableau").click()
    pupil.wait_for_function(
        "() => document.getElementById('still-image').complete"
        " && document.getElementById('still-image').naturalWidth > 0"
    )
    assert kit.link.stills_sent == 1
    # A raised hand rings at the kit.
    pupil.get_by_role("button", name="Lever la main").click()
    wait_until(lambda: kit.hands)
    # The privacy pause, from the tablet: the kit stops sending.
    tablet.send("pause", paused=True)
    wait_until(lambda: kit.link.paused)
    assert kit.link.sending("board") is None and kit.link.sending("audio") is None
    wait_until(lambda: not rising(pupil, "board", 1.0))
    tablet.send("pause", paused=False)
    wait_until(lambda: rising(pupil, "board", 1.0))
    # The end: the cameras close, the light goes off.
    tablet.send("end")
    wait_until(lambda: kit.link.session is None and not kit.link.tracks)
    assert kit.lights[-1] is False


def test_a_camera_that_stops_goes_black_and_comes_back(kit_lesson, kit):
    tablet, pupil = kit_lesson
    kit.link.source_objects["class"].stopped = True
    wait_until(lambda: kit.link.camera_state("class") == "missing")
    state = wait_until(
        lambda: _last(tablet, "kit_state", lambda m: m["cameras"]["class"] == "missing")
    )
    assert "débranchée" in state["message"]
    assert rising(pupil, "class")  # a black picture with its message is still sent
    kit.link.source_objects["class"].stopped = False
    wait_until(lambda: kit.link.camera_state("class") == "ok")
    wait_until(lambda: _last(tablet, "kit_state", lambda m: m["cameras"]["class"] == "ok"))


def test_the_lesson_resumes_after_a_server_restart(kit_lesson, kit, asgi_server):
    tablet, pupil = kit_lesson
    before = kit.link.connections
    asgi_server.restart(down_for=1.0)
    wait_until(lambda: kit.link.connections > before and kit.link.connected.is_set(), timeout=20)
    assert kit.link.session is not None
    wait_until(lambda: rising(pupil, "board", 1.0), timeout=20)
    wait_until(lambda: rising(pupil, "class", 1.0), timeout=20)


def test_the_lesson_resumes_after_a_network_cut(kit_lesson, kit, asgi_server):
    tablet, pupil = kit_lesson
    with network_cut(asgi_server.port):
        time.sleep(6)
    wait_until(lambda: rising(pupil, "board", 1.0), timeout=30)
    wait_until(lambda: kit.link.connected.is_set(), timeout=30)
    assert kit.link.session is not None


def _last(link, kind, predicate):
    """Read what arrived on a test client; the latest message of ``kind`` that fits."""
    found = None
    while True:
        try:
            message = link.receive(timeout=0.2)
        except AssertionError:
            break
        if message["type"] == kind and predicate(message):
            found = message
    return found
