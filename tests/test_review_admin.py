"""The review page, the feedback queue and an entry's history in the admin: scope, decisions,
refusals and query counts."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ledger.book import services
from ledger.models import AuditEntry, Evidence, Feedback, Period, PointEvent
from ledger.review import services as review_services
from tests import factories

Q3_DAY = datetime.date(2026, 8, 10)


def _claim(world, member=None, rule=None, day=Q3_DAY):
    return services.claim_record(
        actor=world.secretary,
        member=member or world.wang,
        rule=rule or world.rules.clean,
        occurred_on=day,
        account="责任区一个季度保持干净",
    )


def _review_url(period):
    return reverse("admin:ledger_period_review", args=[period.pk])


def _login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def quarter(world, frozen_today):
    """Q3 2026 of branch A with three pending entries."""
    events = [
        _claim(world, world.wang),
        _claim(world, world.li),
        _claim(world, world.zhang, world.rules.haircut),
    ]
    return events[0].period, events


# --- who sees what -----------------------------------------------------------------------------


def test_committee_sees_the_review_page_with_decision_buttons(client, world, quarter):
    period, events = quarter
    response = _login(client, world.committee).get(_review_url(period))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'value="approve:{events[0].pk}"' in body
    assert "王学恩" in body and "李秀英" in body


def test_other_branch_gets_404(client, world, quarter):
    period, _events = quarter
    assert _login(client, world.other_secretary).get(_review_url(period)).status_code == 404
    assert client.post(_review_url(period), {"decide": f"approve:{quarter[1][0].pk}"}).status_code == 404


@pytest.mark.parametrize("who", ["township_officer", "county_officer"])
def test_officers_read_only_no_buttons_and_posts_refused(client, world, quarter, who):
    period, events = quarter
    _login(client, getattr(world, who))
    response = client.get(_review_url(period))
    assert response.status_code == 200
    assert "approve:" not in response.content.decode()
    assert 'name="sign"' not in response.content.decode()
    assert client.post(_review_url(period), {"decide": f"approve:{events[0].pk}"}).status_code == 403
    assert client.post(_review_url(period), {"sign": "1"}).status_code == 403
    events[0].refresh_from_db()
    assert events[0].status == PointEvent.Status.PENDING


def test_member_and_anonymous_cannot_reach_the_review_page(client, world, quarter):
    period, _events = quarter
    response = client.get(_review_url(period))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    _login(client, world.member_user)
    assert client.get(_review_url(period)).status_code in (302, 403)


# --- decisions ---------------------------------------------------------------------------------


def test_approve_reject_adjust_from_the_review_page(client, world, quarter):
    period, (wang, li, zhang) = quarter
    _login(client, world.committee)
    url = _review_url(period)
    client.post(url, {"decide": f"approve:{wang.pk}"})
    client.post(url, {"decide": f"reject:{li.pk}", f"reason_{li.pk}": "经核实与事实不符"})
    client.post(
        url, {"decide": f"adjust:{zhang.pk}", f"points_{zhang.pk}": "10", f"reason_{zhang.pk}": "只坚持了半个季度"}
    )
    for event in (wang, li, zhang):
        event.refresh_from_db()
    assert wang.status == "approved" and wang.decided_by == world.committee
    assert li.status == "rejected" and li.decision_reason == "经核实与事实不符"
    assert zhang.status == "approved" and zhang.points == 10 and zhang.original_points == 20
    body = client.get(url).content.decode()
    assert '<span class="orig">20.0</span> → <strong>+10.0</strong>' in body


def test_reject_without_reason_shows_the_message_and_changes_nothing(client, world, quarter):
    period, (wang, _li, _zhang) = quarter
    _login(client, world.committee)
    response = client.post(_review_url(period), {"decide": f"reject:{wang.pk}"}, follow=True)
    assert "不通过必须写明理由" in response.content.decode()
    wang.refresh_from_db()
    assert wang.status == "pending"


def test_adjust_without_reason_is_refused(client, world, quarter):
    period, (wang, _li, _zhang) = quarter
    _login(client, world.committee)
    response = client.post(_review_url(period), {"decide": f"adjust:{wang.pk}", f"points_{wang.pk}": "5"}, follow=True)
    assert "调整分值必须写明理由" in response.content.decode()
    wang.refresh_from_db()
    assert wang.status == "pending" and wang.points == 10


def test_nobody_decides_an_entry_they_entered(client, world, quarter):
    period, (wang, _li, _zhang) = quarter  # entered by the secretary
    _login(client, world.secretary)
    response = client.post(_review_url(period), {"decide": f"approve:{wang.pk}"}, follow=True)
    assert "不能审核本人申报" in response.content.decode()
    wang.refresh_from_db()
    assert wang.status == "pending"


def test_approved_entry_cannot_be_approved_again(client, world, quarter):
    period, (wang, _li, _zhang) = quarter
    _login(client, world.committee)
    client.post(_review_url(period), {"decide": f"approve:{wang.pk}"})
    response = client.post(_review_url(period), {"decide": f"approve:{wang.pk}"}, follow=True)
    assert "不能重复审核" in response.content.decode()
    assert AuditEntry.objects.filter(action="event.approve", object_id=wang.pk).count() == 1


def test_bulk_approve_and_bulk_reject_needs_a_reason(client, world, quarter):
    period, events = quarter
    _login(client, world.committee)
    ids = [str(e.pk) for e in events[:2]]
    response = client.post(_review_url(period), {"bulk": "reject", "ids": ids}, follow=True)
    assert "不通过必须写明理由" in response.content.decode()
    assert PointEvent.objects.filter(status="pending").count() == 3
    client.post(_review_url(period), {"bulk": "approve", "ids": ids})
    assert PointEvent.objects.filter(status="approved").count() == 2


def test_decision_on_an_event_of_another_quarter_is_404(client, world, quarter, frozen_today):
    period, _events = quarter
    other = _claim(world, world.wang, world.rules.snow, day=datetime.date(2026, 10, 8))
    _login(client, world.committee)
    assert client.post(_review_url(period), {"decide": f"approve:{other.pk}"}).status_code == 404


def test_deduction_from_feedback_on_the_review_page(client, world, quarter):
    period, _events = quarter
    feedback = review_services.feedback_submit(branch=world.branch_a, body="李秀英在河道乱倒垃圾", member=world.li)
    _login(client, world.committee)
    client.post(
        _review_url(period),
        {
            "deduction": "1",
            "member": world.li.pk,
            "rule": world.rules.absent.pk,
            "points": "",
            "occurred_on": "2026-09-01",
            "reason": "群众反映乱倒垃圾，经核实属实",
            "feedback": feedback.pk,
        },
    )
    event = PointEvent.objects.get(entry_method="committee")
    assert event.feedback == feedback and event.period == period and event.points == -3
    answer = client.get(reverse("admin:ledger_feedback_answer", args=[feedback.pk])).content.decode()
    assert f"#{event.pk}" in answer
    history = client.get(reverse("admin:ledger_pointevent_change", args=[event.pk])).content.decode()
    assert feedback.reference in history


def test_sign_refused_with_the_pending_list_then_succeeds(client, world, quarter):
    period, events = quarter
    _login(client, world.secretary)
    response = client.post(_review_url(period), {"sign": "1"}, follow=True)
    body = response.content.decode()
    assert "还有 3 条待审核条目" in body and "王学恩" in body
    for event in events:
        services.event_approve(actor=world.committee, event=event)
    client.post(_review_url(period), {"sign": "1"})
    period.refresh_from_db()
    assert period.state == Period.State.SIGNED and period.signed_by == world.secretary


def test_committee_member_cannot_sign(client, world, quarter):
    period, events = quarter
    for event in events:
        services.event_approve(actor=world.committee, event=event)
    _login(client, world.committee)
    assert 'name="sign"' not in client.get(_review_url(period)).content.decode()
    response = client.post(_review_url(period), {"sign": "1"}, follow=True)
    assert "只有书记" in response.content.decode()
    period.refresh_from_db()
    assert period.state == Period.State.OPEN


def test_post_with_window_and_act_on_signed_quarter_refused(client, world, quarter):
    period, events = quarter
    for event in events:
        services.event_approve(actor=world.committee, event=event)
    services.period_sign(actor=world.secretary, period=period)
    _login(client, world.committee)
    client.post(_review_url(period), {"post": "1", "window_days": "5"})
    period.refresh_from_db()
    assert period.state == Period.State.POSTED and period.posting_ends_on == datetime.date(2026, 11, 28)
    response = client.post(
        _review_url(period),
        {
            "deduction": "1",
            "member": world.li.pk,
            "rule": world.rules.absent.pk,
            "occurred_on": "2026-09-01",
            "reason": "补扣",
        },
        follow=True,
    )
    assert "已由书记签字封存" in response.content.decode()
    assert PointEvent.objects.filter(entry_method="committee").count() == 0


def test_review_mark_shows_who_reviewed(client, world, quarter):
    period, _events = quarter
    _login(client, world.committee)
    client.post(_review_url(period), {"mark": "1", "mark_note": "已逐条核对"})
    body = client.get(_review_url(period)).content.decode()
    assert "已逐条核对" in body and "✓" in body


def test_summary_flags_over_cap_double_claims_idle_and_on_behalf(client, world, quarter, frozen_today):
    period, (wang, _li, _zhang) = quarter
    # Entered around the services (as an import of old paper records might): over the cap, twice
    # on one day, and a meeting credit next to a self-declared claim on the same day.
    PointEvent.objects.create(
        branch=world.branch_a,
        member=world.wang,
        period=period,
        rule=world.rules.clean,
        kind="bonus",
        points=10,
        occurred_on=Q3_DAY,
        account="重复",
        entry_method="import",
        entered_by=world.secretary,
    )
    meeting_rule = factories.rule(world.county, code="A04", title="参加三会一课")
    for source in ("meeting", "self"):
        PointEvent.objects.create(
            branch=world.branch_a,
            member=world.li,
            period=period,
            rule=meeting_rule if source == "meeting" else world.rules.snow,
            kind="bonus",
            points=1,
            occurred_on=datetime.date(2026, 9, 3),
            account="参加党员大会",
            entry_method=source,
            entered_by=world.secretary,
        )
    idle = factories.member(world.branch_a, "郭春生")
    response = _login(client, world.committee).get(_review_url(period))
    summary = response.context["summary"]
    assert any(row["events"][0].member == world.wang and row["cap"] == 10 for row in summary.over_cap)
    assert any({e.member_id for e in group} == {world.wang.pk} for group in summary.double_claims)
    assert any({e.entry_method for e in group} == {"meeting", "self"} for group in summary.double_claims)
    assert idle in summary.idle_members and world.wang not in summary.idle_members
    assert wang in summary.on_behalf


# --- history -----------------------------------------------------------------------------------


def test_history_shows_created_decided_adjusted_corrected_read_only_even_for_superusers(client, world, quarter):
    period, (_wang, _li, zhang) = quarter
    services.event_adjust(actor=world.committee, event=zhang, points="10", reason="只坚持了半个季度")
    for event in PointEvent.objects.filter(status="pending"):
        services.event_approve(actor=world.committee, event=event)
    services.period_sign(actor=world.secretary, period=period)
    services.event_correct(actor=world.committee, original=zhang, points="15", reason="复核后认定三分之二")
    admin_user = factories.user("root", is_staff=True, is_superuser=True)
    _login(client, admin_user)
    url = reverse("admin:ledger_pointevent_change", args=[zhang.pk])
    body = client.get(url).content.decode()
    for text in ("录入", "调整", "只坚持了半个季度", "复核后认定三分之二", "原分值 20.0", "陈桂兰", "刘振华"):
        assert text in body, text
    assert 'name="_save"' not in body
    response = client.post(url, {"points": "99", "decision_reason": "x"})
    assert response.status_code == 403
    audit = AuditEntry.objects.filter(object_id=zhang.pk).first()
    assert client.post(reverse("admin:ledger_auditentry_change", args=[audit.pk]), {"summary": "x"}).status_code == 403
    assert client.post(reverse("admin:ledger_auditentry_delete", args=[audit.pk]), {"post": "yes"}).status_code == 403
    zhang.refresh_from_db()
    assert zhang.points == 10


# --- feedback queue ----------------------------------------------------------------------------


def test_feedback_queue_scoped_and_contact_visible_only_to_the_branch_committee(client, world):
    mine = review_services.feedback_submit(branch=world.branch_a, body="甲村的事", contact="13911112222")
    theirs = review_services.feedback_submit(branch=world.branch_b, body="西川的事")
    _login(client, world.committee)
    body = client.get(reverse("admin:ledger_feedback_changelist")).content.decode()
    assert mine.reference in body and theirs.reference not in body
    assert client.get(reverse("admin:ledger_feedback_answer", args=[theirs.pk])).status_code == 404
    assert "13911112222" in client.get(reverse("admin:ledger_feedback_answer", args=[mine.pk])).content.decode()
    assert "13911112222" in client.get(reverse("admin:ledger_feedback_change", args=[mine.pk])).content.decode()
    _login(client, world.township_officer)
    for url in (
        reverse("admin:ledger_feedback_answer", args=[mine.pk]),
        reverse("admin:ledger_feedback_change", args=[mine.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200 and "13911112222" not in response.content.decode()


def test_feedback_answer_page_resolves_and_officer_cannot(client, world):
    feedback = review_services.feedback_submit(branch=world.branch_a, body="有事")
    url = reverse("admin:ledger_feedback_answer", args=[feedback.pk])
    _login(client, world.township_officer)
    assert client.get(url).status_code == 200
    assert client.post(url, {"resolve": "1", "resolution": "no_action", "note": "无"}).status_code == 403
    _login(client, world.committee)
    response = client.post(url, {"resolve": "1", "resolution": "no_action", "note": ""}, follow=True)
    assert "请写明答复意见" in response.content.decode()
    client.post(url, {"resolve": "1", "resolution": "no_action", "note": "经核实无此事"})
    feedback.refresh_from_db()
    assert feedback.resolution == "no_action" and feedback.note == "经核实无此事"


# --- query counts ------------------------------------------------------------------------------


def _fill(world, period, count: int) -> None:
    members = [world.wang, world.li, world.zhang]
    rule = factories.rule(world.county, points="1", title="日常服务")
    created = PointEvent.objects.filter(period=period).count()
    day = datetime.date(2026, 7, 1)
    n = 0
    while created < count:
        member = members[n % 3]
        event = services.claim_record(
            actor=world.secretary,
            member=member,
            rule=rule,
            occurred_on=day + datetime.timedelta(days=n // 3),
            account="为群众办实事",
        )
        Evidence.objects.create(event=event, image=f"evidence/{event.pk}.jpg")
        if n % 4 == 0:
            services.event_approve(actor=world.committee, event=event)
        n += 1
        created += 1
    review_services.feedback_submit(branch=world.branch_a, body=f"反映 {count}", member=world.wang)


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_review_page_and_feedback_queue_constant_queries(client, world, frozen_today):
    period = _claim(world).period
    _login(client, world.committee)
    url = _review_url(period)
    queue = reverse("admin:ledger_feedback_changelist")
    _fill(world, period, 10)
    small, small_queue = _count_queries(client, url), _count_queries(client, queue)
    _fill(world, period, 200)
    for _i in range(40):
        review_services.feedback_submit(branch=world.branch_a, body="又一条", member=world.li)
    assert PointEvent.objects.filter(period=period).count() == 200
    large, large_queue = _count_queries(client, url), _count_queries(client, queue)
    print(f"review page queries: {small} (10 entries) / {large} (200); feedback queue: {small_queue} / {large_queue}")
    assert large == small
    assert large_queue == small_queue
    assert Feedback.objects.count() == 42


def test_own_entries_show_no_decision_buttons(client, world, quarter):
    period, (wang, _li, _zhang) = quarter  # entered by the secretary
    body = _login(client, world.secretary).get(_review_url(period)).content.decode()
    assert f'value="approve:{wang.pk}"' not in body
    assert "由其他支委审核" in body


def test_objection_upheld_answered_then_final_through_the_admin(client, world, quarter, frozen_today):
    period, events = quarter
    for event in events:
        services.event_approve(actor=world.committee, event=event)
    services.period_sign(actor=world.secretary, period=period)
    services.period_post(actor=world.committee, period=period)
    objection = review_services.feedback_submit(branch=world.branch_a, body="张海燕只理了一个月发", period=period)
    frozen_today(datetime.date(2026, 12, 2))
    _login(client, world.committee)
    response = client.post(_review_url(period), {"finalise": "1"}, follow=True)
    assert objection.reference in response.content.decode()
    answer_url = reverse("admin:ledger_feedback_answer", args=[objection.pk])
    client.post(answer_url, {"correction": "1", "original": events[2].pk, "points": "10", "reason": "只理了一个月"})
    correction = PointEvent.objects.get(corrects=events[2])
    assert correction.feedback == objection and correction.points == -10 and correction.period.quarter == 4
    client.post(answer_url, {"resolve": "1", "resolution": "corrected", "note": "异议成立，已在第四季度更正"})
    client.post(_review_url(period), {"finalise": "1"})
    period.refresh_from_db()
    assert period.state == Period.State.FINAL


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("secretary", 200),
        ("committee", 200),
        ("deputy", 200),
        ("township_officer", 200),
        ("county_officer", 200),
        ("other_secretary", 404),
        ("other_committee", 404),
        ("member_user", 302),
        (None, 302),
    ],
)
def test_every_review_url_for_every_named_user(client, world, quarter, who, expected):
    period, _events = quarter
    feedback = review_services.feedback_submit(branch=world.branch_a, body="有事")
    if who:
        _login(client, getattr(world, who))
    urls = [
        _review_url(period),
        reverse("admin:ledger_feedback_answer", args=[feedback.pk]),
        reverse("admin:ledger_feedback_change", args=[feedback.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == expected, url
    listing = client.get(reverse("admin:ledger_period_changelist"))
    if expected == 200:
        assert _review_url(period) in listing.content.decode()
