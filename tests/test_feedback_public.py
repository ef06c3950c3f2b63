"""The villagers' public feedback form and answer lookup: no login, abuse protection, privacy."""

import datetime

import pytest
from django.core.cache import cache
from django.urls import reverse

from ledger.book import services
from ledger.models import Feedback
from ledger.review import services as review_services


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def _url(world):
    return reverse("feedback_create", kwargs={"code": world.branch_a.code})


def test_form_without_login_lists_members_and_saves(client, world):
    response = client.get(_url(world))
    assert response.status_code == 200
    assert "王学恩" in response.content.decode()
    assert "杨长生" not in response.content.decode()  # another branch's member
    response = client.post(
        _url(world), {"member": world.wang.pk, "body": "在村道堆放柴草", "contact": "13900001111", "website": ""}
    )
    assert response.status_code == 200
    feedback = Feedback.objects.get()
    assert feedback.member == world.wang and feedback.contact == "13900001111"
    assert feedback.reference in response.content.decode()


def test_unknown_branch_is_404(client, world):
    assert client.get(reverse("feedback_create", kwargs={"code": "nowhere"})).status_code == 404
    assert client.get(reverse("feedback_create", kwargs={"code": world.township_a.code})).status_code == 404


def test_honeypot_pretends_success_and_keeps_nothing(client, world):
    response = client.post(_url(world), {"body": "买药找我", "website": "http://spam.example"})
    assert response.status_code == 200
    assert Feedback.objects.count() == 0


@pytest.mark.parametrize("body", ["", "   ", "字" * 1001])
def test_empty_or_too_long_is_refused(client, world, body):
    response = client.post(_url(world), {"body": body})
    assert response.status_code == 400
    assert Feedback.objects.count() == 0
    text = response.content.decode()
    assert "请写明反映的事情" in text or "1000" in text


def test_contact_too_long_is_refused(client, world):
    response = client.post(_url(world), {"body": "有事", "contact": "9" * 51})
    assert response.status_code == 400 and Feedback.objects.count() == 0


def test_member_of_another_branch_is_refused(client, world):
    response = client.post(_url(world), {"body": "有事", "member": world.yang.pk})
    assert response.status_code == 400 and Feedback.objects.count() == 0


def test_rate_limit_per_address(client, world, settings):
    settings.FEEDBACK_PER_HOUR = 2
    for i in range(2):
        assert client.post(_url(world), {"body": f"第{i}条"}).status_code == 200
    response = client.post(_url(world), {"body": "第三条"})
    assert response.status_code == 429
    assert "提交太频繁" in response.content.decode()
    assert Feedback.objects.count() == 2
    # another address is not affected
    assert client.post(_url(world), {"body": "别人的"}, REMOTE_ADDR="10.0.0.9").status_code == 200


def test_objection_offered_only_during_a_posting_window(client, world, frozen_today):
    event = services.claim_record(
        actor=world.secretary,
        member=world.wang,
        rule=world.rules.clean,
        occurred_on=datetime.date(2026, 8, 10),
        account="卫生区干净",
    )
    assert "异议" not in client.get(_url(world)).content.decode()
    services.event_approve(actor=world.committee, event=event)
    period = services.period_sign(actor=world.secretary, period=event.period)
    services.period_post(actor=world.committee, period=period)
    assert "公示积分的异议" in client.get(_url(world)).content.decode()
    client.post(_url(world), {"body": "卫生区并不干净", "period": period.pk})
    assert Feedback.objects.get().period == period


def test_lookup_shows_the_answer_but_no_names_or_contacts(client, world):
    feedback = review_services.feedback_submit(
        branch=world.branch_a, body="王学恩占道", member=world.wang, contact="13900001111"
    )
    url = reverse("feedback_lookup")
    response = client.get(url, {"code": feedback.reference.lower()})
    assert response.status_code == 200 and "尚未答复" in response.content.decode()
    review_services.feedback_resolve(
        actor=world.committee, feedback=feedback, resolution="no_action", note="已核实，无此事"
    )
    body = client.get(url, {"code": feedback.reference}).content.decode()
    assert "已核实，无此事" in body
    for private in ("13900001111", "王学恩", "陈桂兰"):
        assert private not in body


def test_lookup_unknown_code_and_rate_limit(client, world, settings):
    settings.LOOKUPS_PER_HOUR = 2
    url = reverse("feedback_lookup")
    assert client.get(url, {"code": "ABCDEFGHJK"}).status_code == 404
    assert client.get(url, {"code": "ABCDEFGHJK"}).status_code == 404
    response = client.get(url, {"code": "ABCDEFGHJK"})
    assert response.status_code == 429 and "查询太频繁" in response.content.decode()
    assert client.get(url).status_code == 200  # the empty form costs nothing
