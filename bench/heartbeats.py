"""Device heartbeats accepted per second by ONE uvicorn worker, and their latency, on SQLite
and on PostgreSQL. Prints figures; asserts nothing.

    cd /work/main && .venv/bin/python bench/heartbeats.py
        [--backends sqlite,postgres] [--devices 3000] [--connections 32] [--seconds 15]
        [--pg-socket /var/run/postgresql]

For each database it creates a fresh one (SQLite in a temporary CARTABLE_VAR_DIR; on
PostgreSQL a throwaway database ``cartable_bench_hb_<pid>`` reached by its Unix socket,
dropped at the end), migrates it, registers ``--devices`` kit devices each with its own
kit-device credential (``credential_issue``, as enrolment does), then starts
``cartable serve`` (one uvicorn worker, ``--host 127.0.0.1``) and sends heartbeats
(``POST /api/devices/heartbeat`` with each device's Bearer token) from ``--connections``
concurrent keep-alive connections for ``--warmup`` + ``--seconds`` seconds. The requests go
round the devices in turn, so each device sends at most a few per minute and stays under
the per-credential limit (any 429 is counted and printed). The client is a small asyncio
HTTP/1.1 client written here (not httpx), so that it takes little of the CPU the server
needs on the same machine.

It prints the heartbeats accepted (204) per second, the latency p50/p95/p99/max, the
statuses seen, the server's CPU use (from /proc) and the client's, and the machine.

Only 127.0.0.1 is ever targeted.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CARTABLE = ROOT / ".venv" / "bin" / "cartable"
HOST = "127.0.0.1"

SETUP = """
import json, math, os
from django.core.management import call_command
from django.db import transaction
from cartable.fleet.models import Device, DeviceCredential, Kit
from cartable.fleet.services import credential_issue

call_command("migrate", verbosity=0)
n = int(os.environ["BENCH_DEVICES"])
kinds = ["class_box", "teacher_tablet", "board_camera", "class_camera", "router_4g"]
with transaction.atomic():
    kits = Kit.objects.bulk_create(
        [Kit(code=f"BENCH-{i:05d}") for i in range(math.ceil(n / len(kinds)))]
    )
    devices = Device.objects.bulk_create(
        [
            Device(kit=kits[i // 5], kind=kinds[i % 5], serial=f"BENCH-SN-{i:06d}")
            for i in range(n)
        ]
    )
    tokens = [
        credential_issue(kind=DeviceCredential.Kind.KIT_DEVICE, device=d)[1] for d in devices
    ]
with open(os.environ["BENCH_TOKENS"], "w") as out:
    json.dump(tokens, out)
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def percentile(sorted_values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        return math.nan
    k = (len(sorted_values) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (and its waited-for children), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


# The client ------------------------------------------------------------------------------


class Stats:
    def __init__(self):
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.errors = 0
        self.measuring = False

    def record(self, status: int, seconds: float) -> None:
        if not self.measuring:
            return
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status == 204:
            self.latencies.append(seconds)


def request_bytes(port: int, token: str, n: int) -> bytes:
    body = json.dumps(
        {
            "software_version": "5.2.1",
            "network": ("wifi", "4g", "wired")[n % 3],
            "signal": n % 101,
            "battery": (n * 7) % 101,
            "uptime_s": 60 * n,
        }
    ).encode()
    head = (
        f"POST /api/devices/heartbeat HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split()[1])
    length, close = 0, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "connection" and value.strip().lower() == "close":
            close = True
    if length:
        await reader.readexactly(length)
    return status, close


async def connection(port: int, tokens, stats: Stats, stop_at: float) -> None:
    reader = writer = None
    counter = itertools.count()
    while time.perf_counter() < stop_at:
        if writer is None:
            reader, writer = await asyncio.open_connection(HOST, port)
        payload = request_bytes(port, next(tokens), next(counter))
        started = time.perf_counter()
        try:
            writer.write(payload)
            await writer.drain()
            status, close = await read_response(reader)
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            stats.errors += 1
            writer.close()
            writer = None
            continue
        stats.record(status, time.perf_counter() - started)
        if close:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


async def drive(port: int, tokens: list[str], connections: int, warmup: float, seconds: float):
    stats = Stats()
    cycle = itertools.cycle(tokens)
    start = time.perf_counter()
    stop_at = start + warmup + seconds
    tasks = [
        asyncio.create_task(connection(port, cycle, stats, stop_at)) for _ in range(connections)
    ]
    await asyncio.sleep(warmup)
    stats.measuring = True
    measured_from = time.perf_counter()
    await asyncio.sleep(max(0.0, stop_at - measured_from))
    stats.measuring = False
    measured = time.perf_counter() - measured_from
    await asyncio.gather(*tasks)
    return stats, measured


# One run ---------------------------------------------------------------------------------


def wait_ready(port: int, server: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def run(label: str, env: dict[str, str], args) -> dict:
    work = Path(tempfile.mkdtemp(prefix="cartable-bench-hb-"))
    env = {**env, "CARTABLE_VAR_DIR": str(work), "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
    server = None
    try:
        tokens_path = work / "tokens.json"
        setup_started = time.perf_counter()
        setup = subprocess.run(
            [str(CARTABLE), "shell", "-c", SETUP],
            env={**env, "BENCH_DEVICES": str(args.devices), "BENCH_TOKENS": str(tokens_path)},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if setup.returncode != 0:
            raise RuntimeError(f"setting up the devices failed:\n{setup.stderr[-3000:]}")
        tokens = json.loads(tokens_path.read_text())
        print(
            f"[{label}] {len(tokens)} devices enrolled in "
            f"{time.perf_counter() - setup_started:.1f} s",
            flush=True,
        )
        port = free_port()
        log_path = work / "server.log"
        with log_path.open("w") as log:
            server = subprocess.Popen(
                [str(CARTABLE), "serve", "--host", HOST, "--port", str(port)],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_ready(port, server)
        cpu_before = cpu_seconds(server.pid)
        client_before = resource.getrusage(resource.RUSAGE_SELF)
        wall_before = time.perf_counter()
        stats, measured = asyncio.run(
            drive(port, tokens, args.connections, args.warmup, args.seconds)
        )
        wall = time.perf_counter() - wall_before
        server_cpu = cpu_seconds(server.pid) - cpu_before
        client_after = resource.getrusage(resource.RUSAGE_SELF)
        client_cpu = (client_after.ru_utime - client_before.ru_utime) + (
            client_after.ru_stime - client_before.ru_stime
        )
        if server.poll() is not None:
            raise RuntimeError("the server died during the run")
        tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
        latencies = sorted(stats.latencies)
        accepted = stats.statuses.get(204, 0)
        return {
            "label": label,
            "accepted_per_s": accepted / measured,
            "accepted": accepted,
            "measured_s": measured,
            "p50_ms": percentile(latencies, 0.50) * 1000,
            "p95_ms": percentile(latencies, 0.95) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000,
            "max_ms": (latencies[-1] * 1000) if latencies else math.nan,
            "statuses": dict(sorted(stats.statuses.items())),
            "errors": stats.errors,
            "server_cpu_pct": 100 * server_cpu / wall,
            "client_cpu_pct": 100 * client_cpu / wall,
            "server_log_tail": tail,
        }
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


def base_env() -> dict[str, str]:
    return {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "REDIS_CACHE_URL", "CARTABLE_PRODUCTION"}
        and key not in {"SQLITE_PATH"}
    }


def postgres_run(args) -> dict | None:
    import psycopg

    name = f"cartable_bench_hb_{os.getpid()}"
    user = os.environ.get("USER") or "root"
    admin = f"dbname=postgres host={args.pg_socket}"
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        print(f"[postgres] skipped: cannot reach PostgreSQL at {args.pg_socket}: {exc}")
        return None
    try:
        env = {
            **base_env(),
            "DATABASE_URL": f"postgres://{user}@/{name}?host={args.pg_socket}",
        }
        result = run(f"PostgreSQL {version}", env, args)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return result


def machine() -> str:
    import sqlite3

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()
    return (
        f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model}; "
        f"Linux {platform.release()}; Python {platform.python_version()}; "
        f"SQLite {sqlite3.sqlite_version}; load average before {load[0]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--devices", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument(
        "--pg-socket", default=os.environ.get("PG_SOCKET_DIR", "/var/run/postgresql")
    )
    args = parser.parse_args()

    print(machine())
    print(
        f"{args.devices} devices, {args.connections} concurrent connections, "
        f"{args.warmup:.0f} s warm-up then {args.seconds:.0f} s measured, one uvicorn worker"
    )
    results = []
    for backend in args.backends.split(","):
        backend = backend.strip()
        if backend == "sqlite":
            results.append(run("SQLite (WAL)", base_env(), args))
        elif backend == "postgres":
            result = postgres_run(args)
            if result:
                results.append(result)
        else:
            sys.exit(f"unknown backend {backend!r} (sqlite, postgres)")
        if results:
            r = results[-1]
            print(
                f"[{r['label']}] {r['accepted_per_s']:.0f} heartbeats/s accepted "
                f"({r['accepted']} in {r['measured_s']:.1f} s); latency p50 {r['p50_ms']:.1f} ms, "
                f"p95 {r['p95_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, max {r['max_ms']:.1f} ms; "
                f"statuses {r['statuses']}, connection errors {r['errors']}; "
                f"CPU: server {r['server_cpu_pct']:.0f} %, client {r['client_cpu_pct']:.0f} %",
                flush=True,
            )
            if set(r["statuses"]) - {204}:
                print("  server log:", *r["server_log_tail"], sep="\n    ")
    print()
    print("| database | heartbeats/s | p50 ms | p95 ms | p99 ms | server CPU | client CPU |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(
            f"| {r['label']} | {r['accepted_per_s']:.0f} | {r['p50_ms']:.1f} | "
            f"{r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['server_cpu_pct']:.0f} % | "
            f"{r['client_cpu_pct']:.0f} % |"
        )
    needed = 25_000 / 60
    print(
        f"\nFor scale: 5,000 kits of 5 devices beating once a minute send {needed:.0f} "
        "heartbeats/s in all."
    )


if __name__ == "__main__":
    main()
