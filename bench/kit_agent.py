"""The classroom kit's agent: its CPU for two 1280x720 30 fps streams (with and without the
face blur), and glass-to-glass latency and join time, kit → pupil against browser station
→ pupil, in the same run. Prints figures; asserts nothing.

    .venv/bin/python bench/kit_agent.py [--seconds 15]

Runs in a private network namespace (loopback only), on a demo platform (``cartable demo``)
with a real Chromium pupil page. The browser station's cameras are canvas streams with the
clock drawn in blocks (bench/glass_to_glass.py); the kit's board camera draws the same
blocks with the same clock (the machine's), so the pupil page reads both back the same way.
The agent runs in a child process of its own, whose CPU time (/proc/<pid>/stat) is the
figure; its target is ≤ 1.6 cores for both streams.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import harness
import numpy as np

sys.path.insert(0, str(harness.ROOT))

TARGET_CORES = 1.6
BLOCK, COLS, ROWS = 40, 16, 4


class ClockPattern:
    """The kit's board camera for this bench: the clock in blocks, as the canvas cameras."""

    def __init__(self, width=1280, height=720, fps=30):
        self.width, self.height, self.fps = width, height, fps
        self.stopped = False

    def open(self):
        return self

    def close(self):
        pass

    def read(self, index: int) -> np.ndarray:
        image = np.empty((self.height, self.width, 3), dtype=np.uint8)
        image[:] = (0x6B, 0x7A, 0x8F)
        x = (index * 7) % self.width
        image[BLOCK * 5 : self.height - BLOCK, x : x + self.width // 6] = (0xD9, 0xA4, 0x41)
        value = round(time.time() * 1000) % 16777216
        b0, b1, b2 = value & 255, (value >> 8) & 255, (value >> 16) & 255
        word = value * 256 + ((b0 + 3 * b1 + 7 * b2 + 0x5A) & 255)
        for i in range(32):
            bit = (word >> (31 - i)) & 1
            col, row = i % COLS, i // COLS
            xs = slice(col * BLOCK, (col + 1) * BLOCK)
            image[row * BLOCK : (row + 1) * BLOCK, xs] = 255 if bit else 0
            image[(row + 2) * BLOCK : (row + 3) * BLOCK, xs] = 0 if bit else 255
        return image


def child(args) -> int:
    """The agent alone, as on a kit (this process's CPU is what is measured)."""
    from cartable_kit import credential
    from cartable_kit.agent import Agent, AgentOptions
    from cartable_kit.live import AudioSink
    from cartable_kit.media import TestPattern

    width, height = (int(v) for v in args.size.split("x"))
    options = AgentOptions(
        loan=args.loan,
        loopback_ice=True,
        audio_sink=AudioSink(),
        extra={
            "board_source": lambda: ClockPattern(width, height, args.fps),
            "class_source": lambda: TestPattern(width, height, args.fps, "classe"),
        },
    )
    asyncio.run(Agent(credential.load(Path(args.credential)), options).run())
    return 0


def shell(platform, code: str) -> str:
    env = harness.server_env(platform.var_dir)
    done = subprocess.run(
        [str(harness.CARTABLE), "shell", "-c", code],
        env=env,
        cwd=harness.ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fill(script: str, width: int, height: int) -> str:
    for name, value in dict(W=width, H=height, BLOCK=BLOCK, COLS=COLS, ROWS=ROWS).items():
        script = script.replace(f"__{name}__", str(value))
    return script


def measure_g2g(pupil, seconds: float) -> list[float]:
    pupil.evaluate("window.__g2g.reset()")
    time.sleep(seconds)
    return [s[0] for s in pupil.evaluate("window.__g2g.samples")]


def join(pupil, platform) -> float:
    """Seconds from « Rejoindre la classe » to the first clock read on the board video."""
    pupil.goto(platform.url("/eleve/"))
    pupil.get_by_role("button", name="Rejoindre la classe").wait_for()
    clicked = time.monotonic()
    pupil.get_by_role("button", name="Rejoindre la classe").click()
    pupil.wait_for_function("() => window.__g2g.samples.length > 0", timeout=60_000)
    return time.monotonic() - clicked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--credential", help=argparse.SUPPRESS)
    parser.add_argument("--loan", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    harness.enter_private_network()
    import glass_to_glass

    width, height = (int(v) for v in args.size.split("x"))
    results = {}
    with harness.running_platform() as platform, harness.chromium() as browser:
        print("cartable kit agent: CPU, glass-to-glass and join time, kit against browser station")
        print(harness.machine_line(browser))
        pupil = harness.new_device(browser, [fill(glass_to_glass.CLOCK_READER_JS, width, height)])
        harness.pair_tablet(pupil, platform)

        # 1. The browser station (canvas cameras with the clock).
        station = harness.new_device(
            browser, [fill(glass_to_glass.CANVAS_CAMERAS_JS, width, height)]
        )
        harness.open_station(station, platform)
        results["browser join s"] = join(pupil, platform)
        time.sleep(2)
        results["browser g2g"] = measure_g2g(pupil, args.seconds)
        station.get_by_role("button", name="Terminer la séance").click()
        station.context.close()

        # 2. The kit's agent, enrolled with a label's code on the demo loan's kit.
        made = shell(
            platform,
            "import json; from cartable.fleet.models import Device, Loan; "
            "from cartable.fleet.services import enrolment_code_issue; "
            f"loan = Loan.objects.get(pk={platform.loan_id}); "
            "box = Device.objects.create(kit=loan.kit, kind='class_box', serial='SN-BENCH'); "
            "code = enrolment_code_issue(device=box)[1]; "
            "print(json.dumps({'serial': box.serial, 'code': code}))",
        )
        made = json.loads(made)
        home = Path(tempfile.mkdtemp(prefix="cartable-kit-bench-"))
        from cartable_kit import cli

        assert (
            cli.main(
                [
                    "--credential",
                    str(home / "c.json"),
                    "enrol",
                    "--server",
                    platform.base_url.rstrip("/"),
                    "--code",
                    made["code"],
                    "--serial",
                    made["serial"],
                ]
            )
            == 0
        )

        def run_kit(label: str):
            agent = subprocess.Popen(  # noqa: S603
                [
                    sys.executable,
                    __file__,
                    "--child",
                    "--credential",
                    str(home / "c.json"),
                    "--loan",
                    str(platform.loan_id),
                    "--size",
                    args.size,
                    "--fps",
                    str(args.fps),
                ],
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                stderr=subprocess.DEVNULL,
            )
            try:
                tablet = harness.new_device(browser)
                tablet.goto(platform.url(f"/connexion/?next=/station/{platform.loan_id}/"))
                tablet.get_by_label("Identifiant").fill(platform.email or platform.username)
                tablet.get_by_label("Mot de passe").fill(platform.password)
                tablet.get_by_role("button", name="Se connecter").click()
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:  # the agent's first heartbeat: kit mode
                    tablet.goto(platform.url(f"/station/{platform.loan_id}/"))
                    if tablet.locator("#station[data-mode=kit]").count():
                        break
                    time.sleep(0.5)
                tablet.get_by_text("Boîtier connecté.").wait_for(timeout=30_000)
                tablet.get_by_role("button", name="Démarrer la séance").click()
                tablet.locator("#station[data-state=live]").wait_for(state="attached")
                results[f"{label} join s"] = join(pupil, platform)
                time.sleep(2)
                inbound = pupil.evaluate(glass_to_glass.RTP_STATS_JS, "inbound-rtp")
                before, started = cpu_seconds(agent.pid), time.monotonic()
                results[f"{label} g2g"] = measure_g2g(pupil, args.seconds)
                elapsed = time.monotonic() - started
                results[f"{label} cores"] = (cpu_seconds(agent.pid) - before) / elapsed
                after = pupil.evaluate(glass_to_glass.RTP_STATS_JS, "inbound-rtp")
                results[f"{label} fps"] = {
                    track: (
                        after[track].get("framesDecoded", 0)
                        - inbound.get(track, {}).get("framesDecoded", 0)
                    )
                    / elapsed
                    for track in ("board", "class")
                    if track in after
                }
                tablet.get_by_role("button", name="Terminer la séance").click()
                tablet.context.close()
            finally:
                agent.terminate()
                agent.wait(timeout=15)

        run_kit("kit")
        # 3. The same with classmates out of frame: the class camera's faces blurred.
        shell(
            platform,
            "from django.contrib.auth import get_user_model; "
            "from cartable.fleet.models import Loan; "
            "from cartable.consent.services import frame_record; "
            f"loan = Loan.objects.get(pk={platform.loan_id}); "
            f"user = get_user_model().objects.get(username='{platform.username}'); "
            "frame_record(loan=loan, by=user, required=True, count=2); print('ok')",
        )
        run_kit("kit+blur")

    def line(name, values):
        if not values:
            return f"  {name:<28} no sample"
        return (
            f"  {name:<28} p50 {harness.percentile(values, 50):5.0f}  "
            f"p95 {harness.percentile(values, 95):5.0f}  n={len(values)}"
        )

    print()
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"machine load average during the run: {' '.join(load)} (on {os.cpu_count()} cores)")
    print(f"Agent CPU for two {args.size} {args.fps} fps streams (target ≤ {TARGET_CORES} cores):")
    wanted = 2 * args.fps
    for label in ("kit", "kit+blur"):
        cores = results.get(f"{label} cores")
        fps = results.get(f"{label} fps") or {}
        if cores is None:
            continue
        sent = sum(fps.values())
        per_frame = cores / sent if sent else float("nan")
        at_target = per_frame * wanted
        verdict = "within" if at_target <= TARGET_CORES else "over"
        decoded = ", ".join(f"{k} {v:.1f}" for k, v in fps.items())
        print(
            f"  {label:<10} measured {cores:.2f} cores for {sent:.1f} frames/s decoded "
            f"({decoded}); {per_frame * 1000:.1f} ms of CPU a frame, so {at_target:.2f} cores "
            f"at {wanted} frames/s ({verdict} target)"
        )
    print("Glass-to-glass on the board camera, ms:")
    for label in ("browser", "kit", "kit+blur"):
        print(line(f"{label} → pupil", results.get(f"{label} g2g", [])))
    print("Join time, « Rejoindre la classe » → first board frame read, s:")
    for label in ("browser", "kit", "kit+blur"):
        if f"{label} join s" in results:
            print(f"  {label:<28} {results[f'{label} join s']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
