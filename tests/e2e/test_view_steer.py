"""The pupil steers and zooms the class camera and takes stills of the board, in real Chromium.

Both fake cameras play a known picture (tests/e2e/quadrants.py): four coloured quadrants,
1920x1080. What the pupil receives is read back from the class video's pixels.
"""

from __future__ import annotations

import time

import pytest

from .conftest import CHROMIUM, CHROMIUM_ARGS, assert_accessible
from .helpers import open_station, pair_tablet
from .quadrants import COLOUR_SHARES_JS, write_y4m
from .test_lesson import STATUS_LOG, said
from .test_live_link import rising, wait_until

pytestmark = pytest.mark.e2e

COLOURS = ("red", "green", "blue", "yellow")


@pytest.fixture(scope="module")
def quadrant_browser(browser, tmp_path_factory):
    """A Chromium whose cameras play the four-quadrant picture (same Playwright instance)."""
    y4m = write_y4m(tmp_path_factory.mktemp("camera") / "quadrants.y4m")
    launched = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={y4m}"],
    )
    yield launched
    launched.close()


@pytest.fixture
def quadrant_page(quadrant_browser):
    contexts = []

    def make():
        context = quadrant_browser.new_context(locale="fr-FR", permissions=["camera", "microphone"])
        contexts.append(context)
        context.add_init_script(STATUS_LOG)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def lesson(asgi_server, quadrant_page, loan, teacher):
    station = open_station(quadrant_page(), asgi_server, teacher, loan)
    pupil = pair_tablet(quadrant_page(), asgi_server, loan, teacher)
    station.get_by_role("button", name="Démarrer la séance").click()
    pupil.get_by_role("button", name="Rejoindre la classe").click()
    assert rising(pupil, "class")
    # The class station has told the pupil's page the view: the controls are live.
    pupil.wait_for_function("() => window.cartableSteer && window.cartableSteer.open")
    return station, pupil


def shares(page) -> dict:
    return page.evaluate(COLOUR_SHARES_JS, "#class-video") or {"shares": {}}


def shows_only(page, colour: str, share: float = 0.8) -> bool:
    return shares(page)["shares"].get(colour, 0) >= share


def shows_all_four(page) -> bool:
    got = shares(page)["shares"]
    return all(got.get(colour, 0) >= 0.15 for colour in COLOURS)


def station_view(station) -> dict:
    return station.evaluate("({...window.cartableSteer.view, id: window.cartableSteer.viewId})")


def steer_to_top_left(page, press):
    """Zoom in four steps (×2.4), then go left and up until the view stops at the corner."""
    for _ in range(4):
        press("in")
    for _ in range(4):
        press("left")
    for _ in range(4):
        press("up")


def pad_press(page, pad):
    names = {
        "in": "Zoomer (+)",
        "out": "Dézoomer (−)",
        "left": "Regarder à gauche",
        "right": "Regarder à droite",
        "up": "Regarder en haut",
        "down": "Regarder en bas",
    }

    def press(action):
        page.locator(f"#{pad}").get_by_role("button", name=names[action], exact=True).click()

    return press


def test_named_views_zoom_on_one_quadrant_and_back_to_the_whole_class(lesson):
    station, pupil = lesson
    wait_until(lambda: shows_all_four(pupil))

    # The teacher frames the red quadrant once and names the view.
    steer_to_top_left(station, pad_press(station, "station-pad"))
    wait_until(lambda: station_view(station)["zoom"] > 2)
    station.get_by_label("Nom de la vue actuelle").fill("Tableau")
    station.get_by_role("button", name="Enregistrer la vue actuelle").click()
    assert said(station, "Vue « Tableau » enregistrée.")
    station.get_by_role("button", name="Toute la classe").click()
    wait_until(lambda: shows_all_four(pupil))
    # Kept on the station's device.
    assert "Tableau" in station.evaluate("localStorage.getItem('cartable.station.views')")

    # The pupil picks it with one tap: the red quadrant fills the picture.
    views = pupil.get_by_role("group", name="Vues de la classe choisies par l'enseignant")
    views.get_by_role("button", name="Tableau").click()
    wait_until(lambda: shows_only(pupil, "red"))
    assert views.get_by_role("button", name="Tableau").get_attribute("aria-pressed") == "true"
    got = shares(pupil)
    assert got["shares"]["red"] >= 0.8, got
    # The station shows what the pupil is looking at.
    station.locator("#steer[data-view=tableau]").wait_for(state="attached")
    assert "Tableau" in station.locator("#steer-summary").inner_text()
    wait_until(lambda: said(station, "regarde : Tableau."))
    assert_accessible(station)
    assert_accessible(pupil)

    # Back to the whole class: all four colours again.
    views.get_by_role("button", name="Toute la classe").click()
    wait_until(lambda: shows_all_four(pupil))
    assert station_view(station) == {"x": 0.5, "y": 0.5, "zoom": 1, "id": "toute-la-classe"}


def test_keyboard_steering_and_accessibility(lesson):
    station, pupil = lesson
    wait_until(lambda: shows_all_four(pupil))
    # The class view is a keyboard stop of its own: arrows to look around, + and − to zoom.
    figure = pupil.locator("#class-figure")
    figure.focus()
    for key in ["+"] * 4 + ["ArrowLeft"] * 4 + ["ArrowUp"] * 4:
        pupil.keyboard.press(key)
    wait_until(lambda: shows_only(pupil, "red"))
    wait_until(lambda: station_view(station)["zoom"] > 2)
    assert said(pupil, "zoom ×")
    # Right and down to the opposite corner: yellow.
    for key in ["ArrowRight"] * 6 + ["ArrowDown"] * 6:
        pupil.keyboard.press(key)
    wait_until(lambda: shows_only(pupil, "yellow"))
    # The pad's buttons work with the keyboard too, and arrows keep steering from them.
    pupil.locator("#pupil-pad").get_by_role("button", name="Dézoomer (−)").focus()
    for _ in range(4):
        pupil.keyboard.press("Enter")
    wait_until(lambda: shows_all_four(pupil))
    assert station_view(station)["zoom"] == 1
    assert_accessible(pupil)
    assert_accessible(station)


def test_fixed_view_refuses_the_pupil_and_says_why(lesson):
    station, pupil = lesson
    wait_until(lambda: shows_all_four(pupil))
    station.get_by_role("button", name="Vue fixe").click()
    assert station.get_by_role("button", name="Vue fixe").get_attribute("aria-pressed") == "true"
    pupil.locator("#view-locked").wait_for(state="visible")
    wait_until(lambda: said(pupil, "L’enseignant a fixé la vue de la classe."))

    # The pupil's keys are sent and refused by the class station, which says why.
    pupil.locator("#class-figure").focus()
    pupil.keyboard.press("+")
    wait_until(lambda: said(pupil, "L’enseignant a fixé la vue : tu ne peux pas la changer"))
    views = pupil.get_by_role("group", name="Vues de la classe choisies par l'enseignant")
    refusals = pupil.evaluate("window.statusLog.length")
    views.get_by_role("button", name="Toute la classe").click()
    wait_until(lambda: pupil.evaluate("window.statusLog.length") > refusals)
    # Even a command sent straight on the data channel, past the page's controls.
    pupil.evaluate(
        "window.cartableSteer.peers.view.send("
        "{type: 'view_set', seq: 900, x: 0.25, y: 0.25, zoom: 2})"
    )
    station.wait_for_function("() => window.cartableSteer.pupilSeq >= 900")
    assert station_view(station)["zoom"] == 1
    assert shows_all_four(pupil)
    # The pupil's page is back to the view as it is.
    wait_until(lambda: pupil.locator("#class-figure").get_attribute("data-zoom") == "1.00")
    assert_accessible(pupil)
    assert_accessible(station)

    # The teacher still steers; then lets go, and the pupil steers again.
    station.get_by_role("button", name="Vue fixe").click()
    wait_until(lambda: said(pupil, "Tu peux de nouveau orienter la vue de la classe."))
    pupil.locator("#class-figure").focus()
    for key in ["+"] * 4 + ["ArrowLeft"] * 4 + ["ArrowDown"] * 4:
        pupil.keyboard.press(key)
    # The crop moves at the pace of the class station's worker: slow on a busy machine.
    wait_until(lambda: shows_only(pupil, "blue"), timeout=30)


def wait_while_moving(page, done_js, progress_js, *, stalled=30.0, limit=180.0):
    """Wait until ``done_js`` is true, for as long as ``progress_js`` keeps changing: fail
    when it has not changed for ``stalled`` seconds (or after ``limit``, a bound)."""
    deadline = time.monotonic() + limit
    last, moved = None, time.monotonic()
    while time.monotonic() < deadline:
        if page.evaluate(done_js):
            return
        now = page.evaluate(progress_js)
        if now != last:
            last, moved = now, time.monotonic()
        elif time.monotonic() - moved > stalled:
            raise AssertionError(f"no progress for {stalled:.0f} s (last: {last!r})")
        time.sleep(0.1)
    raise AssertionError(f"not done within {limit:.0f} s (last: {last!r})")


def test_a_still_of_the_board_arrives_at_full_resolution(lesson):
    station, pupil = lesson
    pupil.get_by_role("button", name="Photo du tableau").click()
    image = pupil.locator("#still-image")
    # A full-resolution PNG is about 2 MB in some 130 chunks: on a busy machine it may take
    # long. Wait as long as it moves (the progress shown changes), not a fixed time.
    wait_while_moving(
        pupil,
        "() => document.getElementById('still-image').complete"
        " && document.getElementById('still-image').naturalWidth > 0",
        "() => document.getElementById('still-progress').textContent",
    )
    natural = image.evaluate("(img) => [img.naturalWidth, img.naturalHeight]")
    assert natural == [1920, 1080]
    assert said(pupil, "Photo du tableau n°1 reçue.")
    assert pupil.evaluate("window.cartableSteer.trace.stills[0]")["width"] == 1920
    # Browsable: zoom in, and it is kept only if the teacher allows it.
    assert pupil.locator("#still-save").is_hidden()
    pupil.get_by_role("button", name="Agrandir la photo").click()
    assert said(pupil, "Photo agrandie ×1,5.")
    assert_accessible(pupil)
    station.get_by_role("button", name="Autoriser l'élève à garder les photos du tableau").click()
    pupil.get_by_role("link", name="Enregistrer la photo").wait_for(state="visible")
    # Nothing of it went through the server: it is a blob of the page.
    assert pupil.locator("#still-image").get_attribute("src").startswith("blob:")

    # No still during the privacy pause.
    station.get_by_role("button", name="Pause confidentialité").click()
    pupil.locator("#paused-screen").wait_for(state="visible")
    pupil.get_by_role("button", name="Photo du tableau").click()
    wait_until(lambda: said(pupil, "Pas de photo pendant la pause de la classe."))
    assert pupil.locator("#still-list li").count() == 1


VALIDATION_JS = """
async () => {
  const peer = await import('/static/live/peer.js');
  const parse = (message, side = 'class', channel = 'view') => {
    const why = {};
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    return peer.parseMessage(text, { side, channel }, why) ? 'ok' : why.reason;
  };
  const out = {
    good: parse({ type: 'view_set', seq: 1, x: 0.5, y: 0.5, zoom: 2 }),
    unknown: parse({ type: 'hello', seq: 1 }),
    wrongSide: parse({ type: 'view_state', seq: 1 }),
    wrongChannel: parse({ type: 'view_set', seq: 1, x: 0.5, y: 0.5, zoom: 2 }, 'class', 'stills'),
    extra: parse({ type: 'view_set', seq: 1, x: 0.5, y: 0.5, zoom: 2, evil: 1 }),
    missing: parse({ type: 'view_set', seq: 1, x: 0.5, y: 0.5 }),
    range: parse({ type: 'view_set', seq: 1, x: 1.5, y: 0.5, zoom: 2 }),
    zoom: parse({ type: 'view_set', seq: 1, x: 0.5, y: 0.5, zoom: 0.5 }),
    stringly: parse({ type: 'view_set', seq: '1', x: 0.5, y: 0.5, zoom: 2 }),
    nan: parse('{"type":"view_set","seq":1,"x":NaN,"y":0.5,"zoom":2}'),
    badId: parse({ type: 'view_preset', seq: 1, view: '../../x' }),
    proto: parse('{"type":"__proto__","seq":1}'),
    big: parse({ type: 'still_request', seq: 1, pad: 'x'.repeat(5000) }),
    array: parse('[1,2]'),
  };
  const bucket = new peer.TokenBucket(1, 5);
  out.bucket = Array.from({ length: 10 }, () => bucket.take()).filter(Boolean).length;

  // A still, sent over a loopback pair of data channels, then one corrupted on the way.
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  const sendChannel = a.createDataChannel('stills');
  const received = new Promise((resolve) => (b.ondatachannel = (e) => resolve(e.channel)));
  await a.setLocalDescription();
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription();
  await a.setRemoteDescription(b.localDescription);
  const recvChannel = await received;
  await new Promise((resolve) =>
    sendChannel.readyState === 'open' ? resolve() : (sendChannel.onopen = resolve));
  const sender = new peer.PeerChannel(sendChannel, 'class');
  const receiver = new peer.PeerChannel(recvChannel, 'pupil');
  const stills = new peer.StillReceiver();
  stills.attach(receiver);
  const canvas = new OffscreenCanvas(600, 300);
  const ctx = canvas.getContext('2d');
  // Noise does not compress: the PNG takes many chunks.
  const noise = ctx.createImageData(600, 300);
  crypto.getRandomValues(noise.data.subarray(0, 65536));
  for (let i = 65536; i < noise.data.length; i += 65536) {
    crypto.getRandomValues(noise.data.subarray(i, Math.min(i + 65536, noise.data.length)));
  }
  for (let i = 3; i < noise.data.length; i += 4) noise.data[i] = 255;
  ctx.putImageData(noise, 0, 0);
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  const next = () =>
    new Promise((resolve) => {
      const ok = (e) => resolve({ ok: true, ...e.detail, blob: undefined });
      const ko = (e) => resolve({ ok: false, ...e.detail });
      stills.addEventListener('still', ok, { once: true });
      stills.addEventListener('failed', ko, { once: true });
    });
  const still = (id, width) =>
    peer.sendStill(sender, { id, seq: 0, blob, width, height: 300, takenAt: Date.now() });
  let result = next();
  await still(1, 600);
  out.still = await result;
  out.chunks = Math.ceil(blob.size / peer.CHUNK_PAYLOAD_BYTES);
  // The same still, one byte of one chunk flipped on the way.
  const send = sendChannel.send.bind(sendChannel);
  let flipped = false;
  sendChannel.send = (data) => {
    if (!flipped && data instanceof ArrayBuffer) {
      new Uint8Array(data)[peer.CHUNK_HEADER_BYTES + 10] ^= 0xff;
      flipped = true;
    }
    return send(data);
  };
  result = next();
  await still(2, 600);
  out.corrupted = await result;
  sendChannel.send = send;
  // Announced bigger than it is: the size check refuses it.
  result = next();
  await still(3, 601);
  out.wrongSize = await result;
  // A chunk over 16 KiB is dropped before reassembly.
  sendChannel.send(new ArrayBuffer(peer.CHUNK_BYTES + 1));
  await new Promise((r) => setTimeout(r, 200));
  out.dropped = receiver.dropped;
  a.close();
  b.close();
  return out;
}
"""


def test_peer_messages_are_checked_and_stills_reassembled_with_integrity(
    asgi_server, quadrant_page, loan, teacher
):
    page = pair_tablet(quadrant_page(), asgi_server, loan, teacher)
    out = page.evaluate(VALIDATION_JS)
    assert out["good"] == "ok"
    assert out["unknown"] == "unknown_type"
    assert out["wrongSide"] == "unknown_type"
    assert out["wrongChannel"] == "unknown_type"
    assert out["extra"] == "bad_fields"
    assert out["missing"] == "bad_fields"
    assert out["range"] == "bad_x"
    assert out["zoom"] == "bad_zoom"
    assert out["stringly"] == "bad_seq"
    assert out["nan"] == "bad_json"
    assert out["badId"] == "bad_view"
    assert out["proto"] == "unknown_type"
    assert out["big"] == "too_big"
    assert out["array"] == "not_object"
    assert out["bucket"] == 5
    assert out["still"]["ok"] is True
    assert (out["still"]["width"], out["still"]["height"]) == (600, 300)
    assert out["chunks"] > 1  # really chunked
    assert out["corrupted"] == {"ok": False, "id": 2, "reason": "checksum"}
    assert out["wrongSize"] == {"ok": False, "id": 3, "reason": "bad_size"}
    assert out["dropped"] == {"bad_chunk_size": 1}


def test_a_flood_of_commands_is_rate_limited(lesson):
    station, pupil = lesson
    pupil.evaluate(
        """() => {
          const peer = window.cartableSteer.peers.view;
          for (let i = 1; i <= 200; i += 1) {
            peer.send({type: 'view_set', seq: 1000 + i, x: 0.5, y: 0.5, zoom: 1 + (i % 3) / 10});
          }
        }"""
    )
    wait_until(lambda: said(pupil, "Doucement : trop de demandes d’un coup."))
    station.wait_for_function("() => window.cartableSteer.pupilSeq >= 1000")
    # Invalid messages are dropped by the station and counted, never acted on.
    pupil.evaluate(
        "window.cartableSteer.peers.view.channel.send("
        "JSON.stringify({type: 'view_set', seq: 5000, x: 9, y: 0.5, zoom: 1}))"
    )
    station.wait_for_function("() => (window.cartableSteer.peers.view.dropped.bad_x || 0) >= 1")
