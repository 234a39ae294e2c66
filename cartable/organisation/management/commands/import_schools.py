"""Import schools from the national school directory ("Annuaire de l'éducation") CSV.

    cartable import_schools fr-en-annuaire-education.csv [--academie 25 --academie 28]

All or nothing: if any line is wrong, every problem is listed with its line number and
nothing is imported (the command then exits with status 1).
"""

from django.core.management.base import BaseCommand, CommandError

from cartable.organisation.importers import UnknownAcademy, schools_import

SHOWN_ERRORS = 200


class Command(BaseCommand):
    help = "Importe les établissements depuis le CSV de l'Annuaire de l'éducation."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Le fichier CSV de l'Annuaire de l'éducation.")
        parser.add_argument(
            "--academie",
            dest="academies",
            action="extend",
            nargs="+",
            metavar="CODE",
            help="N'importer que ces académies (codes : 25 Versailles, 28 La Réunion…).",
        )

    def handle(self, *args, file, academies, **options):
        try:
            result = schools_import(file=file, academies=academies)
        except UnknownAcademy as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(f"Fichier illisible : {exc}") from exc
        if result.errors:
            for error in result.errors[:SHOWN_ERRORS]:
                self.stderr.write(str(error))
            hidden = len(result.errors) - SHOWN_ERRORS
            if hidden > 0:
                self.stderr.write(f"… et {hidden} autres erreurs.")
            raise CommandError(
                f"Fichier refusé : {len(result.errors)} erreur(s) ; aucun établissement "
                "n'a été importé."
            )
        message = (
            f"Établissements : {result.created} créés, {result.updated} mis à jour, "
            f"{result.unchanged} inchangés."
        )
        if result.duplicates:
            message += f" {result.duplicates} ligne(s) en double (multi-sites) ignorée(s)."
        if result.skipped:
            message += f" {result.skipped} ligne(s) d'autres académies ignorée(s)."
        self.stdout.write(message)
