"""Close the attendance rows no live socket holds any more (not refreshed for
``LIVE['PRESENCE_STALE_SECONDS']``) at their last sign of life, and end as abandoned the
sessions nobody has attended for ``live.services.ABANDONED_AFTER``. Every server process
does this at its first connection and every ``LIVE['SWEEP_SECONDS']``; run it from cron too
(docs/deploy.md), for the hours when no server runs. Running it twice changes nothing."""

from django.conf import settings
from django.core.management.base import BaseCommand

from cartable.live.services import presence_sweep


class Command(BaseCommand):
    help = "Close silent attendance rows at their last sign of life; end abandoned sessions."

    def handle(self, *args, **options):
        swept = presence_sweep()
        self.stdout.write(
            f"Attendance rows silent for {settings.LIVE['PRESENCE_STALE_SECONDS']} s closed at "
            f"their last sign of life: {swept.rows_closed}; "
            f"sessions ended as abandoned: {swept.sessions_abandoned}."
        )
