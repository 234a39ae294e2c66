"""Schoolwork both ways in Chromium: a PDF handed out in a lesson opens on the pupil's
tablet, the pupil draws on page 2 and returns it, the station hears it (keyboard only on
the teacher's side), the teacher sees the stroke and annotates it back; work set for later
shows on the tablet outside a lesson. axe on every new screen."""

from __future__ import annotations

import re

import pytest

from cartable.schoolwork.models import Work
from tests.schoolwork.conftest import make_jpeg, make_pdf

from .conftest import assert_accessible
from .helpers import open_station, pair_tablet
from .test_live_link import wait_until

pytestmark = pytest.mark.e2e

INK_PIXELS = """
() => {
  const canvas = document.querySelector('.page-ink');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let count = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) count += 1;
  return count;
}
"""


def draw_line(page, scope: str):
    # The page's image is loaded and the ink laid over it before drawing.
    page.wait_for_function(
        f"""() => {{
          const image = document.querySelector('{scope} .page-image');
          const ink = document.querySelector('{scope} .page-ink');
          return image && image.complete && image.naturalWidth > 0 && ink.width > 50;
        }}"""
    )
    page.evaluate(
        f"document.querySelector('{scope} .page-ink').scrollIntoView({{block: 'center'}})"
    )
    box = page.locator(f"{scope} .page-ink").bounding_box()
    x, y = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + step * box["width"] * 0.03, y + step * box["height"] * 0.02)
    page.mouse.up()


@pytest.fixture
def lesson(asgi_server, new_page, loan, teacher):
    station = open_station(new_page(), asgi_server, teacher, loan)
    pupil = pair_tablet(new_page(), asgi_server, loan, teacher)
    station.get_by_role("button", name="Démarrer la séance").click()
    pupil.get_by_role("button", name="Rejoindre la classe").click()
    pupil.wait_for_function("() => window.cartableLink && window.cartableLink.ws")
    return station, pupil


def test_a_pdf_handed_out_drawn_on_returned_and_annotated_back(lesson, loan, tmp_path):
    station, pupil = lesson
    document = tmp_path / "fractions.pdf"
    document.write_bytes(make_pdf(3))
    # The teacher, keyboard only: choose the file, then Tab to « Envoyer à l'élève », Enter.
    station.locator("#work-file").set_input_files(str(document))
    station.locator("#work-photo").focus()
    station.keyboard.press("Tab")
    assert station.evaluate("document.activeElement.id") == "work-send"
    station.keyboard.press("Enter")
    station.locator("#work-station-status").filter(has_text="Envoyé à l'élève").wait_for()

    # It opens at once on the tablet, full screen, with the page's text readable.
    overlay = pupil.locator("#work-overlay")
    overlay.wait_for(state="visible")
    pupil.locator("#work-overlay .page-label").filter(has_text="Page 1 sur 3").wait_for()
    assert "Exercice page 1" in pupil.locator("#work-overlay .page-text-body").inner_text()
    assert_accessible(pupil)
    pupil.get_by_role("button", name="Page suivante").click()
    pupil.locator("#work-overlay .page-label").filter(has_text="Page 2 sur 3").wait_for()
    draw_line(pupil, "#work-overlay")
    assert pupil.evaluate(INK_PIXELS) > 0
    pupil.get_by_label("Ma réponse").fill("3/4")
    # A photo of the work on paper, from the tablet's camera (a file input with capture).
    paper = tmp_path / "papier.jpg"
    paper.write_bytes(make_jpeg((1200, 900), exif=True))
    pupil.get_by_label("Photographier mon travail sur papier").set_input_files(str(paper))
    pupil.get_by_role("button", name="Rendre mon travail").click()
    pupil.locator("#work-overlay .work-status").filter(has_text="Ton travail est rendu").wait_for()
    work = Work.objects.get(loan=loan)
    wait_until(lambda: Work.objects.get(pk=work.pk).state == "returned")
    assert Work.objects.get(pk=work.pk).pupil_strokes[0]["page"] == 2
    assert Work.objects.get(pk=work.pk).files.filter(role="photo").count() == 1

    # The station hears it; the teacher opens it with the keyboard and sees the stroke.
    station.locator("#work-station-status").filter(has_text="Travail rendu par l'élève").wait_for()
    opener = station.get_by_role("button", name=re.compile("^Ouvrir « Document du"))
    opener.focus()
    station.keyboard.press("Enter")
    station.locator("#work-station-open .page-label").filter(has_text="Page 1 sur 3").wait_for()
    station.locator("#work-station-open .page-frame").focus()
    station.keyboard.press("ArrowRight")
    station.locator("#work-station-open .page-label").filter(has_text="Page 2 sur 3").wait_for()
    wait_until(lambda: station.evaluate(INK_PIXELS) > 0)
    assert "3/4" in station.locator("#work-station-open .work-answer").inner_text()
    station.locator("#work-station-open .work-photo").wait_for()
    assert_accessible(station)
    draw_line(station, "#work-station-open")
    station.get_by_label("Remarque pour l'élève").fill("Bien !")
    station.get_by_role("button", name="Rendre la correction à l'élève").focus()
    station.keyboard.press("Enter")
    wait_until(lambda: Work.objects.get(pk=work.pk).state == "corrected")
    corrected = Work.objects.get(pk=work.pk)
    assert corrected.teacher_strokes and corrected.teacher_strokes[0]["colour"] == "#dc2626"
    pupil.locator("#work-pupil-status").filter(has_text="Ton travail est corrigé").wait_for()


def test_work_set_for_later_shows_on_the_tablet_outside_a_lesson(
    asgi_server, new_page, loan, teacher
):
    from cartable.schoolwork.services import work_create
    from tests.live.wsclient import on_server

    # Made inside the server, as its view would (its live event leaves from its own loop).
    on_server(
        asgi_server,
        work_create,
        loan=loan,
        by_user=teacher,
        kind="set",
        title="Pour jeudi",
        data=make_pdf(1),
        due_on=__import__("datetime").date(2026, 12, 10),
    )
    pupil = pair_tablet(new_page(), asgi_server, loan, teacher)
    item = pupil.locator("#work-pupil-list li").filter(has_text="Pour jeudi")
    item.wait_for()
    assert "à faire pour le jeudi 10 décembre" in item.inner_text()
    assert_accessible(pupil)
    item.get_by_role("button").click()
    pupil.locator("#work-overlay .page-label").filter(has_text="Page 1 sur 1").wait_for()
    assert_accessible(pupil)
    # The folder page of the teacher: axe clean too.
    from .helpers import sign_in

    folder = new_page()
    sign_in(folder, asgi_server, teacher, f"/prets/{loan.pk}/travail/")
    folder.locator("#work-list").wait_for()
    assert_accessible(folder)
    # The stand-alone viewer the folder opens: axe clean with its document shown.
    work = Work.objects.get(loan=loan, title="Pour jeudi")
    folder.goto(f"{asgi_server.url}/travail/{work.pk}/voir/")
    folder.locator("#work-viewer .page-label").filter(has_text="Page 1 sur 1").wait_for()
    assert_accessible(folder)
