"""On PostgreSQL, TRUNCATE of the audit log is refused too (it is not a row operation, so
the row trigger of 0002 never sees it): a statement trigger refuses it to every role that
is not a superuser, the table's owner included. The test suite, which empties tables with
TRUNCATE between tests, runs as a superuser; so does a database administrator.

The owner of a table can still disable its triggers (ALTER TABLE … DISABLE TRIGGER): the
application must therefore not run as the tables' owner in production. `cartable
postgres_grants` gives its own role exactly what it needs, and nothing on the audit log but
SELECT, INSERT and (for the purge of entries past 12 months) DELETE; see docs/deploy.md."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION privacy_auditentry_no_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('is_superuser') <> 'on' THEN
        RAISE EXCEPTION 'privacy_auditentry is append only: TRUNCATE refused';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS privacy_auditentry_no_truncate ON privacy_auditentry;
CREATE TRIGGER privacy_auditentry_no_truncate
    BEFORE TRUNCATE ON privacy_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION privacy_auditentry_no_truncate();
"""
DROP = """
DROP TRIGGER IF EXISTS privacy_auditentry_no_truncate ON privacy_auditentry;
DROP FUNCTION IF EXISTS privacy_auditentry_no_truncate();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("privacy", "0002_audit_append_only_trigger")]
    operations = [migrations.RunPython(forwards, backwards)]
