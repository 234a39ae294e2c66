"""``cartable send_surveys``: create and email the questionnaire invitations due today.

Idempotent: run it daily (cron, systemd timer); a second run the same day sends nothing.
"""

from django.core.management.base import BaseCommand

from cartable.surveys.services import send_due


class Command(BaseCommand):
    help = "Envoie les invitations aux questionnaires dues (fin de prêt, mi-parcours)."

    def handle(self, *args, **options):
        sent = send_due()
        self.stdout.write(
            f"Questionnaires : {sent.invitations} invitation(s) envoyée(s) pour "
            f"{sent.loans} prêt(s)."
        )
