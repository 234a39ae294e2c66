"""Give the application's own PostgreSQL role what it needs, and no more.

In production the tables belong to an owner role that only migrations use (its password
stays off the application servers); the application connects as another role, which may
read and write the tables but owns none, so it can neither TRUNCATE nor ALTER them, nor
disable their triggers. On the audit log it gets SELECT, INSERT and DELETE only (the
trigger of privacy/0002 refuses a DELETE of an entry younger than 12 months, so DELETE
serves the retention purge alone). See docs/deploy.md, "Database roles".

Run it as the owner after each ``cartable migrate`` (new tables get the same rights through
the default privileges it sets too): ``cartable postgres_grants --role cartable_app``
prints the statements; ``--apply`` runs them in one transaction.
"""

from __future__ import annotations

import re

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

# Tables the application may only read and add to (never change nor empty).
APPEND_ONLY = {"privacy_auditentry": "SELECT, INSERT, DELETE"}
ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def statements(role: str, owner: str) -> list[str]:
    tables = sorted(
        {model._meta.db_table for model in apps.get_models(include_auto_created=True)}
        | {"django_migrations"}
    )
    existing = set(connection.introspection.table_names())
    sql = [
        "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}",
        "REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}",
        "GRANT USAGE ON SCHEMA public TO {role}",
    ]
    for table in tables:
        if table not in existing:
            continue
        rights = APPEND_ONLY.get(table, "SELECT, INSERT, UPDATE, DELETE")
        sql.append(f'GRANT {rights} ON TABLE "{table}" TO {{role}}')
    sql += [
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        # Tables a later migration creates get the ordinary rights at once.
        "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        "GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]
    return [line.format(role=role, owner=owner) + ";" for line in sql]


class Command(BaseCommand):
    help = (
        "Droits PostgreSQL du rôle de l'application (lecture et écriture, aucune propriété ; "
        "journal d'audit en ajout seul). Affiche les instructions, ou les exécute (--apply)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--role", required=True, help="the role the application uses")
        parser.add_argument(
            "--owner",
            help="the role that owns the tables and runs migrations (default: the current one)",
        )
        parser.add_argument("--apply", action="store_true", help="run them (as the owner)")

    def handle(self, *args, role, owner, apply, **options):
        if connection.vendor != "postgresql":
            raise CommandError("postgres_grants: la base n'est pas PostgreSQL.")
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            current = cursor.fetchone()[0]
        owner = owner or current
        for name in (role, owner):
            if not ROLE.match(name):
                raise CommandError(f"postgres_grants: nom de rôle refusé : {name!r}.")
        if role == owner:
            raise CommandError(
                "postgres_grants: le rôle de l'application doit être un autre rôle que le "
                "propriétaire des tables (sinon il pourrait les vider ou en désactiver les "
                "déclencheurs)."
            )
        sql = statements(role, owner)
        if not apply:
            self.stdout.write("\n".join(sql))
            return
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in sql:
                cursor.execute(statement)
        self.stdout.write(f"Droits du rôle {role} appliqués ({len(sql)} instructions).")
