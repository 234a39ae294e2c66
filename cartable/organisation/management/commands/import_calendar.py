"""Load the national school calendar (school holidays per zone).

    cartable import_calendar fr-en-calendrier-scolaire.csv
    cartable import_calendar fr-en-calendrier-scolaire.json

The file is the export of the dataset ``fr-en-calendrier-scolaire`` of
data.education.gouv.fr: CSV (labelled headers or field names, ``;``) or JSON (the export,
or an API answer). All or nothing: if any line is wrong, every problem is listed with its
line number and nothing is loaded (the command then exits with status 1). See
``cartable.organisation.calendar`` for the rules.
"""

from django.core.management.base import BaseCommand, CommandError

from cartable.organisation.calendar import calendar_import

SHOWN_ERRORS = 200


class Command(BaseCommand):
    help = "Charge le calendrier scolaire national (vacances par zone)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="L'export CSV ou JSON de fr-en-calendrier-scolaire.")

    def handle(self, *args, file, **options):
        try:
            result = calendar_import(file=file)
        except OSError as exc:
            raise CommandError(f"Fichier illisible : {exc}") from exc
        if result.errors:
            for error in result.errors[:SHOWN_ERRORS]:
                self.stderr.write(str(error))
            hidden = len(result.errors) - SHOWN_ERRORS
            if hidden > 0:
                self.stderr.write(f"… et {hidden} autres erreurs.")
            raise CommandError(
                f"Fichier refusé : {len(result.errors)} erreur(s) ; aucune période de "
                "vacances n'a été chargée."
            )
        message = (
            f"Vacances scolaires : {result.loaded} période(s) chargée(s) "
            f"(zones : {', '.join(result.zones) or 'aucune'} ; "
            f"années : {', '.join(result.years) or 'aucune'})."
        )
        if result.duplicates:
            message += f" {result.duplicates} ligne(s) d'autres académies de la même zone."
        if result.other_populations:
            message += f" {result.other_populations} ligne(s) « Enseignants » ignorée(s)."
        if result.other_territories:
            message += (
                f" {result.other_territories} ligne(s) de territoires sans académie ici ignorée(s)."
            )
        self.stdout.write(message)
