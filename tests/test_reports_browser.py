"""End to end in headless Chromium: sign → document → public page on a phone → QR → verification,
then a tampered row makes the verification page say the board no longer matches."""

import os
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from core.jobs import JobStatus
from ledger.book import triggers
from ledger.models import Period, PointEvent
from reports.models import Document
from tests.reports_helpers import fill_q3

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
def browser():
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("chromium is not installed")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.browser
def test_sign_wait_public_page_qr_and_verification(world, frozen_today, live_server, browser):
    period = fill_q3(world)
    desk = browser.new_page()
    desk.goto(f"{live_server.url}/admin/login/")
    desk.fill("#id_username", "secretary")
    desk.fill("#id_password", "pw-for-tests-1")
    desk.click("input[type=submit]")
    # The secretary signs the quarter, then posts it, with the admin's quarter actions.
    for action in ("sign", "post"):
        desk.goto(f"{live_server.url}/admin/ledger/period/")
        desk.check(f"input[name=_selected_action][value='{period.pk}']")
        desk.select_option("select[name=action]", action)
        desk.click("button[name=index]")
    period.refresh_from_db()
    assert period.state == Period.State.POSTED

    # The posting document, produced when the signature committed; the screen polls until done.
    document = Document.objects.get(period=period)
    desk.goto(f"{live_server.url}/reports/documents/{document.pk}/")
    desk.wait_for_selector("[data-status=done]", timeout=30_000)
    assert Document.objects.get(pk=document.pk).status == JobStatus.DONE
    _shot(desk, "reports-document-done")
    public_link = desk.get_attribute("text=公开网页", "href")

    # A villager opens the public page on a phone.
    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    phone.goto(f"{live_server.url}{public_link}")
    body = phone.inner_text("body")
    for text in ("王学恩", "张海燕", "李秀英", period.short_hash, "207.0", "我要反映情况"):
        assert text in body
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # nothing wider than the phone
    _shot(phone, "reports-public-phone")

    # The QR code's target: the same page with the full hash, which it confirms.
    target = phone.get_attribute("a.qr-link", "href")
    assert period.content_hash in target
    phone.goto(target.replace(settings.SITE_URL, live_server.url))
    assert "一致：这张公示与台账现在的记录完全相符" in phone.inner_text(".rp-verdict")

    # The verification page, with the code typed in as read from the board.
    phone.goto(f"{live_server.url}/verify/")
    phone.fill("#id_code", period.short_hash)
    phone.click("button[type=submit]")
    assert phone.inner_text("#verdict").startswith("一致")
    assert "2026年第3季度" in phone.inner_text("body")
    _shot(phone, "reports-verify-ok")

    # Someone edits a signed row behind the ledger's back (triggers bypassed).
    event = PointEvent.objects.get(period=period, member=world.zhang, kind="bonus")
    triggers.uninstall(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE ledger_pointevent SET points = 40 WHERE id = %s", [event.pk])
    finally:
        triggers.install(connection)
    phone.reload()
    assert phone.inner_text("#verdict").startswith("不一致")
    _shot(phone, "reports-verify-tampered")


@pytest.mark.django_db
def test_render_one_page_of_each_document_to_png(world, frozen_today, django_capture_on_commit_callbacks):
    """Artifacts to look at: the first page of each document as PNG (pdftoppm)."""
    from ledger.book import services as ledger
    from reports import services

    if not Path("/usr/bin/pdftoppm").exists():
        pytest.skip("poppler-utils is not installed")
    period = fill_q3(world)
    with django_capture_on_commit_callbacks(execute=True):
        period = ledger.period_post(
            actor=world.committee, period=ledger.period_sign(actor=world.secretary, period=period)
        )
        documents = [
            Document.objects.get(period=period),
            services.posting_request(actor=world.secretary, period=period, paper="A3", orientation="landscape"),
            services.statement_request(actor=world.secretary, member=world.wang, year=2026),
            services.annual_request(actor=world.secretary, branch=world.branch_a, year=2026),
            services.rollup_request(actor=world.county_officer, organisation=world.county, year=2026, quarter=3),
        ]
    ARTIFACTS.mkdir(exist_ok=True)
    for document in documents:
        document.refresh_from_db()
        assert document.status == JobStatus.DONE
        layout = f"{document.params['paper']}-{document.params['orientation']}"
        stem = ARTIFACTS / f"document-{document.kind}-{layout}"
        subprocess.run(
            ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", document.file.path, str(stem)],
            check=True,
        )
        assert stem.with_suffix(".png").stat().st_size > 5000
        info = subprocess.run(["pdfinfo", document.file.path], capture_output=True, text=True).stdout
        size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info)
        width, height = float(size.group(1)), float(size.group(2))
        expected = {"A4": (595, 842), "A3": (842, 1191)}[document.params["paper"]]
        if document.params["orientation"] == "landscape":
            expected = expected[::-1]
        assert (round(width), round(height)) == expected
