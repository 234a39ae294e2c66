"""Generate a synthetic school year (schools, kits, loans, lessons with presences and
connection quality, survey answers), for trying the evaluation at scale and for its
benchmark. Never on a real database: it adds thousands of schools, classes and pupils named
« d'évaluation ».

    cartable evaluation_synthetic --kits 3000 --loans 10000 --lessons 400000 --seed 1 \\
        --year 2025-2026
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from cartable.evaluation.scope import parse_period
from cartable.evaluation.synthetic import KIT_PREFIX, generate_year
from cartable.fleet.models import Kit


class Command(BaseCommand):
    help = "Génère une année scolaire fictive (cartables, prêts, séances, qualité, questionnaires)."

    def add_arguments(self, parser):
        parser.add_argument("--kits", type=int, default=3000)
        parser.add_argument("--loans", type=int, default=10_000)
        parser.add_argument("--lessons", type=int, default=400_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--year", default="", help="Année scolaire, par exemple 2025-2026.")

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("Refusé en production : ces données sont fictives.")
        try:
            period = parse_period(options["year"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if options["kits"] < 1 or options["loans"] < 1 or options["lessons"] < 0:
            raise CommandError("Il faut au moins un cartable et un prêt (et des séances ≥ 0).")
        if Kit.objects.filter(code__startswith=KIT_PREFIX).exists():
            raise CommandError(
                f"Une année fictive (cartables {KIT_PREFIX}…) existe déjà dans cette base."
            )
        try:
            result = generate_year(
                kits=options["kits"],
                loans=options["loans"],
                lessons=options["lessons"],
                year=period.start.year,
                seed=options["seed"],
                say=self.stdout.write,
            )
        except IntegrityError as exc:
            raise CommandError(f"Génération impossible : {exc}") from exc
        self.stdout.write(
            f"Année fictive {period.start.year}-{period.end.year} : {result.schools} "
            f"établissements, {result.kits} cartables, {result.loans} prêts, "
            f"{result.lessons} séances, {result.presences} présences, {result.qualities} "
            f"mesures de qualité, {result.survey_responses} réponses aux questionnaires, "
            f"en {sum(result.seconds.values()):.0f} s."
        )
