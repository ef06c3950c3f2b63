"""Lists run a constant number of queries; pages stay light (JS + CSS under 200 KB)."""

import datetime
import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ledger.book import services
from ledger.meetings.services import meeting_record
from ledger.models import Meeting
from tests import factories

PAGE_WEIGHT_LIMIT = 200 * 1024


def _grow(world, total: int) -> None:
    """Bring branch A to ``total`` members, each with an approved entry this quarter."""
    from members.models import Member

    have = Member.objects.filter(branch=world.branch_a).count()
    for _ in range(total - have):
        member = factories.member(world.branch_a)
        event = services.claim_record(
            actor=world.secretary,
            member=member,
            rule=world.rules.snow,
            occurred_on=datetime.date(2026, 11, 2),
            account="扫雪",
        )
        services.event_approve(actor=world.committee, event=event)


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _meeting(world, members):
    return meeting_record(
        actor=world.secretary,
        branch=world.branch_a,
        type=Meeting.Type.GENERAL,
        held_on=datetime.date(2026, 11, 5 + Meeting.objects.count()),
        topic="学习",
        attendance_rule=world.rules.snow,
        absence_rule=world.rules.absent,
        attendance={m.pk: ("present", "") for m in members},
    )


def test_lists_run_the_same_number_of_queries_for_10_and_100_members(world, frozen_today):
    from members.models import Member

    client = Client()
    client.force_login(world.secretary)
    officer = Client()
    officer.force_login(world.county_officer)
    pages = [
        (client, reverse("branch_home", args=[world.branch_a.pk]), None),
        (client, reverse("branch_home", args=[world.branch_a.pk]), {"sort": "total", "q": "w"}),
        (client, reverse("branch_members", args=[world.branch_a.pk]), {"sort": "pinyin"}),
        (client, reverse("meeting_create", args=[world.branch_a.pk]), None),
        (client, reverse("group_activity_create", args=[world.branch_a.pk]), None),
        (client, reverse("claim_create", args=[world.branch_a.pk]), None),
        (officer, reverse("overview"), None),
    ]
    _grow(world, 10)
    first = _meeting(world, Member.objects.filter(branch=world.branch_a))
    small = [_queries(c, url, params) for c, url, params in pages]
    small_detail = _queries(client, reverse("meeting_detail", args=[world.branch_a.pk, first.pk]))
    _grow(world, 100)
    assert Member.objects.filter(branch=world.branch_a).count() == 100
    second = _meeting(world, Member.objects.filter(branch=world.branch_a))
    large = [_queries(c, url, params) for c, url, params in pages]
    assert small == large
    assert small_detail == _queries(client, reverse("meeting_detail", args=[world.branch_a.pk, second.pk]))


def test_account_runs_the_same_number_of_queries_for_few_and_many_entries(world, frozen_today):
    client = Client()
    client.force_login(world.member_user)
    for day in (1, 2):
        services.claim_record(
            actor=world.secretary,
            member=world.zhang,
            rule=world.rules.snow,
            occurred_on=datetime.date(2026, 11, day),
            account="扫雪",
        )
    few = _queries(client, reverse("my_account"))
    for day in range(3, 10):
        services.claim_record(
            actor=world.secretary,
            member=world.zhang,
            rule=world.rules.snow,
            occurred_on=datetime.date(2026, 11, day),
            account="扫雪",
        )
    assert few == _queries(client, reverse("my_account"))


def _assets(html: str) -> list[str]:
    refs = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', html)
    refs += re.findall(r'<script[^>]+src="([^"]+)"', html)
    return refs


@pytest.mark.parametrize(
    ("who", "name", "with_branch"),
    [
        (None, "login", False),
        ("secretary", "branch_home", True),
        ("secretary", "claim_create", True),
        ("secretary", "group_activity_create", True),
        ("secretary", "meeting_create", True),
        ("secretary", "meeting_list", True),
        ("secretary", "deduction_create", True),
        ("county_officer", "overview", False),
        ("member_user", "my_account", False),
        ("member_user", "my_declare", False),
        ("member_user", "my_statement", False),
    ],
)
def test_page_weight_of_js_and_css_is_under_200_kb(world, frozen_today, who, name, with_branch):
    client = Client()
    if who:
        client.force_login(getattr(world, who))
    response = client.get(reverse(name, args=[world.branch_a.pk] if with_branch else []))
    assert response.status_code == 200
    total = 0
    assets = _assets(response.content.decode())
    assert assets, "a page with no stylesheet is not what we expect"
    for ref in assets:
        assert ref.startswith(settings.STATIC_URL) or ref.startswith("/" + settings.STATIC_URL), ref
        path = finders.find(ref.split(settings.STATIC_URL, 1)[1])
        assert path, ref
        with open(path, "rb") as fh:
            total += len(fh.read())
    assert total < PAGE_WEIGHT_LIMIT, f"{name}: {total} bytes of JS and CSS"
