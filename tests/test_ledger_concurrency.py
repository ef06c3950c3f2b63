"""Two people acting at the same moment, on real concurrent PostgreSQL connections.

Each thread has its own database connection (Django's connections are per thread). A barrier
releases them together; row locks decide who goes first, and the loser gets a clear refusal.
"""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from ledger.book import services
from ledger.book.selectors import ledger_verify
from ledger.models import MemberQuarterTotal, Period, PointEvent

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]

Q3_DAY = datetime.date(2026, 8, 10)


def run_together(*calls):
    """Run the callables at the same instant in separate threads; return (results, errors)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list = [None] * len(calls)

    def worker(index, fn):
        try:
            barrier.wait(timeout=10)
            results[index] = fn()
        except Exception as exc:  # collected and asserted on by the test
            errors[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, fn)) for i, fn in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


@pytest.fixture
def pending(world, frozen_today):
    return services.claim_record(
        actor=world.secretary, member=world.wang, rule=world.rules.haircut, occurred_on=Q3_DAY, account="义务理发"
    )


def test_two_committee_members_approve_the_same_entry_at_once(world, pending):
    results, errors = run_together(
        lambda: services.event_approve(actor=world.committee, event=pending),
        lambda: services.event_approve(actor=world.deputy, event=pending),
    )
    assert sum(r is not None for r in results) == 1
    refusals = [e for e in errors if e is not None]
    assert len(refusals) == 1 and isinstance(refusals[0], ValidationError)
    assert "不能重复审核" in " ".join(refusals[0].messages)
    assert MemberQuarterTotal.objects.get(member=world.wang).total == Decimal("20.0")
    assert ledger_verify() == []


def test_approve_and_reject_race_ends_in_one_decision(world, pending):
    results, errors = run_together(
        lambda: services.event_approve(actor=world.committee, event=pending),
        lambda: services.event_reject(actor=world.deputy, event=pending, reason="不符合"),
    )
    assert sum(e is None for e in errors) == 1
    pending.refresh_from_db()
    expected_total = Decimal("20.0") if pending.status == "approved" else Decimal("0")
    total = MemberQuarterTotal.objects.filter(member=world.wang).first()
    assert (total.total if total else Decimal("0")) == expected_total


def test_a_decision_racing_the_sign_off_ends_consistently(world, pending):
    other = services.claim_record(
        actor=world.secretary, member=world.li, rule=world.rules.snow, occurred_on=Q3_DAY, account="扫雪"
    )
    services.event_approve(actor=world.committee, event=other)
    period = Period.objects.get(pk=pending.period_id)
    results, errors = run_together(
        lambda: services.event_approve(actor=world.committee, event=pending),
        lambda: services.period_sign(actor=world.secretary, period=period),
    )
    period.refresh_from_db()
    pending.refresh_from_db()
    if period.state == "signed":
        # signing won only if the approval went first; nothing pending can be in a signed quarter
        assert pending.status == "approved"
    else:
        assert isinstance(errors[1], ValidationError) and "待审核" in " ".join(errors[1].messages)
        assert pending.status == "approved"
    assert not PointEvent.objects.filter(period__state="signed", status="pending").exists()
    assert ledger_verify() == []


def test_two_quarters_signed_at_once_get_distinct_linked_places_in_the_chain(world, frozen_today):
    periods = []
    for day in (datetime.date(2026, 5, 5), Q3_DAY):
        event = services.claim_record(
            actor=world.secretary, member=world.wang, rule=world.rules.snow, occurred_on=day, account="扫雪"
        )
        services.event_approve(actor=world.committee, event=event)
        periods.append(Period.objects.get(pk=event.period_id))
    _results, errors = run_together(
        lambda: services.period_sign(actor=world.secretary, period=periods[0]),
        lambda: services.period_sign(actor=world.deputy, period=periods[1]),
    )
    assert errors == [None, None]
    chain = list(Period.objects.filter(branch=world.branch_a, chain_index__isnull=False).order_by("chain_index"))
    assert [p.chain_index for p in chain] == [1, 2]
    assert chain[1].previous_hash == chain[0].content_hash
    assert ledger_verify() == []


def test_two_base_point_runs_at_once_grant_once(world, frozen_today):
    _results, errors = run_together(
        lambda: services.base_points_grant(actor=world.secretary, branch=world.branch_a, year=2026),
        lambda: services.base_points_grant(actor=world.deputy, branch=world.branch_a, year=2026),
    )
    assert errors == [None, None]
    assert PointEvent.objects.filter(entry_method="base").count() == 3


def test_two_claims_at_once_cannot_both_fit_under_a_cap(world, frozen_today):
    _results, errors = run_together(
        lambda: services.claim_record(
            actor=world.secretary,
            member=world.wang,
            rule=world.rules.clean,
            occurred_on=datetime.date(2026, 10, 1),
            account="责任区",
        ),
        lambda: services.claim_record(
            actor=world.deputy,
            member=world.wang,
            rule=world.rules.clean,
            occurred_on=datetime.date(2026, 10, 2),
            account="责任区",
        ),
    )
    assert sum(e is None for e in errors) == 1
    assert PointEvent.objects.filter(rule=world.rules.clean).count() == 1
