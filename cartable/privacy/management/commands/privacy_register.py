"""Print the register of processing activities (generated from
cartable/privacy/register.py); ``--check`` fails when docs/privacy.md holds another one,
``--write`` puts it there."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cartable.privacy.register import docs_block, markdown_table

DOCS = Path(settings.BASE_DIR).parent / "docs" / "privacy.md"


class Command(BaseCommand):
    help = "Affiche le registre des traitements ; --check le compare à docs/privacy.md."

    def add_arguments(self, parser):
        parser.add_argument("--docs", default=str(DOCS), help="le fichier docs/privacy.md")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--check", action="store_true", help="échoue si le document diffère")
        group.add_argument(
            "--write", action="store_true", help="écrit le registre dans le document"
        )

    def handle(self, *args, docs, check, write, **options):
        table = markdown_table()
        if not (check or write):
            self.stdout.write(table)
            return
        path = Path(docs)
        text = path.read_text(encoding="utf-8")
        block = docs_block(text)
        if block is None:
            raise CommandError(f"{path} : pas de bloc du registre (marqueurs absents).")
        if check:
            if block != table:
                raise CommandError(
                    f"{path} : le registre diffère des déclarations du code ; "
                    "lancez `cartable privacy_register --write`."
                )
            self.stdout.write(f"{path} : le registre est à jour.")
            return
        path.write_text(text.replace(block, table), encoding="utf-8")
        self.stdout.write(f"{path} : registre écrit.")
