"""Producing noticeboard documents: requests, rendering (WeasyPrint), batches, schedules.

A request creates (or finds) a ``Document`` by its natural key and queues the render job after
the transaction commits. Rendering locks the document's row, so however often or concurrently a
job runs, one PDF results; a finished document is never rendered again.
"""

import base64
import datetime
import hashlib
import io
import logging
import time
import zipfile

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from branches.models import Organisation, RoleAssignment
from branches.scope import branch_scope
from branches.selectors import descendants
from core import clock
from core.jobs import JobStatus, job_send_on_commit, job_started, jobs_sweep
from core.quarters import quarter_bounds, quarter_of
from ledger.book import rules
from ledger.models import Period, PointEvent
from members.models import Member
from reports import fonts, selectors
from reports.models import (
    Batch,
    Document,
    DocumentKind,
    Notification,
    Order,
    Orientation,
    Paper,
    PostingPreference,
)

logger = logging.getLogger(__name__)

# Large print that reads from a metre or two: body size in points per paper and orientation.
BASE_PT = {("A4", "portrait"): 14, ("A4", "landscape"): 15, ("A3", "portrait"): 20, ("A3", "landscape"): 22}


# --- rendering ---------------------------------------------------------------------------------


def qr_data_uri(url: str) -> str:
    """An SVG QR code as a data URI (vector: sharp at any print size)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def document_template(kind: str) -> str:
    return f"reports/documents/{kind}.html"


def document_context(document: Document) -> dict:
    """What the document shows, loaded fresh from the ledger."""
    params = document.params or {}
    order = params.get("order", Order.STROKES)
    if document.kind == DocumentKind.POSTING:
        period = Period.objects.select_related("branch", "signed_by").get(pk=document.period_id)
        context = selectors.posting_context(period, order=order)
        context["qr_data_uri"] = qr_data_uri(context["public_url"])
        return context
    if document.kind == DocumentKind.STATEMENT:
        member = Member.objects.select_related("branch").get(pk=document.member_id)
        return selectors.statement_context(member, year=document.year)
    if document.kind == DocumentKind.ANNUAL:
        return selectors.annual_context(document.organisation, year=document.year, order=order)
    return selectors.rollup_context(document.organisation, year=document.year, quarter=document.quarter)


def html_render(
    bodies: list[tuple[str, dict]], *, paper: str = Paper.A4, orientation: str = Orientation.PORTRAIT
) -> str:
    """The print HTML: one or more documents (template, context) under the print stylesheet."""
    base_pt = BASE_PT.get((paper, orientation), 14)
    body = "".join(render_to_string(template, context) for template, context in bodies)
    title = bodies[0][1].get("title", "") if bodies else ""
    return render_to_string(
        "reports/print.html",
        {
            "body": mark_safe(body),  # rendered by our own templates, autoescaped there
            "title": title,
            "paper": paper,
            "orientation": orientation,
            "base_pt": base_pt,
            "small_pt": max(base_pt - 4, 10),
        },
    )


def pdf_render(html: str) -> tuple[bytes, int]:
    """PDF bytes and page count. Fonts come from the system (fonts-noto-cjk), embedded as subsets."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=str(settings.BASE_DIR)).render()
    return document.write_pdf(), len(document.pages)


def _visible_text(html: str) -> str:
    """The text of the print HTML without its tags, style sheet and data URIs."""
    import re
    from html import unescape

    body = re.sub(r"<style.*?</style>|<[^>]+>", " ", html, flags=re.S)
    return unescape(body)


# --- requests ----------------------------------------------------------------------------------


def _data_version(*, branches, year: int, member: Member | None = None) -> str:
    """A fingerprint of the entries a (non-posting) document shows, so an unchanged ledger is
    not rendered twice, and a changed one gets a new document."""
    events = PointEvent.objects.filter(branch__in=branches, period__year=year)
    if member is not None:
        events = events.filter(member=member)
    agg = events.aggregate(n=Count("id"), last=Max("updated_at"), top=Max("id"))
    members = Member.objects.filter(branch__in=branches).aggregate(n=Count("id"), top=Max("id"))
    raw = f"{agg['n']}:{agg['top']}:{agg['last']}:{members['n']}:{members['top']}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _clean_layout(paper: str, orientation: str, order: str) -> dict:
    errors = {}
    if paper not in Paper.values:
        errors["paper"] = _("纸张只能是 A4 或 A3。")
    if orientation not in Orientation.values:
        errors["orientation"] = _("方向只能是纵向或横向。")
    if order not in Order.values:
        errors["order"] = _("排列顺序只能按姓氏笔画或按积分高低。")
    if errors:
        raise ValidationError(errors)
    return {"paper": paper, "orientation": orientation, "order": order}


def _queue(document: Document) -> None:
    """The document row commits with the request (the outbox); it is sent to the broker after."""
    job_send_on_commit(Document, document.pk)


def _get_or_create(*, natural_key: str, defaults: dict, requested_by) -> tuple[Document, bool]:
    """Find the document by its natural key, or create it; a failed one is queued again, and one
    still waiting for the broker (it was down) is sent again now."""
    try:
        with transaction.atomic():
            document, created = Document.objects.get_or_create(
                natural_key=natural_key, defaults={**defaults, "requested_by": requested_by}
            )
    except IntegrityError:  # created meanwhile by a concurrent request
        document, created = Document.objects.get(natural_key=natural_key), False
    if created:
        _queue(document)
    elif document.status == JobStatus.FAILED:
        Document.objects.filter(pk=document.pk, status=JobStatus.FAILED).update(
            status=JobStatus.QUEUED, error="", queued_at=clock.now(), sent_at=None, deadline=None
        )
        document.status = JobStatus.QUEUED
        _queue(document)
    elif document.status == JobStatus.QUEUED and document.sent_at is None:
        _queue(document)
    return document, created


def posting_preference(branch: Organisation) -> PostingPreference:
    return PostingPreference.objects.filter(branch=branch).first() or PostingPreference(branch=branch)


@transaction.atomic
def posting_request(
    *,
    actor: AbstractBaseUser | None,
    period: Period,
    paper: str | None = None,
    orientation: str | None = None,
    order: str | None = None,
    requested_by: AbstractBaseUser | None = None,
) -> Document:
    """The quarterly posting (季度积分公示) of a signed quarter; once per quarter and layout.

    ``actor`` is checked against the scope (None: a system caller that checked it already);
    ``requested_by`` is recorded as who asked (defaults to the actor).
    """
    if actor is not None and not branch_scope(actor).filter(pk=period.branch_id).exists():
        raise PermissionDenied(_("您无权查看该支部。"))
    period = Period.objects.select_related("branch").get(pk=period.pk)
    if not period.is_frozen:
        raise ValidationError({"period": _("%(period)s尚未由书记签字，不能生成公示。") % {"period": period.label}})
    preference = posting_preference(period.branch)
    layout = _clean_layout(paper or preference.paper, orientation or preference.orientation, order or preference.order)
    key = f"posting:{period.pk}:{period.content_hash}:{layout['paper']}:{layout['orientation']}:{layout['order']}"
    document, _created = _get_or_create(
        natural_key=key,
        defaults={
            "kind": DocumentKind.POSTING,
            "organisation": period.branch,
            "period": period,
            "year": period.year,
            "quarter": period.quarter,
            "params": layout,
        },
        requested_by=requested_by or actor,
    )
    return document


def posting_after_sign(*, period: Period, actor: AbstractBaseUser | None) -> Document:
    """Produce the posting once the signature commits (ReportsConfig.ready hooks it to signing)."""
    return posting_request(actor=None, period=period, requested_by=actor)


@transaction.atomic
def statement_request(
    *,
    actor: AbstractBaseUser,
    member: Member,
    year: int,
    paper: str = Paper.A4,
    orientation: str = Orientation.PORTRAIT,
) -> Document:
    if not Member.objects.visible_to(actor).filter(pk=member.pk).exists():
        raise PermissionDenied(_("您无权查看该党员。"))
    layout = _clean_layout(paper, orientation, Order.STROKES)
    version = _data_version(branches=[member.branch_id], year=year, member=member)
    key = f"statement:{member.pk}:{year}:{version}:{paper}:{orientation}"
    document, _created = _get_or_create(
        natural_key=key,
        defaults={
            "kind": DocumentKind.STATEMENT,
            "organisation": member.branch,
            "member": member,
            "year": year,
            "params": layout,
        },
        requested_by=actor,
    )
    return document


@transaction.atomic
def annual_request(
    *,
    actor: AbstractBaseUser | None,
    branch: Organisation,
    year: int,
    paper: str = Paper.A4,
    orientation: str = Orientation.PORTRAIT,
    order: str = Order.STROKES,
) -> Document:
    if actor is not None and not branch_scope(actor).filter(pk=branch.pk).exists():
        raise PermissionDenied(_("您无权查看该支部。"))
    layout = _clean_layout(paper, orientation, order)
    version = _data_version(branches=[branch.pk], year=year)
    key = f"annual:{branch.pk}:{year}:{version}:{paper}:{orientation}:{order}"
    document, _created = _get_or_create(
        natural_key=key,
        defaults={"kind": DocumentKind.ANNUAL, "organisation": branch, "year": year, "params": layout},
        requested_by=actor,
    )
    return document


@transaction.atomic
def rollup_request(
    *,
    actor: AbstractBaseUser,
    organisation: Organisation,
    year: int,
    quarter: int | None = None,
    paper: str = Paper.A4,
    orientation: str = Orientation.LANDSCAPE,
) -> Document:
    if not Organisation.objects.visible_to(actor).filter(pk=organisation.pk).exists():
        raise PermissionDenied(_("您无权查看该组织。"))
    if quarter is not None and not 1 <= quarter <= 4:
        raise ValidationError({"quarter": _("季度应为 1 到 4。")})
    layout = _clean_layout(paper, orientation, Order.STROKES)
    branches = descendants(organisation, level=Organisation.Level.BRANCH)
    version = _data_version(branches=branches, year=year)
    key = f"rollup:{organisation.pk}:{year}:{quarter or 0}:{version}:{paper}:{orientation}"
    document, _created = _get_or_create(
        natural_key=key,
        defaults={
            "kind": DocumentKind.ROLLUP,
            "organisation": organisation,
            "year": year,
            "quarter": quarter,
            "params": layout,
        },
        requested_by=actor,
    )
    return document


# --- the job -----------------------------------------------------------------------------------


def _file_name(document: Document, context: dict) -> str:
    org = document.organisation.code
    suffix = f"{document.year}" + (f"Q{document.quarter}" if document.quarter else "")
    if document.kind == DocumentKind.STATEMENT:
        return f"{document.kind}-{org}-{document.member_id}-{suffix}.pdf"
    return f"{document.kind}-{org}-{suffix}.pdf"


def document_render(*, document_id: int) -> Document:
    """Render the document's PDF and store it. A finished document is left as it is (a no-op).

    Step 1 marks it running (a short transaction the screens can see). Step 2 locks the row for
    the whole render: a concurrent run waits, then finds it done. A killed worker's transaction
    is rolled back by the database, so the row is never left half-written.
    """
    with transaction.atomic():
        document = Document.objects.select_for_update().get(pk=document_id)
        if document.status == JobStatus.DONE:
            return document
        for field, value in job_started().items():
            setattr(document, field, value)
        document.attempts += 1
        document.save(update_fields=["status", "started_at", "deadline", "attempts", "error"])
    started = time.monotonic()
    try:
        with transaction.atomic():
            document = Document.objects.select_for_update().select_related("organisation").get(pk=document_id)
            if document.status == JobStatus.DONE:
                return document
            context = document_context(document)
            params = document.params or {}
            html = html_render(
                [(document_template(document.kind), context)],
                paper=params.get("paper", Paper.A4),
                orientation=params.get("orientation", Orientation.PORTRAIT),
            )
            missing = fonts.missing_characters(_visible_text(html))
            if missing:
                raise fonts.MissingGlyphs(
                    _("打印字体中没有以下字符，无法生成：%(chars)s。请改用常用字或联系管理员。") % {"chars": missing}
                )
            pdf, pages = pdf_render(html)
            name = _file_name(document, context)
            if document.file:
                document.file.delete(save=False)
            document.file.save(name, ContentFile(pdf), save=False)
            document.sha256 = hashlib.sha256(pdf).hexdigest()
            document.pages = pages
            document.status = JobStatus.DONE
            document.finished_at = clock.now()
            document.duration_ms = int((time.monotonic() - started) * 1000)
            document.save()
    except Exception as exc:
        Document.objects.filter(pk=document_id).exclude(status=JobStatus.DONE).update(
            status=JobStatus.FAILED, error=f"{exc.__class__.__name__}: {exc}"[:2000], finished_at=clock.now()
        )
        raise
    batch_ids = list(document.batches.values_list("pk", flat=True))
    for batch_id in batch_ids:
        batch_progress(batch_id=batch_id)
    return document


def document_fail(*, document_id: int) -> None:
    """The job gave up (no retries left): count it in its batches so they can finish."""
    for batch_id in Batch.objects.filter(documents__pk=document_id).values_list("pk", flat=True):
        batch_progress(batch_id=batch_id)


# --- batches -----------------------------------------------------------------------------------


@transaction.atomic
def batch_request(
    *,
    actor: AbstractBaseUser,
    organisation: Organisation,
    kind: str,
    year: int,
    quarter: int | None = None,
    paper: str = Paper.A4,
    orientation: str = Orientation.PORTRAIT,
) -> Batch:
    """A township's or the county's postings (or annual summaries) at once, one per branch."""
    if not Organisation.objects.visible_to(actor).filter(pk=organisation.pk).exists():
        raise PermissionDenied(_("您无权查看该组织。"))
    if organisation.level == Organisation.Level.BRANCH:
        raise ValidationError({"organisation": _("批量生成请选择乡镇或县。")})
    if kind not in (DocumentKind.POSTING, DocumentKind.ANNUAL):
        raise ValidationError({"kind": _("批量生成只支持季度公示和年度汇总。")})
    if kind == DocumentKind.POSTING and quarter not in (1, 2, 3, 4):
        raise ValidationError({"quarter": _("季度公示须选择季度。")})
    layout = _clean_layout(paper, orientation, Order.STROKES)
    batch = Batch.objects.create(
        organisation=organisation,
        kind=kind,
        year=year,
        quarter=quarter if kind == DocumentKind.POSTING else None,
        params=layout,
        requested_by=actor,
    )
    branches = list(descendants(organisation, level=Organisation.Level.BRANCH).order_by("path"))
    documents, skipped = [], []
    if kind == DocumentKind.POSTING:
        periods = {
            p.branch_id: p
            for p in Period.objects.filter(
                branch__in=branches, year=year, quarter=quarter, state__in=Period.FROZEN_STATES
            )
        }
        for branch in branches:
            if branch.pk not in periods:
                skipped.append(branch.name)
                continue
            documents.append(
                posting_request(
                    actor=None, period=periods[branch.pk], paper=paper, orientation=orientation, requested_by=actor
                )
            )
    else:
        for branch in branches:
            documents.append(annual_request(actor=None, branch=branch, year=year, paper=paper, orientation=orientation))
    batch.documents.set(documents)
    batch.total = len(documents)
    batch.skipped = skipped
    batch.status = JobStatus.RUNNING
    batch.save()
    pk = batch.pk
    transaction.on_commit(lambda: batch_progress(batch_id=pk))  # documents already done count at once
    return batch


def batch_progress(*, batch_id: int) -> Batch:
    """Recount under the batch's row lock; the one call that sees it complete queues the gathering."""
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch_id)
        if batch.status != JobStatus.RUNNING:
            return batch
        counts = dict(batch.documents.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
        batch.done = counts.get(JobStatus.DONE, 0)
        batch.failed = counts.get(JobStatus.FAILED, 0)
        complete = batch.done + batch.failed >= batch.total
        if complete:  # gathering: the combine job, through the outbox like any other
            batch.status = JobStatus.QUEUED
            batch.queued_at, batch.sent_at, batch.deadline = clock.now(), None, None
        batch.save(update_fields=["done", "failed", "status", "queued_at", "sent_at", "deadline"])
        if complete:
            job_send_on_commit(Batch, batch_id)
    return batch


def batch_combine(*, batch_id: int) -> Batch:
    """One combined PDF (in branch order) and a zip of the separate PDFs. Idempotent."""
    from pypdf import PdfWriter

    started = time.monotonic()
    # A lease, as for any running job: the row lock below keeps the sweeper off a live combine,
    # and a killed one is sent again once the lease is over.
    Batch.objects.filter(pk=batch_id, status=JobStatus.QUEUED).update(deadline=job_started()["deadline"])
    with transaction.atomic():
        batch = Batch.objects.select_for_update().select_related("organisation").get(pk=batch_id)
        if batch.status == JobStatus.DONE:
            return batch
        documents = list(
            batch.documents.filter(status=JobStatus.DONE).select_related("organisation").order_by("organisation__path")
        )
        writer = PdfWriter()
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for document in documents:
                with document.file.open("rb") as fh:
                    data = fh.read()
                writer.append(io.BytesIO(data))
                zf.writestr(document.file.name.rsplit("/", 1)[-1], data)
        combined = io.BytesIO()
        if documents:
            writer.write(combined)
        stem = f"{batch.kind}-{batch.organisation.code}-{batch.year}" + (f"Q{batch.quarter}" if batch.quarter else "")
        for field in (batch.pdf_file, batch.zip_file):
            if field:
                field.delete(save=False)
        if documents:
            batch.pdf_file.save(f"{stem}.pdf", ContentFile(combined.getvalue()), save=False)
        batch.zip_file.save(f"{stem}.zip", ContentFile(archive.getvalue()), save=False)
        batch.status = JobStatus.DONE if not batch.failed else JobStatus.FAILED
        if batch.failed:
            batch.error = _("%(n)d 个支部生成失败，其余已合并。") % {"n": batch.failed}
        batch.finished_at = clock.now()
        batch.duration_ms = int((batch.finished_at - batch.requested_at).total_seconds() * 1000)
        batch.save()
    logger.info("batch %s combined %d documents in %.1fs", batch_id, len(documents), time.monotonic() - started)
    return batch


# --- schedules ---------------------------------------------------------------------------------


def jobs_resend() -> int:
    """The outbox's sweeper (every minute): send again every job the broker or a worker lost
    (``core.jobs.jobs_sweep``), then recount the batches still gathering their documents, so a
    batch whose last document was produced by a re-sent job completes too."""
    sent = jobs_sweep()
    for batch_id in Batch.objects.filter(status=JobStatus.RUNNING).values_list("pk", flat=True):
        batch_progress(batch_id=batch_id)
    return sent


REMINDER_DAYS = 7


def quarter_end_remind(*, on: datetime.date | None = None) -> int:
    """Within a week of a quarter's end, remind every secretary whose quarter is still unsigned.

    Recorded as a Notification (shown on their screens), once per secretary and quarter.
    """
    day = on or clock.today()
    quarter = quarter_of(day)
    _start, last_day = quarter_bounds(day.year, quarter)
    if (last_day - day).days >= REMINDER_DAYS:
        return 0
    key = f"quarter-end:{day.year}:{quarter}"
    created = 0
    roles = RoleAssignment.objects.filter(
        role=RoleAssignment.Role.SECRETARY, organisation__level=Organisation.Level.BRANCH
    ).select_related("organisation")
    signed = set(
        Period.objects.filter(year=day.year, quarter=quarter, state__in=Period.FROZEN_STATES).values_list(
            "branch_id", flat=True
        )
    )
    for role in roles:
        if role.organisation_id in signed:
            continue
        message = _("%(branch)s %(year)s年第%(quarter)s季度将于 %(end)s 结束，请组织支委会审核并签字。") % {
            "branch": role.organisation.name,
            "year": day.year,
            "quarter": quarter,
            "end": last_day.isoformat(),
        }
        _n, was_created = Notification.objects.get_or_create(
            user_id=role.user_id, branch_id=role.organisation_id, key=key, defaults={"message": message}
        )
        created += was_created
    logger.info("quarter-end reminders: %d recorded", created)
    return created


def posting_windows_close() -> int:
    """Finalise every posted quarter whose window has closed (公示期满定稿)."""
    from ledger.book.services import period_finalise

    closed = 0
    for period in Period.objects.filter(rules.posting_closed_q()):
        try:
            period_finalise(actor=None, period=period)
            closed += 1
        except ValidationError:
            continue
    return closed


def base_points_new_year(*, year: int | None = None) -> int:
    """Grant the year's base points in every branch (idempotent: granted entries are skipped)."""
    from ledger.book.services import base_points_grant

    year = year or clock.today().year
    granted = 0
    for branch in Organisation.objects.filter(level=Organisation.Level.BRANCH):
        try:
            granted += base_points_grant(actor=None, branch=branch, year=year)
        except ValidationError as exc:
            logger.warning("base points for %s not granted: %s", branch, exc)
    return granted
