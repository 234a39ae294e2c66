"""Steps a person takes, written once for the browser tests."""

from __future__ import annotations

import re
import time

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from cartable.accounts.second_factor import requires_second_factor
from cartable.live.services import pairing_code_create

from ..conftest import PASSWORD
from .conftest import BOARD_CAMERA_INDEX, CLASS_CAMERA_INDEX


def sign_in(page, server, user, next_path: str = "/", *, second_factor: bool = True):
    """People sign in with their email address; a fixture's user without one gets one.

    Those who need a second factor then enrol an authenticator (the first time) or give
    its code, as they would with the app: the code is computed from the device's key
    (``second_factor=False`` leaves them on the code page)."""
    if not user.email:
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])
    page.goto(f"{server.url}/connexion/?next={next_path}")
    page.get_by_label("Adresse électronique").fill(user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    if second_factor and requires_second_factor(user):
        page.wait_for_url(re.compile(r".*/connexion/code/"))
        page.get_by_label("Code à 6 chiffres").fill(totp_code(user))
        page.get_by_label("Code à 6 chiffres").press("Enter")
        page.wait_for_url(lambda url: "/connexion/" not in url)


def totp_code(user) -> str:
    """A code of the person's latest authenticator not yet used (a code serves once)."""
    device = TOTPDevice.objects.filter(user=user).order_by("-pk").first()
    while True:
        now = time.time()
        step = int((now - device.t0) // device.step)
        ahead = max(0, device.last_t + 1 - step)
        if ahead <= device.tolerance:
            break
        time.sleep(1)  # every code of the window was used: wait for the next one
        device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = now + ahead * device.step
    return f"{totp.token():06d}"


def open_station(page, server, teacher, loan):
    sign_in(page, server, teacher, f"/station/{loan.pk}/")
    page.wait_for_function("() => window.cartableLink && window.cartableLink.ws")
    page.locator("summary").click()
    options = page.locator("#board-camera option")
    page.select_option("#board-camera", index=BOARD_CAMERA_INDEX)
    if options.count() > CLASS_CAMERA_INDEX:
        page.select_option("#class-camera", index=CLASS_CAMERA_INDEX)
    return page


def pair_tablet(page, server, loan, by):
    issued = pairing_code_create(loan=loan, by=by)
    page.goto(f"{server.url}/appairer/")
    page.get_by_label("Code d'appairage").fill(issued.display)
    page.get_by_role("button", name="Appairer cette tablette").click()
    page.wait_for_url(f"{server.url}/eleve/")
    return page


# Reading what a page receives, through the link's peer connection.
INBOUND_VIDEO = """
async () => {
  const link = window.cartableLink;
  if (!link || !link.pc) return {};
  const stats = await link.pc.getStats();
  const byMid = {};
  stats.forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') byMid[s.mid] = s.framesDecoded || 0;
  });
  const out = {};
  for (const t of link.pc.getTransceivers()) {
    const label = link.labelOf(t);
    if (label && t.mid in byMid) out[label] = byMid[t.mid];
  }
  return out;
}
"""

INBOUND_AUDIO = """
async () => {
  const link = window.cartableLink;
  if (!link || !link.pc) return 0;
  const stats = await link.pc.getStats();
  // Packets, not samples: the receiver conceals missing audio with samples of its own.
  let packets = 0;
  stats.forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'audio') packets += s.packetsReceived || 0;
  });
  return packets;
}
"""


def frames(page) -> dict:
    return page.evaluate(INBOUND_VIDEO)


def audio_samples(page) -> int:
    return page.evaluate(INBOUND_AUDIO)
