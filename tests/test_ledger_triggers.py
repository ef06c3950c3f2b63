"""A signed quarter is frozen by the database itself: raw SQL can't change it either.

Run on both databases (the suite runs on SQLite and on PostgreSQL in CI).
"""

import datetime
import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from ledger.book import services, triggers
from ledger.book.selectors import ledger_verify
from ledger.models import AuditEntry, MemberQuarterTotal, Period, PointEvent

Q3_DAY = datetime.date(2026, 8, 10)


@pytest.fixture
def signed(world, frozen_today):
    event = services.claim_record(
        actor=world.secretary, member=world.wang, rule=world.rules.haircut, occurred_on=Q3_DAY, account="义务理发"
    )
    services.event_approve(actor=world.committee, event=event)
    period = services.period_sign(actor=world.secretary, period=Period.objects.get(pk=event.period_id))
    return period, event


def raw(sql: str, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_triggers_are_installed_by_migrations(db):
    assert triggers.expected_names(connection) <= triggers.installed_names(connection)


def test_a_fresh_sqlite_database_gets_its_triggers_from_migrate(tmp_path):
    """The embedded default: `migrate` on an empty SQLite file ends with every trigger in place."""
    import os
    import sqlite3
    import subprocess
    import sys

    db_file = tmp_path / "fresh.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_file}", "SECRET_KEY": "x"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], check=True, env=env, cwd=settings.BASE_DIR)
    with sqlite3.connect(db_file) as con:
        names = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert set(triggers.SQLITE_TRIGGERS) <= names


def test_a_signed_quarter_s_stored_entry_counts_cannot_change(signed):
    period, _event = signed
    assert raw_count(period) == (0, 1, 0)
    for sql in (
        "UPDATE ledger_quartercount SET approved = 99 WHERE period_id = %s",
        "DELETE FROM ledger_quartercount WHERE period_id = %s",
    ):
        with pytest.raises(DatabaseError):
            raw(sql, [period.pk])
    assert raw_count(period) == (0, 1, 0)


def raw_count(period) -> tuple[int, int, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pending, approved, rejected FROM ledger_quartercount WHERE period_id = %s", [period.pk])
        return tuple(cursor.fetchone())


def test_raw_sql_cannot_update_a_signed_event(signed):
    _period, event = signed
    with pytest.raises(DatabaseError):
        raw("UPDATE ledger_pointevent SET points = 99 WHERE id = %s", [event.pk])
    event.refresh_from_db()
    assert str(event.points) == "20.0"


def test_raw_sql_cannot_delete_a_signed_event(signed):
    _period, event = signed
    with pytest.raises(DatabaseError):
        raw("DELETE FROM ledger_pointevent WHERE id = %s", [event.pk])
    assert PointEvent.objects.filter(pk=event.pk).exists()


def test_raw_sql_cannot_insert_into_a_signed_quarter(signed, world):
    period, event = signed
    with pytest.raises(DatabaseError):
        raw(
            "INSERT INTO ledger_pointevent (branch_id, member_id, period_id, rule_id, kind, points, occurred_on, place,"
            " account, entry_method, entered_by_id, status, decision_reason, created_at, updated_at)"
            " VALUES (%s, %s, %s, %s, 'bonus', 5, '2026-08-11', '', 'x', 'self', %s, 'approved', '',"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            [world.branch_a.pk, world.li.pk, period.pk, world.rules.snow.pk, world.secretary.pk],
        )


def test_model_save_is_refused_too(signed):
    _period, event = signed
    event.account = "改过的事由"
    with pytest.raises(DatabaseError), transaction.atomic():
        event.save()


def test_signed_quarter_cannot_be_reopened_rehashed_or_deleted(signed):
    period, _event = signed
    for sql in (
        "UPDATE ledger_period SET state = 'open' WHERE id = %s",
        "UPDATE ledger_period SET content_hash = 'abc' WHERE id = %s",
        "UPDATE ledger_period SET previous_hash = 'abc' WHERE id = %s",
        "DELETE FROM ledger_period WHERE id = %s",
    ):
        with pytest.raises(DatabaseError):
            raw(sql, [period.pk])
    period.refresh_from_db()
    assert period.state == "signed"


def test_posting_a_signed_quarter_is_allowed(signed, world):
    period, _event = signed
    services.period_post(actor=world.committee, period=period)
    period.refresh_from_db()
    assert period.state == "posted"


def test_cached_totals_of_a_signed_quarter_are_frozen(signed):
    period, event = signed
    with pytest.raises(DatabaseError):
        raw("UPDATE ledger_memberquartertotal SET bonus = 0, total = 0 WHERE period_id = %s", [period.pk])
    assert MemberQuarterTotal.objects.get(period=period).total == event.points


def test_open_quarter_rows_are_not_blocked(world, frozen_today):
    event = services.claim_record(
        actor=world.secretary,
        member=world.wang,
        rule=world.rules.snow,
        occurred_on=datetime.date(2026, 10, 3),
        account="扫雪",
    )
    raw("UPDATE ledger_pointevent SET place = 'x' WHERE id = %s", [event.pk])


def test_audit_entries_are_append_only(signed):
    entry = AuditEntry.objects.first()
    with pytest.raises(DatabaseError):
        raw("UPDATE ledger_auditentry SET summary = 'x' WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError):
        raw("DELETE FROM ledger_auditentry WHERE id = %s", [entry.pk])


def test_verify_ledger_reports_an_edit_made_behind_the_triggers(signed, world):
    period, event = signed
    out = io.StringIO()
    call_command("verify_ledger", stdout=out)
    assert "all chains and totals match" in out.getvalue()

    triggers.uninstall(connection)  # someone with database access drops the guard…
    raw("UPDATE ledger_pointevent SET points = 5 WHERE id = %s", [event.pk])  # …and edits a row
    triggers.install(connection)

    problems = ledger_verify()
    assert any(
        p.branch == world.branch_a.name and p.period == "2026Q3" and "no longer match" in p.message for p in problems
    )
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify_ledger", stdout=io.StringIO(), stderr=err)
    assert "山岔村党支部 2026Q3" in err.getvalue()


def test_verify_ledger_reports_a_broken_chain(signed, world, frozen_today):
    q3, _event = signed
    q2_event = services.claim_record(
        actor=world.secretary,
        member=world.li,
        rule=world.rules.snow,
        occurred_on=datetime.date(2026, 5, 1),
        account="扫雪",
    )
    services.event_approve(actor=world.committee, event=q2_event)
    q2 = services.period_sign(actor=world.secretary, period=q2_event.period)
    assert q2.previous_hash == q3.content_hash
    triggers.uninstall(connection)
    raw("UPDATE ledger_period SET content_hash = %s WHERE id = %s", ["0" * 64, q3.pk])
    triggers.install(connection)
    messages = [str(p) for p in ledger_verify()]
    assert any("2026Q3" in m and "no longer match" in m for m in messages)
    assert any("2026Q2" in m and "link to the previous" in m for m in messages)


def test_verify_ledger_reports_a_stored_total_that_disagrees(world, frozen_today):
    event = services.claim_record(
        actor=world.secretary,
        member=world.wang,
        rule=world.rules.snow,
        occurred_on=datetime.date(2026, 10, 3),
        account="扫雪",
    )
    services.event_approve(actor=world.committee, event=event)
    MemberQuarterTotal.objects.filter(member=world.wang).update(bonus=5, total=5)
    assert any("stored total" in str(p) for p in ledger_verify())
