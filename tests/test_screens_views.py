"""The secretary and member screens, through the Django test client."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from ledger.book import services
from ledger.models import Attendance, Evidence, Meeting, Period, PointEvent
from tests import factories
from tests.screens_helpers import GPS_IFD, photo_with_gps, post_form, token_from

DAY = "2026-11-20"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def claim_data(world, **extra):
    data = {
        "member": world.wang.pk,
        "rule": world.rules.haircut.pk,
        "occurred_on": DAY,
        "points": "",
        "place": "村委会门口",
        "account": "为村里老人义务理发",
        "entry_method": "on_behalf",
    }
    data.update(extra)
    return data


# --- sign-in and home ------------------------------------------------------------------------


def test_sign_in_with_username(world):
    client = Client()
    response = client.post(reverse("login"), {"username": "secretary", "password": "pw-for-tests-1"})
    assert response.status_code == 302
    assert client.get("/").url == reverse("branch_home", args=[world.branch_a.pk])


def test_sign_in_with_mobile_number(world):
    client = Client()
    response = client.post(reverse("login"), {"username": world.zhang.phone, "password": "pw-for-tests-1"})
    assert response.status_code == 302
    assert client.get("/").url == reverse("my_account")


def test_sign_in_with_shared_mobile_number_is_refused(world):
    other = factories.user("other_member")
    factories.member(world.branch_a, "李建国", phone=world.zhang.phone, user=other)
    response = Client().post(reverse("login"), {"username": world.zhang.phone, "password": "pw-for-tests-1"})
    assert response.status_code == 200
    assert "不匹配" in response.content.decode()


def test_wrong_password_refused_with_message(world):
    response = Client().post(reverse("login"), {"username": world.zhang.phone, "password": "nope"})
    assert response.status_code == 200
    assert "不匹配" in response.content.decode()


def test_home_lands_by_role(world, admin_user):
    assert Client().get("/").url.startswith(reverse("login"))
    assert client_for(world.committee).get("/").url == reverse("branch_home", args=[world.branch_a.pk])
    assert client_for(world.township_officer).get("/").url == reverse("overview")
    assert client_for(world.county_officer).get("/").url == reverse("overview")
    assert client_for(world.member_user).get("/").url == reverse("my_account")
    assert client_for(admin_user).get("/").url == reverse("admin:index")
    assert client_for(factories.user("nobody")).get("/").status_code == 200


def test_sign_out(world):
    client = client_for(world.secretary)
    assert client.post(reverse("logout")).status_code == 302
    assert client.get("/").url.startswith(reverse("login"))


def test_language_switch_sticks(world):
    client = client_for(world.secretary)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get(reverse("branch_home", args=[world.branch_a.pk]))
    assert '<html lang="en">' in response.content.decode()


def test_officer_overview_is_read_only(world, frozen_today):
    client = client_for(world.township_officer)
    overview = client.get(reverse("overview")).content.decode()
    assert "山岔村党支部" in overview and "西川村党支部" not in overview
    home = client.get(reverse("branch_home", args=[world.branch_a.pk])).content.decode()
    assert reverse("claim_create", args=[world.branch_a.pk]) not in home
    assert client.get(reverse("claim_create", args=[world.branch_a.pk])).status_code == 404


# --- secretary home --------------------------------------------------------------------------


def test_secretary_home_shows_quarter_counts_and_members_without_entries(world, frozen_today):
    event = services.claim_record(
        actor=world.secretary,
        member=world.wang,
        rule=world.rules.haircut,
        occurred_on=datetime.date(2026, 11, 2),
        account="理发",
    )
    services.event_approve(actor=world.committee, event=event)
    services.claim_record(
        actor=world.secretary,
        member=world.li,
        rule=world.rules.snow,
        occurred_on=datetime.date(2026, 11, 3),
        account="扫雪",
    )
    # An entry of another quarter, and one of another year in the same quarter, don't count.
    services.claim_record(
        actor=world.secretary,
        member=world.zhang,
        rule=world.rules.snow,
        occurred_on=datetime.date(2026, 8, 3),
        account="扫雪",
    )
    services.claim_record(
        actor=world.secretary,
        member=world.zhang,
        rule=world.rules.clean,
        occurred_on=datetime.date(2025, 11, 3),
        account="保洁",
    )
    response = client_for(world.secretary).get(reverse("branch_home", args=[world.branch_a.pk]))
    ctx = response.context
    assert ctx["counts"] == {"pending": 1, "approved": 1, "rejected": 0}
    assert ctx["period_label"] == "2026年第4季度"
    assert ctx["days_left"] == 38
    assert [name for _id, name in ctx["silent"]] == ["张海燕"]
    wang = next(m for m in ctx["members"] if m.pk == world.wang.pk)
    assert wang.total == 20 and wang.ytd_total == 20


def test_member_search_by_initials_and_pinyin(world, frozen_today):
    client = client_for(world.secretary)
    url = reverse("branch_members", args=[world.branch_a.pk])
    assert [m.name for m in client.get(url, {"q": "wxe"}).context["members"]] == ["王学恩"]
    assert [m.name for m in client.get(url, {"q": "zhanghai"}).context["members"]] == ["张海燕"]
    assert [m.name for m in client.get(url, {"q": "李"}).context["members"]] == ["李秀英"]
    assert "杨长生" not in client.get(url, {"q": "ycs"}).content.decode()


def test_member_sort_orders(world, frozen_today):
    event = services.claim_record(
        actor=world.secretary,
        member=world.li,
        rule=world.rules.haircut,
        occurred_on=datetime.date(2026, 11, 2),
        account="理发",
    )
    services.event_approve(actor=world.committee, event=event)
    client = client_for(world.secretary)
    url = reverse("branch_members", args=[world.branch_a.pk])

    def names(sort):
        return [m.name for m in client.get(url, {"sort": sort}).context["members"]]

    assert names("strokes") == ["王学恩", "李秀英", "张海燕"]  # 王 4, 李 7, 张 7 strokes
    assert names("pinyin") == ["李秀英", "王学恩", "张海燕"]
    assert names("total")[0] == "李秀英"


# --- claims ----------------------------------------------------------------------------------


def test_secretary_enters_a_claim_on_behalf_with_a_photo_whose_location_is_stripped(world, frozen_today):
    client = client_for(world.secretary)
    url = reverse("claim_create", args=[world.branch_a.pk])
    response = post_form(client, url, claim_data(world, evidence=photo_with_gps()))
    assert response.status_code == 302
    event = PointEvent.objects.get()
    assert event.on_behalf is True and event.entered_by == world.secretary and event.points == 20
    stored = Image.open(Evidence.objects.get(event=event).image.path)
    assert not stored.getexif().get_ifd(GPS_IFD)
    assert max(stored.size) <= 1600


def test_claim_typed_in_for_a_member_who_declared_it_is_not_on_behalf(world, frozen_today):
    response = post_form(
        client_for(world.secretary),
        reverse("claim_create", args=[world.branch_a.pk]),
        claim_data(world, member=world.zhang.pk, entry_method="typed_in"),
    )
    assert response.status_code == 302
    event = PointEvent.objects.get()
    assert event.on_behalf is False and event.claimed_by == world.member_user


def test_rule_info_shows_default_cap_and_what_is_left(world, frozen_today):
    services.claim_record(
        actor=world.secretary,
        member=world.wang,
        rule=world.rules.snow,
        occurred_on=datetime.date(2026, 11, 2),
        account="扫雪",
    )
    response = client_for(world.secretary).get(
        reverse("rule_info", args=[world.branch_a.pk]), {"rule": world.rules.snow.pk, "member": world.wang.pk}
    )
    text = response.content.decode()
    assert "默认分值 +1.0 分" in text and "每季度上限 10.0 分" in text and "本季度还可记 9.0 分" in text
    assert 'id="rule-default" value="1.0"' in text


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"occurred_on": "2026-12-01"}, "occurred_on", "不能晚于今天"),
        ({"account": ""}, "account", "请填写事由"),
        ({"points": "25"}, "points", "每季度上限"),
        ({"points": "abc"}, "points", "分值必须是数字"),
        ({"member": "MEMBER_B"}, "member", ""),
    ],
)
def test_bad_claim_input_is_shown_next_to_the_field_and_kept(world, frozen_today, change, field, message):
    if change.get("member") == "MEMBER_B":
        change = {"member": world.yang.pk}
    response = post_form(
        client_for(world.secretary), reverse("claim_create", args=[world.branch_a.pk]), claim_data(world, **change)
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors
    assert message in " ".join(form.errors[field])
    html = response.content.decode()
    assert f'id="field-{field}"' in html
    assert "为村里老人义务理发" in html or change.get("account") == ""  # what was typed is kept
    assert not PointEvent.objects.exists()


def test_claim_in_a_signed_quarter_refused(world, frozen_today):
    period = Period.objects.create(branch=world.branch_a, year=2026, quarter=3)
    services.period_sign(actor=world.secretary, period=period)
    response = post_form(
        client_for(world.secretary),
        reverse("claim_create", args=[world.branch_a.pk]),
        claim_data(world, occurred_on="2026-08-01"),
    )
    assert "签字封存" in " ".join(response.context["form"].errors["occurred_on"])
    assert not PointEvent.objects.exists()


def test_duplicate_claim_refused(world, frozen_today):
    client = client_for(world.secretary)
    url = reverse("claim_create", args=[world.branch_a.pk])
    assert post_form(client, url, claim_data(world, rule=world.rules.snow.pk)).status_code == 302
    response = post_form(client, url, claim_data(world, rule=world.rules.snow.pk))
    assert "不能重复申报" in " ".join(response.context["form"].errors["rule"])
    assert PointEvent.objects.count() == 1


def test_file_that_is_not_an_image_refused(world, frozen_today):
    fake = SimpleUploadedFile("photo.jpg", b"%PDF-1.4 not a photo", content_type="image/jpeg")
    response = post_form(
        client_for(world.secretary), reverse("claim_create", args=[world.branch_a.pk]), claim_data(world, evidence=fake)
    )
    assert "不是照片" in " ".join(response.context["form"].errors["evidence"])
    assert 'id="field-evidence"' in response.content.decode()
    assert not PointEvent.objects.exists() and not Evidence.objects.exists()


def test_photo_too_big_refused(world, frozen_today, settings):
    settings.EVIDENCE_MAX_UPLOAD_BYTES = 50_000
    response = post_form(
        client_for(world.secretary),
        reverse("claim_create", args=[world.branch_a.pk]),
        claim_data(world, evidence=photo_with_gps()),
    )
    assert "照片太大" in " ".join(response.context["form"].errors["evidence"])
    assert not PointEvent.objects.exists()


def test_rule_that_needs_evidence_refused_without_photo(world, frozen_today):
    response = post_form(
        client_for(world.secretary),
        reverse("claim_create", args=[world.branch_a.pk]),
        claim_data(world, rule=world.rules.help.pk),
    )
    assert "须附证明照片" in " ".join(response.context["form"].errors["evidence"])


def test_same_form_submitted_twice_saves_once(world, frozen_today):
    client = client_for(world.secretary)
    url = reverse("claim_create", args=[world.branch_a.pk])
    token = token_from(client.get(url))
    assert client.post(url, {**claim_data(world), "form_token": token}).status_code == 302
    second = client.post(url, {**claim_data(world), "form_token": token})
    assert second.status_code == 200
    assert "已经提交过" in second.content.decode()
    assert PointEvent.objects.count() == 1


def test_stale_or_forged_token_saves_nothing(world, frozen_today):
    client = client_for(world.secretary)
    url = reverse("claim_create", args=[world.branch_a.pk])
    response = client.post(url, {**claim_data(world), "form_token": "forged"})
    assert response.status_code == 200 and "已过期" in response.content.decode()
    assert "为村里老人义务理发" in response.content.decode()
    other_users_token = token_from(client_for(world.committee).get(url))
    client.post(url, {**claim_data(world), "form_token": other_users_token})
    assert not PointEvent.objects.exists()


def test_refused_form_can_be_corrected_and_sent_again(world, frozen_today):
    client = client_for(world.secretary)
    url = reverse("claim_create", args=[world.branch_a.pk])
    token = token_from(client.get(url))
    refused = client.post(url, {**claim_data(world, account=""), "form_token": token})
    assert refused.status_code == 200
    assert client.post(url, {**claim_data(world), "form_token": token_from(refused)}).status_code == 302
    assert PointEvent.objects.count() == 1


# --- deductions --------------------------------------------------------------------------------


def test_deduction_needs_a_reason(world, frozen_today):
    client = client_for(world.committee)
    url = reverse("deduction_create", args=[world.branch_a.pk])
    data = {"member": world.wang.pk, "rule": world.rules.violation.pk, "occurred_on": DAY, "reason": ""}
    response = post_form(client, url, data)
    assert "必须写明理由" in " ".join(response.context["form"].errors["reason"])
    assert not PointEvent.objects.exists()
    assert post_form(client, url, {**data, "reason": "乱倒垃圾，群众反映经核实"}).status_code == 302
    assert PointEvent.objects.get().points == -30


def test_member_cannot_enter_deductions_or_bonus_rules_only_in_declare_form(world, frozen_today):
    client = client_for(world.member_user)
    assert client.get(reverse("deduction_create", args=[world.branch_a.pk])).status_code == 404
    response = post_form(
        client,
        reverse("my_declare"),
        {"rule": world.rules.absent.pk, "occurred_on": DAY, "account": "x"},
    )
    assert "rule" in response.context["form"].errors
    assert not PointEvent.objects.exists()


# --- group activity and meeting screens -------------------------------------------------------


def test_group_activity_screen_records_five_members(world, frozen_today):
    extra = [factories.member(world.branch_a) for _ in range(2)]
    members = [world.wang, world.zhang, world.li, *extra]
    response = post_form(
        client_for(world.secretary),
        reverse("group_activity_create", args=[world.branch_a.pk]),
        {
            "rule": world.rules.snow.pk,
            "occurred_on": DAY,
            "place": "村道",
            "account": "大雪后铲除村道积雪",
            "members": [m.pk for m in members],
        },
    )
    assert response.status_code == 302
    assert PointEvent.objects.filter(entry_method="group").count() == 5


def test_group_activity_without_members_keeps_input(world, frozen_today):
    response = post_form(
        client_for(world.secretary),
        reverse("group_activity_create", args=[world.branch_a.pk]),
        {"rule": world.rules.snow.pk, "occurred_on": DAY, "account": "大雪后铲除村道积雪"},
    )
    assert "请勾选" in " ".join(response.context["form"].errors["members"])
    assert "大雪后铲除村道积雪" in response.content.decode()


def test_meeting_screen_records_attendance(world, frozen_today):
    attend = factories.rule(world.county, code="A04", points="2", cap_per_quarter="12", title="参加“三会一课”")
    client = client_for(world.secretary)
    url = reverse("meeting_create", args=[world.branch_a.pk])
    form = client.get(url)
    assert form.context["form"].initial["attendance_rule"] == attend
    data = {
        "type": "general",
        "held_on": DAY,
        "topic": "学习党章",
        "place": "村委会",
        "attendance_rule": attend.pk,
        "absence_rule": world.rules.absent.pk,
        f"att_{world.wang.pk}": "present",
        f"att_{world.zhang.pk}": "excused",
        f"reason_{world.zhang.pk}": "",
        f"att_{world.li.pk}": "absent",
    }
    refused = client.post(url, {**data, "form_token": token_from(form)})
    assert refused.status_code == 200 and "请假事由" in refused.content.decode()
    assert not Meeting.objects.exists()
    data[f"reason_{world.zhang.pk}"] = "卧病在床"
    response = client.post(url, {**data, "form_token": token_from(refused)})
    assert response.status_code == 302
    meeting = Meeting.objects.get()
    assert Attendance.objects.filter(meeting=meeting).count() == 3
    detail = client.get(response.url).content.decode()
    assert "卧病在床" in detail and "-3.0" in detail
    again = post_form(client, url, {**data})
    assert "已经登记过" in again.content.decode()
    assert Meeting.objects.count() == 1


# --- the member's own screens -----------------------------------------------------------------


def test_member_declares_a_deed_and_sees_it_in_the_account(world, frozen_today):
    client = client_for(world.member_user)
    response = post_form(
        client,
        reverse("my_declare"),
        {"rule": world.rules.clean.pk, "occurred_on": DAY, "place": "第二村民组", "account": "责任区保持干净"},
    )
    assert response.status_code == 302
    event = PointEvent.objects.get()
    assert event.member == world.zhang and event.entry_method == "self" and event.on_behalf is False
    page = client.get(reverse("my_account")).content.decode()
    assert "保持绿化卫生责任区干净" in page and "待审核" in page


def test_account_explains_the_total(world, frozen_today):
    grant = services.claim_record(
        actor=world.secretary,
        member=world.zhang,
        rule=world.rules.haircut,
        occurred_on=datetime.date(2026, 5, 2),
        account="理发",
    )
    services.event_approve(actor=world.committee, event=grant)
    rejected = services.claim_record(
        actor=world.secretary,
        member=world.zhang,
        rule=world.rules.snow,
        occurred_on=datetime.date(2026, 11, 2),
        account="扫雪",
    )
    services.event_reject(actor=world.committee, event=rejected, reason="当天没有下雪")
    deduction = services.deduction_add(
        actor=world.secretary,
        member=world.zhang,
        rule=world.rules.absent,
        occurred_on=datetime.date(2026, 11, 3),
        reason="无故缺席",
    )
    services.event_approve(actor=world.committee, event=deduction)
    client = client_for(world.member_user)
    response = client.get(reverse("my_account"))
    assert response.context["total"] == 17
    page = response.content.decode()
    assert "基础积分 0.0 + 贡献加分 20.0 + 违规扣分 -3.0 = 17.0 分" in page
    assert "当天没有下雪" in page
    statement = client.get(reverse("my_statement")).content.decode()
    # the print button (its handler is in static/js/ui.js: the CSP allows no inline onclick)
    assert "data-print" in statement and "17.0" in statement


def test_member_without_member_row_gets_404_for_own_screens(world):
    client = client_for(world.secretary)
    for name in ("my_account", "my_declare", "my_statement"):
        assert client.get(reverse(name)).status_code == 404


def test_evidence_photo_only_for_those_in_scope(world, frozen_today):
    event = services.claim_record(
        actor=world.secretary,
        member=world.zhang,
        rule=world.rules.help,
        occurred_on=datetime.date(2026, 11, 2),
        account="帮扶",
        evidence=[photo_with_gps()],
    )
    url = reverse("evidence_image", args=[event.evidence.get().pk])
    assert client_for(world.secretary).get(url).status_code == 200
    assert client_for(world.member_user).get(url).status_code == 200  # her own entry
    assert client_for(world.other_secretary).get(url).status_code == 404
    assert Client().get(url).status_code == 302


def test_heic_or_webp_accepted(world, frozen_today):
    out = io.BytesIO()
    Image.new("RGB", (800, 600), "green").save(out, "WEBP")
    upload = SimpleUploadedFile("p.webp", out.getvalue(), content_type="image/webp")
    response = post_form(
        client_for(world.secretary),
        reverse("claim_create", args=[world.branch_a.pk]),
        claim_data(world, evidence=upload),
    )
    assert response.status_code == 302
    assert Evidence.objects.get().image.name.endswith(".jpg")


def test_out_of_scope_page_is_a_friendly_404(world):
    response = client_for(world.other_secretary).get(reverse("branch_home", args=[world.branch_a.pk]))
    assert response.status_code == 404
    assert "不在您的权限范围内" in response.content.decode()
