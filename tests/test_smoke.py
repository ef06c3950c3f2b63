import datetime

from ledger.book import services
from ledger.models import PointEvent


def test_secretary_records_and_committee_approves(world, frozen_today):
    event = services.claim_record(
        actor=world.secretary,
        member=world.wang,
        rule=world.rules.haircut,
        occurred_on=datetime.date(2026, 10, 8),
        account="为村民义务理发",
    )
    assert event.status == PointEvent.Status.PENDING
    assert event.on_behalf is True
    services.event_approve(actor=world.committee, event=event)
    event.refresh_from_db()
    assert event.status == PointEvent.Status.APPROVED
