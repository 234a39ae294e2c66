"""The classroom kit's agent against the real server and a real Chromium pupil page: enrol
with the label's code, heartbeats, a lesson in kit mode, both pictures on the pupil's page,
the pupil's voice at the kit, pause, steering, a still, the end; and it recovers."""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest

from cartable.fleet.models import Device

from ..live.wsclient import Links
from .conftest import assert_accessible
from .helpers import pair_tablet, sign_in
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


def test_a_lesson_with_the_kit_from_the_teachers_tablet(asgi_server, new_page, loan, teacher, kit):
    # Heartbeats with the cameras it has: the station page opens in kit mode.
    wait_until(lambda: Device.objects.get(pk=kit.box.pk).last_seen_at is not None)
    wait_until(lambda: kit.link is not None and kit.link.connected.is_set())
    station = new_page()
    sign_in(station, asgi_server, teacher, f"/station/{loan.pk}/")
    station.locator("#station[data-mode=kit]").wait_for(state="attached")
    assert station.locator("#board-camera").count() == 0  # it captures no camera
    station.get_by_text("Boîtier connecté.").wait_for()
    assert_accessible(station)

    pupil = pair_tablet(new_page(), asgi_server, loan, teacher)
    station.get_by_role("button", name="Démarrer la séance").click()
    pupil.get_by_role("button", name="Rejoindre la classe").click()
    wait_until(lambda: rising(pupil, "board"), timeout=30)
    assert rising(pupil, "class", 1.0)
    # The pupil's voice reaches the kit (Chromium's fake microphone beeps).
    wait_until(lambda: kit.sink.frames > 50 and kit.sink.peak > 0, timeout=15)
    # The kit's state on the tablet: on air, both cameras sending.
    station.locator("#kit-on-air").wait_for(state="visible")
    wait_until(lambda: station.locator("#kit-board").inner_text() == "transmet")
    assert station.locator("#kit-class").inner_text() == "transmet"
    assert True in kit.lights
    assert_accessible(station)
    # Pause and end from the tablet's buttons.
    station.get_by_role("button", name="Pause confidentialité").click()
    wait_until(lambda: kit.link.paused)
    station.locator("#kit-on-air").wait_for(state="hidden")
    station.get_by_role("button", name="Pause confidentialité").click()
    wait_until(lambda: not kit.link.paused)
    station.get_by_label("Zone masquée").select_option("left")
    station.get_by_role("button", name="Appliquer le masque").click()
    wait_until(lambda: kit.link.mask == {"x": 0, "y": 0, "w": 1 / 3, "h": 1})
    station.get_by_role("button", name="Terminer la séance").click()
    wait_until(lambda: kit.link.session is None and not kit.link.tracks)


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
