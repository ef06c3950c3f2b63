"""Noticeboard documents (公示与报表): stored records of the PDFs the Celery jobs produce.

A ``Document`` is one PDF (a quarterly posting, a member statement, an annual summary or a
roll-up). Its ``natural_key`` names what it shows, so the same signed quarter's posting is
produced once however often a job runs. A ``Batch`` is a township or county at once: one
document per branch, gathered into a combined PDF and a zip.
"""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from branches.querysets import ScopedManager
from core.jobs import Job


class DocumentKind(models.TextChoices):
    POSTING = "posting", _("季度积分公示")
    STATEMENT = "statement", _("党员年度积分明细")
    ANNUAL = "annual", _("支部年度积分汇总")
    ROLLUP = "rollup", _("积分汇总表")


class Paper(models.TextChoices):
    A4 = "A4", "A4"
    A3 = "A3", "A3"


class Orientation(models.TextChoices):
    PORTRAIT = "portrait", _("纵向")
    LANDSCAPE = "landscape", _("横向")


class Order(models.TextChoices):
    STROKES = "strokes", _("按姓氏笔画")
    TOTAL = "total", _("按积分高低")


def document_path(instance: "Document", filename: str) -> str:
    # A random folder: file names can't be guessed even if a path ever became public.
    return f"documents/{instance.kind}/{instance.pk}/{secrets.token_urlsafe(12)}/{filename}"


def batch_path(instance: "Batch", filename: str) -> str:
    return f"batches/{instance.pk}/{secrets.token_urlsafe(12)}/{filename}"


class Document(Job):
    """One produced PDF and how it came to be (who asked, when, how long it took, what failed)."""

    task_name = "reports.document_render"

    kind = models.CharField(_("文档类型"), max_length=10, choices=DocumentKind.choices)
    organisation = models.ForeignKey(
        "branches.Organisation", verbose_name=_("组织"), on_delete=models.PROTECT, related_name="documents"
    )
    period = models.ForeignKey(
        "ledger.Period", verbose_name=_("季度"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    member = models.ForeignKey(
        "members.Member", verbose_name=_("党员"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"), null=True, blank=True)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    # What the document shows, e.g. "posting:12:<content hash>:A4:portrait:strokes". Unique, so a
    # rerun or a concurrent run finds the existing record instead of producing a second one.
    natural_key = models.CharField(_("内容标识"), max_length=200, unique=True, editable=False)
    file = models.FileField(_("文件"), upload_to=document_path, blank=True, max_length=255)
    sha256 = models.CharField(_("文件校验值"), max_length=64, blank=True)
    pages = models.PositiveIntegerField(_("页数"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("用时（毫秒）"), null=True, blank=True)

    # scope: see branches/querysets.py
    organisation_path = "organisation"
    owner_path = "member__user"  # a member's own statements
    objects = ScopedManager()

    class Meta:
        verbose_name = _("公示文档")
        verbose_name_plural = _("公示文档")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["organisation", "kind", "year"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="done") | (~models.Q(file="") & ~models.Q(sha256="")),
                name="document_done_has_file",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.organisation} · {self.year}"


class Batch(Job):
    """A township's or the whole county's documents at once, one per branch.

    Running while its documents are produced (no deadline: the documents are the jobs then);
    queued again, through the outbox, for the gathering into one PDF and a zip."""

    task_name = "reports.batch_combine"

    organisation = models.ForeignKey(
        "branches.Organisation", verbose_name=_("组织"), on_delete=models.PROTECT, related_name="batches"
    )
    kind = models.CharField(_("文档类型"), max_length=10, choices=DocumentKind.choices)
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"), null=True, blank=True)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    documents = models.ManyToManyField(Document, verbose_name=_("文档"), related_name="batches", blank=True)
    total = models.PositiveIntegerField(_("总数"), default=0)
    done = models.PositiveIntegerField(_("已完成"), default=0)
    failed = models.PositiveIntegerField(_("失败"), default=0)
    skipped = models.JSONField(_("未包含的支部"), default=list, blank=True)
    pdf_file = models.FileField(_("合并 PDF"), upload_to=batch_path, blank=True, max_length=255)
    zip_file = models.FileField(_("压缩包"), upload_to=batch_path, blank=True, max_length=255)
    duration_ms = models.PositiveIntegerField(_("用时（毫秒）"), null=True, blank=True)

    # scope: see branches/querysets.py
    organisation_path = "organisation"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("批量生成")
        verbose_name_plural = _("批量生成")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(done__lte=models.F("total")), name="batch_done_le_total"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.get_kind_display()} · {self.year}"

    @property
    def percent(self) -> int:
        return int(100 * (self.done + self.failed) / self.total) if self.total else 100


class PostingPreference(models.Model):
    """How a branch prints its quarterly posting: the order of names and the paper."""

    branch = models.OneToOneField(
        "branches.Organisation", verbose_name=_("支部"), on_delete=models.CASCADE, related_name="posting_preference"
    )
    order = models.CharField(_("排列顺序"), max_length=10, choices=Order.choices, default=Order.STROKES)
    paper = models.CharField(_("纸张"), max_length=2, choices=Paper.choices, default=Paper.A4)
    orientation = models.CharField(_("方向"), max_length=10, choices=Orientation.choices, default=Orientation.PORTRAIT)

    # scope: see branches/querysets.py
    branch_path = "branch"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("公示打印设置")
        verbose_name_plural = _("公示打印设置")

    def __str__(self) -> str:
        return str(self.branch)


class Notification(models.Model):
    """A reminder recorded for a user (no mail server: shown on their screens)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="+"
    )
    branch = models.ForeignKey(
        "branches.Organisation", verbose_name=_("支部"), on_delete=models.CASCADE, related_name="+"
    )
    # e.g. "quarter-end:2026:4": the same reminder is recorded once per user.
    key = models.CharField(_("标识"), max_length=60)
    message = models.CharField(_("内容"), max_length=255)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    # scope: see branches/querysets.py
    branch_path = "branch"
    owner_path = "user"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("提醒")
        verbose_name_plural = _("提醒")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "branch", "key"], name="notification_unique")]

    def __str__(self) -> str:
        return self.message
