"""Database triggers: a signed quarter is frozen, the audit trail is append-only.

The SQL for each database lives in ledger/book/triggers.py, because the same statements are applied
again after every migrate (SQLite drops a table's triggers when a migration rebuilds the table).
"""

from django.db import migrations


def install(apps, schema_editor):
    from ledger.book import triggers

    triggers.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    from ledger.book import triggers

    triggers.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall)]
