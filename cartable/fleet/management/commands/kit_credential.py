"""Issue or revoke a kit's own class-station credential.

The token is shown once. A headless kit agent sends it as ``Authorization: Bearer <token>``
when it opens the class side of a live link; it works for every active loan of that kit
and for nothing else.
"""

from django.core.management.base import BaseCommand, CommandError

from cartable.fleet.models import DeviceCredential, Kit
from cartable.fleet.services import credential_issue, credential_revoke


class Command(BaseCommand):
    help = "Issue (or revoke) the class-station credential of a kit."

    def add_arguments(self, parser):
        parser.add_argument("kit", help="The kit's reference, e.g. DEMO-001.")
        parser.add_argument("--revoke", type=int, metavar="ID", help="Revoke credential ID.")
        parser.add_argument("--label", default="Poste de la classe")

    def handle(self, *args, kit, revoke, label, **options):
        found = Kit.objects.filter(code=kit).first()
        if found is None:
            raise CommandError(f"No kit with reference {kit!r}.")
        if revoke is not None:
            credential = DeviceCredential.objects.filter(
                pk=revoke, kit=found, kind=DeviceCredential.Kind.CLASS_STATION
            ).first()
            if credential is None:
                raise CommandError(f"Kit {kit} has no class-station credential {revoke}.")
            credential_revoke(credential=credential)
            self.stdout.write(f"Credential {revoke} of kit {kit} revoked.")
            return
        credential, token = credential_issue(
            kind=DeviceCredential.Kind.CLASS_STATION, kit=found, label=label
        )
        self.stdout.write(f"Credential {credential.pk} for kit {kit} (shown once):\n{token}")
