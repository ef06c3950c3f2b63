"""The secretary's spreadsheet screens: import (upload → preview → confirm) and exports.

Thin: they check who is asking (scope), call ledger.spreadsheets.imports / ledger.spreadsheets.exports and render.
"""

import contextlib

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from branches.models import Organisation
from branches.scope import branch_scope
from core import clock
from core.jobs import JobStatus
from core.quarters import quarter_of
from ledger.spreadsheets.excel import ImportFileError
from ledger.spreadsheets.exports import export_build, export_is_large, export_request, export_write
from ledger.spreadsheets.imports import import_confirm, import_preview, import_template
from ledger.spreadsheets.models import ExportJob, ImportBatch
from members.models import Member

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


PREVIEW_ROWS_SHOWN = 200


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("导入内容"),
        choices=[
            (ImportBatch.Kind.MEMBERS, gettext_lazy("党员名册")),
            (ImportBatch.Kind.CLAIMS, gettext_lazy("积分申报（季度汇总表）")),
        ],
    )
    branch = forms.ModelChoiceField(label=gettext_lazy("支部"), queryset=None, empty_label=None)
    file = forms.FileField(
        label=gettext_lazy("文件"),
        help_text=gettext_lazy("Excel（.xlsx）或 CSV 文件"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branch_scope(user, write=True).order_by("path")


def _writable_or_404(request):
    if not branch_scope(request.user, write=True).exists():
        raise Http404
    return branch_scope(request.user, write=True)


@login_required
@require_http_methods(["GET", "POST"])
def import_start(request):
    _writable_or_404(request)
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > settings.IMPORT_MAX_UPLOAD_BYTES:
                raise ImportFileError(
                    _("文件太大（最大 %(mb)d MB），请分成几个文件上传。")
                    % {"mb": settings.IMPORT_MAX_UPLOAD_BYTES // (1024 * 1024)}
                )
            batch = import_preview(
                actor=request.user,
                branch=form.cleaned_data["branch"],
                kind=form.cleaned_data["kind"],
                data=upload.read(),
                name=upload.name,
            )
        except ImportFileError as exc:
            form.add_error("file", str(exc))
        except PermissionDenied as exc:
            form.add_error("branch", str(exc))
        else:
            return redirect("excel:import-preview", pk=batch.pk)
    return render(request, "excel/import_start.html", {"form": form})


def _batch_for(request, pk: int) -> ImportBatch:
    return get_object_or_404(
        ImportBatch.objects.writable_by(request.user).select_related("branch"),
        pk=pk,
        created_by=request.user,
    )


@login_required
@require_http_methods(["GET", "POST"])
def import_preview_view(request, pk: int):
    batch = _batch_for(request, pk)
    if request.method == "POST":
        choices = {}
        for key, value in request.POST.items():
            if key.startswith("choice-"):
                with contextlib.suppress(ValueError):
                    choices[int(key.removeprefix("choice-"))] = int(value)
        try:
            batch = import_confirm(actor=request.user, batch=batch, choices=choices)
        except (ValidationError, PermissionDenied) as exc:
            text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            messages.error(request, text)
            return redirect("excel:import-preview", pk=batch.pk)
        messages.success(request, _("导入完成：新增 %(count)d 条。") % {"count": batch.created_count})
        return redirect("excel:import-preview", pk=batch.pk)
    errors = [p for p in batch.problems if p["level"] == "error"]
    skips = [p for p in batch.problems if p["level"] == "skip"]
    choices_needed = [row for row in batch.rows if batch.kind == ImportBatch.Kind.CLAIMS and row.get("candidates")]
    return render(
        request,
        "excel/import_preview.html",
        {
            "batch": batch,
            "errors": errors,
            "skips": skips,
            "rows": batch.rows[:PREVIEW_ROWS_SHOWN],
            "more": max(len(batch.rows) - PREVIEW_ROWS_SHOWN, 0),
            "choices_needed": choices_needed,
        },
    )


@login_required
def import_template_view(request, kind: str):
    if kind not in (ImportBatch.Kind.MEMBERS, ImportBatch.Kind.CLAIMS):
        raise Http404
    names = {ImportBatch.Kind.MEMBERS: "党员名册导入模板.xlsx", ImportBatch.Kind.CLAIMS: "积分申报导入模板.xlsx"}
    response = HttpResponse(import_template(kind), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(names[kind])}"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


# --- exports ---------------------------------------------------------------------------------


@login_required
def export_index(request):
    branches = branch_scope(request.user).order_by("path")
    if not branches.exists():
        raise Http404
    day = clock.today()
    return render(
        request,
        "excel/export_index.html",
        {
            "branches": branches,
            "members": Member.objects.visible_to(request.user)
            .select_related("branch")
            .order_by("branch__path", "name_strokes")[:2000],
            "organisations": Organisation.objects.visible_to(request.user).exclude(level="branch").order_by("path"),
            "year": day.year,
            "quarter": quarter_of(day),
            "years": range(day.year, day.year - 6, -1),
        },
    )


@login_required
def export_download(request, kind: str):
    params = {
        key: request.GET.get(key, "") for key in ("branch", "member", "organisation", "year", "quarter", "detail")
    }
    try:
        export = export_build(request.user, kind, params)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("excel:export-index")
    if export_is_large(export):
        job = export_request(actor=request.user, kind=kind, params=params, export=export)
        return redirect("excel:export-job", pk=job.pk)
    response = HttpResponse(export_write(export), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(export.filename)}"
    return response


@login_required
def export_job(request, pk: int):
    job = get_object_or_404(ExportJob.objects.visible_to(request.user), pk=pk, requested_by=request.user)
    template = "excel/_export_progress.html" if request.htmx else "excel/export_job.html"
    return render(request, template, {"job": job})


@login_required
def export_job_file(request, pk: int):
    job = get_object_or_404(
        ExportJob.objects.visible_to(request.user), pk=pk, requested_by=request.user, status=JobStatus.DONE
    )
    name = job.file.name.rsplit("/", 1)[-1].split("-", 1)[-1]
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=name, content_type=XLSX)
