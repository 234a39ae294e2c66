"""Media through a real TURN relay (coturn), as when the pupil's network blocks UDP."""

from __future__ import annotations

import pytest

from cartable.live.turn import turn_credentials

from .conftest import free_port
from .coturn import Coturn
from .helpers import frames, open_station, pair_tablet
from .test_live_link import rising, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["udp", "tcp"])
def relay(request, settings):
    """A real coturn, reached by one transport only, as behind a restrictive firewall."""
    transport = request.param
    coturn = Coturn(free_port())
    url = {"udp": coturn.urls[0], "tcp": coturn.urls[1]}[transport]
    coturn.transport = transport
    settings.LIVE = {
        **settings.LIVE,
        "TURN_URLS": [url],
        "TURN_SECRET": coturn.secret,
        "ICE_TRANSPORT_POLICY": "relay",
    }
    yield coturn
    coturn.stop()


SELECTED_PAIR = """
async () => {
  const stats = await window.cartableLink.pc.getStats();
  let pair = null;
  stats.forEach((s) => {
    if (s.type === 'transport' && s.selectedCandidatePairId) {
      pair = stats.get(s.selectedCandidatePairId);
    }
  });
  if (!pair) return null;
  const local = stats.get(pair.localCandidateId);
  return {local: local.candidateType, remote: stats.get(pair.remoteCandidateId).candidateType,
          relayProtocol: local.relayProtocol};
}
"""


def test_media_flows_through_the_relay_only(relay, asgi_server, new_page, loan, teacher):
    station = open_station(new_page(), asgi_server, teacher, loan)
    pupil = pair_tablet(new_page(), asgi_server, loan, teacher)
    station.get_by_role("button", name="Démarrer la séance").click()
    pupil.get_by_role("button", name="Rejoindre la classe").click()
    wait_until(lambda: set(frames(pupil)) >= {"board", "class"}, timeout=15)
    assert rising(pupil, "board")
    assert rising(pupil, "class")
    pair = pupil.evaluate(SELECTED_PAIR)
    assert (pair["local"], pair["remote"]) == ("relay", "relay")
    assert pair["relayProtocol"] == relay.transport


GATHER = """
async (server) => {
  const pc = new RTCPeerConnection({iceServers: [server], iceTransportPolicy: 'relay'});
  pc.createDataChannel('probe');
  const relayed = [];
  pc.onicecandidate = (e) => { if (e.candidate && e.candidate.type === 'relay') relayed.push(1); };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') resolve();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
    setTimeout(resolve, 5000);
  });
  pc.close();
  return relayed.length;
}
"""


def test_the_relay_refuses_expired_or_forged_credentials(relay, asgi_server, new_page, loan):
    if relay.transport != "udp":
        pytest.skip("credentials are checked the same way whatever the transport")
    import time

    page = new_page()
    page.goto(f"{asgi_server.url}/appairer/")  # any page of the platform: a secure context
    good = turn_credentials(session_id=1, side="pupil")
    assert page.evaluate(GATHER, good) > 0
    expired = turn_credentials(session_id=1, side="pupil", now=time.time() - 5 * 3600)
    assert page.evaluate(GATHER, expired) == 0
    forged = {**good, "credential": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="}
    assert page.evaluate(GATHER, forged) == 0


def test_the_production_relay_refuses_loopback_and_private_peers(
    asgi_server, new_page, loan, teacher, settings
):
    """With production's peer rules (read from docs/deploy.md), the relay will not open a
    path to a loopback or private address: here both ends are on loopback, so no media."""
    coturn = Coturn(free_port(), production_peers=True)
    try:
        settings.LIVE = {
            **settings.LIVE,
            "TURN_URLS": [coturn.urls[0]],
            "TURN_SECRET": coturn.secret,
            "ICE_TRANSPORT_POLICY": "relay",
        }
        station = open_station(new_page(), asgi_server, teacher, loan)
        pupil = pair_tablet(new_page(), asgi_server, loan, teacher)
        station.get_by_role("button", name="Démarrer la séance").click()
        pupil.get_by_role("button", name="Rejoindre la classe").click()
        # The relay allocates, then refuses the permission towards the other end's address.
        wait_until(lambda: "CREATE_PERMISSION processed, error 403: Forbidden IP" in coturn.log())
        assert "ALLOCATE processed, success" in coturn.log()
        assert "CREATE_PERMISSION processed, success" not in coturn.log()
        assert frames(pupil) == {}
    finally:
        coturn.stop()
