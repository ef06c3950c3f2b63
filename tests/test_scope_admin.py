"""The one scope function, and the admin that goes through it."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.models import Organisation
from branches.scope import branch_scope
from branches.selectors import can_decide, can_sign
from ledger.book import services
from ledger.models import AuditEntry, Period, PointEvent
from members.models import Member
from tests import factories

Q4_DAY = datetime.date(2026, 10, 8)


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def event(world, frozen_today):
    return services.claim_record(
        actor=world.secretary, member=world.wang, rule=world.rules.haircut, occurred_on=Q4_DAY, account="义务理发"
    )


# --- the scope function ------------------------------------------------------------------------


def test_branch_scope_for_each_person(world):
    def names(user, write=False):
        return set(branch_scope(user, write=write).values_list("name", flat=True))

    assert names(world.secretary) == names(world.secretary, write=True) == {"山岔村党支部"}
    assert names(world.committee, write=True) == {"山岔村党支部"}
    assert names(world.other_secretary) == {"西川村党支部"}
    assert names(world.township_officer) == {"山岔村党支部"}
    assert names(world.township_officer, write=True) == set()
    assert names(world.county_officer) == {"山岔村党支部", "西川村党支部"}
    assert names(world.county_officer, write=True) == set()
    assert names(world.member_user) == set()
    assert names(world.villager) == set()
    assert names(None) == set()


def test_inactive_user_sees_nothing(world):
    world.secretary.is_active = False
    world.secretary.save()
    assert not branch_scope(world.secretary).exists()


def test_a_member_sees_only_their_own_account(world, event):
    assert list(Member.objects.visible_to(world.member_user)) == [world.zhang]
    assert not Member.objects.writable_by(world.member_user).exists()
    own = services.claim_record(
        actor=world.member_user, member=world.zhang, rule=world.rules.snow, occurred_on=Q4_DAY, account="扫雪"
    )
    assert list(PointEvent.objects.visible_to(world.member_user)) == [own]


def test_roles(world):
    assert can_decide(world.committee, world.branch_a) and not can_sign(world.committee, world.branch_a)
    assert can_sign(world.deputy, world.branch_a) and can_sign(world.secretary, world.branch_a)
    assert not can_decide(world.other_secretary, world.branch_a)
    assert not can_decide(world.county_officer, world.branch_a)


def test_new_branch_under_township_joins_the_officers_scope(world):
    new = factories.branch(world.township_a, "郭家村党支部")
    assert new in branch_scope(world.township_officer)
    assert new not in branch_scope(world.secretary)


# --- the admin ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model, obj_attr",
    [("members/member", "wang"), ("ledger/pointevent", "event"), ("ledger/period", "period")],
)
def test_other_branch_secretary_gets_404_in_the_admin(world, event, model, obj_attr):
    obj = {"wang": world.wang, "event": event, "period": event.period}[obj_attr]
    app, name = model.split("/")
    client = login(world.other_secretary)
    for view in ("change", "history", "delete"):
        response = client.get(reverse(f"admin:{app}_{name}_{view}", args=[obj.pk]))
        assert response.status_code == 404, (view, response.status_code)
    post = client.post(reverse(f"admin:{app}_{name}_change", args=[obj.pk]), {"name": "改名"})
    assert post.status_code == 404
    world.wang.refresh_from_db()
    assert world.wang.name == "王学恩"


def test_other_branch_rows_are_absent_from_admin_lists(world, event):
    factories.member(world.branch_b, "杨秋生")
    client = login(world.other_secretary)
    members = client.get(reverse("admin:members_member_changelist")).content.decode()
    assert "杨秋生" in members and "王学恩" not in members
    events = client.get(reverse("admin:ledger_pointevent_changelist")).content.decode()
    assert "王学恩" not in events
    audit = client.get(reverse("admin:ledger_auditentry_changelist")).content.decode()
    assert "王学恩" not in audit


def test_other_branch_members_are_not_offered_as_choices(world):
    client = login(world.secretary)
    page = client.get(reverse("admin:members_member_add")).content.decode()
    assert "山岔村党支部" in page and "西川村党支部" not in page


def test_secretary_cannot_add_a_member_to_another_branch(world):
    client = login(world.secretary)
    response = client.post(
        reverse("admin:members_member_add"),
        {
            "branch": world.branch_b.pk,
            "name": "冒名",
            "gender": "male",
            "category": "rural",
            "standing": "full",
            "status": "active",
        },
    )
    assert response.status_code == 200  # the form comes back with an error
    assert not Member.objects.filter(name="冒名").exists()


def test_secretary_adds_a_member_in_the_admin_with_search_keys(world):
    client = login(world.secretary)
    response = client.post(
        reverse("admin:members_member_add"),
        {
            "branch": world.branch_a.pk,
            "name": " 马小红 ",
            "gender": "female",
            "category": "rural",
            "standing": "full",
            "status": "active",
        },
    )
    assert response.status_code == 302
    member = Member.objects.get(name="马小红")
    assert (member.name_initials, member.name_pinyin) == ("mxh", "maxiaohong")
    assert AuditEntry.objects.filter(action="member.create", actor=world.secretary).exists()


def test_admin_search_by_pinyin_initials(world):
    client = login(world.secretary)
    page = client.get(reverse("admin:members_member_changelist"), {"q": "wxe"}).content.decode()
    assert "王学恩" in page and "李秀英" not in page
    page = client.get(reverse("admin:members_member_changelist"), {"q": "lixiu"}).content.decode()
    assert "李秀英" in page and "王学恩" not in page


def test_officers_read_but_cannot_change(world, event):
    client = login(world.township_officer)
    assert client.get(reverse("admin:members_member_change", args=[world.wang.pk])).status_code == 200
    response = client.post(reverse("admin:members_member_change", args=[world.wang.pk]), {"name": "改名"})
    assert response.status_code == 403
    assert client.get(reverse("admin:members_member_add")).status_code == 403


def test_point_events_are_not_edited_in_place(world, event):
    client = login(world.committee)
    response = client.post(reverse("admin:ledger_pointevent_change", args=[event.pk]), {"points": "99"})
    assert response.status_code == 403
    event.refresh_from_db()
    assert str(event.points) == "20.0"


def test_committee_approves_in_bulk_from_the_admin_list(world, event):
    client = login(world.committee)
    response = client.post(
        reverse("admin:ledger_pointevent_changelist"),
        {"action": "approve", "_selected_action": [event.pk]},
        follow=True,
    )
    assert response.status_code == 200
    event.refresh_from_db()
    assert event.status == PointEvent.Status.APPROVED


def test_bulk_approval_refuses_own_entries_with_a_message(world, event):
    client = login(world.secretary)
    response = client.post(
        reverse("admin:ledger_pointevent_changelist"),
        {"action": "approve", "_selected_action": [event.pk]},
        follow=True,
    )
    assert "不能审核本人" in response.content.decode()
    event.refresh_from_db()
    assert event.status == PointEvent.Status.PENDING


def test_audit_trail_is_read_only_for_superusers_too(world, event):
    admin = factories.user("root", is_staff=True, is_superuser=True)
    client = login(admin)
    entry = AuditEntry.objects.first()
    assert client.get(reverse("admin:ledger_auditentry_change", args=[entry.pk])).status_code == 200
    assert client.post(reverse("admin:ledger_auditentry_change", args=[entry.pk]), {"summary": "x"}).status_code == 403
    assert client.post(reverse("admin:ledger_auditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:ledger_auditentry_add")).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk, summary=entry.summary).exists()


def test_entry_history_is_shown_in_the_admin(world, event):
    services.event_reject(actor=world.committee, event=event, reason="照片与事由不符")
    page = login(world.committee).get(reverse("admin:ledger_pointevent_change", args=[event.pk])).content.decode()
    assert "照片与事由不符" in page and "committee" in page


def test_non_staff_member_cannot_use_the_admin(world):
    response = login(world.member_user).get(reverse("admin:index"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_admin_is_in_simplified_chinese(world):
    page = login(world.secretary).get(reverse("admin:index")).content.decode()
    assert "党员积分管理" in page and "积分条目" in page


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def add_events(world, count: int) -> None:
    members = [factories.member(world.branch_a) for _ in range(max(1, count // 10))]
    for index in range(count):
        services.claim_record(
            actor=world.secretary,
            member=members[index % len(members)],
            rule=world.rules.snow,
            occurred_on=datetime.date(2026, 10, 1) + datetime.timedelta(days=index // len(members)),
            account="扫雪",
            points="0.1",
        )


def test_admin_event_list_runs_a_constant_number_of_queries(world, frozen_today):
    client = login(world.committee)
    url = reverse("admin:ledger_pointevent_changelist")
    add_events(world, 10)
    with_10 = count_queries(client, url)
    add_events(world, 90)
    assert PointEvent.objects.count() == 100
    assert count_queries(client, url) == with_10 <= 25


def test_admin_member_list_runs_a_constant_number_of_queries(world):
    client = login(world.secretary)
    url = reverse("admin:members_member_changelist")
    for _ in range(7):
        factories.member(world.branch_a)
    with_10 = count_queries(client, url)
    for _ in range(90):
        factories.member(world.branch_a)
    assert count_queries(client, url) == with_10 <= 20


def test_period_admin_signs_through_the_service(world, frozen_today):
    event = services.claim_record(
        actor=world.secretary,
        member=world.wang,
        rule=world.rules.haircut,
        occurred_on=datetime.date(2026, 8, 1),
        account="理发",
    )
    period = Period.objects.get(pk=event.period_id)
    client = login(world.secretary)
    response = client.post(
        reverse("admin:ledger_period_changelist"), {"action": "sign", "_selected_action": [period.pk]}, follow=True
    )
    assert "待审核" in response.content.decode()
    period.refresh_from_db()
    assert period.state == "open"
    services.event_approve(actor=world.committee, event=event)
    client.post(reverse("admin:ledger_period_changelist"), {"action": "sign", "_selected_action": [period.pk]})
    period.refresh_from_db()
    assert period.state == "signed" and period.content_hash


def test_organisation_tree_paths(world):
    assert world.branch_a.path.startswith(world.township_a.path) and world.township_a.path.startswith(world.county.path)
    assert Organisation.objects.filter(path__startswith=world.county.path).count() == 5


def test_every_model_is_in_the_admin_and_goes_through_the_scope():
    from django.apps import apps
    from django.contrib import admin

    from branches.admin_scope import ScopedAdmin

    ours = [m for m in apps.get_models() if m._meta.app_label in ("branches", "members", "ledger", "reports")]
    assert [m._meta.label for m in ours if m not in admin.site._registry] == []
    assert [m._meta.label for m in ours if not isinstance(admin.site._registry[m], ScopedAdmin)] == []
