"""Property: whatever sequence of operations happens, every stored total equals the sum of its
events, and the selectors (which sum events) agree with the stored totals."""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.book import services
from ledger.book.selectors import member_totals, stored_totals_mismatches
from ledger.models import MemberQuarterTotal, Period, PointEvent
from members.models import Member

DAYS = [datetime.date(2026, m, d) for m, d in ((1, 20), (2, 3), (5, 5), (6, 30), (8, 1), (9, 9), (10, 2), (11, 20))]

operation = st.one_of(
    st.tuples(
        st.just("claim"),
        st.integers(0, 2),
        st.integers(0, 3),
        st.sampled_from(DAYS),
        st.sampled_from(["1", "2.5", "10", None]),
    ),
    st.tuples(
        st.just("deduct"),
        st.integers(0, 2),
        st.integers(0, 1),
        st.sampled_from(DAYS),
        st.sampled_from(["3", "30", None]),
    ),
    st.tuples(st.just("approve"), st.integers(0, 50)),
    st.tuples(st.just("reject"), st.integers(0, 50)),
    st.tuples(st.just("adjust"), st.integers(0, 50), st.sampled_from(["0.5", "4", "7.5"])),
    st.tuples(st.just("sign"), st.sampled_from([(2026, 1), (2026, 2), (2026, 3)])),
    st.tuples(st.just("correct"), st.integers(0, 50), st.sampled_from(["0", "1", "12"])),
    st.tuples(
        st.just("base"),
    ),
)


class Rollback(Exception):
    pass


def apply(world, op) -> None:
    members = [world.wang, world.zhang, world.li]
    bonus_rules = [world.rules.clean, world.rules.snow, world.rules.haircut, world.rules.base]
    deduction_rules = [world.rules.absent, world.rules.violation]
    events = list(PointEvent.objects.order_by("id"))
    name = op[0]
    if name == "claim":
        _n, m, r, day, points = op
        rule = bonus_rules[r]
        if rule.kind == "base":
            rule = world.rules.clean
        services.claim_record(
            actor=world.secretary, member=members[m], rule=rule, occurred_on=day, account="事由", points=points
        )
    elif name == "deduct":
        _n, m, r, day, points = op
        services.deduction_add(
            actor=world.committee,
            member=members[m],
            rule=deduction_rules[r],
            occurred_on=day,
            reason="理由",
            points=points,
        )
    elif name in ("approve", "reject", "adjust") and events:
        event = events[op[1] % len(events)]
        decider = world.deputy if event.entered_by_id == world.committee.pk else world.committee
        if name == "approve":
            services.event_approve(actor=decider, event=event)
        elif name == "reject":
            services.event_reject(actor=decider, event=event, reason="不符")
        else:
            services.event_adjust(actor=decider, event=event, points=op[2], reason="调整")
    elif name == "sign":
        period = Period.objects.filter(branch=world.branch_a, year=op[1][0], quarter=op[1][1]).first()
        if period:
            services.period_sign(actor=world.secretary, period=period)
    elif name == "correct" and events:
        services.event_correct(actor=world.committee, original=events[op[1] % len(events)], points=op[2], reason="更正")
    elif name == "base":
        services.base_points_grant(
            actor=world.secretary, branch=world.branch_a, year=2026, on=datetime.date(2026, 11, 1)
        )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(ops=st.lists(operation, min_size=1, max_size=25))
def test_stored_totals_always_equal_the_sum_of_events(world, frozen_today, ops):
    try:
        with transaction.atomic():  # each example starts from the same world
            for op in ops:
                try:
                    with transaction.atomic():
                        apply(world, op)
                except (ValidationError, PermissionDenied):
                    pass  # a refusal changes nothing; the invariant must still hold
            assert stored_totals_mismatches() == []
            for member in Member.objects.filter(branch=world.branch_a):
                stored = MemberQuarterTotal.objects.filter(member=member, period__year=2026).aggregate(s=Sum("total"))[
                    "s"
                ]
                computed = member_totals(Member.objects.filter(pk=member.pk), year=2026).get().total
                assert (stored or Decimal("0")) == computed
                approved = PointEvent.objects.filter(member=member, status="approved").aggregate(s=Sum("points"))["s"]
                assert (approved or Decimal("0")) == computed
            # nothing pending ever sits in a signed quarter
            assert not PointEvent.objects.filter(period__state="signed", status="pending").exists()
            raise Rollback
    except Rollback:
        pass
