"""Load the académies and their départements from the CSV file shipped with the package.

A fresh database must know the administrative tree before any school can be imported, and
the tree is data: this migration reads ``cartable/organisation/data/academies.csv`` rather
than listing rows. It keeps its own small reader (instead of calling services.py) so that
later changes to the application code cannot change what this migration did; later
changes to the map are made with ``cartable load_academies``.
"""

import csv
from pathlib import Path

from django.db import migrations

ACADEMIES_CSV = Path(__file__).resolve().parent.parent / "data" / "academies.csv"


def department_code(value):
    code = value.strip().upper()
    if len(code) == 3 and code[0] == "0":
        code = code[1:]
    elif len(code) == 1 and code.isdigit():
        code = "0" + code
    return code


def load(apps, schema_editor):
    Academy = apps.get_model("organisation", "Academy")
    Department = apps.get_model("organisation", "Department")
    with ACADEMIES_CSV.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            code = row["academy_code"].strip().zfill(2)
            academy, _ = Academy.objects.update_or_create(
                code=code,
                defaults={"name": row["academy_name"].strip(), "zone": row["zone"].strip()},
            )
            for value in row["department_codes"].split():
                Department.objects.update_or_create(
                    code=department_code(value), defaults={"academy": academy}
                )


class Migration(migrations.Migration):
    dependencies = [
        ("organisation", "0002_academy_department_school_fields"),
    ]

    operations = [
        migrations.RunPython(load, migrations.RunPython.noop),
    ]
