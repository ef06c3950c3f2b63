"""One field says who declared an entry and how it was entered: ``entry_method``.

Before, ``source`` and the ``on_behalf`` flag said it together (and ``claim_record`` took a third
argument, ``member_declared``): an entry typed in by the secretary for a member who declared it
themselves was ``source='on_behalf'`` with ``on_behalf=False``. That case becomes its own value,
``typed_in``; every other row keeps its value, renamed. Reversible.

The rows of signed quarters are rewritten too: this changes how a fact is spelled, not the fact,
and neither column is part of a quarter's content hash (``ledger.book.selectors.HASHED_FIELDS``). The
guard trigger that refuses any update of such a row is therefore lifted for this one statement
and put back straight after, inside the migration's transaction on PostgreSQL.
"""

from django.db import migrations, models


def _without_event_guard(schema_editor, statements: list[str]) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE ledger_pointevent DISABLE TRIGGER ledger_pointevent_guard")
            for sql in statements:
                cursor.execute(sql)
            # The UPDATE queued deferred foreign-key checks; ALTER TABLE needs them run first.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE ledger_pointevent ENABLE TRIGGER ledger_pointevent_guard")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'ledger_pointevent_no_update'"
            )
            row = cursor.fetchone()
            cursor.execute("DROP TRIGGER IF EXISTS ledger_pointevent_no_update")
            for sql in statements:
                cursor.execute(sql)
            if row:
                cursor.execute(row[0])


def forward(apps, schema_editor):
    _without_event_guard(
        schema_editor,
        ["UPDATE ledger_pointevent SET entry_method = 'typed_in' WHERE entry_method = 'on_behalf' AND NOT on_behalf"],
    )


def backward(apps, schema_editor):
    _without_event_guard(
        schema_editor,
        [
            "UPDATE ledger_pointevent SET on_behalf = (entry_method = 'on_behalf')",
            "UPDATE ledger_pointevent SET entry_method = 'on_behalf' WHERE entry_method = 'typed_in'",
        ],
    )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0005_imports_api")]

    operations = [
        migrations.RenameField(model_name="pointevent", old_name="source", new_name="entry_method"),
        migrations.AlterField(
            model_name="pointevent",
            name="entry_method",
            field=models.CharField(
                choices=[
                    ("self", "本人申报"),
                    ("typed_in", "本人申报，代为录入"),
                    ("on_behalf", "代为申报"),
                    ("group", "集体活动"),
                    ("meeting", "会议考勤"),
                    ("base", "年度基础分"),
                    ("committee", "支委会认定"),
                    ("correction", "更正"),
                    ("import", "导入"),
                ],
                max_length=12,
                verbose_name="申报与录入方式",
            ),
        ),
        migrations.RunPython(forward, backward),
        migrations.RemoveField(model_name="pointevent", name="on_behalf"),
    ]
