"""Loans and kits made before the fleet workflow get the status their dates say."""

from django.db import migrations


def forwards(apps, schema_editor):
    Loan = apps.get_model("fleet", "Loan")
    Kit = apps.get_model("fleet", "Kit")
    # Ended loans are taken as closed (their kit back); of a kit's running loans, the latest
    # holds it, so that no kit is on two loans at once.
    Loan.objects.filter(kit__isnull=False).update(status="returned")
    for kit in Kit.objects.filter(loans__ended_at__isnull=True).distinct():
        latest = kit.loans.filter(ended_at__isnull=True).order_by("-starts_on", "-pk").first()
        Loan.objects.filter(pk=latest.pk).update(status="active")
        Kit.objects.filter(pk=kit.pk).update(status="on_loan")


class Migration(migrations.Migration):
    dependencies = [("fleet", "0002_fleet_register_loans_heartbeats")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
