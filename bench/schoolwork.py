"""Schoolwork both ways: prints figures; asserts nothing.

    cd /work/main && .venv/bin/python bench/schoolwork.py [--runs 10]

In one lesson (the real platform, two Chromium devices on loopback, see README.md):

1. From the teacher's tap on « Envoyer à l'élève » on the class station to the first page
   shown on the pupil's tablet (the page image's load event in the document that opens by
   itself), for a 5 MB, 20-page PDF and for a 4 MB phone photo. This covers the upload,
   the server's checks (libmagic, pikepdf), the rendering of every page (pypdfium2) or the
   re-encoding of the photo (Pillow), storing, the live ``work`` message, the tablet's
   fetch of the work and of page 1.
2. From the pupil's tap on « Rendre mon travail » to the station showing that it arrived
   (its status line « Travail rendu par l'élève »).

p50 over ``--runs`` runs each (default 10); target: ≤ 1.5 s for the first.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

TARGET_P50_MS = 1500

LOG_JS = """
window.benchLog = [];
const stamp = () => performance.timeOrigin + performance.now();
document.addEventListener('click', (event) => {
  const button = event.target.closest && event.target.closest('button');
  if (button) window.benchLog.push(['click', button.textContent.trim(), stamp()]);
}, true);
document.addEventListener('load', (event) => {
  const target = event.target;
  if (target.matches && target.matches('#work-overlay .page-image')) {
    window.benchLog.push(['page', target.src, stamp()]);
  }
}, true);
document.addEventListener('DOMContentLoaded', () => {
  const status = document.getElementById('work-station-status');
  if (!status) return;
  new MutationObserver(() => window.benchLog.push(['status', status.textContent, stamp()]))
    .observe(status, {childList: true, characterData: true, subtree: true});
});
"""


def noise_jpeg(width: int, height: int, quality: int) -> bytes:
    from PIL import Image

    rng = random.Random(width * height)
    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def pdf_of(megabytes: float, pages: int) -> bytes:
    """A ``pages``-page PDF of about ``megabytes`` MB: a scanned-looking image per page."""
    from PIL import Image

    per_page = megabytes * 1024 * 1024 / pages
    side = int((per_page / 1.4 / 0.55) ** 0.5)  # noise JPEG at q90: about 0.55 B a pixel
    images = [Image.open(io.BytesIO(noise_jpeg(side, int(side * 1.4), 90))) for _ in range(pages)]
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=150)
    return out.getvalue()


def photo_of(megabytes: float) -> bytes:
    pixels = megabytes * 1024 * 1024 / 1.18  # noise JPEG at q95: about 1.18 B a pixel
    width = int((pixels * 4 / 3) ** 0.5)
    return noise_jpeg(width, width * 3 // 4, 95)


def log(page) -> list:
    return page.evaluate("window.benchLog")


def wait_entry(page, kind: str, after: float, text: str = "", timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for entry in log(page):
            if entry[0] == kind and entry[-1] > after and text in str(entry[1]):
                return entry[-1]
        time.sleep(0.01)
    return None


def one_run(station, pupil, path: Path) -> tuple[float | None, float | None]:
    overlay = pupil.locator("#work-overlay")
    if overlay.is_visible():
        pupil.get_by_role("button", name="Fermer le document").click()
    station.locator("#work-file").set_input_files(str(path))
    before = log(station)
    station.get_by_role("button", name="Envoyer à l'élève").click()
    sent = next(e[2] for e in log(station)[len(before) :] if e[0] == "click")
    shown = wait_entry(pupil, "page", sent)
    if shown is None:
        return None, None
    pupil.locator("#work-overlay").get_by_role("button", name="Rendre mon travail").click()
    tapped = [e for e in log(pupil) if e[0] == "click" and "Rendre mon travail" in e[1]][-1][2]
    arrived = wait_entry(station, "status", tapped, "Travail rendu par l'élève")
    return shown - sent, (arrived - tapped if arrived else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    harness.enter_private_network()
    folder = Path(tempfile.mkdtemp(prefix="cartable-bench-work-"))
    documents = {
        "PDF 20 pages": folder / "fiche.pdf",
        "photo": folder / "photo.jpg",
    }
    documents["PDF 20 pages"].write_bytes(pdf_of(4.9, 20))
    documents["photo"].write_bytes(photo_of(4.0))
    sizes = {name: path.stat().st_size / 1024 / 1024 for name, path in documents.items()}
    with harness.running_platform() as platform, harness.chromium() as browser:
        station = harness.new_device(browser, [LOG_JS])
        pupil = harness.new_device(browser, [LOG_JS])
        harness.open_station(station, platform)
        harness.pair_tablet(pupil, platform)
        pupil.get_by_role("button", name="Rejoindre la classe").click()
        pupil.wait_for_function("() => window.cartableLink && window.cartableLink.ws")
        print(harness.machine_line(browser))
        meter = harness.CpuMeter()
        results = {}
        for name, path in documents.items():
            shown, back = [], []
            for _ in range(args.runs):
                first, returned = one_run(station, pupil, path)
                if first is not None:
                    shown.append(first)
                if returned is not None:
                    back.append(returned)
            results[name] = (shown, back)
        print(meter.read())
    print(f"\n« Envoyer » → first page on the tablet (target p50 ≤ {TARGET_P50_MS} ms):")
    for name, (shown, _) in results.items():
        p50 = harness.fmt_ms(harness.percentile(shown, 50))
        print(
            f"  {name:13} {sizes[name]:4.1f} MB  p50 {p50}"
            f" ms  p90 {harness.fmt_ms(harness.percentile(shown, 90))} ms  ({len(shown)} runs)"
        )
    print("« Rendre mon travail » → shown on the station:")
    for name, (_, back) in results.items():
        print(
            f"  after {name:13}   p50 {harness.fmt_ms(harness.percentile(back, 50))} ms"
            f"  p90 {harness.fmt_ms(harness.percentile(back, 90))} ms  ({len(back)} runs)"
        )


if __name__ == "__main__":
    main()
