"""Indexes for the fleet's reporting (indexes only; part « Suivi et registres »).

Both are on the live link's tables, which the overview reads: the pupil's presences since
Monday (live hours this week) and each loan's latest session (the reclaim list). Written as
SQL, valid on SQLite and PostgreSQL, so that the live app's models stay as they are; the
reporting needs them, the live link does not. Measured with bench/fleet_overview.py on a
national fleet (800,000 presences): the week's sum goes from a sequential scan (~95 ms) to
an index scan (~15 ms), the reclaim query from ~65 ms to ~40 ms.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("fleet", "0003_existing_loans_status"),
        ("live", "0003_session_quality"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS fleet_report_pupil_joined_idx "
            "ON live_attendance (joined_at) WHERE side = 'pupil'",
            "DROP INDEX IF EXISTS fleet_report_pupil_joined_idx",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS fleet_report_loan_started_idx "
            "ON live_livesession (loan_id, started_at)",
            "DROP INDEX IF EXISTS fleet_report_loan_started_idx",
        ),
    ]
