"""Signed means frozen as printed, and the audit trail is a hash chain.

- ``Period.signed_snapshot`` and ``Period.hash_version``: quarters signed from now on store what
  their board shows and hash it (version 2). Quarters already signed keep version 1 and no
  snapshot: they were signed over their events alone, their printed codes are those hashes, and
  rebuilding a snapshot now would print today's names as if they had been signed. They are
  verified as before; their postings read the live roll, as they always did.
- ``AuditEntry.previous_hash`` / ``entry_hash``: every existing entry is chained, per branch, in
  the order it was written (the audit triggers are lifted for that one UPDATE and put back).
  ``at`` is now set by the writer before the row exists, because the hash covers it.
"""

from django.conf import settings
from django.db import migrations, models

import core.clock

CHAINED = ("at", "actor_id", "action", "branch_id", "object_type", "object_id", "summary", "reason", "data")


def drop_sqlite_triggers(apps, schema_editor):
    """SQLite rebuilds ledger_period to add the JSON column, and refuses to while other tables'
    triggers name it; ``migrate`` puts every trigger back when it ends (post_migrate)."""
    from ledger.book import triggers

    if schema_editor.connection.vendor == "sqlite":
        triggers.uninstall(schema_editor.connection)


def chain_existing_entries(apps, schema_editor):
    from ledger.audit.models import audit_digest
    from ledger.book import triggers

    AuditEntry = apps.get_model("ledger", "AuditEntry")
    connection = schema_editor.connection
    if not AuditEntry.objects.using(connection.alias).exists():
        return
    # The audit triggers refuse the UPDATE below: lifted for it, then put back (on SQLite the
    # ledger's pre_migrate hook has dropped them already and post_migrate puts them back).
    if connection.vendor == "postgresql":
        triggers.uninstall(connection)
    else:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS ledger_audit_no_update")
    heads: dict = {}
    rows = AuditEntry.objects.using(connection.alias).order_by("branch_id", "id").values("id", *CHAINED)
    for row in rows.iterator(chunk_size=2000):
        previous = heads.get(row["branch_id"], "")
        entry_hash = audit_digest(row, previous_hash=previous)
        AuditEntry.objects.using(connection.alias).filter(pk=row["id"]).update(
            previous_hash=previous, entry_hash=entry_hash
        )
        heads[row["branch_id"]] = entry_hash
    if connection.vendor == "postgresql":
        triggers.install(connection)


class Migration(migrations.Migration):
    dependencies = [
        ("branches", "0001_initial"),
        ("ledger", "0009_county_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_sqlite_triggers, drop_sqlite_triggers),
        migrations.AddField(
            model_name="auditentry",
            name="entry_hash",
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name="校验码"),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="previous_hash",
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name="上一条记录校验码"),
        ),
        migrations.AddField(
            model_name="period",
            name="hash_version",
            field=models.PositiveSmallIntegerField(default=1, editable=False, verbose_name="校验算法版本"),
        ),
        migrations.AddField(
            model_name="period",
            name="signed_snapshot",
            field=models.JSONField(blank=True, default=dict, editable=False, verbose_name="签字时的公示内容"),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="at",
            field=models.DateTimeField(db_index=True, default=core.clock.now, editable=False, verbose_name="时间"),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["branch", "id"], name="audit_chain_head"),
        ),
        migrations.RunPython(chain_existing_entries, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="auditentry",
            constraint=models.UniqueConstraint(
                condition=models.Q(("previous_hash", ""), _negated=True),
                fields=("previous_hash",),
                name="audit_chain_no_fork",
            ),
        ),
        migrations.RunPython(migrations.RunPython.noop, drop_sqlite_triggers),
    ]
