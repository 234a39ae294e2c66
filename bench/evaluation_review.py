"""The evaluation's review on a synthetic national school year, on PostgreSQL. Prints
figures; asserts nothing.

    cd /work/main && .venv/bin/python bench/evaluation_review.py
        [--kits 3000 --loans 10000 --lessons 400000 --runs 5 --pdf-runs 3 --keep]

A fresh database ``cartable_bench_eval_<pid>`` is created with ``createdb`` on the local
socket ``/var/run/postgresql`` (as ``scripts/services`` starts it), migrated, filled by
``cartable evaluation_synthetic``'s generator (``cartable.evaluation.synthetic``: about
3,000 kits, 10,000 loans, 400,000 lessons, 1,500,000 presences, 800,000 quality rows, the
surveys' answers) for the school year 2025-2026, and dropped at the end unless ``--keep``.

Then, after one warm-up call each, it times ``cartable.evaluation.indicators.compute`` for
the year nationally, for an académie (25 Versailles) and a département (78 Yvelines), and
``cartable.evaluation.pdf.render_pdf`` (the committee's PDF: the report's queries, charts,
WeasyPrint) nationally. p50 / p95 / min / max by linear interpolation between closest ranks.
Targets to compare against: indicators ≤ 2 s, PDF ≤ 10 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_SOCKET = os.environ.get("PG_SOCKET_DIR", "/var/run/postgresql")
TARGET_INDICATORS_S = 2.0
TARGET_PDF_S = 10.0


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
    parser.add_argument("--kits", type=int, default=3000)
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--lessons", type=int, default=400_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5, help="compute() calls per scope")
    parser.add_argument("--pdf-runs", type=int, default=3, help="0: no PDF")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, {cpu_model()}, load {load()}")
    work = Path(tempfile.mkdtemp(prefix="cartable-bench-eval-"))
    os.environ["CARTABLE_VAR_DIR"] = str(work)
    os.environ.pop("SQLITE_PATH", None)
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "cartable.settings"
    database = f"cartable_bench_eval_{os.getpid()}"
    subprocess.run(["createdb", "-h", PG_SOCKET, database], check=True)  # noqa: S603, S607
    os.environ["DATABASE_URL"] = f"postgres://root@/{database}?host={PG_SOCKET}"
    sys.path.insert(0, str(ROOT))
    try:
        measure(args)
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep:
            print(f"(kept: {database})")
        else:
            subprocess.run(["dropdb", "-h", PG_SOCKET, database], check=False)  # noqa: S603, S607


def measure(args) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from cartable.evaluation import indicators
    from cartable.evaluation.scope import ACADEMY, DEPARTMENT, NATIONAL, Scope, school_year
    from cartable.evaluation.synthetic import generate_year
    from cartable.live.models import Attendance, LiveSession
    from cartable.organisation.models import Academy, Department

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    connection.ensure_connection()
    engine = f"PostgreSQL {connection.pg_version // 10000}.{connection.pg_version % 10000}"
    print(f"python {platform.python_version()}, django {django.get_version()}, {engine}")
    print(f"migrate {time.perf_counter() - started:.1f} s; generating the school year 2025-2026…")
    result = generate_year(
        kits=args.kits, loans=args.loans, lessons=args.lessons, year=2025, seed=args.seed, say=print
    )
    print(
        f"year: {result.schools} schools, {result.kits} kits, {result.loans} loans, "
        f"{result.lessons} lessons, {result.presences} presences, {result.qualities} quality "
        f"rows, {result.survey_responses} survey responses; generated in "
        f"{sum(result.seconds.values()):.0f} s"
    )
    print(
        f"tables: live_livesession {LiveSession.objects.count()}, "
        f"live_attendance {Attendance.objects.count()}"
    )
    period = school_year(2025)
    versailles = Academy.objects.get(code="25")
    yvelines = Department.objects.get(code="78")
    scopes = [
        ("national", Scope(NATIONAL)),
        ("académie 25 Versailles", Scope(ACADEMY, academy=versailles)),
        ("département 78", Scope(DEPARTMENT, academy=versailles, department=yvelines)),
    ]

    def line(label: str, times: list[float], extra: str = "") -> None:
        print(
            f"  {label:28} p50 {percentile(times, 0.5):7.2f} s  p95 {percentile(times, 0.95):7.2f}"
            f" s  min {min(times):7.2f}  max {max(times):7.2f}  (n={len(times)}){extra}"
        )

    print(f"indicators.compute(), {args.runs} runs each after a warm-up, load {load()}:")
    worst = 0.0
    for label, scope in scopes:
        indicators.compute(period, scope)
        times = []
        for _ in range(args.runs):
            begin = time.perf_counter()
            figures = indicators.compute(period, scope)
            times.append(time.perf_counter() - begin)
        worst = max(worst, percentile(times, 0.5))
        length = figures.lesson_median_minutes
        line(
            label,
            times,
            f"  loans {figures.loans_active} active, {figures.lessons} lessons, "
            f"{figures.live_hours:.0f} h, median {length if length is None else round(length, 1)}"
            " min",
        )
    verdict = "within" if worst <= TARGET_INDICATORS_S else "OVER"
    print(f"target: indicators ≤ {TARGET_INDICATORS_S:.0f} s (worst p50 {worst:.2f} s): {verdict}")

    if args.pdf_runs < 1:
        return
    try:
        from cartable.evaluation.pdf import render_pdf
    except ImportError:
        print("PDF: cartable.evaluation.pdf.render_pdf is not there: not timed.")
        return
    print(f"render_pdf() national, {args.pdf_runs} runs after a warm-up, load {load()}:")
    content = render_pdf(period, scopes[0][1])
    times = []
    for _ in range(args.pdf_runs):
        begin = time.perf_counter()
        content = render_pdf(period, scopes[0][1])
        times.append(time.perf_counter() - begin)
    line("PDF national", times, f"  {len(content) / 1e3:.0f} kB")
    verdict = "within" if percentile(times, 0.5) <= TARGET_PDF_S else "OVER"
    print(f"target: PDF ≤ {TARGET_PDF_S:.0f} s (p50 {percentile(times, 0.5):.2f} s): {verdict}")


if __name__ == "__main__":
    main()
