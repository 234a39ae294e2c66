"""Forget a person's TOTP device (a lost or changed phone): they enrol again at sign-in."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from cartable.accounts.services import email_normalise, second_factor_reset


class Command(BaseCommand):
    help = "Remove the second-factor devices of the account with this email address."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email: str, **options):
        user = (
            get_user_model()
            .objects.filter(email__iexact=email_normalise(email), is_active=True)
            .first()
        )
        if user is None:
            raise CommandError(f"No active account has the address {email}.")
        removed = second_factor_reset(user=user)
        self.stdout.write(f"{removed} device(s) removed; {email} enrols again at next sign-in.")
