"""The live class link, as the teacher and the pupil use it, in real Chromium."""

from __future__ import annotations

import time

import pytest

from cartable.live.models import Attendance, LiveSession

from .conftest import assert_accessible
from .helpers import audio_samples, frames, open_station, pair_tablet, sign_in

pytestmark = pytest.mark.e2e


def wait_until(predicate, timeout=10.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def rising(page, label, seconds=1.0) -> bool:
    """Frames keep being decoded on the track: some already, more a second later."""
    before = wait_until(lambda: frames(page).get(label, 0))
    time.sleep(seconds)
    after = frames(page).get(label, 0)
    return after > before > 0


def test_pupil_sees_both_cameras_and_class_hears_pupil(asgi_server, new_page, loan, teacher):
    station = open_station(new_page(), asgi_server, teacher, loan)
    pupil = pair_tablet(new_page(), asgi_server, loan, teacher)
    assert_accessible(station)
    assert_accessible(pupil)

    station.get_by_role("button", name="Démarrer la séance").click()
    pupil.get_by_role("button", name="Rejoindre la classe").click()

    wait_until(lambda: set(frames(pupil)) >= {"board", "class"})
    assert rising(pupil, "board")
    assert rising(pupil, "class")
    # The page knows which is the board: the large view shows the board track.
    assert pupil.locator("figure.large video").get_attribute("data-track") == "board"
    pupil.get_by_role("button", name="Afficher la caméra de la classe en grand").click()
    assert pupil.locator("figure.large video").get_attribute("data-track") == "class"

    # The pupil's voice reaches the class station.
    wait_until(lambda: audio_samples(station) > 0)
    first = audio_samples(station)
    wait_until(lambda: audio_samples(station) > first)
    # The pupil's camera is off: nothing arrives in the pupil-camera slot.
    assert (
        pupil.get_by_role("button", name="Caméra", exact=True).get_attribute("aria-pressed")
        == "false"
    )
    assert frames(station).get("pupil_camera", 0) == 0
    assert_accessible(station)
    assert_accessible(pupil)

    # Camera on: the class sees the pupil; off: frames stop.
    pupil.get_by_role("button", name="Caméra", exact=True).click()
    wait_until(lambda: frames(station).get("pupil_camera", 0) > 0)
    assert rising(station, "pupil_camera")
    station.locator("#pupil-video").wait_for(state="visible")
    pupil.get_by_role("button", name="Caméra", exact=True).click()
    station.locator("#pupil-video").wait_for(state="hidden")
    time.sleep(0.5)
    stopped = frames(station)["pupil_camera"]
    time.sleep(1.0)
    assert frames(station)["pupil_camera"] == stopped


def test_pupil_waits_for_the_teacher(asgi_server, new_page, loan, teacher):
    pupil = pair_tablet(new_page(), asgi_server, loan, teacher)
    pupil.get_by_role("button", name="Rejoindre la classe").click()
    pupil.locator("#pupil[data-state=waiting]").wait_for(state="attached")
    assert pupil.get_by_text("En attente de la classe").first.is_visible()
    assert_accessible(pupil)

    station = open_station(new_page(), asgi_server, teacher, loan)
    station.locator("#station[data-pupil=waiting]").wait_for(state="attached")
    station.get_by_role("button", name="Démarrer la séance").click()
    pupil.locator("#pupil[data-state=live]").wait_for(state="attached")
    wait_until(lambda: set(frames(pupil)) >= {"board", "class"})
    assert rising(pupil, "board")


TRACK_STATES = """
() => {
  const link = window.cartableLink;
  const videos = [...document.querySelectorAll('video, audio')];
  return videos.flatMap((v) => (v.srcObject ? v.srcObject.getTracks() : []))
    .map((t) => t.readyState);
}
"""


def test_end_of_session_stops_everything_and_records_attendance(
    asgi_server, new_page, loan, teacher
):
    station = open_station(new_page(), asgi_server, teacher, loan)
    pupil = pair_tablet(new_page(), asgi_server, loan, teacher)
    station.get_by_role("button", name="Démarrer la séance").click()
    pupil.get_by_role("button", name="Rejoindre la classe").click()
    wait_until(lambda: set(frames(pupil)) >= {"board", "class"})
    pupil.get_by_role("button", name="Caméra", exact=True).click()
    wait_until(lambda: frames(station).get("pupil_camera", 0) > 0)

    # Keep handles on every track each page holds, then end the session.
    for page in (station, pupil):
        page.evaluate(
            """() => {
              const link = window.cartableLink;
              window.heldTracks = [
                ...link.pc.getReceivers().map((r) => r.track),
                ...link.pc.getSenders().map((s) => s.track).filter(Boolean),
              ];
            }"""
        )
    station.get_by_role("button", name="Terminer la séance").click()
    # Every track stops on both sides (how fast is measured in bench/, not asserted here).
    for page in (station, pupil):
        page.wait_for_function("() => window.heldTracks.every((t) => t.readyState === 'ended')")
    station.locator("#station[data-state=idle]").wait_for(state="attached")
    pupil.locator("#pupil[data-state=out]").wait_for(state="attached")
    assert_accessible(station)
    assert_accessible(pupil)

    session = LiveSession.objects.get(loan=loan)
    assert session.ended_at is not None
    rows = {a.side: a for a in Attendance.objects.filter(session=session)}
    assert set(rows) == {"class", "pupil"}
    for row in rows.values():
        assert session.started_at <= row.joined_at <= row.left_at <= session.ended_at


def test_either_side_leaves_and_comes_back(asgi_server, new_page, loan, teacher):
    station = open_station(new_page(), asgi_server, teacher, loan)
    pupil = pair_tablet(new_page(), asgi_server, loan, teacher)
    station.get_by_role("button", name="Démarrer la séance").click()
    pupil.get_by_role("button", name="Rejoindre la classe").click()
    assert rising(pupil, "board")

    # The pupil leaves, the class station sees it, the pupil comes back.
    pupil.get_by_role("button", name="Quitter").click()
    station.locator("#station[data-pupil=absent]").wait_for(state="attached")
    pupil.get_by_role("button", name="Rejoindre la classe").click()
    station.locator("#station[data-pupil=connected]").wait_for(state="attached")
    assert rising(pupil, "board")
    assert rising(pupil, "class")

    # The class tablet reloads its page: the session is still on; the teacher resumes it.
    station.reload()
    station.get_by_role("button", name="Reprendre la séance").click()
    assert rising(pupil, "board")
    assert rising(pupil, "class")
    assert LiveSession.objects.filter(loan=loan).count() == 1


def test_a_loan_ended_by_the_coordinator_stops_the_lesson_on_both_sides(
    asgi_server, new_page, loan, teacher, coordinator
):
    station = open_station(new_page(), asgi_server, teacher, loan)
    pupil = pair_tablet(new_page(), asgi_server, loan, teacher)
    station.get_by_role("button", name="Démarrer la séance").click()
    pupil.get_by_role("button", name="Rejoindre la classe").click()
    wait_until(lambda: set(frames(pupil)) >= {"board", "class"})

    # Everything the status regions announce from now on (a screen reader hears each).
    for page in (station, pupil):
        page.evaluate(
            """() => {
              window.__announced = [];
              const region = document.getElementById('live-status');
              new MutationObserver(() => window.__announced.push(region.textContent))
                .observe(region, {childList: true, characterData: true, subtree: true});
            }"""
        )

    # Meanwhile the coordinator ends the loan from its page.
    office = new_page()
    sign_in(office, asgi_server, coordinator, f"/prets/{loan.pk}/")
    office.get_by_role("link", name="Terminer la mise à disposition…").click()
    office.get_by_role("button", name="Oui, terminer la mise à disposition").click()
    office.wait_for_url(f"{asgi_server.url}/prets/{loan.pk}/")

    station.locator("#station[data-state=idle]").wait_for(state="attached")
    pupil.locator("#pupil[data-state=out]").wait_for(state="attached")
    said = {
        page: " / ".join(page.evaluate("() => window.__announced")) for page in (station, pupil)
    }
    assert "la mise à disposition du cartable a pris fin" in said[station]
    assert "le prêt du cartable a pris fin" in said[pupil]
    assert_accessible(station)
    assert_accessible(pupil)
    assert LiveSession.objects.get(loan=loan).end_reason == "loan_ended"
