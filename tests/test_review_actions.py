"""The review page's and the feedback answer page's action tables: each action reaches its
service, an unknown action is refused cleanly, read-only users are refused every action, and the
one permission selector answers for buttons and POSTs alike."""

import datetime

import pytest
from django.urls import reverse

from ledger.book import services
from ledger.review import services as review_services
from ledger.review.forms import FEEDBACK_ACTIONS, PERIOD_ACTIONS
from ledger.review.selectors import DECIDE, SIGN, period_permissions
from tests.test_review_admin import _claim, _login, _review_url


@pytest.fixture
def quarter(world, frozen_today):
    events = [_claim(world, world.wang), _claim(world, world.li)]
    return events[0].period, events


def _posts(world, period, events) -> dict[str, tuple[object, str, dict]]:
    """For every action of the review page: (module, service name, POST data)."""
    first, second = events
    deduction = {
        "deduction": "1",
        "member": world.wang.pk,
        "rule": world.rules.absent.pk,
        "occurred_on": "2026-08-12",
        "reason": "无故缺席",
    }
    return {
        "approve": (services, "event_approve", {"decide": f"approve:{first.pk}", f"reason_{first.pk}": "属实"}),
        "reject": (services, "event_reject", {"decide": f"reject:{first.pk}", f"reason_{first.pk}": "不属实"}),
        "adjust": (services, "event_adjust", {"decide": f"adjust:{first.pk}", f"points_{first.pk}": "5"}),
        "bulk": (services, "events_decide_bulk", {"bulk": "approve", "ids": [first.pk, second.pk]}),
        "deduction": (services, "deduction_add", deduction),
        "start_review": (services, "period_start_review", {"start_review": "1"}),
        "mark": (review_services, "review_mark", {"mark": "1", "mark_note": "已核对"}),
        "sign": (services, "period_sign", {"sign": "1"}),
        "post": (services, "period_post", {"post": "1", "window_days": "5"}),
        "finalise": (services, "period_finalise", {"finalise": "1"}),
    }


class Recorder:
    def __init__(self, result):
        self.calls = []
        self.result = result

    def __call__(self, **kwargs):
        self.calls.append(kwargs)
        return self.result


def test_the_table_covers_every_button(world, quarter):
    assert set(_posts(world, *quarter)) == set(PERIOD_ACTIONS)
    assert set(FEEDBACK_ACTIONS) == {"deduction", "correction", "resolve"}


@pytest.mark.parametrize("name", sorted(PERIOD_ACTIONS))
def test_each_review_action_dispatches_to_its_service(client, world, quarter, monkeypatch, name):
    period, events = quarter
    module, function, data = _posts(world, period, events)[name]
    results = {"events_decide_bulk": (2, []), "review_mark": None}
    recorder = Recorder(results.get(function, period if function.startswith("period_") else events[0]))
    monkeypatch.setattr(module, function, recorder)
    response = _login(client, world.secretary).post(_review_url(period), data)
    assert response.status_code == 302
    assert len(recorder.calls) == 1
    call = recorder.calls[0]
    assert call["actor"] == world.secretary
    if name in ("approve", "reject", "adjust"):
        assert call["event"] == events[0]
    if name == "adjust":
        assert call["points"] == "5"
    if name == "bulk":
        assert call["action"] == "approve" and list(call["events"]) == events
    if name == "deduction":
        assert call["member"] == world.wang and call["rule"] == world.rules.absent
        assert call["occurred_on"] == datetime.date(2026, 8, 12)
    if name in ("start_review", "mark", "sign", "post", "finalise"):
        assert call["period"] == period
    if name == "post":
        assert call["window_days"] == 5


def test_deduction_naming_a_feedback_goes_to_the_feedback_service(client, world, quarter, monkeypatch):
    period, events = quarter
    feedback = review_services.feedback_submit(branch=world.branch_a, body="王学恩缺席会议")
    recorder = Recorder(events[0])
    monkeypatch.setattr(review_services, "feedback_deduction_add", recorder)
    data = dict(_posts(world, period, events)["deduction"][2], feedback=feedback.pk)
    _login(client, world.committee).post(_review_url(period), data)
    assert recorder.calls[0]["feedback"] == feedback


@pytest.mark.parametrize(
    "data",
    [{"explode": "1"}, {}, {"decide": "explode:1"}, {"decide": "approve"}, {"bulk": "explode", "ids": ["1"]}],
)
def test_unknown_action_is_refused_cleanly(client, world, quarter, data):
    period, _events = quarter
    assert _login(client, world.secretary).post(_review_url(period), data).status_code == 404


@pytest.mark.parametrize("officer", ["township_officer", "county_officer"])
def test_read_only_officer_is_refused_every_action(client, world, quarter, officer):
    period, events = quarter
    _login(client, getattr(world, officer))
    assert period_permissions(getattr(world, officer), period) == frozenset()
    for name, (_module, _function, data) in _posts(world, period, events).items():
        assert client.post(_review_url(period), data).status_code == 403, name
    feedback = review_services.feedback_submit(branch=world.branch_a, body="有事")
    url = reverse("admin:ledger_feedback_answer", args=[feedback.pk])
    for name in FEEDBACK_ACTIONS:
        assert client.post(url, {name: "1"}).status_code == 403, name
    for event in events:
        event.refresh_from_db()
        assert event.status == event.Status.PENDING
    period.refresh_from_db()
    assert period.state == period.State.OPEN


def test_one_selector_for_buttons_and_posts(world, quarter):
    period, _events = quarter
    assert period_permissions(world.secretary, period) == {DECIDE, SIGN}
    assert period_permissions(world.committee, period) == {DECIDE}
    assert period_permissions(world.other_secretary, period) == frozenset()
    assert period_permissions(world.member_user, period) == frozenset()


def test_form_errors_are_messages_not_500(client, world, quarter):
    period, _events = quarter
    _login(client, world.committee)
    response = client.post(_review_url(period), {"deduction": "1"}, follow=True)
    body = response.content.decode()
    assert response.status_code == 200
    assert "请选择本支部的党员" in body and "请填写发生日期" in body
    response = client.post(_review_url(period), {"post": "1", "window_days": "abc"}, follow=True)
    assert "公示期应为 1 到 30 天" in response.content.decode()
