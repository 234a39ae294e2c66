"""On PostgreSQL, the database itself keeps the audit log append only: a trigger refuses
every UPDATE of privacy_auditentry, and every DELETE of an entry younger than 12 months
(the retention of the log, ``AUDIT_RETENTION_DAYS``), so that only ``cartable purge`` can
remove what is past its period. TRUNCATE (the test suite's flush) is not a row trigger.
SQLite (the embedded default) relies on the application's refusals alone."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION privacy_auditentry_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'privacy_auditentry is append only: UPDATE refused';
    END IF;
    IF OLD.at >= now() - interval '12 months' THEN
        RAISE EXCEPTION 'privacy_auditentry is append only: DELETE of an entry younger than 12 months refused';
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS privacy_auditentry_append_only ON privacy_auditentry;
CREATE TRIGGER privacy_auditentry_append_only
    BEFORE UPDATE OR DELETE ON privacy_auditentry
    FOR EACH ROW EXECUTE FUNCTION privacy_auditentry_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS privacy_auditentry_append_only ON privacy_auditentry;
DROP FUNCTION IF EXISTS privacy_auditentry_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_audit_entry")]
    operations = [migrations.RunPython(forwards, backwards)]
