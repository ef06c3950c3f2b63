"""The audit trail: who changed what, when and why (append-only, by trigger).

Models of the `ledger` app (registered through ledger/models.py)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from branches.querysets import ScopedManager


class AuditEntry(models.Model):
    """Who changed what, when and why. Append-only: the database refuses updates and deletes."""

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("操作"), max_length=40)
    branch = models.ForeignKey(
        "branches.Organisation",
        verbose_name=_("组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    object_type = models.CharField(_("对象类型"), max_length=40)
    object_id = models.BigIntegerField(_("对象编号"), null=True)
    summary = models.CharField(_("摘要"), max_length=255)
    reason = models.TextField(_("理由"), blank=True)
    data = models.JSONField(_("详情"), default=dict, blank=True)

    # scope: see branches/querysets.py
    branch_path = "branch"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("操作记录")
        verbose_name_plural = _("操作记录")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return self.summary
