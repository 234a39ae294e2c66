"""Tell département coordinators about their loans past the planned end that nobody ended
(once per planned end). Run it daily (see docs/deploy.md); running it twice sends nothing
more."""

from django.core.management.base import BaseCommand

from cartable.fleet.services import loans_overdue_notify


class Command(BaseCommand):
    help = "Prévient les coordonnateurs des mises à disposition dont la fin prévue est passée."

    def handle(self, *args, **options):
        done = loans_overdue_notify()
        said = ", ".join(f"{n} {word}" for word, n in done.items() if n) or "aucune à signaler"
        self.stdout.write(f"Mises à disposition échues : {said}.")
