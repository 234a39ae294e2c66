"""The surveys' figures on a synthetic national school year, on PostgreSQL. Prints
figures; asserts nothing.

    cd /work/main && .venv/bin/python bench/surveys_summary.py
        [--kits 3000 --loans 10000 --lessons 20000 --runs 5 --keep]

A fresh database ``cartable_bench_surveys_<pid>`` is created on the local socket, migrated
and filled by ``cartable.evaluation.synthetic.generate_year`` for 2025-2026 (few lessons by
default: the surveys do not depend on them; its survey answers come from
``cartable.surveys.synthetic.add_answers``), and dropped at the end unless ``--keep``.
Then, after a warm-up, it times ``cartable.surveys.reports.summary`` for the year nationally,
for an académie (25 Versailles) and a département (78 Yvelines), and one daily run of
``cartable.surveys.services.send_due`` (the scan of the loans; the synthetic year has no
people, so it sends nothing).
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluation_review import PG_SOCKET, ROOT, cpu_model, load, percentile  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kits", type=int, default=3000)
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--lessons", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, {cpu_model()}, load {load()}")
    os.environ["CARTABLE_VAR_DIR"] = tempfile.mkdtemp(prefix="cartable-bench-surveys-")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "cartable.settings"
    database = f"cartable_bench_surveys_{os.getpid()}"
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

    from cartable.evaluation.scope import ACADEMY, DEPARTMENT, NATIONAL, Scope, school_year
    from cartable.evaluation.synthetic import generate_year
    from cartable.organisation.models import Academy, Department
    from cartable.surveys.models import SurveyAnswer, SurveyResponse
    from cartable.surveys.reports import summary
    from cartable.surveys.services import send_due

    call_command("migrate", verbosity=0)
    connection.ensure_connection()
    engine = f"PostgreSQL {connection.pg_version // 10000}.{connection.pg_version % 10000}"
    print(f"python {platform.python_version()}, django {django.get_version()}, {engine}")
    result = generate_year(
        kits=args.kits, loans=args.loans, lessons=args.lessons, year=2025, seed=args.seed
    )
    print(
        f"year: {result.loans} loans; {SurveyResponse.objects.count()} survey responses, "
        f"{SurveyAnswer.objects.count()} answers"
    )
    period = school_year(2025)
    versailles = Academy.objects.get(code="25")
    yvelines = Department.objects.get(code="78")
    scopes = [
        ("national", Scope(NATIONAL)),
        ("académie 25 Versailles", Scope(ACADEMY, academy=versailles)),
        ("département 78", Scope(DEPARTMENT, academy=versailles, department=yvelines)),
    ]
    print(f"summary(), {args.runs} runs each after a warm-up, load {load()}:")
    for label, scope in scopes:
        summary(period, scope)
        times = []
        for _ in range(args.runs):
            begin = time.perf_counter()
            data = summary(period, scope)
            times.append(time.perf_counter() - begin)
        print(
            f"  {label:24} p50 {percentile(times, 0.5) * 1000:7.1f} ms  "
            f"max {max(times) * 1000:7.1f} ms  ({data['responses']} responses, "
            f"{len(data['free_texts'])} approved texts)"
        )
    begin = time.perf_counter()
    sent = send_due()
    print(
        f"send_due(): {time.perf_counter() - begin:.2f} s for one daily run "
        f"({sent.invitations} invitations: the synthetic year has no people)"
    )


if __name__ == "__main__":
    main()
