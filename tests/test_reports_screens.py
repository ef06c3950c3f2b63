"""Noticeboard screens: public pages and verification (no login), officers' requests and batches."""

import datetime
import io
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_celery_beat.models import PeriodicTask

from core.jobs import JobStatus
from ledger.book import triggers
from ledger.models import Period, PointEvent
from reports import services
from reports.models import Batch, Document, DocumentKind, Notification
from tests import factories
from tests.reports_helpers import approve_all, fill_q3, pdf_text, sign_and_post

pytestmark = pytest.mark.usefixtures("frozen_today")


@pytest.fixture
def posted(world, django_capture_on_commit_callbacks):
    period = fill_q3(world)
    with django_capture_on_commit_callbacks(execute=True):
        return sign_and_post(world, period)


def _url(period: Period) -> str:
    return f"/p/{period.branch.code}/{period.year}/{period.quarter}/"


# --- public pages ----------------------------------------------------------------------------


def test_public_branch_page_lists_posted_quarters_and_links_feedback(world, posted, client):
    page = client.get(f"/p/{world.branch_a.code}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert _url(posted) in html and posted.short_hash in html
    assert f"/p/{world.branch_a.code}/feedback/" in html
    assert client.get("/p/no-such-branch/").status_code == 404
    assert client.get(f"/p/{world.county.code}/").status_code == 404  # not a branch


def test_public_period_page_shows_the_posting_without_login(world, posted, client):
    page = client.get(_url(posted))
    assert page.status_code == 200
    html = page.content.decode()
    for text in ("王学恩", "张海燕", "李秀英", posted.short_hash, "保持绿化卫生责任区干净", "207.0"):
        assert text in html
    assert "杨长生" not in html
    pdf = client.get(_url(posted) + "pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "王学恩" in pdf_text(b"".join(pdf.streaming_content))


def test_only_posted_or_final_quarters_are_public(world, client, django_capture_on_commit_callbacks):
    from ledger.book import services as ledger

    period = fill_q3(world)
    assert client.get(_url(period)).status_code == 404  # open
    with django_capture_on_commit_callbacks(execute=True):
        period = ledger.period_sign(actor=world.secretary, period=period)
    assert client.get(_url(period)).status_code == 404  # signed, not yet posted
    assert client.get(_url(period) + "pdf/").status_code == 404
    assert client.get(f"/p/{world.branch_a.code}/2026/9/").status_code == 404
    assert client.get(f"/p/{world.branch_b.code}/2026/3/").status_code == 404


def test_qr_target_carries_the_full_hash_and_confirms_it(world, posted, client):
    document = Document.objects.get(period=posted)
    assert document.status == JobStatus.DONE
    page = client.get(_url(posted), {"h": posted.content_hash})
    assert "一致：这张公示与台账现在的记录完全相符" in page.content.decode()


def test_verify_form_and_code_page(world, posted, client):
    form = client.get("/verify/")
    assert form.status_code == 200
    redirect = client.get("/verify/", {"code": posted.short_hash})
    assert redirect.status_code == 302 and redirect["Location"] == f"/verify/{posted.short_hash}/"
    page = client.get(f"/verify/{posted.short_hash.lower()}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "一致" in html and "山岔村党支部" in html and "2026年第3季度" in html
    unknown = client.get("/verify/0000-0000-0000-0000/")
    assert unknown.status_code == 404 and "没有找到这个校验码" in unknown.content.decode()
    assert client.get("/verify/abc/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_verification_says_no_after_a_row_is_tampered_with(world, frozen_today, client):
    period = sign_and_post(world, fill_q3(world))
    assert "一致：" in client.get(f"/verify/{period.short_hash}/").content.decode()
    event = PointEvent.objects.filter(period=period, member=world.wang, kind="bonus").get()
    # Someone with database access bypasses the triggers and edits a signed row.
    triggers.uninstall(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE ledger_pointevent SET points = 30 WHERE id = %s", [event.pk])
    finally:
        triggers.install(connection)
    html = client.get(f"/verify/{period.short_hash}/").content.decode()
    assert "不一致" in html and "2026年第3季度" in html
    assert "不一致" in client.get(_url(period), {"h": period.content_hash}).content.decode()


# --- staff screens ---------------------------------------------------------------------------


def test_secretary_requests_a_statement_and_watches_it(world, posted, client, django_capture_on_commit_callbacks):
    client.force_login(world.secretary)
    assert client.get("/reports/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/reports/request/",
            {
                "kind": "statement",
                "organisation": world.branch_a.pk,
                "year": 2026,
                "member": world.wang.pk,
                "paper": "A4",
                "orientation": "portrait",
                "order": "strokes",
            },
        )
    assert response.status_code == 302
    document = Document.objects.get(kind=DocumentKind.STATEMENT)
    assert response["Location"] == f"/reports/documents/{document.pk}/"
    detail = client.get(response["Location"])
    assert "下载 PDF" in detail.content.decode()
    partial = client.get(response["Location"], HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode() and 'id="doc-status"' in partial.content.decode()
    download = client.get(f"/reports/documents/{document.pk}/download/")
    assert download.status_code == 200


def test_another_branch_gets_404_for_documents_and_refused_requests(world, posted, client, settings):
    settings.LOGIN_URL = "/admin/login/"
    document = Document.objects.get(period=posted)
    client.force_login(world.other_secretary)
    assert client.get(f"/reports/documents/{document.pk}/").status_code == 404
    assert client.get(f"/reports/documents/{document.pk}/download/").status_code == 404
    response = client.post(
        "/reports/request/",
        {"kind": "annual", "organisation": world.branch_a.pk, "year": 2026, "paper": "A4", "orientation": "portrait"},
    )
    assert response.status_code == 400  # branch A is not among the choices
    assert not Document.objects.filter(kind=DocumentKind.ANNUAL).exists()
    client.logout()
    assert client.get("/reports/").status_code == 302  # login required
    client.force_login(world.member_user)
    assert client.get(f"/reports/documents/{document.pk}/").status_code == 404


def test_home_page_query_count_does_not_grow_with_documents(world, client):
    client.force_login(world.county_officer)

    def make(n):
        for i in range(n):
            Document.objects.create(
                kind=DocumentKind.ROLLUP, organisation=world.county, year=2026, natural_key=f"k{i}-{n}"
            )

    make(5)
    with CaptureQueriesContext(connection) as few:
        client.get("/reports/")
    make(25)
    with CaptureQueriesContext(connection) as many:
        client.get("/reports/")
    assert len(few) == len(many)


# --- batches ---------------------------------------------------------------------------------


def test_township_batch_gathers_every_signed_branch(world, posted, client, django_capture_on_commit_callbacks):
    other = factories.branch(world.township_a, "郭家村党支部")  # no signed quarter: skipped
    client.force_login(world.township_officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/reports/batches/",
            {
                "batch-kind": "posting",
                "batch-organisation": world.township_a.pk,
                "batch-year": 2026,
                "batch-quarter": 3,
                "batch-paper": "A4",
                "batch-orientation": "portrait",
            },
        )
    assert response.status_code == 302
    batch = Batch.objects.get()
    assert (batch.status, batch.total, batch.done, batch.failed) == (JobStatus.DONE, 1, 1, 0)
    assert batch.skipped == [other.name]
    assert batch.documents.get() == Document.objects.get(period=posted)  # the same document, not a second
    page = client.get(response["Location"]).content.decode()
    assert "进度 1 / 1" in page and "下载合并 PDF" in page
    combined = client.get(f"/reports/batches/{batch.pk}/pdf/")
    assert "王学恩" in pdf_text(b"".join(combined.streaming_content))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(client.get(f"/reports/batches/{batch.pk}/zip/").streaming_content)))
    assert len(archive.namelist()) == 1


def test_county_annual_batch_counts_progress_per_branch(world, posted, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        batch = services.batch_request(actor=world.county_officer, organisation=world.county, kind="annual", year=2026)
    batch.refresh_from_db()
    assert (batch.total, batch.done, batch.status) == (2, 2, JobStatus.DONE)
    text = pdf_text(batch.pdf_file.open("rb").read())
    assert "山岔村党支部" in text and "西川村党支部" in text


def test_batch_progress_partial_polls_until_done(world, client):
    batch = Batch.objects.create(
        organisation=world.township_a, kind="posting", year=2026, quarter=3, total=4, done=1, status="running"
    )
    client.force_login(world.township_officer)
    partial = client.get(f"/reports/batches/{batch.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 2s"' in partial and "进度 1 / 4" in partial and "<html" not in partial
    Batch.objects.filter(pk=batch.pk).update(status="done", done=4)
    partial = client.get(f"/reports/batches/{batch.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in partial


def test_batches_need_the_organisation_in_scope(world, client):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.batch_request(actor=world.township_officer, organisation=world.township_b, kind="annual", year=2026)
    with pytest.raises(PermissionDenied):
        services.batch_request(actor=world.secretary, organisation=world.township_a, kind="annual", year=2026)
    batch = Batch.objects.create(organisation=world.township_b, kind="annual", year=2026)
    client.force_login(world.township_officer)
    assert client.get(f"/reports/batches/{batch.pk}/").status_code == 404
    assert client.get(f"/reports/batches/{batch.pk}/pdf/").status_code == 404


# --- schedules -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_beat_schedules_exist():
    tasks = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {"reports.quarter_end_remind", "reports.posting_windows_close", "reports.base_points_new_year"} <= tasks


def test_quarter_end_reminder_is_recorded_once_for_unsigned_quarters(world):
    assert services.quarter_end_remind(on=datetime.date(2026, 11, 23)) == 0  # five weeks to go
    assert services.quarter_end_remind(on=datetime.date(2026, 12, 26)) == 2  # both secretaries
    assert services.quarter_end_remind(on=datetime.date(2026, 12, 27)) == 0  # already reminded
    note = Notification.objects.get(user=world.secretary)
    assert "2026年第4季度" in note.message and "2026-12-31" in note.message


def test_posting_windows_close_finalises_only_expired_windows(world, posted, frozen_today):
    assert services.posting_windows_close() == 0
    frozen_today(posted.posting_ends_on + datetime.timedelta(days=1))
    assert services.posting_windows_close() == 1
    posted.refresh_from_db()
    assert posted.state == Period.State.FINAL


def test_new_year_base_points_are_granted_once(world, frozen_today):
    frozen_today(datetime.date(2027, 1, 1))
    first = services.base_points_new_year()
    assert first == 4  # three members of branch A, one of branch B
    assert services.base_points_new_year() == 0
    q1 = Period.objects.get(branch=world.branch_a, year=2027, quarter=1)
    approve_all(world, q1)


def test_a_member_gets_their_own_statement_and_no_one_elses(world, posted, client, django_capture_on_commit_callbacks):
    client.force_login(world.member_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/reports/request/",
            {"kind": "statement", "organisation": "", "year": 2026, "member": world.zhang.pk, "paper": "A4",
             "orientation": "portrait", "order": "strokes"},
        )  # fmt: skip
    own = Document.objects.get(kind=DocumentKind.STATEMENT, member=world.zhang)
    assert response.status_code == 302 and own.requested_by == world.member_user
    assert client.get(f"/reports/documents/{own.pk}/").status_code == 200
    other = services.statement_request(actor=world.secretary, member=world.wang, year=2026)
    assert client.get(f"/reports/documents/{other.pk}/").status_code == 404


def test_a_batch_with_a_failing_branch_still_finishes_with_the_rest(
    world, posted, monkeypatch, django_capture_on_commit_callbacks
):
    real = services.pdf_render

    def fails_for_west_river(html):
        if "西川村党支部" in html:
            raise OSError("printer on fire")
        return real(html)

    monkeypatch.setattr(services, "pdf_render", fails_for_west_river)
    with django_capture_on_commit_callbacks(execute=True):
        batch = services.batch_request(actor=world.county_officer, organisation=world.county, kind="annual", year=2026)
    batch.refresh_from_db()
    assert (batch.total, batch.done, batch.failed, batch.status) == (2, 1, 1, JobStatus.FAILED)
    assert "1 个支部生成失败" in batch.error
    text = pdf_text(batch.pdf_file.open("rb").read())
    assert "山岔村党支部" in text and "西川村党支部" not in text
