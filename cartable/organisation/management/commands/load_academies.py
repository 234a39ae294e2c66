"""Create or update the académies and their départements from a CSV file.

Without a file, the one shipped with the package (``cartable/organisation/data/
academies.csv``). Running it twice changes nothing the second time.
"""

from django.core.management.base import BaseCommand, CommandError

from cartable.organisation.services import ReferenceDataError, academies_load


class Command(BaseCommand):
    help = "Charge les académies et leurs départements (fichier CSV ; par défaut celui fourni)."

    def add_arguments(self, parser):
        parser.add_argument(
            "file",
            nargs="?",
            help="academy_code,academy_name,zone,department_codes (par défaut : fichier fourni)",
        )

    def handle(self, *args, file, **options):
        try:
            result = academies_load(file=file)
        except (OSError, ReferenceDataError) as exc:
            raise CommandError(f"Académies non chargées : {exc}") from exc
        self.stdout.write(
            f"Académies : {result.academies_created} créées, {result.academies_updated} "
            f"modifiées ; départements : {result.departments_created} créés, "
            f"{result.departments_updated} modifiés."
        )
