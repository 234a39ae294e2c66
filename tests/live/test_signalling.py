"""The signalling WebSocket, over a real socket: who may connect, the protocol, and relaying.

Every test talks to the real ASGI application (uvicorn on 127.0.0.1) with the websockets
client, as a browser or the kit agent does. "Nothing is forwarded" is shown without waiting
on a clock: after the invalid messages, the sender sends a valid one, and the other side's
very next message must be that one (the server relays in order).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from websockets.exceptions import ConnectionClosed

from cartable.fleet.models import DeviceCredential, Loan
from cartable.fleet.services import credential_issue, credential_revoke
from cartable.live import consumers, services
from cartable.live.models import Attendance, LiveSession

from .wsclient import Links, on_server, wait_until


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The people fixtures hash a password each; the slow default hasher adds nothing here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def links(asgi_server):
    opened = Links(asgi_server)
    yield opened
    opened.close_all()


def credential_of(token: str) -> DeviceCredential:
    return DeviceCredential.objects.get(pk=int(token.split(".")[0]))


def pupil_joins(links, loan, pupil_token):
    pupil = links.open(loan.pk, "pupil", device=pupil_token)
    pupil.hello()
    return pupil


def class_joins(links, loan, teacher):
    klass = links.open(loan.pk, "class", user=teacher)
    klass.hello()
    return klass


def both_present(links, loan, teacher, pupil_token):
    pupil = pupil_joins(links, loan, pupil_token)
    klass = class_joins(links, loan, teacher)
    klass.expect("peer_joined", side="pupil")
    pupil.expect("peer_joined", side="class")
    return klass, pupil


def live_session(links, loan, teacher, pupil_token):
    klass, pupil = both_present(links, loan, teacher, pupil_token)
    klass.send("start")
    klass.expect("session_started")
    pupil.expect("session_started")
    return klass, pupil


OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}
TRACKS = {"0": "board", "1": "class", "2": "audio", "3": "pupil_camera"}
CANDIDATE = {"candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", "sdpMid": "0"}


# Who may connect ---------------------------------------------------------------------


def test_teacher_of_the_class_opens_the_class_side(links, loan, teacher):
    welcome = links.open(loan.pk, "class", user=teacher).hello()
    assert welcome["side"] == "class"


def test_class_station_opens_the_class_side_with_its_bearer_token_or_cookie(
    links, loan, station_token
):
    # The kit agent sends an Authorization header; a browser on the kit, the cookie.
    assert links.open(loan.pk, "class", bearer=station_token).hello()["side"] == "class"
    assert links.open(loan.pk, "class", device=station_token).hello()["side"] == "class"


def test_paired_tablet_opens_the_pupil_side_and_is_seen(links, loan, pupil_token):
    assert credential_of(pupil_token).last_seen_at is None
    welcome = links.open(loan.pk, "pupil", device=pupil_token).hello()
    assert welcome["side"] == "pupil"
    assert credential_of(pupil_token).last_seen_at is not None


def test_teacher_whose_browser_holds_the_tablet_cookie_opens_the_class_side(
    links, loan, teacher, pupil_token
):
    # The demo runs both pages in one browser: the person, not the tablet, is the class.
    klass = links.open(loan.pk, "class", user=teacher, device=pupil_token)
    assert klass.hello()["side"] == "class"


def test_nobody_is_refused_on_either_side(links, loan):
    assert links.refused(loan.pk, "class") == 403
    assert links.refused(loan.pk, "pupil") == 403


def test_outsider_is_refused(links, loan, outsider):
    assert links.refused(loan.pk, "class", user=outsider) == 403
    assert links.refused(loan.pk, "pupil", user=outsider) == 403


def test_teacher_of_another_class_is_refused(links, loan, other_teacher):
    assert links.refused(loan.pk, "class", user=other_teacher) == 403


def test_teacher_is_not_the_pupil(links, loan, teacher):
    assert links.refused(loan.pk, "pupil", user=teacher) == 403


def test_pupil_tablet_cannot_open_the_class_side(links, loan, pupil_token):
    assert links.refused(loan.pk, "class", device=pupil_token) == 403
    assert links.refused(loan.pk, "class", bearer=pupil_token) == 403


def test_class_station_cannot_open_the_pupil_side(links, loan, station_token):
    assert links.refused(loan.pk, "pupil", device=station_token) == 403


def test_class_station_of_another_kit_is_refused(links, loan, make_loan):
    _, foreign = credential_issue(kind="class_station", kit=make_loan().kit)
    assert links.refused(loan.pk, "class", bearer=foreign) == 403
    assert links.refused(loan.pk, "class", device=foreign) == 403


def test_pupil_of_another_loan_is_refused(links, loan, make_loan, pupil_token):
    other = make_loan()
    assert links.refused(other.pk, "pupil", device=pupil_token) == 403


FORGERIES = {
    "altered secret": lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
    "secret of another id": lambda token: "999999." + token.split(".")[1],
    "no secret": lambda token: token.split(".")[0] + ".",
    "no id": lambda token: token.split(".")[1],
    "garbage": lambda token: "not-a-token",
    "superscript id": lambda token: "\u00b2." + token.split(".")[1],  # isdigit(), not int()
    "id beyond any integer column": lambda token: "9" * 30 + "." + token.split(".")[1],
    "too long": lambda token: token + "x" * 200,
}


def test_forged_token_is_refused(links, loan, pupil_token, station_token):
    for name, forge in FORGERIES.items():
        assert links.refused(loan.pk, "pupil", device=forge(pupil_token)) == 403, name
        assert links.refused(loan.pk, "class", bearer=forge(station_token)) == 403, name


def test_revoked_credential_is_refused(links, loan, pupil_token, station_token):
    services.paired_device_revoke(credential=credential_of(pupil_token))
    credential_revoke(credential=credential_of(station_token))
    assert links.refused(loan.pk, "pupil", device=pupil_token) == 403
    assert links.refused(loan.pk, "class", bearer=station_token) == 403
    assert links.refused(loan.pk, "class", device=station_token) == 403


def test_ended_loan_is_refused(links, loan, teacher, pupil_token, station_token):
    Loan.objects.filter(pk=loan.pk).update(ended_at=timezone.now())
    assert links.refused(loan.pk, "class", user=teacher) == 403
    assert links.refused(loan.pk, "class", bearer=station_token) == 403
    assert links.refused(loan.pk, "pupil", device=pupil_token) == 403


def test_loan_not_yet_started_is_refused(links, loan, teacher, pupil_token):
    tomorrow = timezone.localdate() + timedelta(days=1)
    Loan.objects.filter(pk=loan.pk).update(starts_on=tomorrow)
    assert links.refused(loan.pk, "class", user=teacher) == 403
    assert links.refused(loan.pk, "pupil", device=pupil_token) == 403


def test_loan_past_its_end_date_is_refused(links, loan, teacher, pupil_token):
    today = timezone.localdate()
    Loan.objects.filter(pk=loan.pk).update(
        starts_on=today - timedelta(days=10), ends_on=today - timedelta(days=1)
    )
    assert links.refused(loan.pk, "class", user=teacher) == 403
    assert links.refused(loan.pk, "pupil", device=pupil_token) == 403


def test_unknown_loan_is_refused(links, loan, teacher, station_token):
    assert links.refused(loan.pk + 1000, "class", user=teacher) == 403
    assert links.refused(loan.pk + 1000, "class", bearer=station_token) == 403


def test_unknown_side_is_refused(links, loan, teacher, pupil_token):
    # The same credentials open the sides they are for (and stay connected meanwhile).
    links.open(loan.pk, "class", user=teacher).hello()
    links.open(loan.pk, "pupil", device=pupil_token).hello()
    assert links.refused(loan.pk, "teacher", user=teacher) == 403
    assert links.refused(loan.pk, "Pupil", device=pupil_token) == 403


def test_foreign_origin_is_refused(links, loan, teacher, pupil_token):
    # A page elsewhere cannot ride on the tablet's cookie or the teacher's session, which
    # open the link from the site's own origin (and stay connected meanwhile).
    links.open(loan.pk, "class", user=teacher).hello()
    links.open(loan.pk, "pupil", device=pupil_token).hello()
    evil = "http://evil.example"
    assert links.refused(loan.pk, "pupil", device=pupil_token, origin=evil) == 403
    assert links.refused(loan.pk, "class", user=teacher, origin=evil) == 403
    assert links.refused(loan.pk, "class", user=teacher, origin="null") == 403


def test_refusals_log_no_personal_data(links, loan, outsider, teacher, pupil_token, caplog):
    caplog.set_level(logging.INFO)
    assert links.refused(loan.pk, "class", user=outsider) == 403
    assert links.refused(loan.pk, "class", device=pupil_token) == 403
    pupil = pupil_joins(links, loan, pupil_token)
    pupil.send("start")
    pupil.expect_error("not_allowed")
    pupil.roundtrip()  # the refusal has been logged

    assert "live refused connection" in caplog.text
    assert "code=not_allowed" in caplog.text
    for personal in (loan.pupil.display_name, outsider.username, teacher.username, pupil_token):
        assert personal not in caplog.text


# The handshake -----------------------------------------------------------------------


def test_welcome_tells_each_side_who_it_is_and_who_is_on_the_other_side(
    links, loan, teacher, pupil_token
):
    pupil = links.open(loan.pk, "pupil", device=pupil_token).hello()
    klass = links.open(loan.pk, "class", user=teacher).hello()

    assert pupil["side"] == "pupil"
    assert pupil["polite"] is True
    assert pupil["peer_name"] == loan.school_class.name
    assert klass["side"] == "class"
    assert klass["polite"] is False
    assert klass["peer_name"] == loan.pupil.display_name
    for welcome in (pupil, klass):
        assert welcome["version"] == 1
        assert welcome["loan"] == loan.pk
        assert welcome["session"] is None
        assert welcome["ice_servers"] == []


def test_welcome_hands_out_the_configured_ice_servers(links, loan, teacher, settings):
    settings.LIVE = {**settings.LIVE, "STUN_URLS": ["stun:stun.example:3478"]}
    welcome = links.open(loan.pk, "class", user=teacher).hello()
    assert welcome["ice_servers"] == [{"urls": ["stun:stun.example:3478"]}]


def test_relay_credentials_come_only_with_a_live_session(
    links, loan, teacher, pupil_token, settings
):
    settings.LIVE = {
        **settings.LIVE,
        "TURN_URLS": ["turn:turn.example:3478?transport=udp"],
        "TURN_SECRET": "s3cret",
    }
    pupil = links.open(loan.pk, "pupil", device=pupil_token)
    waiting = pupil.hello()
    # Admitted but not in a lesson: no relay credentials.
    assert waiting["ice_servers"] == []
    assert waiting["ice_transport_policy"] == "all"
    klass = links.open(loan.pk, "class", user=teacher)
    klass.hello()
    klass.expect("peer_joined", side="pupil")
    pupil.expect("peer_joined", side="class")
    klass.send("start")
    for side in (klass, pupil):
        started = side.expect("session_started")
        (relay,) = started["ice_servers"]
        assert relay["urls"] == ["turn:turn.example:3478?transport=udp"]
        expiry, _, _ = relay["username"].partition(":")
        assert int(expiry) > time.time()
        assert relay["credential"]
    # A class station joining the open session gets them in its welcome.
    klass.close()
    again = links.open(loan.pk, "class", user=teacher).hello()
    assert again["ice_servers"][0]["urls"] == ["turn:turn.example:3478?transport=udp"]


def test_unsupported_version_is_refused_and_closed(links, loan, teacher):
    klass = links.open(loan.pk, "class", user=teacher)
    klass.send("hello", version=2)
    klass.expect_error("unsupported_version")
    assert klass.expect_close() == 4400


def test_message_before_hello_is_refused_and_closed(links, loan, teacher):
    for message in ({"type": "start"}, {"type": "ping"}, {"type": "signal", "description": OFFER}):
        klass = links.open(loan.pk, "class", user=teacher)
        klass.send(**message)
        klass.expect_error("hello_required")
        assert klass.expect_close() == 4400


def test_silent_connection_is_closed_after_the_hello_timeout(links, loan, pupil_token, monkeypatch):
    monkeypatch.setattr(consumers, "HELLO_TIMEOUT_S", 0.2)
    pupil = links.open(loan.pk, "pupil", device=pupil_token)
    pupil.expect_error("hello_required")
    assert pupil.expect_close() == 4408


def test_hello_in_time_cancels_the_timeout(links, loan, pupil_token, monkeypatch):
    monkeypatch.setattr(consumers, "HELLO_TIMEOUT_S", 0.5)
    pupil = links.open(loan.pk, "pupil", device=pupil_token)
    pupil.hello()
    pupil.expect_nothing(wait=0.8)  # longer than the timeout
    pupil.roundtrip()


def test_second_hello_is_refused(links, loan, pupil_token):
    pupil = pupil_joins(links, loan, pupil_token)
    pupil.send("hello", version=1)
    pupil.expect_error("bad_message")
    pupil.roundtrip()


# Invalid messages --------------------------------------------------------------------


MALFORMED_JSON = [
    "{not json",
    "",
    '{"type": "ping", "id": 1' + "0" * 5000 + "}",  # past Python's int conversion limit
    "[" * 50_000,  # deeper than the parser goes
]


def test_malformed_json_is_refused(links, loan, teacher, pupil_token):
    klass, pupil = live_session(links, loan, teacher, pupil_token)
    for raw in MALFORMED_JSON:
        pupil.send_raw(raw)
        pupil.expect_error("bad_json")
    pupil.send("media", microphone=True, camera=False)
    klass.expect("media", microphone=True, camera=False)  # still connected, nothing relayed


def test_unknown_type_is_refused(links, loan, pupil_token):
    pupil = pupil_joins(links, loan, pupil_token)
    pupil.send("join_as_teacher")
    pupil.expect_error("unknown_type")
    pupil.roundtrip()


MALFORMED_MESSAGES = {
    "an array": ["not", "an", "object"],
    "no type": {"no": "type"},
    "type not a string": {"type": 7},
    "negative ping id": {"type": "ping", "id": -1},
    "extra field": {"type": "ping", "extra": True},
    "media missing a field": {"type": "media", "camera": True},
}
MALFORMED_SIGNALS = {
    "empty": {"type": "signal"},
    "description and candidate": {"type": "signal", "description": OFFER, "candidate": CANDIDATE},
    "bad sdp type": {"type": "signal", "description": {"type": "pranswer", "sdp": ""}},
    "sdp too long": {"type": "signal", "description": {"type": "offer", "sdp": "x" * 60_001}},
    "bad m-line index": {"type": "signal", "candidate": {"candidate": "c", "sdpMLineIndex": 65}},
    "unknown track label": {"type": "signal", "description": OFFER, "tracks": {"0": "screen"}},
    "long mid": {"type": "signal", "description": OFFER, "tracks": {"x" * 33: "board"}},
}


def refused_and_not_relayed(sender, receiver, messages: dict):
    for name, message in messages.items():
        sender.send_raw(json.dumps(message))
        assert sender.receive()["code"] == "bad_message", name
        sender.send("media", microphone=True, camera=True)
        # The receiver's next message is the valid one: the invalid one never reached it.
        relayed = receiver.receive()
        assert relayed == {
            "type": "media",
            "from": sender.side,
            "microphone": True,
            "camera": True,
        }, name


def test_malformed_messages_are_refused_and_not_relayed(links, loan, teacher, pupil_token):
    klass, pupil = live_session(links, loan, teacher, pupil_token)
    refused_and_not_relayed(klass, pupil, MALFORMED_MESSAGES)


def test_malformed_signals_are_refused_and_not_relayed(links, loan, teacher, pupil_token):
    klass, pupil = live_session(links, loan, teacher, pupil_token)
    refused_and_not_relayed(klass, pupil, MALFORMED_SIGNALS)


def test_pupil_may_not_label_tracks(links, loan, teacher, pupil_token):
    klass, pupil = live_session(links, loan, teacher, pupil_token)
    pupil.send("signal", description=OFFER, tracks={"0": "board"})
    pupil.expect_error("bad_message")
    pupil.send("media", microphone=False, camera=False)
    klass.expect("media", microphone=False, camera=False, **{"from": "pupil"})


def test_binary_frame_is_refused(links, loan, teacher, pupil_token):
    klass, pupil = live_session(links, loan, teacher, pupil_token)
    pupil.send_raw(json.dumps({"type": "media", "microphone": True, "camera": True}).encode())
    pupil.expect_error("bad_message")
    pupil.send("media", microphone=False, camera=True)
    klass.expect("media", microphone=False, camera=True)


def test_pupil_may_not_start_or_end_the_session(links, loan, teacher, pupil_token):
    klass, pupil = both_present(links, loan, teacher, pupil_token)
    pupil.send("start")
    pupil.expect_error("not_allowed")
    assert not LiveSession.objects.filter(loan=loan).exists()

    klass.send("start")
    klass.expect("session_started")
    pupil.expect("session_started")
    pupil.send("end")
    pupil.expect_error("not_allowed")
    pupil.send("media", microphone=True, camera=False)
    klass.expect("media", microphone=True, camera=False)  # and no session_ended
    assert LiveSession.objects.get(loan=loan).ended_at is None


def test_oversize_message_is_refused_and_closed(links, loan, teacher, pupil_token, settings):
    klass, pupil = live_session(links, loan, teacher, pupil_token)
    head = '{"type":"signal","description":{"type":"offer","sdp":"'
    tail = '"}}'
    size = settings.LIVE["MAX_MESSAGE_BYTES"] + 1
    klass.send_raw(head + "x" * (size - len(head) - len(tail)) + tail)
    klass.expect_error("too_big")
    assert klass.expect_close() == 4413
    pupil.expect("peer_left", side="class")  # and not the oversize signal


def test_flood_is_cut_off(links, loan, teacher, pupil_token, settings):
    settings.LIVE = {**settings.LIVE, "RATE_PER_SECOND": 1, "RATE_BURST": 5}
    klass, pupil = live_session(links, loan, teacher, pupil_token)
    with contextlib.suppress(ConnectionClosed):  # the server may close before the end
        for _ in range(30):
            klass.send("media", microphone=True, camera=True)
    messages, code = klass.drain_until_closed()
    assert messages[-1]["code"] == "rate_limited"
    assert code == 4429
    relayed = []
    while (message := pupil.receive())["type"] == "media":
        relayed.append(message)
    # Cut off by the server, not by choice: its media may still be flowing.
    assert message == {"type": "peer_left", "side": "class", "reason": "lost"}
    assert len(relayed) < 30  # the flood was not relayed past the limit


def test_ten_invalid_messages_close_the_connection(links, loan, teacher, pupil_token):
    klass, pupil = both_present(links, loan, teacher, pupil_token)
    for _ in range(consumers.MAX_STRIKES - 1):
        pupil.send_raw("{not json")
        pupil.expect_error("bad_json")
    pupil.roundtrip()  # nine are tolerated
    pupil.send_raw("{not json")
    pupil.expect_error("bad_json")
    pupil.expect_error("too_many_errors")
    assert pupil.expect_close() == 4400
    klass.expect("peer_left", side="pupil")  # and nothing else before


def test_signal_before_the_session_is_live_is_refused(links, loan, teacher, pupil_token):
    klass, pupil = both_present(links, loan, teacher, pupil_token)
    klass.send("signal", description=OFFER, tracks=TRACKS)
    klass.expect_error("not_live")
    pupil.send("media", microphone=True, camera=False)
    pupil.expect_error("not_live")
    klass.send("start")
    klass.expect("session_started")
    pupil.expect("session_started")  # the refused signal did not come first
    pupil.send("media", microphone=True, camera=False)
    klass.expect("media", microphone=True, camera=False)  # nor the refused media


def test_relaying_to_an_absent_peer_is_refused(links, loan, teacher):
    klass = class_joins(links, loan, teacher)
    klass.send("start")
    klass.expect("session_started")
    klass.send("signal", description=OFFER, tracks=TRACKS)
    klass.expect_error("no_peer")
    klass.send("media", microphone=True, camera=True)
    klass.expect_error("no_peer")


# Presence and relaying ---------------------------------------------------------------


def test_pupil_waits_then_both_hear_of_each_other(links, loan, teacher, pupil_token):
    pupil = links.open(loan.pk, "pupil", device=pupil_token)
    assert pupil.hello()["session"] is None  # waiting, alone

    klass = links.open(loan.pk, "class", user=teacher)
    klass.hello()
    klass.expect("peer_joined", side="pupil")
    pupil.expect("peer_joined", side="class")


def test_start_reaches_both_sides(links, loan, teacher, pupil_token):
    klass, pupil = both_present(links, loan, teacher, pupil_token)
    klass.send("start")
    started = klass.expect("session_started")["session"]
    assert pupil.expect("session_started")["session"] == started
    session = LiveSession.objects.get(loan=loan)
    assert started["id"] == session.pk
    assert session.started_by == teacher
    assert session.ended_at is None


def test_class_station_starts_the_session_as_the_kit(links, loan, station_token):
    klass = links.open(loan.pk, "class", bearer=station_token)
    klass.hello()
    klass.send("start")
    klass.expect("session_started")
    session = LiveSession.objects.get(loan=loan)
    assert session.started_by is None
    assert session.started_by_device == credential_of(station_token)


def test_description_from_the_class_reaches_the_pupil_with_its_tracks(
    links, loan, teacher, pupil_token
):
    klass, pupil = live_session(links, loan, teacher, pupil_token)
    klass.send("signal", description=OFFER, tracks=TRACKS)
    assert pupil.expect("signal") == {
        "type": "signal",
        "from": "class",
        "description": OFFER,
        "tracks": TRACKS,
    }
    pupil.send("media", microphone=True, camera=False)
    klass.expect("media", microphone=True, camera=False)  # and not its own signal back


def test_answer_and_candidates_from_the_pupil_reach_the_class(links, loan, teacher, pupil_token):
    klass, pupil = live_session(links, loan, teacher, pupil_token)
    answer = {"type": "answer", "sdp": "v=0\r\n"}
    pupil.send("signal", description=answer)
    assert klass.expect("signal") == {"type": "signal", "from": "pupil", "description": answer}
    pupil.send("signal", candidate=CANDIDATE)
    assert klass.expect("signal") == {"type": "signal", "from": "pupil", "candidate": CANDIDATE}


def test_media_state_from_the_pupil_reaches_the_class(links, loan, teacher, pupil_token):
    klass, pupil = live_session(links, loan, teacher, pupil_token)
    pupil.send("media", microphone=True, camera=False)
    assert klass.expect("media") == {
        "type": "media",
        "from": "pupil",
        "microphone": True,
        "camera": False,
    }


def test_ping_is_answered_with_its_id(links, loan, pupil_token):
    pupil = pupil_joins(links, loan, pupil_token)
    pupil.send("ping", id=17)
    assert pupil.expect("pong") == {"type": "pong", "id": 17}


def test_end_reaches_both_sides_and_records_attendance(links, loan, teacher, pupil_token):
    klass, pupil = live_session(links, loan, teacher, pupil_token)
    klass.send("end")
    ended = klass.expect("session_ended")
    assert pupil.expect("session_ended") == ended
    assert ended["reason"] == "ended_by_class"

    session = LiveSession.objects.get(loan=loan)
    assert ended["session"] == session.pk
    assert session.ended_at is not None
    rows = {row.side: row for row in Attendance.objects.filter(session=session)}
    assert set(rows) == {"class", "pupil"}
    for row in rows.values():
        assert session.started_at <= row.joined_at <= row.left_at <= session.ended_at

    # Over: nothing is relayed any more.
    pupil.send("media", microphone=True, camera=True)
    pupil.expect_error("not_live")


@pytest.mark.parametrize("how", ["end", "cancel"])
def test_a_loan_ended_during_a_lesson_stops_it_on_both_sides(
    links, loan, teacher, pupil_token, how
):
    from cartable.fleet import services as fleet

    klass, pupil = live_session(links, loan, teacher, pupil_token)
    if how == "end":
        on_server(links.server, fleet.loan_end, loan=loan)
    else:  # an assigned loan, not shipped yet, may already have lessons: cancelling stops them
        Loan.objects.filter(pk=loan.pk).update(status=Loan.Status.ASSIGNED)
        on_server(links.server, fleet.loan_cancel, loan=loan)
    ended = klass.expect("session_ended")
    assert pupil.expect("session_ended") == ended
    assert ended["reason"] == "loan_ended"
    session = LiveSession.objects.get(loan=loan)
    assert (session.end_reason, session.ended_at is not None) == ("loan_ended", True)
    assert not Attendance.objects.filter(session=session, left_at__isnull=True).exists()
    # The loan's tablet is no longer paired: revoked with it, its socket closed.
    pupil.expect_error("revoked")
    assert pupil.expect_close() == 4410
    assert credential_of(pupil_token).revoked_at is not None
    klass.expect("peer_left", side="pupil")
    # And no lesson starts again on this loan.
    klass.send("start")
    klass.expect_error("loan_inactive")


def test_end_without_a_session_is_refused(links, loan, teacher):
    klass = class_joins(links, loan, teacher)
    klass.send("end")
    klass.expect_error("not_live")


def test_pupil_joining_a_live_session_is_welcomed_into_it(links, loan, teacher, pupil_token):
    klass = class_joins(links, loan, teacher)
    klass.send("start")
    session = klass.expect("session_started")["session"]

    pupil = links.open(loan.pk, "pupil", device=pupil_token)
    assert pupil.hello()["session"] == session
    klass.expect("peer_joined", side="pupil")
    pupil.expect("peer_joined", side="class")
    assert Attendance.objects.filter(session_id=session["id"], side="pupil").exists()
    pupil.send("media", microphone=True, camera=False)
    klass.expect("media", microphone=True, camera=False)


def test_a_new_class_connection_replaces_the_old_one(links, loan, teacher, pupil_token):
    old, pupil = live_session(links, loan, teacher, pupil_token)
    new = links.open(loan.pk, "class", user=teacher)
    assert new.hello()["session"] is not None

    old.expect_error("replaced")
    assert old.expect_close() == 4409
    new.expect("peer_joined", side="pupil")
    pupil.expect("peer_joined", side="class")
    pupil.send("media", microphone=True, camera=True)
    new.expect("media", microphone=True, camera=True)
    # The old connection's presence is closed; the new one's is open.
    wait_until(lambda: Attendance.objects.filter(side="class", left_at__isnull=False).count() == 1)
    assert Attendance.objects.filter(side="class", left_at__isnull=True).count() == 1
    # The old connection has said goodbye (before closing its attendance); the pupil was
    # not told the class left: the next thing it hears is the new class.
    new.send("media", microphone=False, camera=False)
    pupil.expect("media", microphone=False, camera=False)


def test_a_reloaded_tablet_replaces_its_old_connection(links, loan, teacher, pupil_token):
    klass, old = live_session(links, loan, teacher, pupil_token)
    new = links.open(loan.pk, "pupil", device=pupil_token)
    new.hello()
    old.expect_error("replaced")
    assert old.expect_close() == 4409
    klass.expect("peer_joined", side="pupil")
    new.expect("peer_joined", side="class")
    klass.send("signal", description=OFFER, tracks=TRACKS)
    new.expect("signal", description=OFFER)


def test_an_idle_connection_stays_open(links, loan, teacher, pupil_token):
    klass, pupil = live_session(links, loan, teacher, pupil_token)
    pupil.expect_nothing(wait=6.0)  # a pupil listening quietly, longer than 5 s
    pupil.send("media", microphone=True, camera=False)
    klass.expect("media", microphone=True, camera=False)


def test_revoking_the_paired_tablet_closes_its_connection(links, loan, teacher, pupil_token):
    klass, pupil = live_session(links, loan, teacher, pupil_token)
    on_server(links.server, services.paired_device_revoke, credential=credential_of(pupil_token))
    pupil.expect_error("revoked")
    assert pupil.expect_close() == 4410
    klass.expect("peer_left", side="pupil")
    assert links.refused(loan.pk, "pupil", device=pupil_token) == 403


def test_tablet_revoked_before_its_hello_is_not_welcomed(links, loan, teacher, pupil_token):
    klass = class_joins(links, loan, teacher)
    pupil = links.open(loan.pk, "pupil", device=pupil_token)  # handshake done, no hello yet
    on_server(links.server, services.paired_device_revoke, credential=credential_of(pupil_token))
    pupil.send("hello", version=1)
    pupil.expect_error("revoked")
    assert pupil.expect_close() == 4410
    klass.expect_nothing()  # the class never heard of it


def test_leaving_tells_the_other_side_and_closes_the_attendance(links, loan, teacher, pupil_token):
    klass, pupil = live_session(links, loan, teacher, pupil_token)
    pupil.close()
    klass.expect("peer_left", side="pupil")
    row = wait_until(lambda: Attendance.objects.filter(side="pupil", left_at__isnull=False).first())
    assert row.session.ended_at is None  # the session goes on for the class
    assert Attendance.objects.get(side="class").left_at is None


def test_leave_message_closes_the_connection(links, loan, teacher, pupil_token):
    klass, pupil = live_session(links, loan, teacher, pupil_token)
    klass.send("leave")
    assert klass.expect_close() == 1000
    pupil.expect("peer_left", side="class")
    wait_until(lambda: Attendance.objects.get(side="class").left_at is not None)


# Starting ----------------------------------------------------------------------------


def test_start_is_idempotent(links, loan, teacher, pupil_token):
    klass, pupil = live_session(links, loan, teacher, pupil_token)
    session = LiveSession.objects.get(loan=loan)
    klass.send("start")
    # The class is answered with the same session; the pupil hears nothing new.
    answer = klass.expect("session_started")
    assert answer["session"]["id"] == session.pk
    klass.send("media", microphone=True, camera=True)
    pupil.expect("media", microphone=True, camera=True)
    klass.roundtrip()
    assert not klass.pending
    assert LiveSession.objects.filter(loan=loan).count() == 1


def test_class_coming_back_resumes_the_open_session(links, loan, teacher):
    first = class_joins(links, loan, teacher)
    first.send("start")
    session = first.expect("session_started")["session"]
    first.close()
    wait_until(lambda: Attendance.objects.filter(left_at__isnull=False).exists())

    again = links.open(loan.pk, "class", user=teacher)
    assert again.hello()["session"] == session
    again.send("start")
    assert again.expect("session_started")["session"] == session  # the same session
    again.roundtrip()
    assert not again.pending
    assert LiveSession.objects.filter(loan=loan).count() == 1


def test_start_on_an_inactive_loan_is_refused(links, loan, teacher, pupil_token):
    klass, pupil = both_present(links, loan, teacher, pupil_token)
    Loan.objects.filter(pk=loan.pk).update(ended_at=timezone.now())
    klass.send("start")
    klass.expect_error("loan_inactive")
    assert not LiveSession.objects.filter(loan=loan).exists()
    pupil.send("media", microphone=True, camera=True)
    pupil.expect_error("not_live")


def test_only_one_open_session_per_loan(loan, teacher):
    first = services.session_start(loan=loan, by_user=teacher)
    assert services.session_start(loan=loan, by_user=teacher) == first
    with pytest.raises(IntegrityError), transaction.atomic():
        LiveSession.objects.create(loan=loan, started_at=timezone.now())
    services.session_end(session=first)
    second = services.session_start(loan=loan, by_user=teacher)
    assert second != first
    assert LiveSession.objects.filter(loan=loan, ended_at__isnull=True).get() == second


def test_an_abandoned_session_is_ended_at_its_last_presence(links, loan, teacher, pupil_token):
    import time_machine

    klass, pupil = live_session(links, loan, teacher, pupil_token)
    klass.close()
    pupil.close()
    wait_until(lambda: not Attendance.objects.filter(left_at__isnull=True).exists())
    last = Attendance.objects.order_by("-left_at").first().left_at
    with time_machine.travel(timezone.now() + services.ABANDONED_AFTER, tick=False):
        assert services.open_session(loan.pk) is None
    session = LiveSession.objects.get(loan=loan)
    assert session.end_reason == LiveSession.EndReason.ABANDONED
    assert session.ended_at == last


def test_a_path_that_is_no_live_link_is_refused(links, loan):
    assert links.refused_path("/ws/live/abc/class/") == 403
    assert links.refused_path("/ws/nothing/") == 403


# In the lesson: hand, floor, cues, chat, reactions, pause, economy, quality -------------

LESSON_MESSAGES = [
    ("pupil", {"type": "hand", "raised": True}),
    ("class", {"type": "floor"}),
    ("pupil", {"type": "cue", "cue": "cant_hear"}),
    ("pupil", {"type": "cue", "cue": "away"}),
    ("pupil", {"type": "chat", "text": "Bonjour"}),
    ("class", {"type": "chat", "text": "Bonjour Léa"}),
    ("pupil", {"type": "reaction", "reaction": "clap"}),
    ("class", {"type": "reaction", "reaction": "thumbs_up"}),
    ("class", {"type": "pause", "paused": True}),
    ("pupil", {"type": "economy", "on": True}),
]
ONE_SIDED = {
    "hand": "pupil",
    "floor": "class",
    "cue": "pupil",
    "pause": "class",
    "economy": "pupil",
}


def send_raw(link, message: dict):
    fields = {k: v for k, v in message.items() if k != "type"}
    link.send(message["type"], **fields)


@pytest.mark.parametrize(("sender", "message"), LESSON_MESSAGES)
def test_lesson_messages_reach_the_other_side_stamped(
    links, loan, teacher, pupil_token, sender, message
):
    klass, pupil = live_session(links, loan, teacher, pupil_token)
    source, target = (klass, pupil) if sender == "class" else (pupil, klass)
    send_raw(source, message)
    got = target.receive()
    assert {k: got[k] for k in message} == message
    assert got["from"] == sender
    assert got["at"]  # the server's time, shown beside chat messages


@pytest.mark.parametrize(("kind", "side"), sorted(ONE_SIDED.items()))
def test_one_sided_lesson_messages_are_refused_from_the_other_side(
    links, loan, teacher, pupil_token, kind, side
):
    klass, pupil = live_session(links, loan, teacher, pupil_token)
    message = next(m for s, m in LESSON_MESSAGES if m["type"] == kind)
    wrong = pupil if side == "class" else klass
    send_raw(wrong, message)
    wrong.expect_error("not_allowed")
    other = klass if wrong is pupil else pupil
    other.roundtrip()
    assert not other.pending  # nothing was relayed


@pytest.mark.parametrize("kind", sorted({m["type"] for _, m in LESSON_MESSAGES}))
def test_lesson_messages_need_a_membership_and_a_session(
    links, loan, teacher, pupil_token, outsider, other_teacher, kind
):
    # Non-members never get a socket to send them on.
    assert links.refused(loan.pk, "class", user=outsider) == 403
    assert links.refused(loan.pk, "class", user=other_teacher) == 403
    # Members outside a live session: nothing is relayed.
    klass, pupil = both_present(links, loan, teacher, pupil_token)
    sender, message = next((s, m) for s, m in LESSON_MESSAGES if m["type"] == kind)
    link = klass if sender == "class" else pupil
    send_raw(link, message)
    link.expect_error("not_live")


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "chat", "text": ""},
        {"type": "chat", "text": "   "},
        {"type": "chat", "text": "x" * 501},
        {"type": "reaction", "reaction": "poop"},
        {"type": "cue", "cue": "bored"},
        {"type": "hand", "raised": "yes"},
        {"type": "quality", "level": "great"},
    ],
)
def test_malformed_lesson_messages_are_refused(links, loan, teacher, pupil_token, bad):
    klass, pupil = live_session(links, loan, teacher, pupil_token)
    send_raw(pupil, bad)
    pupil.expect_error("bad_message")
    klass.roundtrip()
    assert not klass.pending


def test_quality_is_shown_to_the_other_side_and_folded_into_the_session(
    links, loan, teacher, pupil_token
):
    from cartable.live.models import SessionQuality

    klass, pupil = live_session(links, loan, teacher, pupil_token)
    sample = {
        "level": "degraded",
        "reasons": ["loss"],
        "rtt_ms": 120.0,
        "loss_pct": 4.0,
        "fps": 18.0,
        "freezes": 1,
        "bitrate_kbps": 800.0,
        "relayed": True,
    }
    pupil.send("quality", **sample)
    shown = klass.expect("quality")
    # The other side sees the level and its reasons, nothing more.
    assert shown == {"type": "quality", "level": "degraded", "reasons": ["loss"], "from": "pupil"}
    quality = wait_until(lambda: SessionQuality.objects.filter(side="pupil").first())
    assert quality.samples == 1
    assert quality.degraded == 1
    assert quality.relayed == 1
    assert quality.rtt_ms_sum == 120.0
    assert quality.loss_pct_sum == 4.0
    assert quality.freezes == 1


def test_peer_left_says_whether_the_other_side_left_or_was_cut(links, loan, teacher, pupil_token):
    klass, pupil = live_session(links, loan, teacher, pupil_token)
    pupil.send("leave")
    assert klass.expect("peer_left")["reason"] == "left"
    again = links.open(loan.pk, "pupil", device=pupil_token)
    again.send("hello", version=1, pc="abc123")
    again.expect("welcome")
    # The class learns which peer connection the pupil still holds.
    assert klass.expect("peer_joined")["pc"] == "abc123"
