"""County scale: the overview, the roll-up and the review page run a constant number
of queries however many branches and entries there are; a claim and a decision run a small fixed
number of statements (the times are printed by scripts/bench_county.py, never asserted)."""

import datetime

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ledger.book import services
from ledger.book.selectors import branch_counts, branch_totals, stored_totals_mismatches
from ledger.models import Period
from reports.selectors import rollup_context
from tests import factories

DAY = datetime.date(2026, 11, 2)
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")


def _statements(fn) -> list[str]:
    """The SQL statements ``fn`` runs, transaction control (BEGIN, savepoints, COMMIT) left out."""
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(TRANSACTION_CONTROL)]


def _branches_with_entries(world, n: int) -> None:
    """Add ``n`` branches under township A, each with a member, an approved and a pending entry."""
    from branches.models import RoleAssignment

    Role = RoleAssignment.Role

    for _ in range(n):
        branch = factories.branch(world.township_a)
        factories.role(world.secretary, branch, Role.SECRETARY)
        factories.role(world.committee, branch, Role.COMMITTEE)
        member = factories.member(branch)
        for day in (DAY, DAY + datetime.timedelta(days=1)):
            event = services.claim_record(
                actor=world.secretary, member=member, rule=world.rules.snow, occurred_on=day, account="扫雪"
            )
        services.event_approve(actor=world.committee, event=event)


def test_overview_and_rollup_run_the_same_queries_for_few_and_many_branches(world, frozen_today):
    officer = Client()
    officer.force_login(world.county_officer)

    def counts():
        with CaptureQueriesContext(connection) as page:
            assert officer.get(reverse("overview")).status_code == 200
        with CaptureQueriesContext(connection) as rollup:
            rollup_context(world.county, year=2026, quarter=4)
        with CaptureQueriesContext(connection) as year:
            rollup_context(world.township_a, year=2026)
        return len(page.captured_queries), len(rollup.captured_queries), len(year.captured_queries)

    _branches_with_entries(world, 2)
    few = counts()
    _branches_with_entries(world, 10)
    assert counts() == few
    assert few[1] <= 5


def test_branch_counts_and_totals_come_from_the_stored_rows_and_match_the_entries(world, frozen_today):
    _branches_with_entries(world, 3)
    branches = world.county.__class__.objects.filter(parent=world.township_a, level="branch")
    counts = branch_counts(branches, year=2026, quarter=4)
    totals = {b.pk: b.total for b in branch_totals(branches, year=2026, quarter=4)}
    new = [b for b in branches if b.pk != world.branch_a.pk]
    assert [counts[b.pk]["pending"] for b in new] == [1, 1, 1]
    assert [counts[b.pk]["approved"] for b in new] == [1, 1, 1]
    assert [totals[b.pk] for b in new] == [1, 1, 1]
    assert stored_totals_mismatches() == []


def test_a_broken_stored_count_is_found(world, frozen_today):
    from ledger.models import QuarterCount

    _branches_with_entries(world, 1)
    QuarterCount.objects.filter(pk=QuarterCount.objects.order_by("pk").first().pk).update(pending=7)
    assert [problem[0] for problem in stored_totals_mismatches()] == [None]


def test_a_claim_and_a_decision_run_a_few_statements(world, frozen_today):
    Period.objects.get_or_create(branch=world.branch_a, year=2026, quarter=4)
    member = world.zhang.__class__.objects.get(pk=world.zhang.pk)  # as a view loads it: no branch

    def claim(rule, day):
        return services.claim_record(actor=world.secretary, member=member, rule=rule, occurred_on=day, account="x")

    # scope check with the branch, the branch's catalogue, the quarter locked, double claims,
    # the cap's usage, then the entry, the quarter's count and the audit record — whose hash chain
    # reads the branch's head first (on PostgreSQL under an advisory lock, one statement more)
    chain = 2 if connection.vendor == "postgresql" else 1
    capped = _statements(lambda: claim(world.rules.snow, DAY))
    assert len(capped) == 8 + chain, capped
    uncapped_rule = factories.rule(world.county, code="A99", points="2", title="无上限细则")
    member = world.zhang.__class__.objects.get(pk=world.zhang.pk)
    uncapped = _statements(lambda: claim(uncapped_rule, DAY))
    assert len(uncapped) == 7 + chain, uncapped

    event = world.zhang.events.order_by("-pk").first()
    # the quarter and the entry locked (with member and rule), the scope and role checks, the
    # entry saved, the total upserted, the count moved, the audit record
    decided = _statements(lambda: services.event_approve(actor=world.committee, event=event))
    assert len(decided) <= 9 + chain, decided
    assert stored_totals_mismatches() == []


def test_review_page_runs_the_same_queries_for_few_and_many_decided_entries(world, frozen_today, admin_client):
    period, _ = Period.objects.get_or_create(branch=world.branch_a, year=2026, quarter=4)
    url = reverse("admin:ledger_period_review", args=[period.pk])

    def grow(n):
        for _ in range(n):
            member = factories.member(world.branch_a)
            event = services.claim_record(
                actor=world.secretary, member=member, rule=world.rules.snow, occurred_on=DAY, account="扫雪"
            )
            services.event_approve(actor=world.committee, event=event)

    grow(3)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    grow(60)
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(url)
    assert len(few.captured_queries) == len(many.captured_queries)
    assert response.content.count(b'id="decided-') == 50
