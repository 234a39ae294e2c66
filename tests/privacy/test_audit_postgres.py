"""On PostgreSQL the database itself keeps the audit log append only, against the
application's role and against the tables' owner: no UPDATE, no DELETE of an entry younger
than 12 months, no TRUNCATE; and the application's own role (``cartable postgres_grants``)
can do its work but can neither empty nor alter the log, nor switch its triggers off.

Roles are transactional in PostgreSQL: each test's role and grants vanish with the test's
transaction."""

from __future__ import annotations

import secrets
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from cartable.privacy import audit
from cartable.privacy.models import AuditEntry

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the triggers and roles are PostgreSQL's"
)


def refused(sql: str, *params) -> str:
    """Run ``sql`` expecting the database to refuse it; the refusal's message."""
    with pytest.raises(DatabaseError) as refusal, transaction.atomic(), connection.cursor() as c:
        c.execute(sql, params)
    return str(refusal.value)


def run(sql: str, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


@pytest.fixture
def role(db):
    name = f"cartable_test_{secrets.token_hex(4)}"
    run(f"CREATE ROLE {name} NOLOGIN")
    yield name
    run("RESET ROLE")


@pytest.fixture
def entry(db):
    return audit.record(None, "view", "organisation.pupil", detail="x")


@postgres_only
def test_update_and_a_young_delete_are_refused_whoever_runs_them(entry):
    # The test suite runs as a superuser: triggers apply to superusers too.
    assert "append only: UPDATE refused" in refused(
        "UPDATE privacy_auditentry SET detail = 'changé' WHERE id = %s", entry.pk
    )
    assert "younger than 12 months" in refused(
        "DELETE FROM privacy_auditentry WHERE id = %s", entry.pk
    )
    # Past its 12 months, an entry goes (the retention purge).
    run(
        "ALTER TABLE privacy_auditentry DISABLE TRIGGER privacy_auditentry_append_only"
    )  # only to backdate the entry for this test
    run(
        "UPDATE privacy_auditentry SET at = %s WHERE id = %s",
        timezone.now() - timedelta(days=400),
        entry.pk,
    )
    run("ALTER TABLE privacy_auditentry ENABLE TRIGGER privacy_auditentry_append_only")
    run("DELETE FROM privacy_auditentry WHERE id = %s", entry.pk)
    assert not AuditEntry.objects.filter(pk=entry.pk).exists()


@postgres_only
def test_truncate_is_refused_to_the_tables_owner(entry, role):
    run(f"ALTER TABLE privacy_auditentry OWNER TO {role}")
    run(f"SET ROLE {role}")
    assert "append only: TRUNCATE refused" in refused("TRUNCATE privacy_auditentry")
    run("RESET ROLE")
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@postgres_only
def test_the_application_role_works_but_cannot_empty_alter_or_disarm_the_log(entry, role, loan):
    out = StringIO()
    call_command("postgres_grants", "--role", role, "--apply", stdout=out)
    assert f"Droits du rôle {role} appliqués" in out.getvalue()
    run(f"SET ROLE {role}")
    # Its ordinary work: read, add to the log, write other tables.
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
    audit.record(None, "view", loan)
    type(loan).objects.filter(pk=loan.pk).update(place_kind="hospital")
    # The log: no change, no emptying, no turning the triggers off, no dropping it.
    assert "permission denied" in refused(
        "UPDATE privacy_auditentry SET detail = 'changé' WHERE id = %s", entry.pk
    )
    assert "permission denied" in refused("TRUNCATE privacy_auditentry")
    assert "younger than 12 months" in refused(
        "DELETE FROM privacy_auditentry WHERE id = %s", entry.pk
    )
    assert "must be owner" in refused("ALTER TABLE privacy_auditentry DISABLE TRIGGER ALL")
    assert "must be owner" in refused("DROP TABLE privacy_auditentry")
    # Nor any other table: it owns none.
    assert "must be owner" in refused("ALTER TABLE fleet_loan DISABLE TRIGGER ALL")
    assert "permission denied" in refused("TRUNCATE fleet_loan")
    run("RESET ROLE")
    assert AuditEntry.objects.count() == 2


@postgres_only
def test_the_command_prints_what_it_would_run(db, role):
    out = StringIO()
    call_command("postgres_grants", "--role", role, stdout=out)
    printed = out.getvalue()
    assert f'GRANT SELECT, INSERT, DELETE ON TABLE "privacy_auditentry" TO {role};' in printed
    assert f'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "fleet_loan" TO {role};' in printed
    assert "TRUNCATE" not in printed
    # Printing changed nothing.
    assert not run("SELECT 1 FROM information_schema.role_table_grants WHERE grantee = %s", role)


@postgres_only
@pytest.mark.parametrize("bad", ["root; DROP TABLE x", "Robert'); --", "a" * 64, "é"])
def test_the_command_refuses_a_role_name_that_is_not_a_plain_name(db, bad):
    with pytest.raises(CommandError, match="nom de rôle refusé"):
        call_command("postgres_grants", "--role", bad, stdout=StringIO())


@postgres_only
def test_the_command_refuses_the_owner_as_the_application_role(db):
    current = run("SELECT current_user")[0][0]
    with pytest.raises(CommandError, match="un autre rôle que le propriétaire"):
        call_command("postgres_grants", "--role", current, stdout=StringIO())


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the embedded default only")
def test_the_command_says_it_needs_postgresql(db):
    with pytest.raises(CommandError, match="n'est pas PostgreSQL"):
        call_command("postgres_grants", "--role", "cartable_app", stdout=StringIO())
