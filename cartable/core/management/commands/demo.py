"""Set up the demo on the embedded default and serve it, printing where to open it."""

import json

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.urls import reverse

from cartable.core.demo import SECOND_FACTOR, demo_setup
from cartable.organisation.models import Role


class Command(BaseCommand):
    help = (
        "Create demo data (school, class, pupils, kits, loans, a teacher, a coordinator, a DANE, "
        "the ministry, the fleet team, a data protection officer), print links, serve."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help="Print links and sign-ins as JSON; do not serve.",
        )
        parser.add_argument("--no-serve", action="store_true", help="Set up and print only.")

    def handle(self, *args, host, port, as_json: bool, no_serve: bool, **options):
        call_command("migrate", interactive=False, verbosity=0)
        demo = demo_setup()
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
        base = f"http://{shown_host}:{port}"
        links = {
            "base_url": base + "/",
            "class_station_url": base + reverse("live:station", args=[demo.loan.pk]),
            "pupil_pairing_url": base + reverse("live:pair") + f"#code={demo.pairing_code}",
            "pupil_url": base + reverse("live:pupil"),
            "pairing_code": demo.pairing_code,
            "pairing_code_valid_minutes": 10,
            "loan_id": demo.loan.pk,
            "teacher": {
                "username": demo.teacher_username,
                "email": demo.teacher_email,
                "password": demo.teacher_password,
            },
            "people": [
                {"role": role, "email": email, "password": password}
                for role, (email, password) in demo.people.items()
            ],
        }
        if as_json:
            self.stdout.write(json.dumps(links, ensure_ascii=False, indent=2))
            return
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "Cartable connecté : la démo est prête.",
                    f"  Ouvrez {links['base_url']}",
                    "",
                    f"  Poste de la classe : {links['class_station_url']}",
                    f"    adresse électronique {demo.teacher_email}, "
                    f"mot de passe {demo.teacher_password}",
                    "  Tablette de l'élève (dans une autre fenêtre) : "
                    + links["pupil_pairing_url"],
                    "    (ce lien appaire la fenêtre pendant 10 minutes ; "
                    f"ensuite {links['pupil_url']})",
                    "",
                    "  Autres comptes (même page de connexion) :",
                    *[
                        f"    {role} : {email}, mot de passe {password}"
                        + (
                            " (application d'authentification à la première connexion)"
                            if role in {Role(r).label for r in SECOND_FACTOR}
                            else ""
                        )
                        for role, (email, password) in demo.people.items()
                    ],
                    "",
                    "  Ctrl+C pour arrêter.",
                    "",
                ]
            )
        )
        if not no_serve:
            call_command("serve", host=host, port=port)
