"""One active account per email address, whatever its case.

auth.User is Django's own model, so the rule is an index made here rather than a model
constraint. The same statement works on SQLite and PostgreSQL.
"""

from django.db import migrations

INDEX = "accounts_user_email_active_uniq"


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]

    operations = [
        migrations.RunSQL(
            sql=(
                f"CREATE UNIQUE INDEX {INDEX} ON auth_user (LOWER(email)) "
                "WHERE is_active AND email <> ''"
            ),
            reverse_sql=f"DROP INDEX {INDEX}",
        )
    ]
