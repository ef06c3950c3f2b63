"""Screens: the public noticeboard pages (no login) and the officers' document requests.

Public pages show only posted or final quarters (anything else answers 404). Staff screens go
through the scope selectors: another organisation's document or batch answers 404.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branches.models import Organisation
from core.jobs import JobStatus
from ledger.models import Period
from members.models import Member
from reports import selectors, services
from reports.forms import BatchRequestForm, DocumentRequestForm
from reports.models import Batch, Document, DocumentKind

# --- public pages (no login) -------------------------------------------------------------------


def _public_branch(code: str) -> Organisation:
    return get_object_or_404(Organisation, code=code, level=Organisation.Level.BRANCH)


def _feedback_url(code: str) -> str:
    return reverse("feedback_create", kwargs={"code": code})


def public_branch(request: HttpRequest, code: str) -> HttpResponse:
    branch = _public_branch(code)
    periods = selectors.public_periods(branch)
    return render(
        request,
        "reports/public/branch.html",
        {"branch": branch, "periods": periods, "feedback_url": _feedback_url(code)},
    )


def _public_period(code: str, year: int, quarter: int) -> Period:
    branch = _public_branch(code)
    return get_object_or_404(
        Period.objects.select_related("branch", "signed_by"),
        branch=branch,
        year=year,
        quarter=quarter,
        state__in=selectors.PUBLIC_STATES,
    )


def public_period(request: HttpRequest, code: str, year: int, quarter: int) -> HttpResponse:
    period = _public_period(code, year, quarter)
    context = selectors.posting_context(period, order=services.posting_preference(period.branch).order)
    context["qr_data_uri"] = services.qr_data_uri(context["public_url"])
    scanned = request.GET.get("h", "")
    verification = selectors.verification_check(scanned) if scanned else None
    return render(
        request,
        "reports/public/period.html",
        {
            **context,
            "doc_template": "reports/documents/posting.html",
            "verification": verification,
            "feedback_url": _feedback_url(code),
            "pdf": _public_pdf(period),
        },
    )


def _public_pdf(period: Period) -> Document | None:
    return (
        Document.objects.filter(
            period=period, kind=DocumentKind.POSTING, status=JobStatus.DONE, natural_key__contains=period.content_hash
        )
        .order_by("pk")
        .first()
    )


def public_period_pdf(request: HttpRequest, code: str, year: int, quarter: int) -> FileResponse:
    period = _public_period(code, year, quarter)
    document = _public_pdf(period)
    if document is None:
        raise Http404
    return FileResponse(
        document.file.open("rb"), content_type="application/pdf", filename=document.file.name.split("/")[-1]
    )


def verify(request: HttpRequest) -> HttpResponse:
    code = request.GET.get("code", "").strip()
    if code:
        return redirect("verify_code", code=code)
    return render(request, "reports/public/verify.html", {})


def verify_code(request: HttpRequest, code: str) -> HttpResponse:
    verification = selectors.verification_check(code)
    public = verification.period is not None and verification.period.state in selectors.PUBLIC_STATES
    return render(
        request,
        "reports/public/verify.html",
        {"verification": verification, "code": code, "public": public},
        status=200 if verification.period else 404,
    )


# --- officers' and secretaries' screens --------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    documents = Document.objects.visible_to(request.user).select_related("organisation", "member")[:30]
    batches = Batch.objects.visible_to(request.user).select_related("organisation")[:10]
    return render(
        request,
        "reports/home.html",
        {
            "form": DocumentRequestForm(user=request.user),
            "batch_form": BatchRequestForm(user=request.user),
            "documents": documents,
            "batches": batches,
            "notifications": selectors.notifications_for(request.user)[:10],
        },
    )


def _form_errors(form, exc: ValidationError) -> None:
    for field, messages in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


@login_required
@require_POST
def document_request(request: HttpRequest) -> HttpResponse:
    form = DocumentRequestForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        org, kind = data["organisation"], data["kind"]
        layout = {"paper": data["paper"], "orientation": data["orientation"]}
        try:
            if kind == DocumentKind.POSTING:
                if org.level != Organisation.Level.BRANCH or not data["quarter"]:
                    raise ValidationError({"quarter": _("请选择支部和季度。")})
                period = (
                    Period.objects.visible_to(request.user)
                    .filter(branch=org, year=data["year"], quarter=data["quarter"])
                    .first()
                )
                if period is None:
                    raise ValidationError({"quarter": _("该季度还没有记录。")})
                document = services.posting_request(actor=request.user, period=period, order=data["order"], **layout)
            elif kind == DocumentKind.STATEMENT:
                member: Member = data["member"]
                document = services.statement_request(actor=request.user, member=member, year=data["year"], **layout)
            elif kind == DocumentKind.ANNUAL:
                if org.level != Organisation.Level.BRANCH:
                    raise ValidationError({"organisation": _("年度汇总请选择支部。")})
                document = services.annual_request(
                    actor=request.user, branch=org, year=data["year"], order=data["order"], **layout
                )
            else:
                document = services.rollup_request(
                    actor=request.user, organisation=org, year=data["year"], quarter=data["quarter"], **layout
                )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            return redirect("reports:document", pk=document.pk)
    return render(
        request,
        "reports/home.html",
        {"form": form, "batch_form": BatchRequestForm(user=request.user), "documents": [], "batches": []},
        status=400,
    )


@login_required
def document_detail(request: HttpRequest, pk: int) -> HttpResponse:
    document = get_object_or_404(Document.objects.visible_to(request.user).select_related("organisation"), pk=pk)
    template = "reports/_document_status.html" if request.htmx else "reports/document.html"
    return render(request, template, {"document": document})


@login_required
def document_download(request: HttpRequest, pk: int) -> FileResponse:
    document = get_object_or_404(Document.objects.visible_to(request.user), pk=pk, status=JobStatus.DONE)
    return FileResponse(
        document.file.open("rb"),
        content_type="application/pdf",
        as_attachment=True,
        filename=document.file.name.split("/")[-1],
    )


@login_required
@require_POST
def batch_request(request: HttpRequest) -> HttpResponse:
    form = BatchRequestForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            batch = services.batch_request(
                actor=request.user,
                organisation=data["organisation"],
                kind=data["kind"],
                year=data["year"],
                quarter=data["quarter"],
                paper=data["paper"],
                orientation=data["orientation"],
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            return redirect("reports:batch", pk=batch.pk)
    return render(
        request,
        "reports/home.html",
        {"form": DocumentRequestForm(user=request.user), "batch_form": form, "documents": [], "batches": []},
        status=400,
    )


@login_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(Batch.objects.visible_to(request.user).select_related("organisation"), pk=pk)
    template = "reports/_batch_progress.html" if request.htmx else "reports/batch.html"
    return render(request, template, {"batch": batch})


@login_required
def batch_download(request: HttpRequest, pk: int, what: str) -> FileResponse:
    batch = get_object_or_404(Batch.objects.visible_to(request.user), pk=pk)
    field = batch.pdf_file if what == "pdf" else batch.zip_file
    if not field:
        raise Http404
    content_type = "application/pdf" if what == "pdf" else "application/zip"
    return FileResponse(
        field.open("rb"), content_type=content_type, as_attachment=True, filename=field.name.split("/")[-1]
    )
