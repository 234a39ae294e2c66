"""Recovery after a media cut: from the end of a 5 s cut of every UDP packet to frames
decoding again on the pupil's tablet, board and class cameras. Prints figures; asserts
nothing.

    cd /work/main && .venv/bin/python bench/recovery.py [--runs 6] [--cut 5]

One lesson: the class station starts the session, the pupil joins once, and each run cuts
the media path while both stay in the lesson. The cut is made as tests/e2e/netem.py makes
it (that module is loaded): an nftables table in the private network namespace drops every
UDP packet (WebRTC media and its ICE checks) on the output hook; the signalling WebSocket
(TCP) passes. (--hook input drops them on arrival instead: on the output hook the sender's
sendto() fails with EPERM, which a real network never does.) Nobody
touches anything: the link must come back by itself (the class side restarts ICE when the
path stays "disconnected"). On the pupil page, on the machine's clock:
  - frames decoded: inbound-rtp framesDecoded of the 'board' and 'class' transceivers
    (cartableLink.labelOf), polled every 20 ms from getStats();
  - frames shown: requestVideoFrameCallback on #board-video and #class-video.
A pause of more than 150 ms between two frames is kept as a gap; the recovery time is the
end of the gap that spans the end of the cut, minus the end of the cut.
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial

import harness

TARGET_P50_MS = 2000
CAMERAS = ("board", "class")
GAP_MS = 150
STEADY_GAP_MS = 1000  # before a cut: no pause over this on either camera

# Pupil page: gaps in the frames decoded (getStats, every 20 ms) and shown (rVFC).
PUPIL_GAPS_JS = """
(() => {
  if (location.pathname !== '/eleve/' || window.__gaps) return;
  const GAP_MS = __GAP_MS__;
  const MAX_GAPS = 2000;
  const stamp = () => performance.timeOrigin + performance.now();
  const state = (window.__gaps = {
    decoded: { board: [], class: [] }, // [start, end]: no new frame decoded in between
    shown: { board: [], class: [] },
    last: { decoded: {}, shown: {} }, // time of the last new frame
    count: {}, // last framesDecoded seen
    polls: 0,
    pollMs: 0,
  });
  const frame = (kind, label, at) => {
    const last = state.last[kind][label];
    if (last !== undefined && at - last > GAP_MS && state[kind][label].length < MAX_GAPS) {
      state[kind][label].push([last, at]);
    }
    state.last[kind][label] = at;
  };
  function watch(label, video) {
    let generation = 0;
    const arm = () => {
      const mine = (generation += 1);
      const onFrame = () => {
        if (mine !== generation) return;
        frame('shown', label, stamp());
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    };
    video.addEventListener('loadstart', arm);
    arm();
  }
  let busy = false;
  setInterval(async () => {
    const link = window.cartableLink;
    if (busy || !link || !link.pc) return;
    busy = true;
    const asked = stamp();
    try {
      const pc = link.pc;
      const report = await pc.getStats();
      const at = stamp();
      state.polls += 1;
      state.pollMs += at - asked;
      const byMid = {};
      report.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') byMid[s.mid] = s.framesDecoded || 0;
      });
      for (const transceiver of pc.getTransceivers()) {
        const label = link.labelOf(transceiver);
        if ((label !== 'board' && label !== 'class') || !(transceiver.mid in byMid)) continue;
        const count = byMid[transceiver.mid];
        if (count !== state.count[label]) {
          if (state.count[label] !== undefined) frame('decoded', label, at);
          state.count[label] = count;
        }
      }
    } catch {
      // The peer connection closed under us: the next poll finds the new one.
    } finally {
      busy = false;
    }
  }, 20);
  document.addEventListener('DOMContentLoaded', () => {
    watch('board', document.getElementById('board-video'));
    watch('class', document.getElementById('class-video'));
  });
})();
""".replace("__GAP_MS__", str(GAP_MS))

READ_JS = "() => ({last: window.__gaps.last, decoded: window.__gaps.decoded, "
READ_JS += "shown: window.__gaps.shown, polls: window.__gaps.polls, pollMs: window.__gaps.pollMs})"


def wait_steady(pupil, settle: float, timeout: float) -> tuple[float | None, list[str]]:
    """Wait for frames flowing on both cameras, without a gap, for ``settle`` seconds.
    Returns (seconds waited, or None on timeout; what was still missing then)."""
    started = time.monotonic()
    deadline, since, missing = started + timeout, None, []
    while time.monotonic() < deadline:
        state = pupil.evaluate(READ_JS)
        now = pupil.evaluate(harness.NOW_JS)
        missing = [
            f"{label} {kind} ({(now - state['last'][kind].get(label, now - 1e9)) / 1000:.1f} s "
            "since the last frame)"
            for kind in ("decoded", "shown")
            for label in CAMERAS
            if now - state["last"][kind].get(label, -1e18) >= STEADY_GAP_MS
        ]
        if not missing:
            since = since or time.monotonic()
            if time.monotonic() - since >= settle:
                return time.monotonic() - started, []
        else:
            since = None
        time.sleep(0.1)
    return None, missing or ["frames came, but not for long enough without a pause"]


def recovered(state: dict, kind: str, label: str, cut_start: float, cut_end: float):
    """(ms from the end of the cut to the first new frame, ms from the start of the cut to the
    last frame before it) or None while no frame has come after the end of the cut."""
    for start, end in state[kind][label]:
        if end >= cut_end and start <= cut_end:
            return end - cut_end, start - cut_start
    return None


def one_cut(pupil, station, cutter, cut: float, timeout: float) -> dict:
    for page in (pupil, station):
        page.evaluate("window.__benchEvents.length = 0")
    with cutter():
        cut_start = pupil.evaluate(harness.NOW_JS)
        time.sleep(cut)
    cut_end = pupil.evaluate(harness.NOW_JS)
    result: dict = {"cut": cut_end - cut_start, "back": {}, "last_before": {}}
    deadline = time.monotonic() + timeout
    state: dict = {}
    while time.monotonic() < deadline:
        state = pupil.evaluate(READ_JS)
        done = True
        for kind in ("decoded", "shown"):
            for label in CAMERAS:
                found = recovered(state, kind, label, cut_start, cut_end)
                if found is None:
                    done = False
                else:
                    result["back"][(kind, label)] = found[0]
                    result["last_before"][(kind, label)] = found[1]
        if done:
            break
        time.sleep(0.05)
    # Frames that kept coming through the cut: no gap spans its end.
    now = pupil.evaluate(harness.NOW_JS)
    for kind in ("decoded", "shown"):
        for label in CAMERAS:
            last = state.get("last", {}).get(kind, {}).get(label)
            spanned = any(s <= cut_end <= e for s, e in state.get(kind, {}).get(label, []))
            if (kind, label) not in result["back"] and last and now - last < GAP_MS and not spanned:
                result.setdefault("never_stopped", []).append(f"{label} {kind}")
    events = {
        "pupil": pupil.evaluate("window.__benchEvents"),
        "station": station.evaluate("window.__benchEvents"),
    }
    steps = {}
    for side, name in [
        ("station", "ice:disconnected"),
        ("station", "ice:failed"),
        ("station", "send:offer"),
        ("pupil", "ice:disconnected"),
        ("pupil", "ice:checking"),
        ("pupil", "ice:connected"),
        ("station", "ice:connected"),
    ]:
        at = harness.first_after(events[side], name, cut_start)
        steps[(side, name)] = None if at is None else at - (cut_end - cut_start)
    result["steps"] = steps
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=6, help="cuts to time (default 6)")
    parser.add_argument("--cut", type=float, default=5.0, help="length of a cut, s (default 5)")
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="s to wait for frames after a cut (30)"
    )
    parser.add_argument(
        "--settle", type=float, default=3.0, help="s of steady frames before each cut (3)"
    )
    parser.add_argument(
        "--hook",
        choices=("output", "input"),
        default="output",
        help="nftables hook of the drop: output (default, as tests/e2e/netem.py: the sender's "
        "sendto() fails with EPERM) or input (packets vanish silently, as on a real network)",
    )
    args = parser.parse_args()
    if not 1 <= args.runs <= 100:
        parser.error("--runs must be between 1 and 100")
    if not 0.5 <= args.cut <= 60 or not 1 <= args.timeout <= 300:
        parser.error("need 0.5 ≤ --cut ≤ 60 and 1 ≤ --timeout ≤ 300")
    harness.enter_private_network()
    netem = harness.e2e_module("netem")
    if args.hook == "output":
        cutter = partial(netem.udp_loss, 100)
        how = (
            f"nft table inet {netem.TABLE}, output hook, 'meta l4proto udp drop' "
            "(tests/e2e/netem.py udp_loss(100): sendto() fails with EPERM)"
        )
    else:
        cutter = partial(harness.udp_drop, 100, "input")
        how = (
            f"nft table inet {harness.BENCH_NFT_TABLE}, input hook, 'meta l4proto udp drop' "
            "(packets vanish silently)"
        )

    started = time.monotonic()
    results: list[dict] = []
    with harness.running_platform() as platform, harness.chromium() as browser:
        print(
            f"cartable recovery: end of a {args.cut:g} s cut of all UDP → frames decoded again "
            "on the pupil"
        )
        print(harness.machine_line(browser))
        print(
            f"network: private namespace ({', '.join(harness.interfaces())} only); "
            f"server: cartable serve on {platform.base_url} (SQLite, in-memory channel layer)"
        )
        print(f"cut: {how}; runs: {args.runs}, one lesson")
        station = harness.new_device(browser, [harness.STEP_MARKS_JS])
        pupil = harness.new_device(browser, [harness.STEP_MARKS_JS, PUPIL_GAPS_JS])
        harness.open_station(station, platform)
        harness.pair_tablet(pupil, platform)
        pupil.wait_for_function("() => window.__gaps && document.readyState === 'complete'")
        pupil.get_by_role("button", name="Rejoindre la classe").click()
        pupil.wait_for_function(
            "() => Object.keys(window.__gaps.last.shown).length === 2", timeout=30_000
        )
        before = pupil.evaluate(harness.LINK_STATS_JS)
        print(f"path before the cuts: {harness.path_of(before)}")

        print()
        print("ms from the end of the cut to the first new frame on the pupil")
        print(
            f"{'run':>4}{'board':>8}{'class':>8}   shown:{'board':>6}{'class':>7}"
            "   (station ICE disconnected / offer sent / pupil ICE connected, ms after the end)"
        )
        print(
            f"     (before each cut: {args.settle:g} s of frames on both cameras with no pause "
            f"over {STEADY_GAP_MS} ms, waited for at most --timeout; the wait is shown)"
        )
        cpu = harness.CpuMeter()
        for run in range(1, args.runs + 1):
            waited, missing = wait_steady(pupil, args.settle, args.timeout)
            result = one_cut(pupil, station, cutter, args.cut, args.timeout)
            results.append(result)
            back, steps = result["back"], result["steps"]
            notes = []
            if waited is None:
                notes.append(
                    f"not steady {args.timeout:.0f} s before the cut: " + ", ".join(missing)
                )
            if result.get("never_stopped"):
                notes.append("no gap across the cut: " + ", ".join(result["never_stopped"]))
            print(
                f"{run:>4}{harness.fmt_ms(back.get(('decoded', 'board')), 8)}"
                f"{harness.fmt_ms(back.get(('decoded', 'class')), 8)}"
                f"   {'':>6}{harness.fmt_ms(back.get(('shown', 'board')), 6)}"
                f"{harness.fmt_ms(back.get(('shown', 'class')), 7)}"
                f"   ({harness.fmt_ms(steps[('station', 'ice:disconnected')], 0).strip()} / "
                f"{harness.fmt_ms(steps[('station', 'send:offer')], 0).strip()} / "
                f"{harness.fmt_ms(steps[('pupil', 'ice:connected')], 0).strip()})"
                + (f"   waited {waited:.1f} s" if waited is not None else "")
                + (f"   {'; '.join(notes)}" if notes else ""),
                flush=True,
            )
        cpu_use = cpu.read()
        after = pupil.evaluate(harness.LINK_STATS_JS)
        polls = pupil.evaluate("[window.__gaps.polls, window.__gaps.pollMs]")

    print()
    print(f"From the end of a {args.cut:g} s UDP cut to frames again on the pupil, in ms")
    print("decoded (getStats inbound-rtp framesDecoded rising, polled every 20 ms):")
    print(harness.summary_header(30))
    for label in CAMERAS:
        values = [r["back"][("decoded", label)] for r in results if ("decoded", label) in r["back"]]
        print(harness.summary_row(f"{label} camera", values, 30))
    print("shown (requestVideoFrameCallback on the pupil page's video element):")
    print(harness.summary_header(30))
    for label in CAMERAS:
        values = [r["back"][("shown", label)] for r in results if ("shown", label) in r["back"]]
        print(harness.summary_row(f"{label} camera", values, 30))
    print(
        f"  (getStats answered in {polls[1] / max(polls[0], 1):.0f} ms on average, asked every "
        "20 ms: a decoded time is late by up to that much)"
    )
    board = [r["back"][("decoded", "board")] for r in results if ("decoded", "board") in r["back"]]
    print(
        f"runs: {len(results)}, board decoding again within {args.timeout:.0f} s: {len(board)}, "
        f"not: {len(results) - len(board)}"
    )
    if board:
        p50 = harness.percentile(board, 50)
        verdict = "within" if p50 <= TARGET_P50_MS else "over"
        print(
            f"target to compare against: p50 ≤ {TARGET_P50_MS} ms (board camera decoded); "
            f"here p50 = {p50:.0f} ms, {verdict} target"
        )
    print()
    print("What the link did, ms after the end of the cut (negative: during the cut)")
    print(f"  {'step':<48}{'p50':>7}{'min':>7}{'max':>7}")
    for (side, name), what in {
        ("station", "ice:disconnected"): "station: ICE disconnected",
        ("station", "ice:failed"): "station: ICE failed",
        ("station", "send:offer"): "station: offer sent (ICE restart)",
        ("pupil", "ice:disconnected"): "pupil: ICE disconnected",
        ("pupil", "ice:checking"): "pupil: ICE checking",
        ("pupil", "ice:connected"): "pupil: ICE connected",
        ("station", "ice:connected"): "station: ICE connected",
    }.items():
        values = [r["steps"][(side, name)] for r in results if r["steps"][(side, name)] is not None]
        if values:
            print(
                f"  {what:<48}{harness.fmt_ms(harness.percentile(values, 50))}"
                f"{harness.fmt_ms(min(values))}{harness.fmt_ms(max(values))}   "
                f"in {len(values)} of {len(results)} runs"
            )
        else:
            print(f"  {what:<48}{'—':>7}   in none of the runs")
    last = [
        r["last_before"][("decoded", "board")]
        for r in results
        if ("decoded", "board") in r["last_before"]
    ]
    if last:
        print(
            f"  {'board: last frame decoded, ms after the cut began':<48}"
            f"{harness.fmt_ms(harness.percentile(last, 50))}"
            f"{harness.fmt_ms(min(last))}{harness.fmt_ms(max(last))}"
        )
    print(f"path after the cuts: {harness.path_of(after)}")
    print(f"\n{cpu_use} (from the first cut to the last)")
    print(f"\n(total {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
