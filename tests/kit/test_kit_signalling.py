"""Kit mode on the signalling WebSocket: the kit's agent is the class's media side, the
teacher's tablet the control side; every kit message refused to whoever may not send it."""

from __future__ import annotations

import pytest

from cartable.fleet.models import Device, DeviceCredential, Kit
from cartable.fleet.services import credential_issue

from ..live.wsclient import Links

OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}
TRACKS = {"0": "board", "1": "class", "2": "audio", "3": "pupil_camera"}
STATE = {
    "cameras": {"board": "ok", "class": "missing"},
    "microphone": True,
    "on_air": True,
    "network": "wired",
    "blur": "off",
}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def links(asgi_server):
    opened = Links(asgi_server)
    yield opened
    opened.close_all()


@pytest.fixture
def kit_token(loan) -> str:
    box = Device.objects.create(kit=loan.kit, kind=Device.Kind.CLASS_BOX, serial="SN-BOX-1")
    return credential_issue(kind=DeviceCredential.Kind.KIT_DEVICE, device=box)[1]


def test_the_kits_agent_opens_the_kit_side_with_its_enrolled_credential(links, loan, kit_token):
    assert links.open(loan.pk, "kit", bearer=kit_token).hello()["side"] == "kit"


def test_nobody_else_opens_the_kit_side(links, loan, teacher, pupil_token, station_token):
    assert links.refused(loan.pk, "kit") == 403
    assert links.refused(loan.pk, "kit", user=teacher) == 403
    assert links.refused(loan.pk, "kit", bearer=pupil_token) == 403
    assert links.refused(loan.pk, "kit", bearer=station_token) == 403
    # A kit device that is not the class box (the 4G router), and another kit's box.
    router = Device.objects.create(kit=loan.kit, kind=Device.Kind.ROUTER_4G, serial="SN-R")
    router_token = credential_issue(kind="kit_device", device=router)[1]
    assert links.refused(loan.pk, "kit", bearer=router_token) == 403
    other = Kit.objects.create(code="CC-OTHER-1")
    box = Device.objects.create(kit=other, kind=Device.Kind.CLASS_BOX, serial="SN-BOX-9")
    assert links.refused(loan.pk, "kit", bearer=credential_issue(kind="kit_device", device=box)[1])
    # The kit's credential opens neither the class nor the pupil side.
    box_token = credential_issue(
        kind="kit_device", device=Device.objects.create(kit=loan.kit, kind="class_box", serial="B2")
    )[1]
    assert links.refused(loan.pk, "class", bearer=box_token) == 403
    assert links.refused(loan.pk, "pupil", bearer=box_token) == 403


def kit_lesson(links, loan, teacher, pupil_token, kit_token):
    pupil = links.open(loan.pk, "pupil", device=pupil_token)
    pupil.hello()
    tablet = links.open(loan.pk, "class", user=teacher)
    tablet.hello()
    tablet.expect("peer_joined", side="pupil")
    pupil.expect("peer_joined", side="class")
    agent = links.open(loan.pk, "kit", bearer=kit_token)
    agent.hello()
    got = {agent.receive()["type"] for _ in range(2)}
    assert got == {"peer_joined"}
    tablet.expect("kit_presence", online=True)
    # To the pupil the kit is its class side: its page works as with a browser station.
    pupil.expect("peer_joined", side="class")
    tablet.send("start")
    tablet.expect("session_started")
    pupil.expect("session_started")
    agent.expect("session_started")
    return tablet, pupil, agent


def test_in_kit_mode_media_goes_between_the_kit_and_the_pupil(
    links, loan, teacher, pupil_token, kit_token
):
    tablet, pupil, agent = kit_lesson(links, loan, teacher, pupil_token, kit_token)
    agent.send("signal", pc="kit1", description=OFFER, tracks=TRACKS)
    message = pupil.expect("signal", pc="kit1")
    assert message["tracks"] == TRACKS and message["from"] == "kit"
    pupil.send("signal", pc="pup1", description={"type": "answer", "sdp": "v=0\r\n"})
    agent.expect("signal", pc="pup1")
    # The tablet does not offer media in kit mode.
    tablet.send("signal", pc="tab1", description=OFFER, tracks=TRACKS)
    tablet.expect_error("kit_mode")
    tablet.roundtrip()
    pupil.roundtrip()
    assert not pupil.pending


def test_in_kit_mode_the_tablet_controls_and_the_kit_reports(
    links, loan, teacher, pupil_token, kit_token
):
    tablet, pupil, agent = kit_lesson(links, loan, teacher, pupil_token, kit_token)
    tablet.send("pause", paused=True)
    pupil.expect("pause", paused=True)
    agent.expect("pause", paused=True)
    pupil.send("economy", on=True)
    tablet.expect("economy", on=True)
    agent.expect("economy", on=True)
    pupil.send("hand", raised=True)
    tablet.expect("hand", raised=True)
    agent.expect("hand", raised=True)
    agent.send("kit_state", **STATE)
    state = tablet.expect("kit_state", on_air=True)
    assert state["cameras"] == {"board": "ok", "class": "missing"}
    tablet.send("kit_mask", zone={"x": 0.1, "y": 0.2, "w": 0.3, "h": 0.4})
    agent.expect("kit_mask", zone={"x": 0.1, "y": 0.2, "w": 0.3, "h": 0.4})
    pupil.send("chat", text="Bonjour")
    tablet.expect("chat", text="Bonjour")
    tablet.send("end")
    agent.expect("session_ended")


def test_kit_messages_are_refused_to_whoever_may_not_send_them(
    links, loan, teacher, pupil_token, kit_token
):
    tablet, pupil, agent = kit_lesson(links, loan, teacher, pupil_token, kit_token)
    for link in (tablet, pupil):
        link.send("kit_state", **STATE)
        link.expect_error("not_allowed")
    for link in (pupil, agent):
        link.send("kit_mask", zone=None)
        link.expect_error("not_allowed")
    # The kit follows the lesson; it does not start, end, pause or chat.
    for message, fields in [
        ("start", {}),
        ("end", {}),
        ("pause", {"paused": True}),
        ("floor", {}),
        ("chat", {"text": "x"}),
        ("hand", {"raised": True}),
    ]:
        agent.send(message, **fields)
        agent.expect_error("not_allowed")


@pytest.mark.parametrize(
    "fields",
    [
        {**STATE, "cameras": {"board": "ok"}},
        {**STATE, "cameras": {"board": "ok", "class": "on", "x": "ok"}},
        {**STATE, "cameras": "ok"},
        {**STATE, "on_air": "yes"},
        {**STATE, "network": "5g"},
        {**STATE, "message": "x" * 301},
        {**STATE, "extra": 1},
        {**STATE, "cameras": {"board": {"deep": {"deeper": []}}, "class": "ok"}},
    ],
)
def test_a_bad_kit_state_is_refused(links, loan, teacher, pupil_token, kit_token, fields):
    tablet, pupil, agent = kit_lesson(links, loan, teacher, pupil_token, kit_token)
    agent.send("kit_state", **fields)
    agent.expect_error("bad_message")


@pytest.mark.parametrize(
    "zone", [{"x": 2, "y": 0, "w": 0.1, "h": 0.1}, {"x": 0, "y": 0, "w": 0, "h": 0.1}, "all", []]
)
def test_a_bad_mask_is_refused(links, loan, teacher, pupil_token, kit_token, zone):
    tablet, pupil, agent = kit_lesson(links, loan, teacher, pupil_token, kit_token)
    tablet.send("kit_mask", zone=zone)
    tablet.expect_error("bad_message")


def test_the_kit_leaving_tells_the_tablet_and_the_pupil(
    links, loan, teacher, pupil_token, kit_token
):
    tablet, pupil, agent = kit_lesson(links, loan, teacher, pupil_token, kit_token)
    agent.send("leave")
    tablet.expect("kit_presence", online=False, reason="left")
    pupil.expect("peer_left", side="class", reason="left")
    # The tablet leaving is not the class leaving while the kit is there.
    agent = links.open(loan.pk, "kit", bearer=kit_token)
    agent.hello()
    assert {agent.receive()["side"] for _ in range(2)} == {"class", "pupil"}
    tablet.expect("kit_presence", online=True)
    pupil.expect("peer_joined", side="class")
    tablet.send("leave")
    agent.expect("peer_left", side="class")
    pupil.roundtrip()
    assert not pupil.pending
