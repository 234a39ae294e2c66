"""Pairing a pupil tablet through the pages, and using the pages by keyboard alone."""

from __future__ import annotations

import re

import pytest

from .conftest import assert_accessible
from .helpers import pair_tablet, sign_in

pytestmark = pytest.mark.e2e


def test_teacher_shows_a_code_the_tablet_scans_then_revokes_it(
    asgi_server, new_page, loan, teacher
):
    home = new_page()
    sign_in(home, asgi_server, teacher)
    assert_accessible(home)
    home.get_by_role("link", name="Appairer la tablette de l'élève").click()
    assert_accessible(home)
    home.get_by_role("button", name="Afficher un code d'appairage").click()
    code = home.locator("#pairing-code").inner_text()
    assert re.fullmatch(r"\d{4} \d{3} \d{3}", code)
    assert "10 minutes" in home.get_by_role("status").inner_text()
    assert home.locator(".qr svg title").count() == 1
    assert_accessible(home)

    # The QR code holds the pairing page with the code in the fragment.
    tablet = new_page()
    tablet.goto(f"{asgi_server.url}/appairer/#code={code.replace(' ', '')}")
    field = tablet.get_by_label("Code d'appairage")
    assert field.input_value() == code.replace(" ", "")
    assert_accessible(tablet)
    tablet.keyboard.press("Enter")
    tablet.wait_for_url(f"{asgi_server.url}/eleve/")
    assert_accessible(tablet)
    # From now on the tablet opens straight onto the pupil page.
    tablet.goto(f"{asgi_server.url}/")
    tablet.wait_for_url(f"{asgi_server.url}/eleve/")

    home.reload()
    home.get_by_role("button", name=re.compile("^Révoquer la tablette")).click()
    assert "plus appairée" in home.get_by_role("status").inner_text()
    assert home.get_by_text("Aucune tablette n'est appairée.").is_visible()
    tablet.reload()
    tablet.wait_for_url(f"{asgi_server.url}/appairer/")


def test_a_wrong_code_is_explained_in_french(asgi_server, new_page, loan):
    tablet = new_page()
    tablet.goto(f"{asgi_server.url}/appairer/")
    tablet.get_by_label("Code d'appairage").fill("1234 567 890")
    tablet.get_by_role("button", name="Appairer cette tablette").click()
    alert = tablet.get_by_role("alert")
    assert "Ce code ne permet pas d'appairer la tablette" in alert.inner_text()
    assert tablet.get_by_label("Code d'appairage").get_attribute("aria-invalid") == "true"
    assert_accessible(tablet)


def test_sign_in_page_and_errors(asgi_server, new_page, teacher):
    page = new_page()
    page.goto(f"{asgi_server.url}/connexion/")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert_accessible(page)
    page.get_by_label("Identifiant").fill(teacher.username)
    page.get_by_label("Mot de passe").fill("pas le bon")
    page.get_by_role("button", name="Se connecter").click()
    assert "incorrect" in page.get_by_role("alert").inner_text()
    assert_accessible(page)


FOCUS_RING = """
() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {id: el.id, outline: style.outlineStyle, width: parseFloat(style.outlineWidth)};
}
"""


def focus(page, element_id: str, limit: int = 30) -> dict:
    """Press Tab until the element has the focus; return how its focus looks."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUS_RING)
        if state["id"] == element_id:
            return state
    raise AssertionError(f"#{element_id} is not reachable with Tab")


def test_pupil_page_works_with_the_keyboard_alone(asgi_server, new_page, loan, teacher):
    pupil = pair_tablet(new_page(), asgi_server, loan, teacher)
    ring = focus(pupil, "join")
    assert ring["outline"] != "none" and ring["width"] >= 2
    pupil.keyboard.press("Enter")
    pupil.locator("#pupil[data-state=waiting]").wait_for(state="attached")
    # « Connexion à la classe… », then « En attente de la classe… » once connected.
    pupil.locator("#live-status").filter(has_text="En attente").wait_for()

    focus(pupil, "mic")
    pupil.keyboard.press("Space")
    assert pupil.locator("#mic").get_attribute("aria-pressed") == "false"
    assert pupil.locator("#live-status").inner_text() == "Micro coupé."
    focus(pupil, "camera")
    pupil.keyboard.press("Enter")
    pupil.locator("#camera[aria-pressed=true]").wait_for(state="attached")
    assert_accessible(pupil)
    pupil.keyboard.press("Enter")
    pupil.locator("#camera[aria-pressed=false]").wait_for(state="attached")
    focus(pupil, "leave")
    pupil.keyboard.press("Enter")
    pupil.locator("#pupil[data-state=out]").wait_for(state="attached")


def test_class_station_works_with_the_keyboard_alone(asgi_server, new_page, loan, teacher):
    from .helpers import open_station

    station = open_station(new_page(), asgi_server, teacher, loan)
    station.locator("summary").click()  # close the settings opened by the helper
    station.locator("body").focus()
    ring = focus(station, "start")
    assert ring["outline"] != "none" and ring["width"] >= 2
    station.keyboard.press("Enter")
    station.locator("#station[data-state=live]").wait_for(state="attached")
    assert "Séance démarrée" in station.locator("#live-status").inner_text()
    assert_accessible(station)
    focus(station, "end")
    station.keyboard.press("Enter")
    station.locator("#station[data-state=idle]").wait_for(state="attached")
    assert station.evaluate("document.activeElement.id") == "start"
    assert "Séance terminée" in station.locator("#live-status").inner_text()
