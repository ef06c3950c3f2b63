"""Worked examples of the ledger rules, and every refusal the services make."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from ledger.book import services
from ledger.book.selectors import branch_totals, kind_totals, member_totals
from ledger.models import AuditEntry, MemberQuarterTotal, Period, PointEvent
from members.models import Member
from tests import factories

D = Decimal
Q3_DAY = datetime.date(2026, 8, 10)
Q4_DAY = datetime.date(2026, 10, 8)


def claim(world, member=None, rule=None, day=Q4_DAY, actor=None, **kwargs):
    kwargs.setdefault("account", "为村民义务理发，地点村委会门前")
    return services.claim_record(
        actor=actor or world.secretary,
        member=member or world.wang,
        rule=rule or world.rules.haircut,
        occurred_on=day,
        **kwargs,
    )


def signed_quarter(world, day=Q3_DAY):
    """Branch A's quarter of `day`, with one approved entry, signed by the secretary."""
    event = claim(world, day=day)
    services.event_approve(actor=world.committee, event=event)
    period = Period.objects.get(pk=event.period_id)
    return services.period_sign(actor=world.secretary, period=period), event


def messages_of(exc_info) -> str:
    return " ".join(exc_info.value.messages)


# --- recording ---------------------------------------------------------------------------------


def test_claim_entered_by_secretary_is_pending_and_marked_on_behalf(world, frozen_today):
    event = claim(world)
    assert event.status == PointEvent.Status.PENDING
    assert event.on_behalf is True
    assert event.entry_method == PointEvent.EntryMethod.ON_BEHALF
    assert event.entered_by == world.secretary
    assert event.points == D("20.0")
    assert (event.period.year, event.period.quarter) == (2026, 4)


def test_claim_declared_by_member_but_typed_by_secretary_is_not_on_behalf(world, frozen_today):
    event = claim(world, member=world.zhang, entry_method=PointEvent.EntryMethod.TYPED_IN)
    assert event.on_behalf is False
    assert event.claimed_by == world.member_user
    assert event.entered_by == world.secretary


def test_member_declares_own_deed(world, frozen_today):
    event = claim(world, member=world.zhang, actor=world.member_user)
    assert event.entry_method == PointEvent.EntryMethod.SELF
    assert event.claimed_by == world.member_user


def test_member_cannot_claim_for_someone_else(world, frozen_today):
    with pytest.raises(PermissionDenied):
        claim(world, member=world.wang, actor=world.member_user)
    assert not PointEvent.objects.exists()


def test_member_cannot_enter_a_deduction(world, frozen_today):
    with pytest.raises(ValidationError) as exc:
        claim(world, member=world.zhang, actor=world.member_user, rule=world.rules.absent)
    assert "扣分只能由书记或支委会录入" in messages_of(exc)


def test_future_date_is_refused(world, frozen_today):
    with pytest.raises(ValidationError) as exc:
        claim(world, day=datetime.date(2026, 11, 24))
    assert "occurred_on" in exc.value.message_dict
    assert "不能晚于今天" in messages_of(exc)
    assert not PointEvent.objects.exists()


def test_date_in_a_signed_quarter_is_refused(world, frozen_today):
    signed_quarter(world)
    with pytest.raises(ValidationError) as exc:
        claim(world, member=world.li, day=datetime.date(2026, 9, 1))
    assert "已由书记签字封存" in exc.value.message_dict["occurred_on"][0]
    assert PointEvent.objects.filter(member=world.li).count() == 0


def test_quarter_cap_is_enforced(world, frozen_today):
    claim(world, rule=world.rules.snow, day=datetime.date(2026, 10, 1), points="6")
    with pytest.raises(ValidationError) as exc:
        claim(world, rule=world.rules.snow, day=datetime.date(2026, 10, 2), points="5")
    assert "每季度上限 10" in exc.value.message_dict["points"][0]
    assert "最多还能记 4.0 分" in exc.value.message_dict["points"][0]
    claim(world, rule=world.rules.snow, day=datetime.date(2026, 10, 2), points="4")


def test_rejected_entries_do_not_use_the_cap(world, frozen_today):
    first = claim(world, rule=world.rules.clean, day=datetime.date(2026, 10, 1))
    services.event_reject(actor=world.committee, event=first, reason="没有保持干净")
    claim(world, rule=world.rules.clean, day=datetime.date(2026, 10, 2))


def test_year_cap_is_enforced_across_quarters(world, frozen_today):
    for day in (datetime.date(2026, 2, 1), datetime.date(2026, 5, 1), Q3_DAY):
        claim(world, rule=world.rules.haircut, day=day)
    with pytest.raises(ValidationError) as exc:
        claim(world, rule=world.rules.haircut, day=Q4_DAY)
    assert "每年上限 60" in exc.value.message_dict["points"][0]


def test_account_is_required(world, frozen_today):
    with pytest.raises(ValidationError) as exc:
        claim(world, account="   ")
    assert "请填写事由" in exc.value.message_dict["account"][0]


def test_duplicate_claim_same_member_rule_and_date_is_refused(world, frozen_today):
    claim(world)
    with pytest.raises(ValidationError) as exc:
        claim(world, member=world.wang, actor=world.secretary)
    assert "不能重复申报" in exc.value.message_dict["rule"][0]
    assert PointEvent.objects.count() == 1


def test_points_must_have_at_most_one_decimal_and_be_numbers(world, frozen_today):
    with pytest.raises(ValidationError) as exc:
        claim(world, points="1.25")
    assert "一位小数" in exc.value.message_dict["points"][0]
    with pytest.raises(ValidationError) as exc:
        claim(world, points="abc")
    assert "必须是数字" in exc.value.message_dict["points"][0]
    assert claim(world, points="+1.5分").points == D("1.5")


def test_secretary_of_another_branch_cannot_record(world, frozen_today):
    with pytest.raises(PermissionDenied):
        claim(world, actor=world.other_secretary)
    assert not PointEvent.objects.exists()


def test_officers_only_read(world, frozen_today):
    with pytest.raises(PermissionDenied):
        claim(world, actor=world.township_officer)


def test_rule_of_another_county_does_not_apply(world, frozen_today):
    other_county_rule = factories.rule(factories.county("灵宝市"), title="外县细则")
    with pytest.raises(ValidationError) as exc:
        claim(world, rule=other_county_rule)
    assert "不是本支部适用的积分细则" in exc.value.message_dict["rule"][0]


def test_nearest_rule_wins_inheritance(world, frozen_today):
    own = factories.rule(world.township_a, code=world.rules.snow.code, points="2", title="乡里的扫雪细则")
    from ledger.book.selectors import rules_for_branch

    rules = rules_for_branch(world.branch_a)
    assert own in rules and world.rules.snow not in rules
    assert world.rules.snow in rules_for_branch(world.branch_b)


def test_transferred_member_gets_no_new_entries(world, frozen_today):
    Member.objects.filter(pk=world.li.pk).update(status=Member.Status.TRANSFERRED)
    world.li.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        claim(world, member=world.li)
    assert "已转出" in messages_of(exc)


def test_evidence_required_rule_needs_a_photo(world, frozen_today):
    with pytest.raises(ValidationError) as exc:
        claim(world, rule=world.rules.help)
    assert "须附证明照片" in exc.value.message_dict["evidence"][0]


# --- decisions ---------------------------------------------------------------------------------


def test_approve_adds_points_to_the_stored_total(world, frozen_today):
    event = claim(world)
    services.event_approve(actor=world.committee, event=event)
    total = MemberQuarterTotal.objects.get(member=world.wang, period=event.period)
    assert (total.bonus, total.total) == (D("20.0"), D("20.0"))


def test_nobody_approves_an_entry_they_entered(world, frozen_today):
    event = claim(world)
    with pytest.raises(ValidationError) as exc:
        services.event_approve(actor=world.secretary, event=event)
    assert "不能审核本人" in messages_of(exc)


def test_nobody_approves_an_entry_they_claimed(world, frozen_today):
    event = claim(world, member=world.zhang, entry_method=PointEvent.EntryMethod.TYPED_IN, actor=world.committee)
    services.event_approve(actor=world.secretary, event=event)  # the secretary did neither
    second = claim(world, member=world.wang, actor=world.deputy)
    with pytest.raises(ValidationError):
        services.event_approve(actor=world.deputy, event=second)


def test_nobody_approves_their_own_account(world, frozen_today):
    world.li.user = world.committee
    world.li.save()
    event = claim(world, member=world.li)
    with pytest.raises(ValidationError):
        services.event_approve(actor=world.committee, event=event)


def test_approved_entry_cannot_be_approved_again(world, frozen_today):
    event = claim(world)
    services.event_approve(actor=world.committee, event=event)
    with pytest.raises(ValidationError) as exc:
        services.event_approve(actor=world.deputy, event=event)
    assert "不能重复审核" in messages_of(exc)
    assert MemberQuarterTotal.objects.get(member=world.wang).total == D("20.0")


def test_reject_needs_a_reason(world, frozen_today):
    event = claim(world)
    with pytest.raises(ValidationError) as exc:
        services.event_reject(actor=world.committee, event=event, reason=" ")
    assert "必须写明理由" in messages_of(exc)
    event.refresh_from_db()
    assert event.status == PointEvent.Status.PENDING
    services.event_reject(actor=world.committee, event=event, reason="经核实与事实不符")
    event.refresh_from_db()
    assert event.status == PointEvent.Status.REJECTED
    assert event.decided_by == world.committee


def test_adjust_keeps_the_original_value_and_needs_a_reason(world, frozen_today):
    event = claim(world)
    with pytest.raises(ValidationError):
        services.event_adjust(actor=world.committee, event=event, points="10", reason="")
    services.event_adjust(actor=world.committee, event=event, points="10", reason="只完成了半个季度")
    event.refresh_from_db()
    assert (event.original_points, event.points, event.status) == (D("20.0"), D("10.0"), "approved")
    assert MemberQuarterTotal.objects.get(member=world.wang).total == D("10.0")


def test_adjust_respects_the_cap(world, frozen_today):
    event = claim(world, rule=world.rules.snow, points="3")
    with pytest.raises(ValidationError) as exc:
        services.event_adjust(actor=world.committee, event=event, points="11", reason="多次参加")
    assert "每季度上限" in messages_of(exc)


def test_officer_cannot_decide(world, frozen_today):
    event = claim(world)
    with pytest.raises(PermissionDenied):
        services.event_approve(actor=world.county_officer, event=event)


def test_other_branch_committee_cannot_decide(world, frozen_today):
    event = claim(world)
    with pytest.raises(PermissionDenied):
        services.event_approve(actor=world.other_committee, event=event)


def test_deductions_only_by_committee_and_with_reason(world, frozen_today):
    with pytest.raises(ValidationError) as exc:
        services.deduction_add(
            actor=world.committee, member=world.wang, rule=world.rules.absent, occurred_on=Q4_DAY, reason=""
        )
    assert "扣分必须写明理由" in messages_of(exc)
    with pytest.raises(PermissionDenied):
        services.deduction_add(
            actor=world.member_user, member=world.wang, rule=world.rules.absent, occurred_on=Q4_DAY, reason="x"
        )
    event = services.deduction_add(
        actor=world.committee, member=world.wang, rule=world.rules.absent, occurred_on=Q4_DAY, reason="无故缺席党员大会"
    )
    assert event.points == D("-3.0") and event.kind == "deduction"


def test_totals_can_go_negative(world, frozen_today):
    event = services.deduction_add(
        actor=world.committee,
        member=world.li,
        rule=world.rules.violation,
        occurred_on=Q4_DAY,
        reason="受到党内警告处分",
    )
    services.event_approve(actor=world.secretary, event=event)
    row = member_totals(Member.objects.filter(pk=world.li.pk), year=2026, quarter=4).get()
    assert row.total == D("-30.0") and row.deduction == D("-30.0")
    ranking = list(member_totals(Member.objects.filter(branch=world.branch_a), year=2026).order_by("total"))
    assert ranking[0] == world.li


# --- quarters ----------------------------------------------------------------------------------


def test_sign_is_refused_while_entries_are_pending_and_lists_them(world, frozen_today):
    claim(world, day=Q3_DAY)
    period = Period.objects.get(branch=world.branch_a, year=2026, quarter=3)
    with pytest.raises(ValidationError) as exc:
        services.period_sign(actor=world.secretary, period=period)
    assert "还有 1 条待审核条目" in messages_of(exc)
    assert "王学恩" in messages_of(exc)
    period.refresh_from_db()
    assert period.state == Period.State.OPEN and period.content_hash == ""


def test_sign_is_refused_before_the_quarter_ends(world, frozen_today):
    event = claim(world)
    services.event_approve(actor=world.committee, event=event)
    with pytest.raises(ValidationError) as exc:
        services.period_sign(actor=world.secretary, period=event.period)
    assert "季度结束后才能签字" in messages_of(exc)


def test_only_secretary_or_deputy_signs(world, frozen_today):
    claim_ = claim(world, day=Q3_DAY)
    services.event_approve(actor=world.committee, event=claim_)
    period = Period.objects.get(pk=claim_.period_id)
    with pytest.raises(PermissionDenied):
        services.period_sign(actor=world.committee, period=period)
    with pytest.raises(PermissionDenied):
        services.period_sign(actor=world.other_secretary, period=period)
    services.period_sign(actor=world.deputy, period=period)
    period.refresh_from_db()
    assert period.state == Period.State.SIGNED and period.signed_by == world.deputy


def test_signing_chains_hashes(world, frozen_today):
    q2_event = claim(world, day=datetime.date(2026, 5, 5))
    services.event_approve(actor=world.committee, event=q2_event)
    q2 = services.period_sign(actor=world.secretary, period=q2_event.period)
    q3, _event = signed_quarter(world)
    assert (q2.chain_index, q3.chain_index) == (1, 2)
    assert q2.previous_hash == "" and q3.previous_hash == q2.content_hash
    assert len(q3.content_hash) == 64 and q3.content_hash != q2.content_hash
    assert len(q3.short_hash) == 19


def test_signing_twice_is_refused(world, frozen_today):
    period, _event = signed_quarter(world)
    with pytest.raises(ValidationError) as exc:
        services.period_sign(actor=world.secretary, period=period)
    assert "不能重复签字" in messages_of(exc)


def test_decisions_in_a_signed_quarter_are_refused(world, frozen_today):
    period, event = signed_quarter(world)
    with pytest.raises(ValidationError):
        services.event_reject(actor=world.committee, event=event, reason="改主意了")


def test_post_and_finalise(world, frozen_today):
    period, _event = signed_quarter(world)
    with pytest.raises(ValidationError):
        services.period_finalise(actor=world.committee, period=period)
    period = services.period_post(actor=world.committee, period=period, window_days=5)
    assert period.posting_ends_on == datetime.date(2026, 11, 28)
    with pytest.raises(ValidationError) as exc:
        services.period_finalise(actor=world.committee, period=period)
    assert "公示期到 2026-11-28 结束" in messages_of(exc)
    frozen_today(datetime.date(2026, 11, 29))
    assert services.period_finalise(actor=world.committee, period=period).state == Period.State.FINAL


def test_post_window_must_be_sensible(world, frozen_today):
    period, _event = signed_quarter(world)
    with pytest.raises(ValidationError):
        services.period_post(actor=world.committee, period=period, window_days=0)


# --- base points ------------------------------------------------------------------------------


def test_base_points_are_granted_once_per_year(world, frozen_today):
    Member.objects.filter(pk=world.li.pk).update(status=Member.Status.DECEASED)
    created = services.base_points_grant(actor=world.secretary, branch=world.branch_a, year=2026)
    assert created == 2  # 王学恩 and 张海燕; 李秀英 is no longer active
    assert services.base_points_grant(actor=world.secretary, branch=world.branch_a, year=2026) == 0
    assert services.base_points_grant(actor=None, branch=world.branch_a, year=2026) == 0
    events = PointEvent.objects.filter(entry_method=PointEvent.EntryMethod.BASE)
    assert events.count() == 2
    assert {e.points for e in events} == {D("60.0")}


def test_base_points_refused_for_other_branch(world, frozen_today):
    with pytest.raises(PermissionDenied):
        services.base_points_grant(actor=world.other_secretary, branch=world.branch_a, year=2026)


# --- corrections -------------------------------------------------------------------------------


def test_a_signed_mistake_is_corrected_by_a_new_entry_that_points_at_it(world, frozen_today):
    period, original = signed_quarter(world)
    correction = services.event_correct(actor=world.committee, original=original, points="15", reason="复核发现多记5分")
    assert correction.corrects == original
    assert correction.points == D("-5.0")
    assert correction.period.quarter == 4 and correction.status == "pending"
    assert "更正" in correction.account and f"#{original.pk}" in correction.account
    services.event_approve(actor=world.secretary, event=correction)
    original.refresh_from_db()
    assert original.points == D("20.0")  # the signed entry itself never changes
    year = member_totals(Member.objects.filter(pk=world.wang.pk), year=2026).get()
    assert year.total == D("15.0")


def test_correcting_an_unsigned_entry_is_refused(world, frozen_today):
    event = claim(world)
    with pytest.raises(ValidationError) as exc:
        services.event_correct(actor=world.committee, original=event, points="10", reason="x")
    assert "尚未签字" in messages_of(exc)


def test_correction_needs_a_reason_and_a_change(world, frozen_today):
    _period, original = signed_quarter(world)
    with pytest.raises(ValidationError):
        services.event_correct(actor=world.committee, original=original, points="10", reason="")
    with pytest.raises(ValidationError):
        services.event_correct(actor=world.committee, original=original, points="20", reason="无变化")


# --- selectors ---------------------------------------------------------------------------------


def test_quarter_and_year_to_date_totals_by_kind(world, frozen_today):
    services.base_points_grant(actor=world.secretary, branch=world.branch_a, year=2026, on=datetime.date(2026, 1, 15))
    for event in PointEvent.objects.filter(entry_method="base"):
        services.event_approve(actor=world.committee, event=event)
    q3 = claim(world, day=Q3_DAY)
    services.event_approve(actor=world.committee, event=q3)
    q4 = claim(world, rule=world.rules.snow, day=Q4_DAY)
    services.event_approve(actor=world.committee, event=q4)
    ded = services.deduction_add(
        actor=world.committee, member=world.wang, rule=world.rules.absent, occurred_on=Q4_DAY, reason="缺席"
    )
    services.event_approve(actor=world.secretary, event=ded)
    claim(world, member=world.li, day=Q4_DAY)  # pending: not counted

    row = member_totals(Member.objects.filter(pk=world.wang.pk), year=2026, quarter=4).get()
    assert (row.base, row.bonus, row.deduction, row.total) == (D("0"), D("1.0"), D("-3.0"), D("-2.0"))
    assert row.ytd_total == D("60") + D("20") + D("1") - D("3")
    by_kind = kind_totals(PointEvent.objects.filter(branch=world.branch_a, period__year=2026))
    assert by_kind == {"base": D("180.0"), "bonus": D("21.0"), "deduction": D("-3.0"), "total": D("198.0")}
    branch = branch_totals(world.branch_a.__class__.objects.filter(pk=world.branch_a.pk), year=2026, quarter=4).get()
    assert branch.total == D("-2.0")


# --- audit -------------------------------------------------------------------------------------


def test_every_change_records_who_and_when(world, frozen_today):
    event = claim(world)
    services.event_adjust(actor=world.committee, event=event, points="10", reason="只做了一半")
    trail = list(AuditEntry.objects.filter(object_type="ledger.pointevent", object_id=event.pk).order_by("id"))
    assert [(e.action, e.actor) for e in trail] == [
        ("event.create", world.secretary),
        ("event.adjust", world.committee),
    ]
    assert trail[1].reason == "只做了一半" and trail[1].data["original_points"] == "20.0"
    assert all(e.at is not None and e.branch == world.branch_a for e in trail)


def test_refusals_speak_the_users_language(world, frozen_today):
    from django.utils import translation

    with translation.override("en"), pytest.raises(ValidationError) as exc:
        claim(world, day=datetime.date(2026, 11, 30))
    assert "today" in messages_of(exc).lower() and "不能" not in messages_of(exc)
    with translation.override("zh-hant"), pytest.raises(ValidationError) as exc:
        claim(world, account="")
    assert "請填寫事由" in messages_of(exc)
