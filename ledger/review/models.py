"""The committee's quarterly review and villagers' feedback on the posted quarter.

Models of the `ledger` app (registered through ledger/models.py)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from branches.querysets import ScopedManager
from ledger.book.models import Period


class Feedback(models.Model):
    """群众反映: what a villager reports about a member, or an objection to a posted quarter.

    Sent from the public form without a login; the branch committee answers it. Whoever keeps
    the reference code can read the answer. The contact is private: never shown publicly.
    """

    class Resolution(models.TextChoices):
        NO_ACTION = "no_action", _("经核实，不予处理")
        DEDUCTION = "deduction", _("已核实并扣分")
        CORRECTED = "corrected", _("异议成立，已更正")
        PASSED_ON = "passed_on", _("已转交有关部门")

    branch = models.ForeignKey(
        "branches.Organisation",
        verbose_name=_("支部"),
        on_delete=models.PROTECT,
        related_name="feedback",
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("反映的党员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="feedback",
    )
    # Set when the feedback is an objection (异议) to a quarter during its posting window.
    period = models.ForeignKey(
        Period,
        verbose_name=_("异议的公示季度"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="objections",
    )
    reference = models.CharField(_("查询码"), max_length=16, unique=True, editable=False)
    body = models.TextField(_("反映内容"))
    contact = models.CharField(_("联系方式"), max_length=50, blank=True)
    anonymous = models.BooleanField(_("匿名"), default=False)
    submitted_at = models.DateTimeField(_("提交时间"), auto_now_add=True, db_index=True)
    resolution = models.CharField(_("处理结果"), max_length=12, choices=Resolution.choices, blank=True)
    note = models.TextField(_("答复"), blank=True, help_text=_("凭查询码可以看到的答复"))
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("答复人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("答复时间"), null=True, blank=True)

    # scope: see branches/querysets.py
    branch_path = "branch"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("群众反映")
        verbose_name_plural = _("群众反映")
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["branch", "resolved_at"])]
        constraints = [
            models.CheckConstraint(condition=~models.Q(body=""), name="feedback_body_required"),
            models.CheckConstraint(
                condition=models.Q(resolved_at__isnull=True, resolution="")
                | (models.Q(resolved_at__isnull=False) & ~models.Q(resolution="") & ~models.Q(note="")),
                name="feedback_resolution_has_note",
            ),
            models.CheckConstraint(
                condition=models.Q(anonymous=False) | models.Q(contact=""), name="feedback_anonymous_no_contact"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference}"

    @property
    def is_objection(self) -> bool:
        return self.period_id is not None

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None


class ReviewMark(models.Model):
    """A committee member's mark that they have reviewed the quarter (支委会成员审核确认)."""

    period = models.ForeignKey(Period, verbose_name=_("季度"), on_delete=models.PROTECT, related_name="review_marks")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("支委"), on_delete=models.PROTECT, related_name="+"
    )
    marked_at = models.DateTimeField(_("审核确认时间"), auto_now_add=True)
    note = models.CharField(_("意见"), max_length=200, blank=True)

    # scope: see branches/querysets.py
    branch_path = "period__branch"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("审核确认")
        verbose_name_plural = _("审核确认")
        ordering = ["marked_at"]
        constraints = [models.UniqueConstraint(fields=["period", "user"], name="review_mark_unique")]

    def __str__(self) -> str:
        return f"{self.period_id}: {self.user_id}"
