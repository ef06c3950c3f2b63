"""End to end in headless Chromium at a phone's size (360 × 740): the secretary's week, a member's
declaration, and another branch's secretary who can reach none of it. Screenshots of every
screen go to test-artifacts/."""

import os
from pathlib import Path

import pytest

from ledger.models import Attendance, Evidence, Meeting, PointEvent
from tests import factories
from tests.screens_helpers import GPS_IFD, photo_with_gps

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PASSWORD = "pw-for-tests-1"


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def phone(browser):
    return browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN").new_page()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{name}: the page scrolls sideways ({width}px)"


def sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def test_secretary_member_and_outsider_in_a_phone_browser(live_server, world, frozen_today, browser, tmp_path):
    base = live_server.url
    attend = factories.rule(world.county, code="A04", points="2", cap_per_quarter="12", title="参加“三会一课”")
    for name in ("赵建国", "孙桂兰"):
        factories.member(world.branch_a, name)
    photo = tmp_path / "haircut.jpg"
    photo.write_bytes(photo_with_gps().read())

    # --- the secretary signs in and lands on the branch home
    page = phone(browser)
    page.goto(base + "/")
    shot(page, "01-login")
    sign_in(page, base, "secretary")
    assert page.locator("h1").inner_text() == "山岔村党支部"
    shot(page, "02-secretary-home")

    # --- finds a member by pinyin initials, as they type
    page.fill("#id_q", "wxe")
    # (a locator, not wait_for_function: the Content-Security-Policy forbids eval, Playwright's too)
    expect(page.locator("#member-rows tbody tr")).to_have_count(1, timeout=30_000)
    assert "王学恩" in page.locator("#member-rows").inner_text()
    shot(page, "03-search-wxe")

    # --- enters a claim for him with a photo; the rule fills in its default points
    page.click("#member-rows a:has-text('王学恩')")
    page.click("text=为他/她录入")
    page.wait_for_load_state("load")  # htmx is ready (a person can't choose before the page has loaded)
    page.select_option("#id_rule", str(world.rules.haircut.pk))
    expect(page.locator("#id_points")).to_have_value("20.0", timeout=30_000)
    assert "每季度上限 20.0 分" in page.locator("#rule-info").inner_text()
    page.fill("#id_occurred_on", "2026-11-20")
    page.fill("#id_place", "村委会门口")
    page.fill("#id_account", "为村里老人义务理发")
    page.set_input_files("#id_evidence", str(photo))
    shot(page, "04-claim-form")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    shot(page, "05-claim-saved")
    assert "已录入" in page.locator(".messages").inner_text()
    event = PointEvent.objects.get(member=world.wang, rule=world.rules.haircut)
    assert event.on_behalf
    from PIL import Image

    assert not Image.open(Evidence.objects.get(event=event).image.path).getexif().get_ifd(GPS_IFD)

    # --- a bad claim keeps what was typed and says what is wrong, next to the field
    page.goto(f"{base}/b/{world.branch_a.pk}/claims/new/")
    page.select_option("#id_member", str(world.li.pk))
    page.select_option("#id_rule", str(world.rules.snow.pk))
    page.fill("#id_occurred_on", "2026-12-24")
    page.fill("#id_account", "扫雪")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "不能晚于今天" in page.locator("#field-occurred_on").inner_text()
    assert page.input_value("#id_account") == "扫雪"
    shot(page, "06-claim-refused")

    # --- records a snow-clearing activity for five members
    page.goto(f"{base}/b/{world.branch_a.pk}/group/new/")
    page.select_option("#id_rule", str(world.rules.snow.pk))
    page.fill("#id_occurred_on", "2026-11-21")
    page.fill("#id_place", "村道")
    page.fill("#id_account", "大雪后铲除村道积雪")
    for label in ("王学恩", "张海燕", "李秀英", "赵建国", "孙桂兰"):
        page.check(f"#field-members label:has-text('{label}') input")
    shot(page, "07-group-activity")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "5 名党员" in page.locator(".messages").inner_text()
    assert PointEvent.objects.filter(rule=world.rules.snow, entry_method="group").count() == 5

    # --- records a meeting: one excused with a reason, one absent
    page.goto(f"{base}/b/{world.branch_a.pk}/meetings/new/")
    page.select_option("#id_type", "general")
    page.fill("#id_held_on", "2026-11-22")
    page.fill("#id_topic", "学习党章，讨论冬季防火")
    page.select_option("#id_attendance_rule", str(attend.pk))
    page.check(f"input[name=att_{world.li.pk}][value=excused]")
    page.fill(f"input[name=reason_{world.li.pk}]", "卧病在床")
    page.check(f"input[name=att_{world.zhang.pk}][value=absent]")
    shot(page, "08-meeting-form")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "卧病在床" in page.content()
    shot(page, "09-meeting-recorded")
    meeting = Meeting.objects.get()
    assert Attendance.objects.filter(meeting=meeting).count() == 5
    assert PointEvent.objects.filter(entry_method="meeting").count() == 4  # 3 credits, 1 deduction

    # --- the member signs in with her mobile number and declares a deed
    member_page = phone(browser)
    member_page.goto(base + "/")
    member_page.fill("#id_username", world.zhang.phone)
    member_page.fill("#id_password", PASSWORD)
    member_page.click("main button[type=submit]")
    member_page.wait_for_load_state()
    assert "我的积分" in member_page.locator("h1").inner_text()
    member_page.click("text=申报积分")
    member_page.select_option("#id_rule", str(world.rules.clean.pk))
    member_page.fill("#id_occurred_on", "2026-11-18")
    member_page.fill("#id_place", "第二村民组")
    member_page.fill("#id_account", "责任区一个季度保持干净")
    shot(member_page, "10-member-declare")
    member_page.click("main button[type=submit]")
    member_page.wait_for_load_state()
    assert "已申报" in member_page.locator(".messages").inner_text()
    assert "保持绿化卫生责任区干净" in member_page.content()
    shot(member_page, "11-member-account")
    assert PointEvent.objects.filter(member=world.zhang, entry_method="self").count() == 1

    # --- the secretary of another branch reaches none of it
    outsider = phone(browser)
    sign_in(outsider, base, "other_secretary")
    assert "西川村党支部" in outsider.locator("h1").inner_text()
    for path in (
        f"/b/{world.branch_a.pk}/",
        f"/b/{world.branch_a.pk}/claims/new/",
        f"/b/{world.branch_a.pk}/group/new/",
        f"/b/{world.branch_a.pk}/meetings/new/",
        f"/b/{world.branch_a.pk}/meetings/{meeting.pk}/",
        f"/b/{world.branch_a.pk}/members/{world.wang.pk}/",
        f"/evidence/{Evidence.objects.get().pk}/",
    ):
        response = outsider.goto(base + path)
        assert response.status == 404, path
        assert "王学恩" not in outsider.content()
    shot(outsider, "12-other-secretary-404")
