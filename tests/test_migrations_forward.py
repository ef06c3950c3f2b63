"""A database built at the released schema migrates forward without losing a row or a trigger.

``RELEASED`` is the last migration of each app on ``main`` when this test was written: the
schema a running installation has. The test moves an empty test database back to it, fills
every table of the four apps through the historical models (a signed quarter with its events,
evidence and stored totals included), then runs ``migrate`` as a deployment does — to whatever
the latest migrations are now — and checks that every row and key value is still there and
that the ledger's triggers are installed and still refuse to change a signed quarter.

New migrations must therefore be reversible on an empty database (``RunPython`` with a
``reverse_code``, ``RunPython.noop`` at least). A table dropped or renamed on purpose is
listed below with its reason, so losing data is always a decision written down here.
"""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from ledger.book import triggers

APPS = ("branches", "members", "ledger", "reports")

#: The schema of the released product (main, December 2026).
RELEASED = [
    ("branches", "0001_initial"),
    ("members", "0001_initial"),
    ("ledger", "0005_imports_api"),
    ("reports", "0002_schedules"),
]

#: Tables a later migration drops or renames on purpose: {old table: new table or None, why}.
MOVED_ON_PURPOSE: dict[str, tuple[str | None, str]] = {}

pytestmark = pytest.mark.django_db(transaction=True)


def _tables(apps) -> list[str]:
    tables = []
    for label in APPS:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            tables.append(model._meta.db_table)
    return sorted(set(tables))


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
        return cursor.fetchone()[0]


def _rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(str(value) for value in row) for row in cursor.fetchall()]


def _installed_triggers() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'ledger_%%'")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {row[0] for row in cursor.fetchall()}


def _to_released() -> MigrationExecutor:
    """Unapply whatever came after the release; the triggers come back as after a deployment."""
    if connection.vendor == "sqlite":
        triggers.uninstall(connection)  # as ledger's pre_migrate hook does: SQLite rebuilds tables
    executor = MigrationExecutor(connection)
    executor.migrate(RELEASED)
    triggers.install(connection)
    return MigrationExecutor(connection)


def _fill(apps) -> dict:
    """One or more rows in every table, the way the released product wrote them."""
    User = apps.get_model("auth", "User")
    Organisation = apps.get_model("branches", "Organisation")
    RoleAssignment = apps.get_model("branches", "RoleAssignment")
    Member = apps.get_model("members", "Member")
    ScoringRule = apps.get_model("ledger", "ScoringRule")
    Period = apps.get_model("ledger", "Period")
    PointEvent = apps.get_model("ledger", "PointEvent")
    Evidence = apps.get_model("ledger", "Evidence")
    MemberQuarterTotal = apps.get_model("ledger", "MemberQuarterTotal")
    AuditEntry = apps.get_model("ledger", "AuditEntry")
    Meeting = apps.get_model("ledger", "Meeting")
    Attendance = apps.get_model("ledger", "Attendance")
    Feedback = apps.get_model("ledger", "Feedback")
    ReviewMark = apps.get_model("ledger", "ReviewMark")
    ExportJob = apps.get_model("ledger", "ExportJob")
    IdempotencyKey = apps.get_model("ledger", "IdempotencyKey")
    ImportBatch = apps.get_model("ledger", "ImportBatch")
    Document = apps.get_model("reports", "Document")
    Batch = apps.get_model("reports", "Batch")
    Notification = apps.get_model("reports", "Notification")
    PostingPreference = apps.get_model("reports", "PostingPreference")

    secretary = User.objects.create(username="secretary", first_name="刘振华")
    committee = User.objects.create(username="committee", first_name="陈桂兰")
    county = Organisation.objects.create(name="卢氏县", code="lushi", level="county")
    township = Organisation.objects.create(name="潘河乡", code="panhe", level="township", parent=county)
    branch = Organisation.objects.create(name="山岔村党支部", code="shancha", level="branch", parent=township)
    RoleAssignment.objects.create(user=secretary, organisation=branch, role="secretary")
    RoleAssignment.objects.create(user=committee, organisation=branch, role="committee")
    wang = Member.objects.create(
        branch=branch, name="王学恩", name_pinyin="wang xue en", name_initials="wxe", name_strokes="04", gender="male"
    )
    zhang = Member.objects.create(
        branch=branch,
        name="张海燕",
        name_pinyin="zhang hai yan",
        name_initials="zhy",
        name_strokes="07",
        gender="female",
    )
    clean = ScoringRule.objects.create(
        organisation=county, code="A01", title="保持绿化卫生责任区干净", kind="bonus", default_points=Decimal("10")
    )
    absent = ScoringRule.objects.create(
        organisation=county, code="D01", title="无故缺席三会一课", kind="deduction", default_points=Decimal("3")
    )
    signed = Period.objects.create(branch=branch, year=2026, quarter=3)
    open_period = Period.objects.create(branch=branch, year=2026, quarter=4)

    decided_at = datetime.datetime(2026, 10, 2, 9, 0, tzinfo=datetime.UTC)

    def event(period, member, rule, points, day, **extra):
        if extra.get("status", "pending") != "pending":
            extra.update(decided_by=committee, decided_at=decided_at)
        return PointEvent.objects.create(
            branch=branch,
            period=period,
            member=member,
            rule=rule,
            kind=rule.kind,
            points=Decimal(points),
            occurred_on=day,
            account="清扫责任区",
            source="secretary",
            entered_by=secretary,
            **extra,
        )

    approved = event(signed, wang, clean, "10", datetime.date(2026, 8, 3), status="approved")
    deducted = event(signed, zhang, absent, "-3", datetime.date(2026, 9, 1), status="approved")
    event(signed, zhang, clean, "10", datetime.date(2026, 9, 2), status="rejected", decision_reason="重复申报")
    pending = event(open_period, wang, clean, "10", datetime.date(2026, 10, 9), corrects=approved)
    Evidence.objects.create(event=approved, image="evidence/2026/08/zone.jpg")
    MemberQuarterTotal.objects.create(member=wang, period=signed, bonus=Decimal("10"), total=Decimal("10"))
    MemberQuarterTotal.objects.create(member=zhang, period=signed, deduction=Decimal("-3"), total=Decimal("-3"))
    meeting = Meeting.objects.create(
        branch=branch, type="branch_meeting", held_on=datetime.date(2026, 10, 8), topic="学习", attendance_rule=clean,
        absence_rule=absent, recorded_by=secretary,
    )  # fmt: skip
    Attendance.objects.create(meeting=meeting, member=wang, status="present", event=pending)
    Feedback.objects.create(branch=branch, period=signed, member=wang, reference="FB-0001", body="责任区确实干净")
    ReviewMark.objects.create(period=signed, user=committee)
    ExportJob.objects.create(kind="events", created_by=secretary)
    IdempotencyKey.objects.create(
        user=secretary, key="retry-1", fingerprint="f" * 64, status_code=201, response={"id": 1}
    )
    ImportBatch.objects.create(
        branch=branch, kind="claims", file_name="claims.xlsx", file_hash="a" * 64, created_by=secretary
    )
    posting = Document.objects.create(
        kind="posting", organisation=branch, period=signed, year=2026, quarter=3, natural_key="posting:1:v1"
    )
    Document.objects.create(kind="statement", organisation=branch, member=wang, year=2026, natural_key="statement:1")
    batch = Batch.objects.create(kind="postings", organisation=township, year=2026, requested_by=secretary)
    batch.documents.add(posting)
    Notification.objects.create(branch=branch, user=secretary, key="remind:2026Q3", message="季度即将结束")
    PostingPreference.objects.create(branch=branch)
    AuditEntry.objects.create(
        actor=secretary, action="period.sign", branch=branch, object_type="ledger.period", object_id=signed.pk,
        summary="书记签字确认 2026年第3季度",
    )  # fmt: skip

    # Sign the quarter last, as the product does: from here on the triggers freeze it.
    Period.objects.filter(pk=signed.pk).update(
        state="signed",
        chain_index=1,
        previous_hash="",
        content_hash="c" * 64,
        signed_by=secretary,
        signed_at=decided_at,
    )
    return {"signed": signed.pk, "approved": approved.pk, "deducted": deducted.pk}


KEY_VALUES = {
    "periods": "SELECT id, branch_id, year, quarter, state, chain_index, content_hash FROM ledger_period ORDER BY id",
    "events": "SELECT id, period_id, member_id, rule_id, points, occurred_on, status FROM ledger_pointevent ORDER BY id",
    "totals": "SELECT member_id, period_id, total FROM ledger_memberquartertotal ORDER BY id",
    "members": "SELECT id, branch_id, name FROM members_member ORDER BY id",
    "audit": "SELECT id, action, object_id, summary FROM ledger_auditentry ORDER BY id",
    "documents": "SELECT id, natural_key, period_id FROM reports_document ORDER BY id",
}


def test_a_released_database_migrates_forward_without_losing_rows_or_triggers():
    executor = _to_released()
    released_apps = executor.loader.project_state(RELEASED).apps
    ids = _fill(released_apps)

    tables = _tables(released_apps)
    before = {table: _count(table) for table in tables}
    empty = [table for table, count in before.items() if count == 0]
    assert not empty, f"every table gets representative rows: {empty}"
    values = {
        name: _rows(sql)
        for name, sql in KEY_VALUES.items()
        if sql.split(" FROM ")[1].split()[0] not in MOVED_ON_PURPOSE
    }

    call_command("migrate", verbosity=0)  # as a deployment does, with the apps' migrate hooks

    latest = MigrationExecutor(connection)
    leaves = latest.loader.graph.leaf_nodes()
    assert latest.migration_plan(leaves) == [], "the database is at the latest migrations"
    after_apps = latest.loader.project_state(leaves).apps
    now_tables = set(_tables(after_apps))
    for table, count in before.items():
        moved_to, _why = MOVED_ON_PURPOSE.get(table, (table, ""))
        if moved_to is None:
            continue
        assert moved_to in now_tables, f"{table} was dropped without being listed in MOVED_ON_PURPOSE"
        assert _count(moved_to) == count, f"rows lost or added in {moved_to}"
    for name, rows in values.items():
        assert _rows(KEY_VALUES[name]) == rows, f"{name} changed while migrating"

    # Entries written before the chain existed are chained in the order they were written, and
    # quarters signed before the snapshot keep the first hash algorithm (see migration 0009).
    from ledger.audit.selectors import audit_chain_breaks

    assert audit_chain_breaks() == []
    assert _rows("SELECT COUNT(*) FROM ledger_auditentry WHERE entry_hash = ''") == [("0",)]
    assert _rows("SELECT hash_version FROM ledger_period WHERE id = %s", [ids["signed"]]) == [("1",)]

    installed = _installed_triggers()
    assert triggers.expected_names(connection) <= installed
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_pointevent SET points = 99 WHERE id = %s", [ids["approved"]])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_pointevent WHERE id = %s", [ids["deducted"]])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_period SET state = 'open' WHERE id = %s", [ids["signed"]])
    assert _rows(KEY_VALUES["events"]) == values["events"], "the refused writes changed nothing"
