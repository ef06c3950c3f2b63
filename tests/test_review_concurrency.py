"""Two people acting at the same moment, with real concurrent database connections (PostgreSQL):
each thread has its own connection, so the row locks in the services are what decides."""

import datetime
import threading

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from ledger.book import services
from ledger.book.selectors import ledger_verify
from ledger.models import AuditEntry, MemberQuarterTotal, Period, PointEvent

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="row locks need PostgreSQL; SQLite serialises every writer",
    ),
]

Q3_DAY = datetime.date(2026, 8, 10)


def _race(*jobs):
    """Run the jobs at the same moment, each in its own thread and connection. Returns outcomes:
    the result, or the refusal (ValidationError / PermissionDenied) each job ended with."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list = [None] * len(jobs)

    def run(index, job):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = job()
        except (ValidationError, PermissionDenied) as exc:
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def _claim(world):
    return services.claim_record(
        actor=world.secretary, member=world.wang, rule=world.rules.clean, occurred_on=Q3_DAY, account="卫生区干净"
    )


def test_two_committee_members_approve_the_same_entry_one_wins(world, frozen_today):
    event = _claim(world)
    outcomes = _race(
        lambda: services.event_approve(actor=world.committee, event=event),
        lambda: services.event_approve(actor=world.deputy, event=event),
    )
    wins = [o for o in outcomes if isinstance(o, PointEvent)]
    refusals = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(wins) == 1 and len(refusals) == 1
    assert "不能重复审核" in refusals[0].messages[0]
    event.refresh_from_db()
    assert event.status == "approved" and event.decided_by_id == wins[0].decided_by_id
    assert AuditEntry.objects.filter(action="event.approve", object_id=event.pk).count() == 1
    assert MemberQuarterTotal.objects.get(member=world.wang, period=event.period).total == 10


def test_reject_racing_approve_ends_in_one_decision(world, frozen_today):
    event = _claim(world)
    outcomes = _race(
        lambda: services.event_approve(actor=world.committee, event=event),
        lambda: services.event_reject(actor=world.deputy, event=event, reason="与事实不符"),
    )
    assert sum(isinstance(o, PointEvent) for o in outcomes) == 1
    event.refresh_from_db()
    total = MemberQuarterTotal.objects.filter(member=world.wang, period=event.period).first()
    assert (event.status == "approved") == (total is not None and total.total == 10)
    assert ledger_verify() == []


def test_decision_racing_the_sign_off_is_consistent(world, frozen_today):
    event = _claim(world)
    period = event.period
    outcomes = _race(
        lambda: services.event_approve(actor=world.committee, event=event),
        lambda: services.period_sign(actor=world.secretary, period=period),
    )
    approve, sign = outcomes
    assert isinstance(approve, PointEvent)  # a sign-off never blocks a pending decision
    period.refresh_from_db()
    event.refresh_from_db()
    assert event.status == "approved"
    if isinstance(sign, Period):
        assert period.state == "signed"  # the approval came first and is inside the hash
    else:
        assert isinstance(sign, ValidationError) and "待审核" in sign.messages[0]
        assert period.state == "open"
    assert ledger_verify() == []


def test_deduction_racing_the_sign_off_is_consistent(world, frozen_today):
    event = _claim(world)
    services.event_approve(actor=world.committee, event=event)
    period = event.period
    outcomes = _race(
        lambda: services.deduction_add(
            actor=world.committee, member=world.li, rule=world.rules.absent, occurred_on=Q3_DAY, reason="无故缺席"
        ),
        lambda: services.period_sign(actor=world.secretary, period=period),
    )
    deduction, sign = outcomes
    period.refresh_from_db()
    # Exactly one wins: either the quarter was signed without the deduction, or the deduction
    # went in first and the sign-off was refused because it is pending.
    assert isinstance(deduction, PointEvent) != isinstance(sign, Period)
    if isinstance(sign, Period):
        assert period.state == "signed" and not PointEvent.objects.filter(entry_method="committee").exists()
    else:
        assert (
            period.state == "open" and PointEvent.objects.filter(entry_method="committee", period=period).count() == 1
        )
    assert ledger_verify() == []
