"""First frame through the TURN relay: from the pupil's tap on « Rejoindre la classe » to
the first decoded frame of the board camera, with every packet relayed by coturn, over UDP,
over TCP, then over TLS. Prints figures; asserts nothing.

    cd /work/main && .venv/bin/python bench/relay_first_frame.py [--runs 6]

For each transport, a real coturn (tests/e2e/coturn.py's Coturn: loopback only, the TURN
REST scheme with use-auth-secret, loopback peers allowed) is started in the private network
namespace, and the platform with:
    TURN_URLS=turn:127.0.0.1:PORT?transport=udp   (then ?transport=tcp: one URL only)
    (TLS: turns:127.0.0.1:443?transport=tcp, coturn with a certificate from a certificate
    authority made for the run, tests/e2e/coturn.py's TestAuthority, and a Chromium told
    to accept its keys with --ignore-certificate-errors-spki-list)
    TURN_SECRET=<coturn's secret>
    LIVE_ICE_TRANSPORT_POLICY=relay               (both sides may use relay candidates only)
Each run is timed as bench/join_time.py times a join (its page instrumentation is reused):
the tap, then the first frame decoded (getStats inbound-rtp framesDecoded > 0 on the
'board' transceiver, polled every 10 ms) and shown (requestVideoFrameCallback). After each
run the selected candidate pair of both pages is read from getStats, to show the path:
local/remote candidate types, and the protocol between the browser and the relay (the local
candidate's relayProtocol).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections import Counter

import harness
import join_time

TRANSPORTS = ("udp", "tcp", "tls")
# For orientation, from the environment's testing notes (one run on a machine like this one).
REFERENCE_MS = {"udp": 700, "tcp": 990}


def one_round(transport: str, args) -> list[dict]:
    coturn_module = harness.e2e_module("coturn")
    browser_args: list[str] = []
    authority = None
    if transport == "tls":
        import tempfile
        from pathlib import Path

        authority = coturn_module.TestAuthority(Path(tempfile.mkdtemp(prefix="cartable-ca-")))
        coturn = coturn_module.Coturn(
            harness.free_port(), tls=(authority.cert, authority.key), tls_port=443
        )
        browser_args = [f"--ignore-certificate-errors-spki-list={','.join(authority.spki_hashes)}"]
    else:
        coturn = coturn_module.Coturn(harness.free_port())
    results: list[dict] = []
    try:
        url = (
            coturn.tls_url
            if transport == "tls"
            else f"turn:127.0.0.1:{coturn.port}?transport={transport}"
        )
        env = {
            "TURN_URLS": url,
            "TURN_SECRET": coturn.secret,
            "LIVE_ICE_TRANSPORT_POLICY": "relay",
        }
        with (
            harness.running_platform(env) as platform,
            harness.chromium(browser_args) as browser,
        ):
            print()
            print(f"== TURN over {transport.upper()}: TURN_URLS={url}, relay only")
            station = harness.new_device(browser, [harness.STEP_MARKS_JS])
            pupil = harness.new_device(browser, [harness.STEP_MARKS_JS, join_time.PUPIL_JOIN_JS])
            harness.open_station(station, platform)
            harness.pair_tablet(pupil, platform)
            print(
                f"{'run':>4}{'decoded':>9}{'shown':>8}   board camera, ms after the tap;"
                "   path (local/remote, pupil | station)"
            )
            for run in range(1, args.runs + 1):
                result = join_time.one_run(pupil, station, platform, args.timeout, args.settle)
                result["pupil_path"] = harness.path_of(pupil.evaluate(harness.LINK_STATS_JS))
                result["station_path"] = harness.path_of(station.evaluate(harness.LINK_STATS_JS))
                results.append(result)
                print(
                    f"{run:>4}{harness.fmt_ms(result['decoded'].get('board'), 9)}"
                    f"{harness.fmt_ms(result['shown'].get('board'), 8)}"
                    f"   {result['pupil_path']} | {result['station_path']}",
                    flush=True,
                )
                join_time.leave(pupil, station)
    finally:
        try:
            coturn.stop()
        finally:
            shutil.rmtree(coturn.dir, ignore_errors=True)
            if authority is not None:
                shutil.rmtree(authority.cert.parent, ignore_errors=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=6, help="joins per transport (default 6)")
    parser.add_argument(
        "--timeout", type=float, default=15.0, help="seconds to wait for frames in one run"
    )
    parser.add_argument(
        "--settle", type=float, default=0.5, help="seconds between page load and the tap"
    )
    parser.add_argument(
        "--transport", choices=TRANSPORTS, action="append", help="only this one (repeatable)"
    )
    args = parser.parse_args()
    if not 1 <= args.runs <= 200:
        parser.error("--runs must be between 1 and 200")
    if not shutil.which("turnserver"):
        raise SystemExit("coturn's turnserver is needed: apt-get install -y coturn")
    harness.enter_private_network()

    started = time.monotonic()
    transports = args.transport or list(TRANSPORTS)
    with harness.chromium() as browser:
        machine = harness.machine_line(browser)
    print("cartable first frame through the relay: tap on « Rejoindre la classe » → first frame")
    print(machine)
    print(
        f"network: private namespace ({', '.join(harness.interfaces())} only); "
        "server: cartable serve (SQLite, in-memory channel layer); coturn on 127.0.0.1 "
        "(tests/e2e/coturn.py)"
    )
    print(f"runs: {args.runs} per transport ({', '.join(transports)})")
    rounds, cpu = {}, harness.CpuMeter()
    for transport in transports:
        rounds[transport] = one_round(transport, args)
    cpu_use = cpu.read()

    print()
    print("From the tap to the first board frame, through the relay, in ms")
    print(harness.summary_header(34))
    for transport, results in rounds.items():
        decoded = [r["decoded"]["board"] for r in results if "board" in r["decoded"]]
        shown = [r["shown"]["board"] for r in results if "board" in r["shown"]]
        print(harness.summary_row(f"TURN/{transport.upper()}: decoded (getStats)", decoded, 34))
        print(harness.summary_row(f"TURN/{transport.upper()}: shown (rVFC)", shown, 34))
        both = [max(r["shown"].values()) for r in results if len(r["shown"]) == 2]
        print(harness.summary_row(f"TURN/{transport.upper()}: both cameras shown", both, 34))
    intervals = [r["poll_interval"] for rs in rounds.values() for r in rs if "poll_interval" in r]
    if intervals:
        print(
            f"  (getStats answered every {sum(intervals) / len(intervals):.0f} ms on average, "
            "asked every 10 ms: a decoded time is late by up to that much)"
        )
    print()
    print("Paths seen (selected candidate pair, local/remote type, protocol, relay protocol):")
    for transport, results in rounds.items():
        for side in ("pupil", "station"):
            seen = Counter(r[f"{side}_path"] for r in results)
            listed = ", ".join(f"{path} ×{count}" for path, count in seen.most_common())
            print(f"  TURN/{transport.upper()} {side:<8} {listed}")
    for transport, results in rounds.items():
        decoded = [r["decoded"]["board"] for r in results if "board" in r["decoded"]]
        missing = len(results) - len(decoded)
        if decoded:
            p50 = harness.percentile(decoded, 50)
            note = f"; {missing} run(s) without a frame" if missing else ""
            print(
                f"for orientation: TURN/{transport.upper()} p50 {p50:.0f} ms here (decoded); "
                + (
                    f"the environment notes measured {REFERENCE_MS[transport]} ms once on a "
                    f"machine like this one{note}"
                    if transport in REFERENCE_MS
                    else f"no reference figure{note}"
                )
            )
    print(f"\n{cpu_use} (all rounds, set-up included)")
    print(f"\n(total {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
