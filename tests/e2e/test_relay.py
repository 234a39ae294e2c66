"""Media through a real TURN relay (coturn), as when the pupil's network blocks UDP."""

from __future__ import annotations

import os
import socket
import subprocess
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest

from cartable.live.turn import turn_credentials

from .conftest import CHROMIUM, CHROMIUM_ARGS, free_port
from .coturn import Coturn, TestAuthority
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


# UDP blocked: the relay as the automatic fallback ------------------------------------------

# The relay's side towards the peers: below this namespace's ephemeral ports (32768-60999),
# where the browsers' own sockets are, so the rules below can tell the relay's UDP from
# the browsers'.
RELAY_PORTS = (20000, 20999)
FIREWALL = "cartable_udp_blocked"


def _nft(*args: str, check: bool = True):
    return subprocess.run(["nft", *args], check=check, capture_output=True)  # noqa: S603, S607


@contextmanager
def udp_blocked(tcp_ports: set[int]):
    """A network that lets no UDP through for the devices and TCP only to the platform's
    servers: the browsers can neither reach each other directly (host candidates, UDP or
    ICE-TCP) nor the relay by UDP. The relay itself, on the open internet, still talks UDP
    between its relayed addresses. On the input hook: packets vanish, as on a real network."""
    ports = ", ".join(str(p) for p in sorted(tcp_ports))
    low, high = RELAY_PORTS
    _nft("delete", "table", "inet", FIREWALL, check=False)
    _nft("add", "table", "inet", FIREWALL)
    _nft("add", "chain", "inet", FIREWALL, "in", "{ type filter hook input priority 0; }")
    for rule in (
        f"udp sport {low}-{high} udp dport {low}-{high} accept",
        "meta l4proto udp drop",
        f"tcp sport {{ {ports} }} accept",
        f"tcp dport {{ {ports} }} accept",
        "meta l4proto tcp drop",
    ):
        _nft("add", "rule", "inet", FIREWALL, "in", *rule.split())
    try:
        yield
    finally:
        _nft("delete", "table", "inet", FIREWALL, check=False)


def _platform_ports(server) -> set[int]:
    """The TCP ports the platform itself listens on: the web server, and the channel
    layer's Redis when there is one (the PostgreSQL pass; the database is a Unix socket)."""
    ports = {server.port}
    redis = os.environ.get("REDIS_URL")
    if redis:
        ports.add(urlsplit(redis).port or 6379)
    return ports


def _join_and_check_relayed(station, pupil, transport):
    station.get_by_role("button", name="Démarrer la séance").click()
    pupil.get_by_role("button", name="Rejoindre la classe").click()
    wait_until(lambda: set(frames(pupil)) >= {"board", "class"}, timeout=30)
    assert rising(pupil, "board")
    assert rising(pupil, "class")
    for page in (pupil, station):
        pair = page.evaluate(SELECTED_PAIR)
        assert (pair["local"], pair["remote"]) == ("relay", "relay"), pair
        assert pair["relayProtocol"] == transport, pair


def test_with_udp_blocked_media_falls_back_to_the_relay_over_tcp(
    asgi_server, new_page, loan, teacher, settings
):
    """The policy is "all" (the relay is not forced) and both relay URLs are given, UDP
    first: with UDP blocked, ICE finds by itself the only path left, the relay over TCP."""
    coturn = Coturn(free_port(), relay_ports=RELAY_PORTS)
    try:
        settings.LIVE = {
            **settings.LIVE,
            "TURN_URLS": coturn.urls,  # udp, then tcp
            "TURN_SECRET": coturn.secret,
            "ICE_TRANSPORT_POLICY": "all",
        }
        station = open_station(new_page(), asgi_server, teacher, loan)
        pupil = pair_tablet(new_page(), asgi_server, loan, teacher)
        with udp_blocked(_platform_ports(asgi_server) | {coturn.port}):
            _join_and_check_relayed(station, pupil, "tcp")
    finally:
        coturn.stop()


# TURN over TLS ------------------------------------------------------------------------------


def _tls_port() -> int:
    """443 when this namespace lets the tests bind it (root in its own namespace), else a
    free port (the test then says so)."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", 443))
            return 443
        except OSError:
            return free_port()


@pytest.fixture
def tls_relay(tmp_path):
    authority = TestAuthority(tmp_path)
    port = _tls_port()
    if port != 443:
        print(f"TURN over TLS on port {port}: 443 could not be bound here")
    coturn = Coturn(
        free_port(), tls=(authority.cert, authority.key), tls_port=port, relay_ports=RELAY_PORTS
    )
    coturn.authority = authority
    yield coturn
    coturn.stop()


@pytest.fixture
def trusting_browser(browser, tls_relay):
    """A Chromium that accepts the test authority's relay certificate, and only that
    (the SPKI list: any other certificate error still fails)."""
    spki = ",".join(tls_relay.authority.spki_hashes)
    other = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={spki}"],
    )
    contexts = []

    def make():
        context = other.new_context(locale="fr-FR", permissions=["camera", "microphone"])
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        context.close()
    other.close()


def test_with_udp_blocked_media_goes_through_the_relay_over_tls(
    tls_relay, trusting_browser, asgi_server, loan, teacher, settings
):
    """The only path: turns: (TURN over TLS, port 443 as in docs/deploy.md), UDP blocked,
    TCP open only to the platform and the relay's TLS port, policy "all"."""
    settings.LIVE = {
        **settings.LIVE,
        "TURN_URLS": [tls_relay.tls_url],
        "TURN_SECRET": tls_relay.secret,
        "ICE_TRANSPORT_POLICY": "all",
    }
    station = open_station(trusting_browser(), asgi_server, teacher, loan)
    pupil = pair_tablet(trusting_browser(), asgi_server, loan, teacher)
    with udp_blocked(_platform_ports(asgi_server) | {tls_relay.tls_port}):
        _join_and_check_relayed(station, pupil, "tls")
    log = tls_relay.log()
    assert "ALLOCATE processed, success" in log
    assert "TLS" in log, log[-3000:]


def test_a_relay_certificate_nobody_trusts_is_refused(
    tls_relay, trusting_browser, asgi_server, new_page, settings
):
    """The same relay, seen by a browser that was not told about the test authority: the
    TLS handshake fails and there is no relay candidate; the browser told about it gets
    one. TURN over TLS really checks the certificate."""
    settings.LIVE = {
        **settings.LIVE,
        "TURN_URLS": [tls_relay.tls_url],
        "TURN_SECRET": tls_relay.secret,
    }
    server = turn_credentials(session_id=1, side="pupil")
    trusting, default = trusting_browser(), new_page()
    for page in (trusting, default):
        page.goto(f"{asgi_server.url}/appairer/")  # any page of the platform: a secure context
    assert trusting.evaluate(GATHER, server) > 0
    assert default.evaluate(GATHER, server) == 0
