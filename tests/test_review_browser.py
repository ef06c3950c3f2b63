"""End to end in headless Chromium: a villager leaves feedback, the committee reviews the quarter
in the admin (approve, reject with a reason, adjust, a deduction from the feedback), and the
secretary signs — refused while one entry is pending, accepted after. Screenshots are kept in
test-artifacts/."""

import datetime
import os
from pathlib import Path

import pytest
from django.urls import reverse

from ledger.book import services
from ledger.models import Feedback, Period, PointEvent

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "pw-for-tests-1"


@pytest.fixture
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("chromium not installed")
    with playwright.sync_playwright() as p:
        instance = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"review-{name}.png"), full_page=True)


def _login(browser, live_server, username: str, next_url: str):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state()
    return page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_quarter_review_and_sign_off_in_the_browser(browser, live_server, world, frozen_today):
    day = datetime.date(2026, 8, 10)
    wang, li, zhang = (
        services.claim_record(
            actor=world.secretary, member=member, rule=rule, occurred_on=day, account="责任区一个季度保持干净"
        )
        for member, rule in (
            (world.wang, world.rules.clean),
            (world.li, world.rules.clean),
            (world.zhang, world.rules.haircut),
        )
    )
    period = wang.period

    # A villager reports something about 李秀英 on the public form, without logging in.
    villager = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    villager.goto(live_server.url + reverse("feedback_create", kwargs={"code": world.branch_a.code}))
    villager.select_option("select[name=member]", str(world.li.pk))
    villager.fill("textarea[name=body]", "9月1日李秀英在河道里倒建筑垃圾")
    villager.fill("input[name=contact]", "13900001111")
    _shot(villager, "01-villager-form")
    villager.click("button[type=submit]")
    reference = villager.inner_text("#reference").strip()
    _shot(villager, "02-villager-reference")
    feedback = Feedback.objects.get(reference=reference)

    review_url = reverse("admin:ledger_period_review", args=[period.pk])
    page = _login(browser, live_server, "committee", review_url)
    assert page.url.endswith(review_url)
    _shot(page, "03-committee-review")

    page.click(f"button[value='approve:{wang.pk}']")
    page.wait_for_selector(f"#decided-{wang.pk}")
    page.fill(f"input[name=reason_{li.pk}]", "经村民小组长核实，责任区有垃圾")
    page.click(f"button[value='reject:{li.pk}']")
    page.wait_for_selector(f"#decided-{li.pk}")
    page.fill(f"input[name=points_{zhang.pk}]", "10")
    page.fill(f"input[name=reason_{zhang.pk}]", "只坚持了半个季度")
    page.click(f"button[value='adjust:{zhang.pk}']")
    page.wait_for_selector(f"#decided-{zhang.pk}")
    assert "20.0" in page.inner_text(f"#decided-{zhang.pk}")  # the original next to the new value

    # The deduction decided on the villager's feedback.
    page.select_option("#deduction select[name=member]", str(world.li.pk))
    page.select_option("#deduction select[name=rule]", str(world.rules.absent.pk))
    page.select_option("#deduction select[name=feedback]", str(feedback.pk))
    page.fill("#deduction input[name=occurred_on]", "2026-09-01")
    page.fill("#deduction textarea[name=reason]", "群众反映在河道倒建筑垃圾，经核实属实")
    page.click("#deduction button[name=deduction]")
    page.wait_for_selector("text=已录入扣分")
    page.click("button[name=mark]")
    page.wait_for_selector("text=已确认您审核过本季度")
    _shot(page, "04-committee-decided")
    deduction = PointEvent.objects.get(entry_method="committee")
    assert deduction.feedback_id == feedback.pk and deduction.status == "pending"

    # The secretary signs: refused while the deduction is pending, with the list.
    page = _login(browser, live_server, "secretary", review_url)
    page.click("#sign-button")
    page.wait_for_selector(".messagelist .error")
    message = page.inner_text(".messagelist .error")
    assert "还有 1 条待审核条目" in message and "李秀英" in message
    _shot(page, "05-sign-refused")
    assert Period.objects.get(pk=period.pk).state == "open"
    page.click(f"button[value='approve:{deduction.pk}']")
    page.wait_for_selector(f"#decided-{deduction.pk}")
    page.click("#sign-button")
    page.wait_for_selector("text=书记已签字")
    _shot(page, "06-signed")
    period.refresh_from_db()
    assert period.state == "signed" and period.signed_by == world.secretary
    assert period.short_hash in page.inner_text("#quarter-state")

    # The committee answers the villager, who reads the answer with the reference code.
    page = _login(browser, live_server, "committee", reverse("admin:ledger_feedback_answer", args=[feedback.pk]))
    page.select_option("select[name=resolution]", "deduction")
    page.fill("textarea[name=note]", "经核实属实，已按细则扣3分")
    page.click("button[name=resolve]")
    page.wait_for_selector("text=已答复")
    _shot(page, "07-feedback-answered")
    villager.goto(f"{live_server.url}{reverse('feedback_lookup')}?code={reference}")
    assert "经核实属实，已按细则扣3分" in villager.inner_text("#answer")
    assert "李秀英" not in villager.content() and "13900001111" not in villager.content()
    _shot(villager, "08-villager-answer")
