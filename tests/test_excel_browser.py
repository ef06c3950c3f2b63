"""The secretary imports a roll and a messy tally in a real headless browser (phone size)."""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from members.models import Member
from tests.xlsx import xlsx

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
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


@pytest.fixture
def page(live_server, world, frozen_today):
    from playwright.sync_api import sync_playwright

    client = Client()
    client.force_login(world.secretary)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])
        yield context.new_page()
        browser.close()


@pytest.mark.browser
def test_secretary_imports_a_roll_and_sees_errors_of_a_messy_tally(page, live_server, world, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    roll = tmp_path / "名册.xlsx"
    roll.write_bytes(
        xlsx(
            [[" 姓 名 ", "性別", "出生日期"], ["周立波", "男", "1970年1月2日"], ["吴春花\u00a0", "女", 29000]],
            title="山岔村党支部党员名册",
        )  # fmt: skip
    )
    page.goto(f"{live_server.url}/excel/import/")
    page.select_option("#id_kind", "members")
    page.set_input_files("#id_file", str(roll))
    page.click("button[type=submit]")
    page.wait_for_url("**/excel/import/*/")
    assert "确认导入 2 条" in page.content()
    page.screenshot(path=str(ARTIFACTS / "import-roll-preview.png"), full_page=True)
    page.click("text=确认导入 2 条")
    page.wait_for_selector(".msg")
    assert "导入完成：新增 2 条" in page.content()
    assert Member.objects.filter(name__in=["周立波", "吴春花"], branch=world.branch_a).count() == 2

    tally = tmp_path / "四季度.xlsx"
    tally.write_bytes(
        xlsx(
            [
                ["姓名", "细则编号", "发生日期", "分值", "事由"],
                ["王学恩", "A02", "2026/11/2", "+1", "铲雪"],
                ["杨长生", "A02", "2026-11-02", "1", "铲雪"],
                ["李秀英", "D01", "2026.11.3", "", "缺席"],
                ["周立波", "A01", "2026年11月5日", "12分", "责任区"],
            ],
            title="2026年第四季度积分汇总",
        )
    )
    page.goto(f"{live_server.url}/excel/import/")
    page.select_option("#id_kind", "claims")
    page.set_input_files("#id_file", str(tally))
    page.click("button[type=submit]")
    page.wait_for_selector("#errors")
    text = page.inner_text("#errors")
    assert "整个文件未导入" in text
    # a merged title and a blank row above the header: data starts on row 4
    assert "\n5\t姓名\t" in text and "其他支部" in text
    assert "\n6\t细则编号\t" in text and "扣分" in text
    assert "\n7\t分值\t" in text and "上限" in text
    assert page.locator("text=确认导入").count() == 0
    page.screenshot(path=str(ARTIFACTS / "import-tally-errors.png"), full_page=True)
