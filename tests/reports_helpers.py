"""Building signed quarters for the noticeboard tests."""

import datetime

from ledger import services as ledger
from ledger.models import Period, PointEvent

Q3_DAY = datetime.date(2026, 8, 10)


def approve_all(world, period: Period) -> None:
    for event in PointEvent.objects.filter(period=period, status=PointEvent.Status.PENDING):
        decider = (
            world.committee if world.committee.pk not in (event.entered_by_id, event.claimed_by_id) else world.deputy
        )
        ledger.event_approve(actor=decider, event=event)


def fill_q3(world) -> Period:
    """Branch A's third quarter of 2026: base points, bonuses and a deduction, all approved."""
    ledger.base_points_grant(actor=world.secretary, branch=world.branch_a, year=2026, on=datetime.date(2026, 7, 1))
    ledger.claim_record(
        actor=world.secretary, member=world.wang, rule=world.rules.clean, occurred_on=Q3_DAY, account="打扫责任区"
    )
    ledger.claim_record(
        actor=world.secretary,
        member=world.zhang,
        rule=world.rules.haircut,
        occurred_on=Q3_DAY,
        account="为村里老人义务理发",
    )
    ledger.deduction_add(
        actor=world.committee, member=world.li, rule=world.rules.absent, occurred_on=Q3_DAY, reason="无故缺席党课"
    )
    period = Period.objects.get(branch=world.branch_a, year=2026, quarter=3)
    approve_all(world, period)
    return period


def sign_and_post(world, period: Period) -> Period:
    period = ledger.period_sign(actor=world.secretary, period=period)
    return ledger.period_post(actor=world.committee, period=period)
