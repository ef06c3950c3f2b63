"""Each business rule of ledger/book/rules.py, fed through every caller: the same verdict, the same words.

Every caller is a way a claim gets in — the service (``claim_record``), the secretary's web form,
the spreadsheet import preview and the API — and, where the rule is used there, the committee's
review summary and the villagers' feedback form. A caller that checked a rule by itself (another
bound, another sentence) fails here: the messages are compared with the shared function's, and the
edge values sit exactly on the bound.
"""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from ledger.book import rules, services
from ledger.models import Period, PointEvent, ScoringRule
from ledger.review import services as review_services
from ledger.review.selectors import period_review
from ledger.review.views import FeedbackForm
from ledger.spreadsheets.imports import import_preview
from tests import factories
from tests.screens_helpers import post_form
from tests.test_api import client_for
from tests.xlsx import xlsx

DAY = datetime.date(2026, 11, 20)  # in the open quarter of the frozen today (2026-11-23)
CALLERS = ["service", "form", "import", "api"]


def _service(world, *, member, rule, day, points):
    try:
        services.claim_record(
            actor=world.secretary, member=member, rule=rule, occurred_on=day, account="义务劳动", points=points
        )
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        return field, messages[0]
    return None


def _form(world, *, member, rule, day, points, client):
    client.force_login(world.secretary)
    response = post_form(
        client,
        reverse("claim_create", args=[world.branch_a.pk]),
        {
            "member": member.pk,
            "rule": rule.pk,
            "occurred_on": day.isoformat(),
            "points": "" if points is None else str(points),
            "place": "",
            "account": "义务劳动",
            "entry_method": "on_behalf",
        },
    )
    if response.status_code == 302:
        return None
    errors = response.context["form"].errors
    field = next(iter(errors))
    return field, errors[field][0]


COLUMN_FIELDS = {"分值": "points", "姓名": "rule", "细则编号": "rule", "发生日期": "occurred_on"}


def _import(world, *, member, rule, day, points):
    content = xlsx(
        [
            ["姓名", "细则编号", "发生日期", "分值", "事由"],
            [member.name, rule.code, day.isoformat(), "" if points is None else str(points), "义务劳动"],
        ]
    )
    batch = import_preview(actor=world.secretary, branch=world.branch_a, kind="claims", data=content, name="申报.xlsx")
    problems = [p for p in batch.problems if p["row"] == 2]
    if not problems:
        assert batch.state == "preview"
        return None
    # A deed already in the ledger is skipped, not refused: the same sentence, told as a skip.
    return COLUMN_FIELDS[problems[0]["column"]], problems[0]["message"]


def _api(world, *, member, rule, day, points):
    body = {"member": member.pk, "rule": rule.pk, "occurred_on": day.isoformat(), "account": "义务劳动"}
    if points is not None:
        body["points"] = str(points)
    response = client_for(world.secretary).post("/api/v1/events/", body, format="json")
    if response.status_code == 201:
        return None
    assert response.status_code == 400, response.content
    fields = response.json()["error"]["fields"]
    field = next(iter(fields))
    return field, fields[field][0]


def submit(caller, world, client, *, member=None, rule, day=DAY, points=None):
    member = member or world.wang
    rule = ScoringRule.objects.get(pk=rule.pk)  # as every caller has it: loaded, caps as Decimals
    if caller == "service":
        return _service(world, member=member, rule=rule, day=day, points=points)
    if caller == "form":
        return _form(world, member=member, rule=rule, day=day, points=points, client=client)
    if caller == "import":
        return _import(world, member=member, rule=rule, day=day, points=points)
    return _api(world, member=member, rule=rule, day=day, points=points)


def record(world, *, rule, day=DAY, points=None, member=None, entry_method=None):
    return services.claim_record(
        actor=world.secretary,
        member=member or world.wang,
        rule=rule,
        occurred_on=day,
        account="已登记的事迹",
        points=points,
        entry_method=entry_method,
    )


@pytest.fixture
def uncapped(world):
    return factories.rule(world.county, code="A09", points="5", title="义务劳动")


# --- points -------------------------------------------------------------------------------------


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.55", "分值最多保留一位小数。"),
        ("0", "分值不能为 0。"),
        ("1000.1", "分值不能超过 1000 分。"),
        ("1001", "分值不能超过 1000 分。"),
        ("很多", "分值必须是数字，例如 10 或 0.5。"),
        ("NaN", "分值必须是数字，例如 10 或 0.5。"),
    ],
)
def test_points_refusals_are_the_same_everywhere(caller, value, expected, world, client, uncapped, frozen_today):
    assert rules.points_refusal(value).message == expected
    assert submit(caller, world, client, rule=uncapped, points=value) == ("points", expected)
    assert not PointEvent.objects.exists()


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("value", "stored"), [("1000", "1000.0"), ("0.1", "0.1"), ("3分", "3.0"), ("１２", "12.0")])
def test_points_at_the_edges_are_accepted_everywhere(caller, value, stored, world, client, uncapped, frozen_today):
    assert submit(caller, world, client, rule=uncapped, points=value) is None
    if caller == "import":
        return  # the preview writes nothing; its rows are written by claim_record on confirm
    assert PointEvent.objects.get().points == Decimal(stored)


def test_points_rule_takes_the_sign_from_the_kind():
    assert rules.points_clean("-3") == Decimal("3.0") and rules.points_clean("+3") == Decimal("3.0")
    assert rules.signed("deduction", Decimal("3.0")) == Decimal("-3.0")
    assert rules.points_refusal(True) is not None


def test_adjusting_and_correcting_use_the_same_points_rule(world, frozen_today):
    event = record(world, rule=world.rules.haircut)
    with pytest.raises(ValidationError) as exc:
        services.event_adjust(actor=world.committee, event=event, points="1001", reason="调整")
    assert exc.value.message_dict["points"] == [rules.points_refusal("1001").message]


# --- caps -------------------------------------------------------------------------------------


QUARTER_CAP = "超过“保持绿化卫生责任区干净”每季度上限 10.0 分：本季度已记 5.0 分，最多还能记 5.0 分。"
YEAR_CAP = "超过“为群众义务理发”每年上限 60.0 分：今年已记 60.0 分，最多还能记 0.0 分。"


@pytest.mark.parametrize("caller", CALLERS)
def test_quarter_cap_refusal_is_the_same_everywhere(caller, world, client, frozen_today):
    record(world, rule=world.rules.clean, points="5", day=datetime.date(2026, 10, 2))
    verdicts = rules.caps_check(
        rule=ScoringRule.objects.get(pk=world.rules.clean.pk),
        used_quarter=Decimal("5.0"),
        used_year=Decimal("5.0"),
        adding=Decimal("5.1"),
    )
    assert [v.message for v in verdicts] == [QUARTER_CAP]
    assert submit(caller, world, client, rule=world.rules.clean, points="5.1") == ("points", QUARTER_CAP)


@pytest.mark.parametrize("caller", CALLERS)
def test_up_to_the_quarter_cap_is_accepted_everywhere(caller, world, client, frozen_today):
    record(world, rule=world.rules.clean, points="5", day=datetime.date(2026, 10, 2))
    assert submit(caller, world, client, rule=world.rules.clean, points="5") is None


@pytest.mark.parametrize("caller", CALLERS)
def test_year_cap_refusal_is_the_same_everywhere(caller, world, client, frozen_today):
    for month in (2, 5, 8):
        record(world, rule=world.rules.haircut, day=datetime.date(2026, month, 10))
    assert submit(caller, world, client, rule=world.rules.haircut, points="0.1") == ("points", YEAR_CAP)


def test_rejected_entries_and_corrections_do_not_count_toward_caps(world, frozen_today):
    event = record(world, rule=world.rules.clean, points="10", day=datetime.date(2026, 10, 2))
    services.event_reject(actor=world.committee, event=event, reason="不属实")
    assert _service(world, member=world.wang, rule=world.rules.clean, day=DAY, points="10") is None


def test_review_summary_flags_over_cap_by_the_same_rule(world, frozen_today):
    record(world, rule=world.rules.clean, points="5", day=datetime.date(2026, 10, 2))
    event = record(world, rule=world.rules.clean, points="5", day=datetime.date(2026, 10, 3))
    period = Period.objects.get(pk=event.period_id)
    assert period_review(period).over_cap == []  # exactly at the cap: not over
    PointEvent.objects.filter(pk=event.pk).update(points=Decimal("5.1"))  # in by another way
    [flag] = period_review(period).over_cap
    clean = ScoringRule.objects.get(pk=world.rules.clean.pk)
    verdict = rules.caps_check(rule=clean, used_quarter=Decimal("10.1"), used_year=Decimal("10.1"))[0]
    assert (flag["scope"], flag["cap"], flag["used"], flag["message"]) == (
        "quarter",
        10,
        Decimal("10.1"),
        verdict.message,
    )


def test_review_summary_counts_the_other_quarters_toward_the_year_cap(world, frozen_today):
    for month in (2, 5, 8):
        record(world, rule=world.rules.haircut, day=datetime.date(2026, month, 10))
    last = PointEvent.objects.create(
        branch=world.branch_a,
        member=world.wang,
        period=services.period_for(branch=world.branch_a, day=DAY, lock=False),
        rule=world.rules.haircut,
        kind="bonus",
        points=Decimal("0.1"),
        occurred_on=DAY,
        account="从别处进来的条目",
        entry_method="import",
        entered_by=world.secretary,
    )
    [flag] = period_review(last.period).over_cap
    assert (flag["scope"], flag["used"]) == ("year", Decimal("60.1"))


# --- double claims ----------------------------------------------------------------------------


@pytest.mark.parametrize("caller", CALLERS)
def test_double_claim_refusal_is_the_same_everywhere(caller, world, client, frozen_today):
    record(world, rule=world.rules.snow)
    expected = "王学恩 在 2026-11-20 已有一条“参加义务扫雪”记录（待审核），不能重复申报。"
    assert (
        rules.duplicate_refusal(
            member_name="王学恩",
            rule_title="参加义务扫雪",
            occurred_on=DAY,
            existing_method="on_behalf",
            existing_status="pending",
        ).message
        == expected
    )
    assert submit(caller, world, client, rule=world.rules.snow) == ("rule", expected)
    assert PointEvent.objects.count() == 1


@pytest.mark.parametrize("caller", CALLERS)
def test_claim_after_a_meeting_credit_is_the_same_double_claim_everywhere(caller, world, client, frozen_today):
    record(world, rule=world.rules.snow, entry_method=PointEvent.EntryMethod.MEETING)
    expected = "王学恩 在 2026-11-20 的“参加义务扫雪”已由会议考勤记录（待审核），属于重复申报。"
    assert submit(caller, world, client, rule=world.rules.snow) == ("rule", expected)


@pytest.mark.parametrize("caller", CALLERS)
def test_another_day_or_a_rejected_entry_is_no_double_claim(caller, world, client, frozen_today):
    record(world, rule=world.rules.snow, day=DAY - datetime.timedelta(days=1))
    rejected = record(world, rule=world.rules.snow)
    services.event_reject(actor=world.committee, event=rejected, reason="不属实")
    assert submit(caller, world, client, rule=world.rules.snow) is None


def test_the_same_deed_twice_in_one_file_is_refused(world, frozen_today):
    content = xlsx(
        [
            ["姓名", "细则编号", "发生日期", "分值", "事由"],
            ["王学恩", "A02", DAY.isoformat(), "1", "铲雪"],
            ["王学恩", "A02", DAY.isoformat(), "1", "铲雪"],
        ]
    )
    batch = import_preview(actor=world.secretary, branch=world.branch_a, kind="claims", data=content, name="x.xlsx")
    assert [p["message"] for p in batch.problems] == [rules.duplicate_in_batch_refusal(first_row=2).message]


def test_review_summary_groups_the_same_deeds(world, frozen_today):
    first = record(world, rule=world.rules.snow)
    period = first.period
    PointEvent.objects.create(
        branch=world.branch_a,
        member=world.wang,
        period=period,
        rule=world.rules.snow,
        kind="bonus",
        points=1,
        occurred_on=DAY,
        account="又一条",
        entry_method="import",
        entered_by=world.secretary,
    )
    groups = period_review(period).double_claims
    assert groups == rules.double_claim_groups(PointEvent.objects.filter(period=period).order_by("occurred_on", "id"))
    assert [{e.member_id for e in g} for g in groups] == [{world.wang.pk}]


# --- the posting window -------------------------------------------------------------------------


def _posted(world, frozen_today, *, ends_on):
    """Branch A's third quarter, signed and posted on 2026-11-16 for ``ends_on - 11-16`` days."""
    event = record(world, rule=world.rules.snow, day=datetime.date(2026, 8, 10))
    services.event_approve(actor=world.committee, event=event)
    period = services.period_sign(actor=world.secretary, period=Period.objects.get(pk=event.period_id))
    frozen_today(datetime.date(2026, 11, 16))
    period = services.period_post(
        actor=world.committee, period=period, window_days=(ends_on - datetime.date(2026, 11, 16)).days
    )
    frozen_today(datetime.date(2026, 11, 23))
    return period


def _finalise_refusal(world, period):
    try:
        services.period_finalise(actor=world.committee, period=period)
    except ValidationError as exc:
        return exc.messages[0]
    return None


def _objection_refusal(world, period):
    try:
        review_services.feedback_submit(branch=world.branch_a, body="分数不对", period=period)
    except ValidationError as exc:
        return exc.message_dict["period"][0]
    return None


def test_last_day_of_the_window_is_open_for_every_caller(world, frozen_today):
    period = _posted(world, frozen_today, ends_on=datetime.date(2026, 11, 23))
    assert rules.posting_open(period)
    assert _objection_refusal(world, period) is None
    assert [p.pk for p in FeedbackForm(branch=world.branch_a).open_periods] == [period.pk]
    assert _finalise_refusal(world, period) == "公示期到 2026-11-23 结束，结束后才能定稿。"
    assert _finalise_refusal(world, period) == rules.finalise_refusal(period).message


def test_the_day_after_the_window_is_closed_for_every_caller(world, frozen_today):
    period = _posted(world, frozen_today, ends_on=datetime.date(2026, 11, 22))
    assert not rules.posting_open(period)
    assert _objection_refusal(world, period) == "该季度不在公示期内，不能再提出异议；可以作为一般反映提交。"
    assert FeedbackForm(branch=world.branch_a).open_periods == []
    assert Period.objects.filter(rules.posting_closed_q()).get() == period
    assert _finalise_refusal(world, period) is None
    assert Period.objects.get(pk=period.pk).state == Period.State.FINAL


# --- totals -----------------------------------------------------------------------------------


def test_roll_up_from_stored_totals_equals_the_sum_of_events(world, frozen_today):
    from branches.models import Organisation
    from ledger.book.selectors import branch_totals, kind_totals, stored_totals_mismatches

    approved = record(world, rule=world.rules.haircut)
    services.event_approve(actor=world.committee, event=approved)
    adjusted = record(world, rule=world.rules.snow)
    services.event_adjust(actor=world.committee, event=adjusted, points="3", reason="三次")
    record(world, rule=world.rules.clean)  # pending: not in any total
    deduction = services.deduction_add(
        actor=world.secretary, member=world.li, rule=world.rules.absent, occurred_on=DAY, reason="无故缺席"
    )
    services.event_approve(actor=world.committee, event=deduction)
    row = branch_totals(Organisation.objects.filter(pk=world.branch_a.pk), year=2026, quarter=4).get()
    from_events = kind_totals(PointEvent.objects.filter(branch=world.branch_a))
    assert (
        (row.base, row.bonus, row.deduction, row.total)
        == (
            from_events["base"],
            from_events["bonus"],
            from_events["deduction"],
            from_events["total"],
        )
        == (Decimal("0.0"), Decimal("23.0"), Decimal("-3.0"), Decimal("20.0"))
    )
    assert stored_totals_mismatches() == []
