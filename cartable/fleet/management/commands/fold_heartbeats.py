"""Fold raw heartbeats older than ``FLEET['HEARTBEAT_RAW_DAYS']`` days into one row per
device and day (``HeartbeatDay``), and delete them. Run it daily (see docs/fleet.md);
running it twice changes nothing."""

from django.conf import settings
from django.core.management.base import BaseCommand

from cartable.fleet.heartbeats import fold, fold_cutoff


class Command(BaseCommand):
    help = "Fold raw heartbeats older than FLEET['HEARTBEAT_RAW_DAYS'] days into daily rows."

    def handle(self, *args, **options):
        cutoff = fold_cutoff()
        report = fold(before=cutoff)
        self.stdout.write(
            f"Heartbeats before {cutoff:%Y-%m-%d %H:%M %Z} "
            f"(kept raw: {settings.FLEET['HEARTBEAT_RAW_DAYS']} days): "
            f"{report.heartbeats} folded over {report.days} days into "
            f"{report.created} new and {report.updated} updated daily rows."
        )
