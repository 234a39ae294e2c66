from django.db import migrations, models
from django.db.models.functions import Coalesce


def backfill(apps, schema_editor):
    # Closed rows were last seen when they left; an open row from before the heartbeat has
    # no sign of life but its joining.
    Attendance = apps.get_model("live", "Attendance")
    Attendance.objects.update(last_seen_at=Coalesce("left_at", "joined_at"))


class Migration(migrations.Migration):
    dependencies = [("live", "0004_session_end_reason_loan_ended")]

    operations = [
        migrations.AddField(
            model_name="attendance",
            name="last_seen_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
