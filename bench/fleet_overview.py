"""Fleet overview and registers' downloads on a generated national fleet. Prints figures;
asserts nothing.

    cd /work/main && .venv/bin/python bench/fleet_overview.py
        [--kits 5000 --loans 50000 --runs 15 --export-runs 3 --backends postgres,sqlite]

For each backend, in a process of its own: a fresh database (SQLite in a temporary
directory; on PostgreSQL a database ``cartable_bench_fleet_<pid>`` created with
``createdb`` on the local socket ``/var/run/postgresql``, as ``scripts/services`` starts
it, and dropped at the end unless ``--keep``), migrated, filled by
``cartable.fleet.synthetic.generate`` (5,000 kits, 50,000 loans over two years, about 8
live sessions per loan with the class's and the pupil's presences, 4 devices per kit of
which 2 report, their heartbeats folded by day for every day their kit was on loan), then
the pages are requested through Django's test client (the whole view: access checks,
queries, template), signed in as the fleet team, a DANE (Versailles) and a coordinator
(Yvelines):

- the overview ``/parc/`` national, one académie (25 Versailles), one département (78);
- each register (kits, loans) in each format (CSV, ODS, XLSX), national.

It prints p50 / p95 / min / max over the runs (after one warm-up request), with the
percentile by linear interpolation between closest ranks. Target to compare against:
the overview ≤ 300 ms on PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 300.0
PG_SOCKET = os.environ.get("PG_SOCKET_DIR", "/var/run/postgresql")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kits", type=int, default=5000)
    parser.add_argument("--loans", type=int, default=50_000)
    parser.add_argument("--sessions-per-loan", type=int, default=8)
    parser.add_argument("--runs", type=int, default=15, help="requests per overview")
    parser.add_argument("--export-runs", type=int, default=3, help="downloads per register")
    parser.add_argument("--backends", default="postgres,sqlite")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    print(f"machine: {os.cpu_count()} CPUs, {cpu_model()}, load {load()}")
    failed = False
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        print(f"\n=== {backend}")
        command = [sys.executable, __file__, "--worker", backend, *sys.argv[1:]]
        failed |= subprocess.run(command, check=False).returncode != 0  # noqa: S603
    sys.exit(1 if failed else 0)


def worker(args) -> None:
    backend = args.worker
    work = Path(tempfile.mkdtemp(prefix="cartable-bench-fleet-"))
    os.environ["CARTABLE_VAR_DIR"] = str(work)
    os.environ.pop("SQLITE_PATH", None)
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "cartable.settings"
    database = None
    if backend == "postgres":
        database = f"cartable_bench_fleet_{os.getpid()}"
        subprocess.run(["createdb", "-h", PG_SOCKET, database], check=True)  # noqa: S603, S607
        os.environ["DATABASE_URL"] = f"postgres://root@/{database}?host={PG_SOCKET}"
    elif backend == "sqlite":
        os.environ.pop("DATABASE_URL", None)
    else:
        raise SystemExit(f"unknown backend {backend!r} (postgres, sqlite)")
    sys.path.insert(0, str(ROOT))
    try:
        measure(args)
    finally:
        from django.db import connections

        connections.close_all()
        if database and not args.keep:
            subprocess.run(["dropdb", "-h", PG_SOCKET, database], check=False)  # noqa: S603, S607
        if args.keep:
            print(f"(kept: {database or work})")
        else:
            shutil.rmtree(work, ignore_errors=True)


def measure(args) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from cartable.fleet import reports
    from cartable.fleet.synthetic import generate
    from cartable.organisation.access import Actor
    from cartable.organisation.models import Academy, Department, RoleGrant

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter() - started
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        engine = f"SQLite {connection.Database.sqlite_version}"
    else:
        engine = f"PostgreSQL {connection.pg_version // 10000}.{connection.pg_version % 10000}"
    print(f"python {platform.python_version()}, django {django.get_version()}, {engine}")
    print(f"migrate {migrated:.1f} s; generating the fleet…")
    result = generate(
        kits=args.kits,
        loans=args.loans,
        sessions_per_loan=args.sessions_per_loan,
        say=print,
    )
    print(
        f"fleet: {result.kits} kits, {result.devices} devices, {result.loans} loans "
        f"({result.running} running), {result.sessions} live sessions, {result.presences} "
        f"presences, {result.heartbeat_days} heartbeat days; generated in "
        f"{sum(result.seconds.values()):.0f} s"
    )

    users = get_user_model().objects
    versailles = Academy.objects.get(code="25")
    yvelines = Department.objects.get(code="78")

    def person(username: str, **grant) -> tuple[Client, object]:
        user = users.create_user(username=username, email=f"{username}@example.org")
        RoleGrant.objects.create(user=user, **grant)
        client = Client()
        client.force_login(user)
        device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client, user

    fleet = person("bench.parc", role=RoleGrant.Role.FLEET)
    dane = person("bench.dane", role=RoleGrant.Role.ACADEMY, academy=versailles)
    coordinator = person("bench.coordo", role=RoleGrant.Role.DEPARTMENT, department=yvelines)

    def timed(client: Client, path: str, runs: int) -> tuple[list[float], object]:
        response = client.get(path)  # warm-up
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}")
        times = []
        for _ in range(runs):
            begin = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - begin) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{path}: HTTP {response.status_code}")
        return times, response

    def line(label: str, times: list[float], extra: str = "") -> None:
        print(
            f"  {label:44} p50 {percentile(times, 0.5):8.1f} ms  p95 "
            f"{percentile(times, 0.95):8.1f} ms  min {min(times):8.1f}  max {max(times):8.1f}"
            f"  (n={len(times)}){extra}"
        )

    print(f"overview (/parc/), {args.runs} runs each, load {load()}:")
    worst = 0.0
    for label, (client, user), path, params in [
        ("fleet team, national", fleet, "/parc/", {}),
        ("fleet team, académie 25 Versailles", fleet, "/parc/?academie=25", {"academy_code": "25"}),
        ("fleet team, département 78", fleet, "/parc/?departement=78", {"department_code": "78"}),
        ("DANE Versailles (its académie)", dane, "/parc/", {}),
        ("coordinator 78 (its département)", coordinator, "/parc/", {}),
    ]:
        times, response = timed(client, path, args.runs)
        summary = reports.overview(reports.scope_for(Actor(user=user), **params))
        worst = max(worst, percentile(times, 0.5))
        line(
            label,
            times,
            f"  kits {summary.kits}, running {summary.running_loans}, reclaim "
            f"{len(summary.reclaim)}, offline {len(summary.offline)}",
        )
    print(f"registers (national), {args.export_runs} runs each, load {load()}:")
    for kind in ("cartables", "prets"):
        for fmt in ("csv", "ods", "xlsx"):
            times, response = timed(fleet[0], f"/parc/registre/{kind}.{fmt}", args.export_runs)
            line(f"{kind}.{fmt}", times, f"  {len(response.content) / 1e6:.1f} MB")
    if connection.vendor == "postgresql":
        verdict = "within" if worst <= TARGET_MS else "OVER"
        print(
            f"target: overview ≤ {TARGET_MS:.0f} ms on PostgreSQL (worst p50 {worst:.0f} ms): "
            f"{verdict}"
        )


if __name__ == "__main__":
    main()
