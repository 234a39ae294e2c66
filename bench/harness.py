"""What both live-link benchmarks share: the private network, the platform, the browser.

Nothing here is a test: the benchmarks print figures and assert no threshold. Everything
runs in a private network namespace where only loopback exists, so the server, Chromium
and WebRTC can reach nothing but 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import os
import platform as host
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CARTABLE = ROOT / ".venv" / "bin" / "cartable"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream=device-count=3",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-proxy-server",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
]
# Fake device 1 is a depth camera that delivers no frames: the two class cameras are 0 and 2.
BOARD_CAMERA_INDEX, CLASS_CAMERA_INDEX = 0, 2
NETNS_MARK = "CARTABLE_BENCH_IN_NETNS"


# Private network ------------------------------------------------------------------------


def interfaces() -> list[str]:
    # /proc/self/net/dev lists the interfaces of this process's own network namespace.
    lines = Path("/proc/self/net/dev").read_text().splitlines()[2:]
    return [line.split(":")[0].strip() for line in lines]


def enter_private_network() -> None:
    """Re-execute this script under ``unshare --net`` unless only loopback exists already."""
    if interfaces() == ["lo"]:
        # (/sys/class/net shows the namespace sysfs was mounted in, not this one: ask ip.)
        subprocess.run(["ip", "link", "set", "lo", "up"], check=False, capture_output=True)
        shown = subprocess.run(
            ["ip", "-o", "link", "show", "lo"], capture_output=True, text=True, check=False
        ).stdout
        if "UP" not in shown.split(">")[0]:
            raise SystemExit("loopback is down in this network namespace: ip link set lo up")
        return
    if os.environ.get(NETNS_MARK):
        raise SystemExit(f"unshare --net did not give a private network: {interfaces()}")
    if not shutil.which("unshare"):
        raise SystemExit("unshare (util-linux) is needed to run in a private network namespace")
    unshare = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "--map-root-user", "--net"]
    script = os.path.abspath(sys.argv[0])
    os.execvpe(
        "unshare",
        [*unshare, "--", sys.executable, script, *sys.argv[1:]],
        {**os.environ, NETNS_MARK: "1"},
    )


# The platform ---------------------------------------------------------------------------


@dataclass
class Platform:
    base_url: str
    loan_id: int
    pairing_code: str
    username: str
    password: str
    var_dir: Path
    server_log: Path
    email: str = ""  # what the teacher signs in with, when the demo gives one

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(var_dir: Path) -> dict[str, str]:
    """The embedded default (SQLite, in-memory channel layer) in a fresh directory."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CARTABLE_PRODUCTION", "SQLITE_PATH"}
    }
    env.update(CARTABLE_VAR_DIR=str(var_dir), LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    return env


def wait_http(url: str, server: subprocess.Popen, timeout: float = 30.0) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode}")
        try:
            with opener.open(url, timeout=2) as response:
                if response.status < 500:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not answer on {url} within {timeout:.0f} s")


@contextlib.contextmanager
def running_platform(extra_env: Mapping[str, str] | None = None) -> Iterator[Platform]:
    """Demo data in a fresh CARTABLE_VAR_DIR, then ``cartable serve`` on a free port.

    ``extra_env`` is added to the server's environment (TURN_URLS, for example)."""
    var_dir = Path(tempfile.mkdtemp(prefix="cartable-bench-"))
    server = None
    try:
        env = {**server_env(var_dir), **(extra_env or {})}
        port = free_port()
        demo = subprocess.run(
            [str(CARTABLE), "demo", "--json", "--no-serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if demo.returncode != 0:
            raise RuntimeError(f"cartable demo failed:\n{demo.stdout}\n{demo.stderr}")
        links = json.loads(demo.stdout[demo.stdout.index("{") :])
        server_log = var_dir / "server.log"
        with server_log.open("w") as log:
            server = subprocess.Popen(
                [str(CARTABLE), "serve", "--port", str(port)],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        base_url = f"http://127.0.0.1:{port}/"
        wait_http(base_url, server)
        yield Platform(
            base_url=base_url,
            loan_id=int(links["loan_id"]),
            pairing_code=str(links["pairing_code"]),
            username=links["teacher"]["username"],
            password=links["teacher"]["password"],
            var_dir=var_dir,
            server_log=server_log,
            email=links["teacher"].get("email", ""),
        )
    except BaseException:
        log_path = var_dir / "server.log"
        if log_path.exists():
            tail = log_path.read_text(errors="replace").splitlines()[-30:]
            if tail:
                print("--- server log (last lines)", *tail, sep="\n", file=sys.stderr)
        raise
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
        shutil.rmtree(var_dir, ignore_errors=True)


# The browser ----------------------------------------------------------------------------


@contextlib.contextmanager
def chromium(extra_args: Sequence[str] = ()) -> Iterator:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise SystemExit(
            f"Chromium not found at {CHROMIUM} (set CHROMIUM or run scripts/bootstrap)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield browser
        finally:
            browser.close()


def new_device(browser, init_scripts: Sequence[str] = ()):
    """A page in its own browser context: the class station and the tablet are two devices."""
    context = browser.new_context(
        locale="fr-FR",
        permissions=["camera", "microphone"],
        viewport={"width": 1280, "height": 800},
    )
    for script in init_scripts:
        context.add_init_script(script)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def open_station(page, platform: Platform) -> None:
    """Sign in as the teacher, pick the fake cameras 0 and 2, start the session."""
    page.goto(platform.url(f"/connexion/?next=/station/{platform.loan_id}/"))
    # People sign in with their email address (the field is labelled « Adresse électronique
    # (identifiant) »); a demo without one signs in with the username.
    page.get_by_label("Identifiant").fill(platform.email or platform.username)
    page.get_by_label("Mot de passe").fill(platform.password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(platform.url(f"/station/{platform.loan_id}/"))
    page.wait_for_function("() => window.cartableLink && window.cartableLink.ws")
    page.locator("summary").click()
    page.wait_for_function(
        f"() => document.querySelectorAll('#board-camera option').length > {CLASS_CAMERA_INDEX}"
    )
    page.select_option("#board-camera", index=BOARD_CAMERA_INDEX)
    page.select_option("#class-camera", index=CLASS_CAMERA_INDEX)
    page.get_by_role("button", name="Démarrer la séance").click()
    page.locator("#station[data-state=live]").wait_for(state="attached")
    page.wait_for_function("() => window.cartableLink.local && window.cartableLink.local.board")


def pair_tablet(page, platform: Platform) -> None:
    page.goto(platform.url("/appairer/"))
    page.get_by_label("Code d'appairage").fill(platform.pairing_code)
    page.get_by_role("button", name="Appairer cette tablette").click()
    page.wait_for_url(platform.url("/eleve/"))


# Instrumentation ------------------------------------------------------------------------

# Time stamps on the machine's clock (performance.timeOrigin + performance.now(), in ms),
# comparable between the two pages, for each step of signalling and negotiation.
STEP_MARKS_JS = """
(() => {
  if (window.__benchEvents) return;
  const events = (window.__benchEvents = []);
  const stamp = () => performance.timeOrigin + performance.now();
  const mark = (name) => {
    if (events.length < 5000) events.push([name, stamp()]);
  };
  const kindOf = (raw) => {
    try {
      const message = JSON.parse(raw);
      if (message.type !== 'signal') return message.type;
      return message.description ? message.description.type : 'candidate';
    } catch {
      return 'unparsed';
    }
  };
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      mark('ws_new');
      this.addEventListener('open', () => mark('ws_open'));
      this.addEventListener('message', (event) => mark('recv:' + kindOf(event.data)));
    }
    send(data) {
      mark('send:' + kindOf(data));
      return super.send(data);
    }
  };
  const NativePeerConnection = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativePeerConnection {
    constructor(...args) {
      super(...args);
      mark('pc_new');
      this.addEventListener('iceconnectionstatechange', () => {
        mark('ice:' + this.iceConnectionState);
      });
      this.addEventListener('connectionstatechange', () => mark('conn:' + this.connectionState));
      this.addEventListener('icecandidate', (event) => {
        mark(event.candidate ? 'ice_candidate' : 'ice_gathered');
      });
    }
    async setLocalDescription(...args) {
      mark('sld_start');
      try {
        return await super.setLocalDescription(...args);
      } finally {
        mark('sld_done:' + (this.localDescription ? this.localDescription.type : '?'));
      }
    }
    async setRemoteDescription(description) {
      const type = description && description.type;
      mark('srd_start:' + type);
      try {
        return await super.setRemoteDescription(description);
      } finally {
        mark('srd_done:' + type);
      }
    }
  };
  const media = navigator.mediaDevices;
  if (media && media.getUserMedia) {
    const getUserMedia = media.getUserMedia.bind(media);
    media.getUserMedia = async (constraints) => {
      mark('gum_start');
      try {
        return await getUserMedia(constraints);
      } finally {
        mark('gum_done');
      }
    };
  }
})();
"""


def first_after(events: Sequence[Sequence], name: str, start: float) -> float | None:
    """Milliseconds from ``start`` to the first event ``name`` at or after it."""
    for event_name, at in events:
        if event_name == name and at >= start:
            return at - start
    return None


# What one page's peer connection says: per track label, the inbound-rtp and outbound-rtp
# stats (with the remote-inbound-rtp report the other side sent back over RTCP), and the
# selected candidate pair with its two candidates. None before the peer connection exists.
LINK_STATS_JS = """
async () => {
  const link = window.cartableLink;
  if (!link || !link.pc) return null;
  const pc = link.pc;
  const report = await pc.getStats();
  const plain = (s) => (s ? JSON.parse(JSON.stringify(s)) : null);
  const out = {
    at: performance.timeOrigin + performance.now(),
    ice: pc.iceConnectionState,
    connection: pc.connectionState,
    inbound: {},
    outbound: {},
    remoteInbound: {},
    pair: null,
    local: null,
    remote: null,
  };
  const byMid = {};
  report.forEach((s) => {
    if (s.type === 'inbound-rtp' || s.type === 'outbound-rtp') byMid[s.type + ':' + s.mid] = s;
    if (s.type === 'transport' && s.selectedCandidatePairId) {
      const pair = report.get(s.selectedCandidatePairId);
      out.pair = plain(pair);
      if (pair) {
        out.local = plain(report.get(pair.localCandidateId));
        out.remote = plain(report.get(pair.remoteCandidateId));
      }
    }
  });
  for (const transceiver of pc.getTransceivers()) {
    const label = link.labelOf(transceiver);
    if (!label || transceiver.mid === null) continue;
    const inbound = byMid['inbound-rtp:' + transceiver.mid];
    const outbound = byMid['outbound-rtp:' + transceiver.mid];
    if (inbound) out.inbound[label] = plain(inbound);
    if (outbound) {
      out.outbound[label] = plain(outbound);
      const back = outbound.remoteId && report.get(outbound.remoteId);
      if (back) out.remoteInbound[label] = plain(back);
    }
  }
  return out;
}
"""

NOW_JS = "performance.timeOrigin + performance.now()"


def e2e_module(name: str):
    """A helper module of the end-to-end tests (tests/e2e/NAME.py), loaded by its path, so the
    benchmarks impair the network and start coturn exactly as the tests do."""
    path = ROOT / "tests" / "e2e" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"cartable_e2e_{name}", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def path_of(stats: dict | None) -> str:
    """The selected candidate pair of a LINK_STATS_JS answer, e.g. 'relay/relay udp (relay
    over tcp)'."""
    if not stats or not stats.get("local") or not stats.get("remote"):
        return "no selected pair"
    local, remote = stats["local"], stats["remote"]
    text = (
        f"{local.get('candidateType', '?')}/{remote.get('candidateType', '?')} "
        f"{local.get('protocol', '?')}"
    )
    if local.get("relayProtocol"):
        text += f" (relay over {local['relayProtocol']})"
    return text


# Media loss ------------------------------------------------------------------------------

BENCH_NFT_TABLE = "cartable_bench"


class UdpDrop:
    """What udp_drop set up: the rule, and its counters (UDP packets seen, dropped)."""

    def __init__(self, rule: str) -> None:
        self.rule = rule

    def counts(self) -> tuple[int, int]:
        listing = subprocess.run(
            ["nft", "-j", "list", "table", "inet", BENCH_NFT_TABLE],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        packets = []
        for item in json.loads(listing or "{}").get("nftables", []):
            for expr in item.get("rule", {}).get("expr", []):
                if "counter" in expr:
                    packets.append(int(expr["counter"]["packets"]))
        return (packets[0], packets[1]) if len(packets) == 2 else (0, 0)


@contextlib.contextmanager
def udp_drop(percent: int, hook: str = "input") -> Iterator[UdpDrop]:
    """Drop ``percent`` % of UDP packets in this namespace with nftables (no netem here),
    as tests/e2e/netem.py does but on the ``input`` hook by default: a packet dropped on
    ``output`` fails the sender's sendto() with EPERM, and Chromium sends it again, so a
    random loss there hardly loses anything (a 100 % cut works on either hook). Two
    counters tell the packets seen and dropped."""
    if hook not in ("input", "output") or not 0 < percent <= 100:
        raise ValueError("udp_drop: hook input or output, 0 < percent ≤ 100")

    def nft(*args: str, check: bool = True) -> None:
        subprocess.run(["nft", *args], check=check, capture_output=True)

    rule = ["meta", "l4proto", "udp"]
    if percent < 100:
        rule += ["numgen", "random", "mod", "100", "<", str(percent)]
    table = ["inet", BENCH_NFT_TABLE]
    nft("delete", "table", *table, check=False)
    try:
        nft("add", "table", *table)
        nft("add", "chain", *table, "c", f"{{ type filter hook {hook} priority 0; }}")
        nft("add", "rule", *table, "c", "meta", "l4proto", "udp", "counter")
        nft("add", "rule", *table, "c", *rule, "counter", "drop")
        yield UdpDrop(f"nft table inet {BENCH_NFT_TABLE}, {hook} hook, '{' '.join(rule)} drop'")
    finally:
        nft("delete", "table", *table, check=False)


# Figures --------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 100]."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return host.processor() or "unknown CPU"


def machine_line(browser) -> str:
    cpus = len(os.sched_getaffinity(0))
    return (
        f"machine: nproc {cpus}, {cpu_model()}, Chromium {browser.version}, "
        f"Linux {host.release()}, Python {host.python_version()}, "
        f"Playwright {version('playwright')}"
    )


class CpuMeter:
    """CPU time over a window: the whole machine's, and this benchmark's own processes'
    (this script, the server, Chromium), so a machine shared with other work shows."""

    def __init__(self) -> None:
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.start = (self.machine(), self.own(), time.monotonic())

    @staticmethod
    def machine() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields) - idle, sum(fields)

    @staticmethod
    def own() -> int:
        """utime + stime (and waited-for children's) of this process and its descendants."""
        parents, times = {}, {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            pid = int(entry.name)
            parents[pid] = int(fields[1])
            times[pid] = sum(int(v) for v in fields[11:15])
        mine, total = {os.getpid()}, 0
        for _ in range(64):  # depth of the process tree, bounded
            grown = {pid for pid, parent in parents.items() if parent in mine} - mine
            if not grown:
                break
            mine |= grown
        for pid in mine:
            total += times.get(pid, 0)
        return total

    def read(self) -> str:
        (busy0, all0), own0, t0 = self.start
        busy1, all1 = self.machine()
        own1, seconds = self.own(), time.monotonic() - t0
        cores = len(os.sched_getaffinity(0))
        machine = (busy1 - busy0) / max(all1 - all0, 1) * 100
        own = (own1 - own0) / self.ticks / max(seconds, 1e-3) / cores * 100
        return (
            f"CPU over the window: machine {machine:.0f} % busy, this benchmark's processes "
            f"{own:.0f} % (of {cores} cores)"
        )


def fmt_ms(value: float | None, width: int = 7) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—".rjust(width)
    return f"{value:{width}.0f}"


def summary_row(name: str, values: Sequence[float], width: int = 40) -> str:
    """name, then p50, p95, min, max and mean in ms (columns of 7), and the count."""
    values = [v for v in values if v is not None]
    if not values:
        return f"  {name:<{width}}no value"
    return (
        f"  {name:<{width}}{fmt_ms(percentile(values, 50))}{fmt_ms(percentile(values, 95))}"
        f"{fmt_ms(min(values))}{fmt_ms(max(values))}{fmt_ms(sum(values) / len(values))}"
        f"   n={len(values)}"
    )


def summary_header(width: int = 40) -> str:
    return f"  {'':<{width}}{'p50':>7}{'p95':>7}{'min':>7}{'max':>7}{'mean':>7}"
