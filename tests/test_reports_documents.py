"""Noticeboard documents: what the PDFs say, the embedded font, privacy, idempotency, retries."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection

from core.jobs import JobStatus
from ledger.models import Period
from members.models import Member
from reports import selectors, services
from reports.models import Document, DocumentKind, Order
from reports.tasks import document_render_task
from tests import factories
from tests.reports_helpers import fill_q3, font_coverage_problems, pdf_text, sign_and_post

pytestmark = pytest.mark.usefixtures("frozen_today")


def _read(document: Document) -> bytes:
    document.refresh_from_db()
    assert document.status == JobStatus.DONE, document.error
    with document.file.open("rb") as fh:
        return fh.read()


@pytest.fixture
def posted(world, django_capture_on_commit_callbacks):
    """Branch A's Q3 2026, signed by the secretary (the posting job runs at commit) and posted."""
    period = fill_q3(world)
    with django_capture_on_commit_callbacks(execute=True):
        period = sign_and_post(world, period)
    return period


def test_signing_a_quarter_produces_its_posting(world, posted):
    document = Document.objects.get(kind=DocumentKind.POSTING, period=posted)
    assert document.requested_by == world.secretary
    assert document.status == JobStatus.DONE
    assert document.pages == 1 and document.duration_ms is not None and document.attempts == 1
    import hashlib

    assert hashlib.sha256(_read(document)).hexdigest() == document.sha256


def test_posting_pdf_holds_names_figures_items_and_code(world, posted):
    text = pdf_text(_read(Document.objects.get(period=posted)))
    assert "山岔村党支部 2026年第3季度党员积分公示" in text
    for name in ("王学恩", "张海燕", "李秀英"):
        assert name in text
    assert "保持绿化卫生责任区干净 +10.0" in text
    assert "无故缺席三会一课 -3.0" in text
    assert "207.0" in text  # the quarter's total: 3 × 60 + 10 + 20 − 3
    assert posted.short_hash in text
    assert "刘振华" in text  # the secretary who signed
    assert "第 1 页 / 共 1 页" in text.replace("第1页/共1页", "第 1 页 / 共 1 页")
    assert "杨长生" not in text  # another branch's member


def test_posting_orders_by_strokes_by_default_or_by_total(world, posted):
    by_strokes = [r.name for r in selectors.posting_context(posted)["rows"]]
    by_total = [r.name for r in selectors.posting_context(posted, order=Order.TOTAL)["rows"]]
    assert by_strokes == ["王学恩", "李秀英", "张海燕"]  # 王 4 strokes, 李 7, 张 7 (横 before 竖)
    assert by_total == ["张海燕", "王学恩", "李秀英"]  # 80, 70, 57


def test_correction_of_an_earlier_quarter_is_marked(world, posted, frozen_today, django_capture_on_commit_callbacks):
    from ledger.book import services as ledger
    from tests.reports_helpers import approve_all

    original = posted.events.get(member=world.wang, kind="bonus")
    ledger.event_correct(actor=world.committee, original=original, points="5", reason="只打扫了一半")
    q4 = Period.objects.get(branch=world.branch_a, year=2026, quarter=4)
    approve_all(world, q4)
    frozen_today(datetime.date(2027, 1, 5))
    with django_capture_on_commit_callbacks(execute=True):
        ledger.period_sign(actor=world.secretary, period=q4)
    text = pdf_text(_read(Document.objects.get(period=q4)))
    assert "-5.0" in text and "更正2026年第3季度条目" in text


def _every_document(world, posted) -> list[Document]:
    from django.test.utils import CaptureQueriesContext  # noqa: F401  (kept simple: eager tasks)

    docs = [Document.objects.get(period=posted)]
    docs.append(services.statement_request(actor=world.secretary, member=world.wang, year=2026))
    docs.append(services.annual_request(actor=world.secretary, branch=world.branch_a, year=2026))
    docs.append(services.rollup_request(actor=world.county_officer, organisation=world.county, year=2026, quarter=3))
    return docs


@pytest.fixture
def every_document(world, posted, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return _every_document(world, posted)


def test_every_document_renders_with_every_character_in_the_embedded_font(every_document):
    assert {d.kind for d in every_document} == set(DocumentKind.values)
    for document in every_document:
        data = _read(document)
        assert font_coverage_problems(data) == [], document.kind
        assert "第" in pdf_text(data)


def test_glyph_check_catches_a_character_missing_from_the_font():
    # 𪛖 (U+2A6D6, CJK extension B) is in no installed font: the check must flag it.
    html = services.html_render([("reports/documents/rollup.html", {"title": "测试𪛖", "rows": [], "totals": {}})])
    data, _pages = services.pdf_render(html)
    problems = font_coverage_problems(data)
    assert problems and "𪛖" in " ".join(problems)


def test_statement_annual_and_rollup_figures(world, every_document):
    posting, statement, annual, rollup = (pdf_text(_read(d)) for d in every_document)
    assert "王学恩 2026年度党员积分明细" in statement and "70.0" in statement
    assert "张海燕" not in statement
    assert "参考等次" in annual and "优秀" in annual
    assert "山岔村党支部" in rollup and "西川村党支部" in rollup and "207.0" in rollup


PRIVATE = {"phone": "13912345678", "id_number": "41122419560302123X", "address": "山岔村三组老槐树下7号"}


def test_public_documents_never_show_private_details(world, django_capture_on_commit_callbacks, client):
    Member.objects.filter(pk=world.wang.pk).update(group="第三村民组", **PRIVATE)
    period = fill_q3(world)
    with django_capture_on_commit_callbacks(execute=True):
        period = sign_and_post(world, period)
        docs = _every_document(world, period)
    forbidden = [*PRIVATE.values(), "1956-03-02", "1956年3月2日", "1956", world.committee.first_name]
    pages = [
        client.get(f"/p/{world.branch_a.code}/").content.decode(),
        client.get(f"/p/{world.branch_a.code}/2026/3/").content.decode(),
        client.get(f"/verify/{period.content_hash}/").content.decode(),
    ]
    texts = [pdf_text(_read(d)) for d in docs]
    assert "第三村民组" in pages[1]  # the group is shown
    assert "第三村民组" in texts[0].replace("\n", "")
    for text in texts + pages:
        for value in forbidden:
            assert value not in text


def test_rerunning_a_finished_document_is_a_no_op(world, posted):
    document = Document.objects.get(period=posted)
    before = (document.sha256, document.file.name, document.finished_at)
    document_render_task.delay(document.pk)
    services.document_render(document_id=document.pk)
    again = services.posting_request(actor=world.secretary, period=posted)
    document.refresh_from_db()
    assert again.pk == document.pk
    assert (document.sha256, document.file.name, document.finished_at) == before
    assert document.attempts == 1
    assert Document.objects.filter(kind=DocumentKind.POSTING).count() == 1


def test_a_different_layout_is_a_different_document(world, posted, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        a3 = services.posting_request(actor=world.secretary, period=posted, paper="A3", orientation="landscape")
    assert a3.pk != Document.objects.filter(period=posted).order_by("pk").first().pk
    assert _read(a3)


def test_unsigned_quarter_has_no_posting_and_outsiders_are_refused(world):
    from django.core.exceptions import PermissionDenied, ValidationError

    period = fill_q3(world)
    with pytest.raises(ValidationError):
        services.posting_request(actor=world.secretary, period=period)
    with pytest.raises(PermissionDenied):
        services.statement_request(actor=world.other_secretary, member=world.wang, year=2026)
    with pytest.raises(PermissionDenied):
        services.rollup_request(actor=world.secretary, organisation=world.county, year=2026)
    with pytest.raises(ValidationError):
        services.posting_request(actor=world.secretary, period=period, paper="B5")


def test_retry_after_a_failure_mid_render(world, posted, monkeypatch, django_capture_on_commit_callbacks):
    real = services.pdf_render
    calls = {"n": 0}

    def flaky(html):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("disk full while writing")
        return real(html)

    monkeypatch.setattr(services, "pdf_render", flaky)
    with django_capture_on_commit_callbacks(execute=True):
        document = services.annual_request(actor=world.secretary, branch=world.branch_a, year=2026)
    document.refresh_from_db()
    assert calls["n"] == 2
    assert document.status == JobStatus.DONE and document.attempts == 2 and document.error == ""


def test_a_failed_job_is_recorded_then_requeued_on_the_next_request(
    world, posted, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(html):
        raise OSError("no space left")

    monkeypatch.setattr(services, "pdf_render", broken)
    with django_capture_on_commit_callbacks(execute=True):
        services.annual_request(actor=world.secretary, branch=world.branch_a, year=2026)
    document = Document.objects.get(kind=DocumentKind.ANNUAL)
    assert document.status == JobStatus.FAILED and "no space left" in document.error
    assert document.attempts == 5  # the first run and four retries
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        again = services.annual_request(actor=world.secretary, branch=world.branch_a, year=2026)
    assert again.pk == document.pk
    assert _read(again)


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_produce_one_document(world, frozen_today):
    """Four workers run the same job at once: one renders, the others find it done."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    import threading

    from django.db import connections

    period = fill_q3(world)
    period = sign_and_post(world, period)  # autocommit: the job already ran once
    document = Document.objects.get(period=period)
    Document.objects.filter(pk=document.pk).update(status=JobStatus.QUEUED, file="", sha256="")
    renders = {"n": 0}
    real = services.pdf_render

    def counting(html):
        renders["n"] += 1
        return real(html)

    services.pdf_render = counting
    errors = []

    def run():
        try:
            services.document_render(document_id=document.pk)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    try:
        threads = [threading.Thread(target=run) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        services.pdf_render = real
    assert errors == []
    assert renders["n"] == 1
    document.refresh_from_db()
    assert document.status == JobStatus.DONE and document.sha256


def test_appraisal_grades_hold_the_excellent_quota_and_treat_ties_alike():
    d = Decimal
    grades = selectors.appraisal_grades([d(120), d(110), d(95), d(80), d(59), d(10)])
    assert grades == ["优秀", "优秀", "合格", "合格", "基本合格", "不合格"]  # quota 6/3 = 2
    tied = selectors.appraisal_grades([d(100), d(100), d(100), d(70), d(70), d(70)])
    assert tied == ["合格"] * 6  # three tied for a quota of two: none is 优秀
    assert selectors.appraisal_grades([d(100), d(100)]) == ["合格", "合格"]  # quota 0 for two members
    assert selectors.appraisal_grades([d(89), d(60), d(61)]) == ["合格", "合格", "合格"]  # below 90
    assert selectors.appraisal_grades([d(-5)]) == ["不合格"]


def test_annual_summary_grades_a_branch(world, posted):
    for _ in range(3):
        factories.member(world.branch_a)
    context = selectors.annual_context(world.branch_a, year=2026)
    grades = {r.name: r.grade for r in context["rows"]}
    assert grades["张海燕"] == "优秀" or grades["张海燕"] == "合格"
    assert sum(1 for g in grades.values() if g == "优秀") <= len(grades) // 3


def test_a_name_the_font_cannot_draw_fails_the_job_with_a_message(world, posted, django_capture_on_commit_callbacks):
    Member.objects.filter(pk=world.wang.pk).update(name="王𪛖")
    with django_capture_on_commit_callbacks(execute=True):
        document = services.statement_request(actor=world.secretary, member=world.wang, year=2026)
    document.refresh_from_db()
    assert document.status == JobStatus.FAILED and "𪛖" in document.error
    assert document.attempts == 1  # not retried: it would fail the same way


def test_a_long_posting_repeats_title_header_and_page_numbers_on_every_page(
    world, frozen_today, django_capture_on_commit_callbacks
):
    import io

    from pypdf import PdfReader

    for _ in range(45):
        factories.member(world.branch_a)
    period = fill_q3(world)
    with django_capture_on_commit_callbacks(execute=True):
        sign_and_post(world, period)
    document = Document.objects.get(period=period)
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(_read(document))).pages]
    assert len(pages) == document.pages > 2
    for number, text in enumerate(pages, start=1):
        assert "山岔村党支部 2026年第3季度党员积分公示" in text  # the running header
        assert period.short_hash in text
        assert f"第 {number} 页 / 共 {len(pages)} 页" in text
    table_pages = [t for t in pages if "全年累计" in t]
    assert len(table_pages) >= 2  # the members' table runs over pages, its header repeated
