"""In the lesson: raise a hand, write, pause for privacy, and keep going through cuts."""

from __future__ import annotations

import time

import pytest

from cartable.live.models import SessionQuality

from .conftest import assert_accessible
from .helpers import audio_samples, frames, open_station, pair_tablet
from .netem import udp_loss
from .test_live_link import rising, wait_until

pytestmark = pytest.mark.e2e

# Every text the status region ever showed, so quick successions are not missed.
STATUS_LOG = """
window.statusLog = [];
document.addEventListener('DOMContentLoaded', () => {
  const region = document.getElementById('live-status');
  if (!region) return;
  new MutationObserver(() => window.statusLog.push(region.textContent))
    .observe(region, {childList: true, characterData: true, subtree: true});
});
"""


def said(page, text: str) -> bool:
    return any(text in entry for entry in page.evaluate("window.statusLog"))


@pytest.fixture
def lesson(asgi_server, new_page, loan, teacher):
    station_page = new_page()
    station_page.add_init_script(STATUS_LOG)
    station = open_station(station_page, asgi_server, teacher, loan)
    pupil_page = new_page()
    pupil_page.add_init_script(STATUS_LOG)
    pupil = pair_tablet(pupil_page, asgi_server, loan, teacher)
    station.get_by_role("button", name="Démarrer la séance").click()
    pupil.get_by_role("button", name="Rejoindre la classe").click()
    assert rising(pupil, "board")
    return station, pupil


def test_raise_hand_give_floor_cues_chat_and_reactions(lesson, loan):
    station, pupil = lesson
    name = loan.pupil.display_name

    pupil.get_by_role("button", name="Lever la main").click()
    banner = station.locator("#hand")
    banner.wait_for(state="visible")
    assert f"{name} lève la main" in banner.inner_text()
    assert said(station, f"{name} lève la main.")
    assert_accessible(station)
    assert_accessible(pupil)
    station.get_by_role("button", name="Donner la parole").click()
    banner.wait_for(state="hidden")
    pupil.locator("#pupil[data-hand=down]").wait_for(state="attached")
    wait_until(lambda: said(pupil, "L’enseignant te donne la parole !"))
    # The pupil can lower the hand too.
    pupil.get_by_role("button", name="Lever la main").click()
    banner.wait_for(state="visible")
    pupil.get_by_role("button", name="Baisser la main").click()
    banner.wait_for(state="hidden")

    cue = station.locator("#pupil-cue")
    pupil.get_by_role("button", name="Je n'entends pas").click()
    wait_until(lambda: cue.inner_text() == f"{name} n’entend pas.")
    pupil.get_by_role("button", name="Plus lentement").click()
    wait_until(lambda: cue.inner_text() == f"{name} demande d’aller plus lentement.")
    pupil.get_by_role("button", name="Je fais une pause").click()
    away = station.locator("#pupil-away")
    away.wait_for(state="visible")
    pupil.get_by_role("button", name="Je suis de retour").click()
    away.wait_for(state="hidden")

    # Chat both ways, with times, and the quick reactions.
    pupil.get_by_label("Écrire un message").fill("Bonjour la classe")
    pupil.keyboard.press("Enter")
    station_log = station.get_by_role("log")
    station_log.get_by_text("Bonjour la classe").wait_for()
    assert station_log.locator("li time").first.inner_text()
    station.get_by_label("Écrire un message").fill("Bonjour Léa, on commence")
    station.get_by_role("button", name="Envoyer", exact=True).click()
    pupil.get_by_role("log").get_by_text("on commence").wait_for()
    pupil.get_by_role("button", name="Bravo").click()
    station_log.get_by_text("👏 Bravo").wait_for()
    station.get_by_role("button", name="J’ai une question").click()
    pupil.get_by_role("log").get_by_text("❓ J’ai une question").wait_for()
    assert_accessible(station)
    assert_accessible(pupil)


def test_privacy_pause_stops_all_class_media_then_resumes(lesson):
    station, pupil = lesson
    wait_until(lambda: audio_samples(pupil) > 0)
    station.get_by_role("button", name="Pause confidentialité").click()
    pupil.locator("#paused-screen").wait_for(state="visible")
    time.sleep(1.0)  # within a second nothing arrives any more
    still = (frames(pupil), audio_samples(pupil))
    time.sleep(1.0)
    assert (frames(pupil), audio_samples(pupil)) == still
    assert_accessible(station)
    assert_accessible(pupil)

    station.get_by_role("button", name="Reprendre").click()
    pupil.locator("#paused-screen").wait_for(state="hidden")
    assert rising(pupil, "board")
    assert rising(pupil, "class")
    before = audio_samples(pupil)
    wait_until(lambda: audio_samples(pupil) > before)


def test_media_keeps_flowing_through_a_server_restart(lesson, asgi_server):
    station, pupil = lesson
    asgi_server.stop()
    for page in (station, pupil):
        wait_until(lambda page=page: said(page, "Reconnexion…"))
        assert_accessible(page)  # the reconnecting state too
    # The media goes on while the server is down.
    assert rising(pupil, "board")
    asgi_server.start_again()
    for page in (station, pupil):
        wait_until(lambda page=page: said(page, "Connexion rétablie."), timeout=15)
    assert_accessible(pupil)
    station.get_by_label("Écrire un message").fill("Toujours là ?")
    station.get_by_role("button", name="Envoyer", exact=True).click()
    pupil.get_by_role("log").get_by_text("Toujours là ?").wait_for()
    assert rising(pupil, "board")


def test_media_comes_back_by_itself_after_a_cut(lesson):
    station, pupil = lesson
    with udp_loss(100):
        time.sleep(5)
    # No one touches anything: the media path comes back (bench/recovery.py times it).
    wait_until(lambda: rising(pupil, "board", seconds=1.0), timeout=15)
    # The class camera has the lower priority: it comes back as the bandwidth estimate does.
    wait_until(lambda: rising(pupil, "class", seconds=1.0), timeout=15)


def test_quality_reaches_the_database_and_shows_a_degraded_link(lesson, loan):
    station, pupil = lesson
    wait_until(lambda: SessionQuality.objects.filter(side="pupil", samples__gt=0).exists())
    station.locator("#peer-quality[data-level]").wait_for(state="attached")
    # The level the loss itself causes: a sample that names the loss as its reason, not a
    # level lowered by anything else (a low frame rate on a busy machine).
    loss_said = "des données se perdent"
    with udp_loss(20):
        wait_until(lambda: loss_said in station.locator("#peer-quality").inner_text(), timeout=30)
        assert station.locator("#peer-quality").get_attribute("data-level") in {"degraded", "poor"}
    text = station.locator("#peer-quality").inner_text()
    assert text.startswith("Réception chez l’élève")
    quality = wait_until(
        lambda: SessionQuality.objects.filter(side="pupil", samples__gte=2).first()
    )
    wait_until(
        lambda: (
            SessionQuality.objects.get(pk=quality.pk).degraded
            + SessionQuality.objects.get(pk=quality.pk).poor
            >= 1
        )
    )
    quality.refresh_from_db()
    assert quality.rtt_samples >= 1
    assert quality.loss_pct_sum > 0


def test_economy_mode_stops_the_class_camera(lesson):
    station, pupil = lesson
    assert rising(pupil, "class")
    pupil.get_by_role("button", name="Mode économie").click()
    station.locator("#pupil-economy").wait_for(state="visible")
    time.sleep(1.0)
    stopped = frames(pupil)["class"]
    time.sleep(1.0)
    assert frames(pupil)["class"] == stopped
    assert rising(pupil, "board")
    pupil.get_by_role("button", name="Mode économie").click()
    assert rising(pupil, "class")
