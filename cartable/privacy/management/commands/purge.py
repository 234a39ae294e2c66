"""Apply every retention declaration (cartable/privacy/register.py): delete or
pseudonymise what is past its period. Run it daily (see docs/deploy.md); a second run
changes nothing and says so."""

from django.core.management.base import BaseCommand

from cartable.privacy import audit, purge
from cartable.privacy.register import declarations


class Command(BaseCommand):
    help = "Supprime ou pseudonymise les données personnelles dont la durée est échue."

    def handle(self, *args, **options):
        done = purge.run(declarations())
        total = 0
        for declaration, counts in done:
            changed = {word: n for word, n in counts.items() if n}
            total += sum(changed.values())
            said = ", ".join(f"{n} {word}" for word, n in changed.items()) or "rien à faire"
            self.stdout.write(f"{declaration.title} : {said}")
        if total:
            summary = "; ".join(
                f"{declaration.key}={sum(counts.values())}"
                for declaration, counts in done
                if sum(counts.values())
            )
            audit.record(None, audit.Verb.PURGE, "privacy.purge", detail=summary)
            self.stdout.write(f"Purge terminée : {total} changement(s).")
        else:
            self.stdout.write("Purge terminée : rien n'était échu, rien n'a changé.")
