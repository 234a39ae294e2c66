"""Generate a national fleet (kits, loans, live sessions, heartbeats folded by day), for
benchmarks and for trying the reporting pages at scale. Never on a real database: it adds
thousands of schools, classes and pupils named « synthétique ».

    cartable fleet_synthetic --kits 5000 --loans 50000
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from cartable.fleet.models import Kit
from cartable.fleet.synthetic import generate


class Command(BaseCommand):
    help = "Génère un parc national fictif (cartables, prêts, séances, signaux de vie)."

    def add_arguments(self, parser):
        parser.add_argument("--kits", type=int, default=5000)
        parser.add_argument("--loans", type=int, default=50_000)
        parser.add_argument("--days", type=int, default=730, help="Période couverte (jours).")
        parser.add_argument("--sessions-per-loan", type=int, default=8)
        parser.add_argument("--devices-per-kit", type=int, default=4)
        parser.add_argument(
            "--reporting-devices", type=int, default=2, help="Appareils par cartable qui battent."
        )
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("Refusé en production : ces données sont fictives.")
        if options["kits"] < 1 or options["loans"] < options["kits"]:
            raise CommandError("Il faut au moins un cartable, et au moins un prêt par cartable.")
        if Kit.objects.filter(code__startswith="SYN-").exists():
            raise CommandError("Un parc fictif (cartables SYN-…) existe déjà dans cette base.")
        try:
            result = generate(
                kits=options["kits"],
                loans=options["loans"],
                days=options["days"],
                sessions_per_loan=options["sessions_per_loan"],
                devices_per_kit=options["devices_per_kit"],
                reporting_devices=options["reporting_devices"],
                seed=options["seed"],
                say=self.stdout.write,
            )
        except IntegrityError as exc:
            raise CommandError(f"Génération impossible : {exc}") from exc
        self.stdout.write(
            f"Parc fictif : {result.kits} cartables, {result.devices} appareils, "
            f"{result.loans} prêts ({result.running} en cours), {result.sessions} séances, "
            f"{result.presences} présences, {result.heartbeat_days} jours de signaux de vie, "
            f"en {sum(result.seconds.values()):.0f} s."
        )
