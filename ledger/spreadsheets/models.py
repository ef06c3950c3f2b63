"""Spreadsheets in and out: reading real-world files, imports with preview, exports.

Models of the `ledger` app (registered through ledger/models.py)."""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from branches.querysets import ScopedManager
from core.jobs import Job, JobStatus


class ImportBatch(models.Model):
    """An uploaded spreadsheet: its validated rows (kept between preview and confirm) and outcome."""

    class Kind(models.TextChoices):
        MEMBERS = "members", _("党员名册")
        RULES = "rules", _("积分细则")
        CLAIMS = "claims", _("积分申报")

    class State(models.TextChoices):
        PREVIEW = "preview", _("待确认")
        DONE = "done", _("已导入")
        INVALID = "invalid", _("有错误")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    branch = models.ForeignKey(
        "branches.Organisation", verbose_name=_("组织"), on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("导入人"), on_delete=models.PROTECT, related_name="+"
    )
    file_name = models.CharField(_("文件名"), max_length=200)
    file_hash = models.CharField(_("文件校验码"), max_length=64)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PREVIEW)
    rows = models.JSONField(_("待导入行"), default=list, blank=True)
    problems = models.JSONField(_("错误"), default=list, blank=True)
    skipped = models.PositiveIntegerField(_("跳过行数"), default=0)
    created_count = models.PositiveIntegerField(_("导入条数"), default=0)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)

    # scope: see branches/querysets.py
    branch_path = "branch"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        ordering = ["-created_at", "-id"]
        constraints = [
            # The same file for the same branch is imported once at most.
            models.UniqueConstraint(
                fields=["kind", "branch", "file_hash"],
                condition=models.Q(state="done"),
                name="import_batch_file_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name}"


def export_path(instance: "ExportJob", filename: str) -> str:
    return f"exports/{instance.requested_by_id}/{secrets.token_urlsafe(12)}/{instance.pk or 'new'}-{filename}"


class ExportJob(Job):
    """A spreadsheet export too large to build during the request: built by a Celery job."""

    task_name = "ledger.tasks.export_job_run"  # the name it has always had, so queued jobs survive

    kind = models.CharField(_("类型"), max_length=20)
    params = models.JSONField(_("参数"), default=dict)
    # The export is the user's own: it goes with them.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("导出人"), on_delete=models.CASCADE, related_name="+"
    )
    rows_total = models.PositiveIntegerField(_("总行数"), default=0)
    rows_done = models.PositiveIntegerField(_("已完成行数"), default=0)
    file = models.FileField(_("文件"), upload_to=export_path, blank=True)

    # scope: see branches/querysets.py
    owner_path = "requested_by"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("导出任务")
        verbose_name_plural = _("导出任务")
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0
