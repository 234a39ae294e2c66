"""Join time: from the pupil's tap on « Rejoindre la classe » to the first frame of each
class camera (board and class), over several joins. Prints figures; asserts nothing.

    cd /work/main && .venv/bin/python bench/join_time.py [--runs 12]

The class station starts the session once. For each run the pupil page is loaded afresh on
/eleve/ (the tablet is paired once, at the start), the pupil taps « Rejoindre la classe »,
and the page itself records, on the machine's clock:
  - the tap: a capture-phase click listener installed before the page's own scripts;
  - the first frame shown of each camera: requestVideoFrameCallback on #board-video and
    #class-video;
  - the first frame decoded of each camera: inbound-rtp framesDecoded from getStats(),
    polled every 10 ms, per transceiver label;
  - each step of signalling and negotiation, on both pages (harness.STEP_MARKS_JS).
Then the pupil taps « Quitter » and the next run starts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import harness

TARGET_P50_MS = 800
CAMERAS = ("board", "class")

# On the pupil page only: the tap, the first frame shown and decoded of each camera.
PUPIL_JOIN_JS = """
(() => {
  if (location.pathname !== '/eleve/' || window.__join) return;
  const stamp = () => performance.timeOrigin + performance.now();
  const join = (window.__join = { click: null, shown: {}, decoded: {}, polls: 0 });
  window.addEventListener(
    'click',
    (event) => {
      const target = event.target;
      if (join.click === null && target instanceof Element && target.closest('#join')) {
        join.click = stamp();
        pollStats();
      }
    },
    true,
  );
  function watch(label, video) {
    // One callback per arming; the first one called wins. Armed at once and again each
    // time a source is set (loadstart), in case a callback asked for before does not fire.
    const arm = () => {
      if (join.shown[label]) return;
      video.requestVideoFrameCallback((now, meta) => {
        if (join.shown[label] || join.click === null) return;
        join.shown[label] = {
          at: stamp(),
          presented: performance.timeOrigin + meta.presentationTime,
          received: meta.receiveTime ? performance.timeOrigin + meta.receiveTime : null,
          width: meta.width,
          height: meta.height,
        };
      });
    };
    video.addEventListener('loadstart', arm);
    arm();
  }
  function pollStats() {
    const until = stamp() + 30000;
    let busy = false;
    const timer = setInterval(async () => {
      if (stamp() > until || (join.decoded.board && join.decoded.class)) {
        clearInterval(timer);
        return;
      }
      const link = window.cartableLink;
      if (busy || !link || !link.pc) return;
      busy = true;
      try {
        const pc = link.pc;
        const stats = await pc.getStats();
        const at = stamp();
        join.polls += 1;
        const byMid = {};
        stats.forEach((s) => {
          if (s.type === 'inbound-rtp' && s.kind === 'video') byMid[s.mid] = s.framesDecoded || 0;
        });
        for (const transceiver of pc.getTransceivers()) {
          const label = link.labelOf(transceiver);
          const camera = label === 'board' || label === 'class';
          if (camera && !join.decoded[label] && byMid[transceiver.mid] > 0) {
            join.decoded[label] = at;
          }
        }
      } catch {
        // The peer connection closed under us: the next poll finds the new one.
      } finally {
        busy = false;
      }
    }, 10);
  }
  document.addEventListener('DOMContentLoaded', () => {
    watch('board', document.getElementById('board-video'));
    watch('class', document.getElementById('class-video'));
  });
})();
"""

# Where the time goes: (page, event, what it is), in the order they usually happen.
STEPS = [
    ("pupil", "gum_done", "pupil: microphone open (getUserMedia)"),
    ("pupil", "ws_open", "pupil: signalling WebSocket open"),
    ("pupil", "recv:welcome", "pupil: welcome received"),
    ("station", "recv:peer_joined", "station: told the pupil is here (peer_joined)"),
    ("station", "pc_new", "station: peer connection created"),
    ("station", "send:offer", "station: offer sent"),
    ("pupil", "recv:offer", "pupil: offer received"),
    ("pupil", "srd_done:offer", "pupil: offer applied (setRemoteDescription)"),
    ("pupil", "send:answer", "pupil: answer sent"),
    ("station", "recv:answer", "station: answer received"),
    ("station", "srd_done:answer", "station: answer applied"),
    ("station", "send:candidate", "station: first ICE candidate sent"),
    ("pupil", "recv:candidate", "pupil: first ICE candidate received"),
    ("pupil", "ice:connected", "pupil: ICE connected"),
    ("pupil", "conn:connected", "pupil: connected (DTLS done)"),
    ("station", "conn:connected", "station: connected (DTLS done)"),
]


def wait_for_frames(page, timeout: float) -> dict:
    """Poll the page until both cameras have a frame shown and decoded; when one of the two
    never comes, give it 2 s after the other before reporting what there is."""
    deadline = time.monotonic() + timeout
    since: dict[str, float] = {}
    state: dict = {}
    while time.monotonic() < deadline:
        state = page.evaluate("() => window.__join")
        for kind in ("shown", "decoded"):
            if all(label in state[kind] for label in CAMERAS):
                since.setdefault(kind, time.monotonic())
        if len(since) == 2 or (since and time.monotonic() - min(since.values()) > 2.0):
            return state
        time.sleep(0.05)
    return state


def leave(pupil, station, timeout_ms: int = 10_000) -> None:
    if pupil.locator("#leave").is_visible():
        pupil.locator("#leave").click()
        pupil.locator("#pupil[data-state=out]").wait_for(state="attached", timeout=timeout_ms)
    station.locator("#station:not([data-pupil=connected])").wait_for(
        state="attached", timeout=timeout_ms
    )


def one_run(pupil, station, platform, timeout: float, settle: float) -> dict:
    pupil.goto(platform.url("/eleve/"))
    pupil.locator("#join").wait_for(state="visible")
    pupil.wait_for_function("() => window.__join && document.readyState === 'complete'")
    station.evaluate("window.__benchEvents.length = 0")
    time.sleep(settle)  # the page and the station idle, as when a pupil looks then taps
    pupil.get_by_role("button", name="Rejoindre la classe").click()
    state = wait_for_frames(pupil, timeout)
    click = state.get("click")
    result: dict = {"click": click, "shown": {}, "decoded": {}, "steps": {}, "size": {}}
    if click is None:
        return result
    for label in CAMERAS:
        shown = state["shown"].get(label)
        if shown:
            result["shown"][label] = shown["at"] - click
            result["size"][label] = f"{shown['width']}x{shown['height']}"
        decoded = state["decoded"].get(label)
        if decoded:
            result["decoded"][label] = decoded - click
    events = {
        "pupil": pupil.evaluate("window.__benchEvents"),
        "station": station.evaluate("window.__benchEvents"),
    }
    for side, name, _ in STEPS:
        result["steps"][(side, name)] = harness.first_after(events[side], name, click)
    result["polls"] = state.get("polls", 0)
    for label in CAMERAS:
        shown = state["shown"].get(label)
        if shown and shown.get("received"):
            result["steps"][("pupil", f"received:{label}")] = shown["received"] - click
    if result["decoded"]:
        result["poll_interval"] = max(result["decoded"].values()) / max(result["polls"], 1)
    return result


def summary_row(name: str, values: list[float]) -> str:
    if not values:
        return f"  {name:<34} no value"
    return (
        f"  {name:<34}{harness.fmt_ms(harness.percentile(values, 50))}"
        f"{harness.fmt_ms(harness.percentile(values, 95))}"
        f"{harness.fmt_ms(min(values))}{harness.fmt_ms(max(values))}"
        f"{harness.fmt_ms(statistics.fmean(values))}   n={len(values)}"
    )


def report(results: list[dict], runs: int) -> None:
    header = f"  {'':<34}{'p50':>7}{'p95':>7}{'min':>7}{'max':>7}{'mean':>7}"
    print()
    print("From the tap on « Rejoindre la classe » to the first frame, in ms")
    print("first frame shown (requestVideoFrameCallback on the pupil page's video element):")
    print(header)
    for label in CAMERAS:
        values = [r["shown"][label] for r in results if label in r["shown"]]
        print(summary_row(f"{label} camera", values))
    both = [max(r["shown"].values()) for r in results if len(r["shown"]) == len(CAMERAS)]
    print(summary_row("both cameras (the later one)", both))
    print("first frame decoded (getStats inbound-rtp framesDecoded > 0, polled every 10 ms):")
    print(header)
    for label in CAMERAS:
        values = [r["decoded"][label] for r in results if label in r["decoded"]]
        print(summary_row(f"{label} camera", values))
    intervals = [r["poll_interval"] for r in results if "poll_interval" in r]
    if intervals:
        print(
            f"  (getStats answered every {statistics.fmean(intervals):.0f} ms on average, "
            "asked every 10 ms: a decoded time is late by up to that much)"
        )
    failed = runs - len(both)
    print(f"runs: {runs}, with a frame from both cameras: {len(both)}, without: {failed}")
    if both:
        p50 = harness.percentile(both, 50)
        verdict = "within" if p50 <= TARGET_P50_MS else "over"
        print(
            f"target to compare against: p50 ≤ {TARGET_P50_MS} ms on loopback; "
            f"here p50 (both cameras) = {p50:.0f} ms, {verdict} target"
        )
    print()
    print("Where the time goes: ms after the tap, over the runs (both pages, one clock)")
    print(f"  {'step':<48}{'p50':>7}{'min':>7}{'max':>7}")
    for side, name, what in STEPS:
        values = [r["steps"][(side, name)] for r in results if r["steps"].get((side, name))]
        if values:
            print(
                f"  {what:<48}{harness.fmt_ms(harness.percentile(values, 50))}"
                f"{harness.fmt_ms(min(values))}{harness.fmt_ms(max(values))}"
            )
        else:
            print(f"  {what:<48}{'—':>7}")
    for label in CAMERAS:
        values = [
            r["steps"][("pupil", f"received:{label}")]
            for r in results
            if r["steps"].get(("pupil", f"received:{label}"))
        ]
        if values:
            print(
                f"  {'pupil: first ' + label + ' frame received (last packet)':<48}"
                f"{harness.fmt_ms(harness.percentile(values, 50))}"
                f"{harness.fmt_ms(min(values))}{harness.fmt_ms(max(values))}"
            )
        values = [r["decoded"][label] for r in results if label in r["decoded"]]
        if values:
            print(
                f"  {'pupil: first ' + label + ' frame decoded (getStats)':<48}"
                f"{harness.fmt_ms(harness.percentile(values, 50))}"
                f"{harness.fmt_ms(min(values))}{harness.fmt_ms(max(values))}"
            )
        values = [r["shown"][label] for r in results if label in r["shown"]]
        if values:
            print(
                f"  {'pupil: first ' + label + ' frame shown (rVFC)':<48}"
                f"{harness.fmt_ms(harness.percentile(values, 50))}"
                f"{harness.fmt_ms(min(values))}{harness.fmt_ms(max(values))}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=12, help="joins to time (default 12)")
    parser.add_argument(
        "--timeout", type=float, default=15.0, help="seconds to wait for frames in one run"
    )
    parser.add_argument(
        "--settle", type=float, default=0.5, help="seconds between page load and the tap"
    )
    args = parser.parse_args()
    if not 1 <= args.runs <= 500:
        parser.error("--runs must be between 1 and 500")
    harness.enter_private_network()

    started = time.monotonic()
    with harness.running_platform() as platform, harness.chromium() as browser:
        print("cartable join time: the pupil's tap on « Rejoindre la classe » → first frame")
        print(harness.machine_line(browser))
        print(
            f"network: private namespace ({', '.join(harness.interfaces())} only); "
            f"server: cartable serve on {platform.base_url} (SQLite, in-memory channel layer)"
        )
        rough = "  (fewer than 10: the figures are rough)" if args.runs < 10 else ""
        print(f"runs: {args.runs}{rough}")
        station = harness.new_device(browser, [harness.STEP_MARKS_JS])
        pupil = harness.new_device(browser, [harness.STEP_MARKS_JS, PUPIL_JOIN_JS])
        harness.open_station(station, platform)
        harness.pair_tablet(pupil, platform)

        print()
        print(f"{'run':>4}{'board':>8}{'class':>8}{'both':>8}   decoded:{'board':>6}{'class':>7}")
        results, cpu = [], harness.CpuMeter()
        for run in range(1, args.runs + 1):
            result = one_run(pupil, station, platform, args.timeout, args.settle)
            results.append(result)
            shown, decoded = result["shown"], result["decoded"]
            both = max(shown.values()) if len(shown) == len(CAMERAS) else None
            sizes = ", ".join(f"{k} {v}" for k, v in result["size"].items())
            print(
                f"{run:>4}{harness.fmt_ms(shown.get('board'), 8)}"
                f"{harness.fmt_ms(shown.get('class'), 8)}{harness.fmt_ms(both, 8)}"
                f"   {'':>8}{harness.fmt_ms(decoded.get('board'), 6)}"
                f"{harness.fmt_ms(decoded.get('class'), 7)}   {sizes}",
                flush=True,
            )
            leave(pupil, station)
        cpu_use = cpu.read()
        report(results, args.runs)
        print(f"\n{cpu_use} (from the first run to the last)")
    print(f"\n(total {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
