"""What was signed stays what is printed, and the audit trail is a hash chain.

Signing stores what the board shows (names, 村民小组, rule titles, figures, totals) and hashes
it with the events (hash version 2). Renaming a member or a rule afterwards changes nothing on a
signed quarter's posting, public page, export or verification; an edit behind the triggers is
found and named. The audit trail chains every entry to the one before it in its branch's chain;
on PostgreSQL no TRUNCATE can empty the ledger or the trail.

Run on both databases (CI runs the suite on SQLite and on PostgreSQL).
"""

import datetime
import io
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ledger.audit.selectors import audit_chain_breaks
from ledger.audit.services import audit_record
from ledger.book import services as ledger
from ledger.book import triggers
from ledger.book.selectors import HASH_VERSION, ledger_verify, period_content_hash
from ledger.models import AuditEntry, Period, PointEvent, ScoringRule
from ledger.spreadsheets import exports
from members.models import Member
from reports import selectors
from tests.reports_helpers import fill_q3, sign_and_post

pytestmark = pytest.mark.usefixtures("frozen_today")


@pytest.fixture
def posted(world):
    return sign_and_post(world, fill_q3(world))


def _public_url(period: Period) -> str:
    return f"/p/{period.branch.code}/{period.year}/{period.quarter}/"


def _behind_the_triggers(sql: str, params=()) -> None:
    """Someone with database access drops the guards, changes a row and puts them back."""
    triggers.uninstall(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    finally:
        triggers.install(connection)


def _verify_ledger_fails() -> str:
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify_ledger", stdout=io.StringIO(), stderr=err)
    return err.getvalue()


def _rename(world) -> None:
    """The member through the API (as the secretary's phone does), the rule as the county does."""
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=world.secretary)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.patch(f"/api/v1/members/{world.wang.pk}/", {"name": "王新名", "group": "九组"}, format="json")
    assert response.status_code == 200, response.content
    rule = ScoringRule.objects.get(pk=world.rules.clean.pk)
    rule.title = "改过的细则名称"
    rule.save()


# --- signed means frozen, as printed ---------------------------------------------------------


def test_signing_stores_what_the_board_shows(world, posted):
    assert posted.hash_version == HASH_VERSION == 2
    snapshot = posted.signed_snapshot
    assert snapshot["branch"]["name"] == "山岔村党支部"
    assert snapshot["signed_by"] == "刘振华"
    wang = next(m for m in snapshot["members"] if m["id"] == world.wang.pk)
    assert (wang["name"], wang["group"], wang["bonus"]) == ("王学恩", world.wang.group, "10.0")
    assert snapshot["rules"][str(world.rules.clean.pk)] == {
        "code": "A01",
        "title": "保持绿化卫生责任区干净",
        "kind": "bonus",
    }
    assert {e["id"] for e in snapshot["entries"]} == set(
        PointEvent.objects.filter(period=posted).values_list("pk", flat=True)
    )
    # The snapshot is part of the hashed content: another snapshot gives another hash.
    changed = {**snapshot, "signed_by": "别人"}
    assert period_content_hash(posted, snapshot=changed) != posted.content_hash
    assert period_content_hash(posted) == posted.content_hash


def test_renaming_a_member_and_a_rule_changes_nothing_signed(world, posted, client):
    _rename(world)
    assert Member.objects.get(pk=world.wang.pk).name == "王新名"

    html = client.get(_public_url(posted)).content.decode()
    assert "王学恩" in html and "保持绿化卫生责任区干净" in html
    assert "王新名" not in html and "九组" not in html and "改过的细则名称" not in html

    context = selectors.posting_context(Period.objects.get(pk=posted.pk))  # what the PDF renders
    row = next(r for r in context["rows"] if r.member_id == world.wang.pk)
    assert (row.name, row.group) == ("王学恩", world.wang.group)
    assert "保持绿化卫生责任区干净" in row.items_line

    verdict = client.get(f"/verify/{posted.short_hash}/").content.decode()
    assert "一致：这张公示与台账现在的记录完全相符" in verdict and "不一致" not in verdict
    assert "一致：" in client.get(_public_url(posted), {"h": posted.content_hash}).content.decode()
    out = io.StringIO()
    call_command("verify_ledger", stdout=out)
    assert "all chains and totals match" in out.getvalue()


def test_the_export_of_a_signed_quarter_shows_the_signed_names(world, posted):
    _rename(world)
    export = exports.export_build(
        world.secretary, "branch_quarter", {"branch": world.branch_a.pk, "year": 2026, "quarter": 3}
    )
    totals, detail = (list(sheet.rows) for sheet in export.sheets)
    names = [row[0] for row in totals]
    assert "王学恩" in names and "王新名" not in names
    wang_rows = [row for row in detail if row[2] == "王学恩"]
    assert wang_rows and all(row[2] != "王新名" for row in detail)
    assert any(row[5] == "保持绿化卫生责任区干净" for row in wang_rows)
    assert not any(row[5] == "改过的细则名称" for row in detail)
    # An open quarter still exports the live roll.
    year = exports.export_build(world.secretary, "member_year", {"member": world.wang.pk, "year": 2026})
    assert all(row[2] == "王学恩" for row in year.sheets[0].rows)  # its only entries are signed ones


def test_the_snapshot_of_a_signed_quarter_is_frozen_by_the_database(world, posted):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_period SET signed_snapshot = '{}' WHERE id = %s", [posted.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_period SET hash_version = 1 WHERE id = %s", [posted.pk])
    assert Period.objects.get(pk=posted.pk).signed_snapshot == posted.signed_snapshot


def test_a_name_changed_in_the_snapshot_behind_the_triggers_is_found_and_named(world, posted, client):
    snapshot = Period.objects.get(pk=posted.pk).signed_snapshot
    for member in snapshot["members"]:
        if member["id"] == world.wang.pk:
            member["name"] = "冒名顶替"
    triggers.uninstall(connection)
    try:
        Period.objects.filter(pk=posted.pk).update(signed_snapshot=snapshot)
    finally:
        triggers.install(connection)

    errors = _verify_ledger_fails()
    assert "山岔村党支部 2026Q3" in errors and "no longer matches its hash" in errors
    assert f"党员 #{world.wang.pk}" in errors and "冒名顶替" in errors
    verdict = client.get(f"/verify/{posted.short_hash}/").content.decode()
    assert "不一致" in verdict and "冒名顶替" in verdict


def test_a_figure_changed_in_the_snapshot_behind_the_triggers_is_named(world, posted):
    snapshot = Period.objects.get(pk=posted.pk).signed_snapshot
    for member in snapshot["members"]:
        if member["id"] == world.li.pk:
            member["deduction"], member["total"] = "0.0", "60.0"
    triggers.uninstall(connection)
    try:
        Period.objects.filter(pk=posted.pk).update(signed_snapshot=snapshot)
    finally:
        triggers.install(connection)
    errors = _verify_ledger_fails()
    assert f"李秀英（#{world.li.pk}）" in errors and "违规扣分" in errors


def test_an_event_changed_behind_the_triggers_is_named_by_entry(world, posted, client):
    event = PointEvent.objects.get(period=posted, member=world.wang, kind="bonus")
    _behind_the_triggers("UPDATE ledger_pointevent SET points = 30 WHERE id = %s", [event.pk])
    errors = _verify_ledger_fails()
    assert f"条目 #{event.pk}" in errors and "10.0" in errors and "30.0" in errors
    verdict = client.get(f"/verify/{posted.short_hash}/").content.decode()
    assert "不一致" in verdict and f"条目 #{event.pk}" in verdict


def test_a_quarter_signed_with_the_first_algorithm_still_verifies(world, client):
    """Quarters signed before the snapshot keep version 1: hashed over their events alone."""
    period = ledger.period_sign(actor=world.secretary, period=fill_q3(world))
    legacy = period_content_hash(period, version=1)
    _behind_the_triggers(
        "UPDATE ledger_period SET hash_version = 1, signed_snapshot = '{}', content_hash = %s WHERE id = %s",
        [legacy, period.pk],
    )
    period = ledger.period_post(actor=world.committee, period=Period.objects.get(pk=period.pk))
    assert ledger_verify() == []
    assert "一致：" in client.get(f"/verify/{period.short_hash}/").content.decode()
    # Its posting shows the live roll, as it always did.
    Member.objects.filter(pk=world.wang.pk).update(name="王新名")
    assert "王新名" in client.get(_public_url(period)).content.decode()
    # And an edit to one of its events is still found.
    event = PointEvent.objects.filter(period=period, kind="bonus").first()
    _behind_the_triggers("UPDATE ledger_pointevent SET points = 99 WHERE id = %s", [event.pk])
    assert any("no longer matches" in str(p) for p in ledger_verify())


# --- the audit trail is a hash chain ---------------------------------------------------------


def test_audit_entries_are_chained_per_branch(world, posted):
    entries = list(AuditEntry.objects.filter(branch=world.branch_a).order_by("id"))
    assert len(entries) > 3
    assert entries[0].previous_hash == ""
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.previous_hash == before.entry_hash != ""
    assert audit_chain_breaks() == []
    assert posted.signed_snapshot["audit_head"] in {e.entry_hash for e in entries}


def test_an_audit_entry_deleted_behind_the_trigger_breaks_the_chain(world, posted):
    entries = list(AuditEntry.objects.filter(branch=world.branch_a).order_by("id"))
    gone, next_one = entries[1], entries[2]
    _behind_the_triggers("DELETE FROM ledger_auditentry WHERE id = %s", [gone.pk])
    errors = _verify_ledger_fails()
    assert f"audit entry #{next_one.pk}" in errors and "deleted" in errors


def test_an_audit_entry_edited_behind_the_trigger_is_found(world, posted):
    entry = AuditEntry.objects.filter(branch=world.branch_a).order_by("id")[2]
    _behind_the_triggers("UPDATE ledger_auditentry SET summary = 'nothing happened' WHERE id = %s", [entry.pk])
    errors = _verify_ledger_fails()
    assert f"audit entry #{entry.pk}" in errors and "edited" in errors


def test_cutting_the_trail_back_past_a_signature_is_found(world, posted):
    """The chain can't see its own tail cut off; the signed quarter vouches for its head then."""
    head = AuditEntry.objects.get(branch=world.branch_a, entry_hash=posted.signed_snapshot["audit_head"])
    _behind_the_triggers(
        "DELETE FROM ledger_auditentry WHERE branch_id = %s AND id >= %s", [world.branch_a.pk, head.pk]
    )
    errors = _verify_ledger_fails()
    assert "山岔村党支部 2026Q3" in errors and "audit entry the signature vouches for is gone" in errors


def test_two_entries_can_never_follow_the_same_one(world, posted):
    last = AuditEntry.objects.filter(branch=world.branch_a).order_by("-id").first()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.create(
            action="x", branch=world.branch_a, object_type="x", summary="fork", previous_hash=last.previous_hash
        )


# --- PostgreSQL: TRUNCATE refused, concurrent writers keep one chain -------------------------


def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE and advisory locks are PostgreSQL's")


@pytest.mark.parametrize(
    "statement",
    [
        "TRUNCATE ledger_auditentry",
        "TRUNCATE ledger_pointevent CASCADE",
        "TRUNCATE ledger_period CASCADE",
        "TRUNCATE ledger_memberquartertotal",
        "TRUNCATE members_member CASCADE",  # cascades to the events, and is refused there
    ],
)
@pytest.mark.django_db(transaction=True)
def test_truncate_is_refused_on_postgresql(world, posted, statement):
    """Committed rows (a test's own transaction would refuse TRUNCATE for its pending FK checks)."""
    _postgres_only()
    audit_rows = AuditEntry.objects.count()
    events = PointEvent.objects.count()
    with pytest.raises(DatabaseError, match="cannot be truncated"), transaction.atomic(), connection.cursor() as c:
        c.execute(statement)
    assert (AuditEntry.objects.count(), PointEvent.objects.count()) == (audit_rows, events)


@pytest.mark.django_db(transaction=True)
def test_concurrent_audit_writers_keep_one_chain_on_postgresql(world, frozen_today):
    """Eight writers, each holding its transaction open a moment after writing: no fork."""
    _postgres_only()
    import time

    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            barrier.wait()
            for i in range(5):
                with transaction.atomic():
                    audit_record(
                        actor=world.secretary,
                        action="test.write",
                        obj=world.wang,
                        branch=world.branch_a if n % 2 else None,
                        summary=f"writer {n} entry {i}",
                    )
                    time.sleep(0.005)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert AuditEntry.objects.filter(action="test.write").count() == 40
    assert audit_chain_breaks() == []
    for branch_id in (world.branch_a.pk, None):
        chain = list(AuditEntry.objects.filter(branch_id=branch_id).order_by("id"))
        assert [e.previous_hash for e in chain[1:]] == [e.entry_hash for e in chain[:-1]]


def test_signing_on_a_day_in_another_quarter_keeps_the_snapshot(world, frozen_today):
    """The snapshot is of the signed quarter, not of today: Q3 signed in November."""
    period = ledger.period_sign(actor=world.secretary, period=fill_q3(world))
    frozen_today(datetime.date(2027, 2, 1))
    assert ledger_verify() == []
    assert {m["id"] for m in period.signed_snapshot["members"]} >= {world.wang.pk, world.zhang.pk, world.li.pk}
