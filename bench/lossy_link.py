"""A lossy link: the board camera on the pupil's tablet under 5 % packet loss and an 80 ms
round trip, for 60 s. Prints figures; asserts nothing.

    cd /work/main && .venv/bin/python bench/lossy_link.py [--seconds 60] [--loss 5] [--delay 40]

This kernel has no netem, so the impairment is Chromium's own: the field trial
WebRTC-FakeNetworkSendConfig/loss_percent:L,queue_delay_ms:D/ puts every peer connection's
outgoing RTP and RTCP through a simulated link (WebRTC's DegradedCall): L % of packets lost
and D ms of delay. The station and the tablet are two contexts of one browser, so each
direction gets it: D = 40 ms each way makes an 80 ms round trip. ICE checks (STUN) do not go
through it, so the candidate pair's currentRoundTripTime stays at loopback's; the round trip
of the media is the RTCP one (remote-inbound-rtp roundTripTime). Before measuring, the
script checks that the trial took effect (RTCP round trip and packets lost during the
warm-up); if it did not, it falls back to dropping L % of UDP packets with nftables, on
the input hook (harness.udp_drop: on the output hook, as tests/e2e/netem.py drops, the
sender's sendto() fails with EPERM and Chromium sends the packet again, so hardly anything
is lost), without delay (this kernel has no netem), and says so.

On the pupil page: frames decoded on the 'board' transceiver (getStats framesDecoded, per
cartableLink.labelOf), the browser's freeze count and total freeze time (inbound-rtp
freezeCount, totalFreezesDuration), and the time between frames shown
(requestVideoFrameCallback on #board-video): every pause over 1 s is a freeze here.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time

import harness

TARGET_FPS = 15
TARGET_LONGEST_FREEZE_MS = 1000

# Pupil page: pauses between frames shown on #board-video.
FRAME_GAPS_JS = """
(() => {
  if (location.pathname !== '/eleve/' || window.__frames) return;
  const stamp = () => performance.timeOrigin + performance.now();
  const frames = (window.__frames = {
    shown: 0,
    last: null,
    gaps: [], // pauses over 200 ms, in ms
    longest: 0,
    reset() {
      this.shown = 0;
      this.gaps = [];
      this.longest = 0;
      this.since = stamp();
    },
  });
  frames.since = stamp();
  function watch(video) {
    let generation = 0;
    const arm = () => {
      const mine = (generation += 1);
      const onFrame = () => {
        if (mine !== generation) return;
        const at = stamp();
        if (frames.last !== null) {
          // A pause that began before the window counts from the window's start.
          const gap = at - Math.max(frames.last, frames.since);
          if (gap > frames.longest) frames.longest = gap;
          if (gap > 200 && frames.gaps.length < 10000) frames.gaps.push(gap);
        }
        frames.last = at;
        frames.shown += 1;
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    };
    video.addEventListener('loadstart', arm);
    arm();
  }
  document.addEventListener('DOMContentLoaded', () => {
    watch(document.getElementById('board-video'));
  });
})();
"""


def delta(after: dict, before: dict, key: str) -> float:
    return float(after.get(key, 0) or 0) - float(before.get(key, 0) or 0)


def round_trips(station, pupil) -> tuple[float | None, float | None, float | None]:
    """(RTCP round trip of the board camera seen by the station, STUN round trip of the
    selected pair on the station and on the pupil), in ms."""
    sent = station.evaluate(harness.LINK_STATS_JS) or {}
    got = pupil.evaluate(harness.LINK_STATS_JS) or {}
    rtcp = (sent.get("remoteInbound") or {}).get("board", {}).get("roundTripTime")
    stun_station = (sent.get("pair") or {}).get("currentRoundTripTime")
    stun_pupil = (got.get("pair") or {}).get("currentRoundTripTime")
    return tuple(None if v is None else v * 1000 for v in (rtcp, stun_station, stun_pupil))


def loss_fraction(after: dict, before: dict) -> float | None:
    lost, received = delta(after, before, "packetsLost"), delta(after, before, "packetsReceived")
    return lost / (lost + received) if lost + received > 0 else None


def board(page, direction: str) -> dict:
    stats = page.evaluate(harness.LINK_STATS_JS) or {}
    return (stats.get(direction) or {}).get("board", {})


def median_or_none(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value: float | None, unit: str = " ms", digits: int = 0) -> str:
    return "—" if value is None else f"{value:.{digits}f}{unit}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measuring window (60)")
    parser.add_argument("--loss", type=int, default=5, help="packet loss, %% each way (5)")
    parser.add_argument(
        "--delay", type=int, default=40, help="delay each way, ms (40: an 80 ms round trip)"
    )
    parser.add_argument(
        "--warmup", type=float, default=8.0, help="s after the first frame not counted (8)"
    )
    parser.add_argument(
        "--nft", action="store_true", help="skip the field trial: nftables UDP loss, no delay"
    )
    args = parser.parse_args()
    if not 5 <= args.seconds <= 600 or not 2 <= args.warmup <= 60:
        parser.error("need 5 ≤ --seconds ≤ 600 and 2 ≤ --warmup ≤ 60")
    if not 0 <= args.loss <= 50 or not 0 <= args.delay <= 1000:
        parser.error("need 0 ≤ --loss ≤ 50 and 0 ≤ --delay ≤ 1000")
    harness.enter_private_network()

    trial = f"WebRTC-FakeNetworkSendConfig/loss_percent:{args.loss},queue_delay_ms:{args.delay}/"
    extra = [] if args.nft else [f"--force-fieldtrials={trial}"]
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        platform = stack.enter_context(harness.running_platform())
        browser = stack.enter_context(harness.chromium(extra))
        print(
            f"cartable lossy link: board camera on the pupil, asked: {args.loss} % loss and "
            f"{2 * args.delay} ms round trip, {args.seconds:g} s"
        )
        print(harness.machine_line(browser))
        print(
            f"network: private namespace ({', '.join(harness.interfaces())} only); "
            f"server: cartable serve on {platform.base_url} (SQLite, in-memory channel layer)"
        )
        station = harness.new_device(browser)
        pupil = harness.new_device(browser, [FRAME_GAPS_JS])
        harness.open_station(station, platform)
        harness.pair_tablet(pupil, platform)
        pupil.wait_for_function("() => window.__frames && document.readyState === 'complete'")
        pupil.get_by_role("button", name="Rejoindre la classe").click()
        pupil.wait_for_function("() => window.__frames.shown > 0", timeout=30_000)

        # Does the field trial work? Look at the warm-up's second half.
        time.sleep(args.warmup / 2)
        got_before = board(pupil, "inbound")
        time.sleep(args.warmup / 2)
        got_after = board(pupil, "inbound")
        rtcp, stun_station, stun_pupil = round_trips(station, pupil)
        warm_loss = loss_fraction(got_after, got_before)
        method, drop = "nft", None
        if not args.nft:
            delay_seen = rtcp is not None and rtcp >= args.delay  # half the round trip asked
            loss_seen = args.loss == 0 or (warm_loss or 0) * 100 >= args.loss / 3
            print(
                f"field trial --force-fieldtrials={trial}: during the warm-up, RTCP round trip "
                f"{fmt(rtcp)}, board packets lost {fmt((warm_loss or 0) * 100, ' %', 1)} "
                f"(STUN round trip {fmt(stun_station, ' ms', 1)}: ICE checks bypass the trial)"
            )
            if delay_seen and loss_seen:
                method = "field trial"
            else:
                print(
                    "!! the field trial did not take effect: FALLING BACK to nftables, "
                    f"{args.loss} % of UDP packets dropped each way, NO added delay"
                )
        if method == "nft":
            drop = stack.enter_context(harness.udp_drop(args.loss, "input"))
            print(
                f"impairment: {drop.rule}: {args.loss} % of UDP packets lost, both directions, "
                "ICE checks included; NO delay added (this kernel has no netem)"
            )
            time.sleep(args.warmup / 2)
        else:
            print(
                f"impairment: Chromium field trial, {args.loss} % loss and {args.delay} ms delay "
                "on each peer connection's outgoing RTP/RTCP (both directions)"
            )

        pupil.evaluate("window.__frames.reset()")
        got_before, sent_before = board(pupil, "inbound"), board(station, "outbound")
        rtts: list[tuple] = []
        cpu, window_start = harness.CpuMeter(), time.monotonic()
        while time.monotonic() - window_start < args.seconds:
            time.sleep(min(2.0, max(args.seconds - (time.monotonic() - window_start), 0.05)))
            rtts.append(round_trips(station, pupil))
        elapsed = time.monotonic() - window_start
        cpu_use = cpu.read()
        got, sent = board(pupil, "inbound"), board(station, "outbound")
        frames = pupil.evaluate(
            "() => ({shown: window.__frames.shown, gaps: window.__frames.gaps,"
            " longest: window.__frames.longest, since: window.__frames.since})"
        )
        path = harness.path_of(pupil.evaluate(harness.LINK_STATS_JS))
        seen, dropped = drop.counts() if method == "nft" else (0, 0)

    decoded = delta(got, got_before, "framesDecoded")
    fps = decoded / elapsed
    freezes = delta(got, got_before, "freezeCount")
    freeze_s = delta(got, got_before, "totalFreezesDuration")
    gaps = frames["gaps"]
    long_gaps = [g for g in gaps if g > 1000]
    loss = loss_fraction(got, got_before)
    rtcp = median_or_none([r[0] for r in rtts])
    stun = median_or_none([r[1] for r in rtts])
    stun_pupil = median_or_none([r[2] for r in rtts])

    print()
    print(f"window: {elapsed:.1f} s after {args.warmup:g} s of warm-up; {cpu_use}")
    print(f"impairment used: {method}; media path: {path}")
    print()
    print("Board camera on the pupil's tablet")
    print(
        f"  frames per second decoded    {fps:5.1f}   ({decoded:.0f} frames, getStats "
        f"framesDecoded); shown {frames['shown'] / elapsed:.1f} fps (rVFC)"
    )
    print(
        f"  freezes (browser's count)    {freezes:5.0f}   total {freeze_s:.2f} s "
        "(inbound-rtp freezeCount, totalFreezesDuration)"
    )
    print(
        f"  pauses between frames shown  {len(long_gaps):5d} over 1 s, {len(gaps)} over 200 ms; "
        f"longest {frames['longest']:.0f} ms (rVFC)"
    )
    print(
        f"  sent by the station          {delta(sent, sent_before, 'framesEncoded') / elapsed:5.1f}"
        f" fps encoded, {sent.get('frameWidth', '?')}x{sent.get('frameHeight', '?')}, "
        f"quality limited by {sent.get('qualityLimitationReason', '?')}, target "
        f"{float(sent.get('targetBitrate', 0) or 0) / 1000:.0f} kbit/s; received "
        f"{got.get('frameWidth', '?')}x{got.get('frameHeight', '?')}"
    )
    print()
    print("The link as measured (board camera's RTP stream)")
    print(
        f"  packets lost at the pupil    {fmt(None if loss is None else loss * 100, ' %', 1)}"
        f"   ({delta(got, got_before, 'packetsLost'):.0f} of "
        f"{delta(got, got_before, 'packetsLost') + delta(got, got_before, 'packetsReceived'):.0f}"
        "; inbound-rtp packetsLost: packets retransmitted in time are not counted)"
    )
    print(
        f"  repairs                      {delta(got, got_before, 'nackCount'):.0f} NACKs, "
        f"{delta(sent, sent_before, 'retransmittedPacketsSent'):.0f} packets retransmitted, "
        f"{delta(got, got_before, 'pliCount'):.0f} PLIs, "
        f"{delta(sent, sent_before, 'keyFramesEncoded'):.0f} key frames encoded"
    )
    print(
        f"  round trip, RTCP (media)     {fmt(rtcp)}   median of {len(rtts)} samples "
        "(station's remote-inbound-rtp roundTripTime)"
    )
    print(
        f"  round trip, STUN (ICE)       {fmt(stun, ' ms', 1)} station, "
        f"{fmt(stun_pupil, ' ms', 1)} pupil   (candidate-pair currentRoundTripTime"
        + (": ICE checks bypass the field trial)" if method == "field trial" else ")")
    )
    if method == "nft":
        print(
            f"  UDP packets dropped by nft   {dropped / max(seen, 1) * 100:5.1f} %   "
            f"({dropped} of {seen}, all UDP both ways, from the start of the loss)"
        )
    print()
    verdict_fps = "within" if fps >= TARGET_FPS else "under"
    longest = frames["longest"]
    verdict_freeze = "within" if longest <= TARGET_LONGEST_FREEZE_MS else "over"
    print(
        f"target to compare against: ≥ {TARGET_FPS} fps and no freeze over "
        f"{TARGET_LONGEST_FREEZE_MS} ms; here {fps:.1f} fps ({verdict_fps} target), longest "
        f"pause {longest:.0f} ms ({verdict_freeze} target)"
    )
    if method == "nft":
        print(
            f"NOTE: measured with nftables UDP loss ({args.loss} %) and NO added delay: the "
            "field trial did not take effect in this Chromium, and netem is missing."
        )
    print(f"\n(total {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
