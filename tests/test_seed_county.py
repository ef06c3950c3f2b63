"""The generated county (manage.py seed_county): consistent at any size, triggers in force after."""

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from ledger.book import triggers
from ledger.book.models import MemberQuarterTotal, Period, PointEvent
from ledger.book.selectors import ledger_verify

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="seed_county writes with PostgreSQL bulk paths"),
    pytest.mark.django_db(transaction=True),
]


def test_small_county_is_consistent_and_guarded(frozen_today):
    call_command("seed_county", branches=6, townships=2, members_per_branch=5, years=2, events=3000, verbosity=0)
    assert PointEvent.objects.count() == 3000
    assert set(PointEvent.objects.values_list("status", flat=True)) == {"pending", "approved", "rejected"}
    states = list(Period.objects.values_list("state", flat=True))
    assert states.count("open") == 6 and states.count("review") == 6
    assert sum(1 for s in states if s in Period.FROZEN_STATES) == 6 * 6
    assert not PointEvent.objects.filter(status="pending", period__state__in=Period.FROZEN_STATES).exists()
    assert MemberQuarterTotal.objects.exists()
    assert ledger_verify() == []
    assert triggers.expected_names(connection) <= triggers.installed_names(connection)
    signed = PointEvent.objects.filter(period__state="final").first()
    with pytest.raises(DatabaseError), transaction.atomic():
        PointEvent.objects.filter(pk=signed.pk).update(points=99)


def test_refuses_a_database_that_has_data(frozen_today):
    call_command("seed_county", branches=1, townships=1, members_per_branch=1, years=1, events=10, verbosity=0)
    with pytest.raises(Exception, match="empty"):
        call_command("seed_county", branches=1, townships=1, members_per_branch=1, years=1, events=10, verbosity=0)
