"""django-import-export in the admin: import with its confirm step, scoped, through services."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ledger.models import AuditEntry, PointEvent, ScoringRule
from ledger.resources import ClaimResource
from members.models import Member
from tests.xlsx import read, xlsx

pytestmark = pytest.mark.usefixtures("frozen_today")


def staff(user):
    user.is_staff = True
    user.save()
    return user


def admin_import(client, url, content):
    response = client.post(url, {"format": "0", "import_file": SimpleUploadedFile("名册.xlsx", content)})
    assert response.status_code == 200
    return response


def admin_confirm(client, url, response):
    form = response.context["confirm_form"]
    return client.post(url.replace("import/", "process_import/"), form.initial)


def test_member_roll_import_in_admin_previews_then_writes_through_services(client, world):
    client.force_login(staff(world.secretary))
    url = "/admin/members/member/import/"
    content = xlsx([["所在支部", "姓名", "性别", "出生日期"], ["山岔村党支部", "周立波", "男", "1970-01-02"]])
    preview = admin_import(client, url, content)
    assert "周立波" in preview.content.decode()
    assert not Member.objects.filter(name="周立波").exists()
    done = admin_confirm(client, url, preview)
    assert done.status_code == 302
    zhou = Member.objects.get(name="周立波")
    assert zhou.branch == world.branch_a and zhou.name_initials == "zlb"  # keys set by member_create
    assert AuditEntry.objects.filter(action="member.create", object_id=zhou.pk, actor=world.secretary).exists()


def test_admin_import_into_another_branch_is_refused(client, world):
    client.force_login(staff(world.secretary))
    url = "/admin/members/member/import/"
    content = xlsx([["所在支部", "姓名", "性别"], ["西川村党支部", "周立波", "男"]])
    response = admin_import(client, url, content)
    assert "confirm_form" not in response.context or response.context["confirm_form"] is None
    assert not Member.objects.filter(name="周立波").exists()


def test_officers_cannot_import_members(client, world):
    client.force_login(staff(world.township_officer))
    assert client.get("/admin/members/member/import/").status_code == 403


def test_member_export_is_scoped_and_neutralised(client, world):
    from members.services import member_update

    member_update(actor=None, member=world.wang, group="=cmd|' /C calc'!A0")
    client.force_login(staff(world.secretary))
    form = client.get("/admin/members/member/export/").context["form"]
    data = {
        "format": "0",
        "resource": "0",
        **{name: "on" for name in form.fields if name.startswith("memberresource_")},
    }
    response = client.post("/admin/members/member/export/", data)
    assert response.status_code == 200
    rows = read(response.content)[0]
    assert rows[0][:3] == ["编号", "所在支部", "姓名"]
    names = {row[2] for row in rows[1:]}
    assert names == {"王学恩", "张海燕", "李秀英"}
    assert "'=cmd|' /C calc'!A0" in [cell for row in rows for cell in row]


def test_rule_import_for_township_officer(client, world):
    client.force_login(staff(world.township_officer))
    url = "/admin/ledger/scoringrule/import/"
    content = xlsx(
        [
            ["制定组织", "编号", "细则名称", "类别", "默认分值", "每季度上限"],
            ["潘河乡", "P01", "护林防火巡查", "贡献加分", "2", "6"],
        ]
    )
    done = admin_confirm(client, url, admin_import(client, url, content))
    assert done.status_code == 302
    rule = ScoringRule.objects.get(code="P01")
    assert rule.organisation == world.township_a and rule.cap_per_quarter == 6


def test_rule_import_into_an_organisation_outside_scope_is_refused(client, world):
    client.force_login(staff(world.township_officer))
    content = xlsx([["制定组织", "编号", "细则名称", "类别", "默认分值"], ["双槐树乡", "P01", "护林", "贡献加分", "2"]])
    admin_import(client, "/admin/ledger/scoringrule/import/", content)
    assert not ScoringRule.objects.filter(code="P01").exists()


def test_claim_resource_writes_through_claim_record(world):
    import tablib

    dataset = tablib.Dataset(headers=["姓名", "细则编号", "发生日期", "分值", "事由", "地点"])
    dataset.append(["王学恩", "A02", "2026年11月2日", "1", "铲雪", "村口"])
    dataset.append(["杨长生", "A02", "2026-11-02", "1", "铲雪", ""])
    result = ClaimResource(user=world.secretary).import_data(
        dataset, dry_run=False, raise_errors=False, rollback_on_validation_errors=True
    )
    assert result.has_validation_errors() or result.has_errors()
    assert not PointEvent.objects.exists()  # all or nothing
    dataset.pop()
    result = ClaimResource(user=world.secretary).import_data(dataset, dry_run=False)
    event = PointEvent.objects.get()
    assert event.entry_method == "import" and event.status == "pending" and event.entered_by == world.secretary
    assert event.occurred_on == datetime.date(2026, 11, 2)
