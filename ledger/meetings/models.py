"""Meetings (三会一课) and attendance, which credit or deduct points automatically.

Models of the `ledger` app (registered through ledger/models.py)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from branches.querysets import ScopedManager
from ledger.book.models import PointEvent, ScoringRule


class Meeting(models.Model):
    """A meeting of the branch (三会一课) or the member activity day (主题党日), with its attendance.

    Recorded once: attendance credits and absence deductions are point events whose dedupe key
    names the meeting and the member, so the same meeting can never be credited twice.
    """

    class Type(models.TextChoices):
        GENERAL = "general", _("支部党员大会")
        COMMITTEE = "committee", _("支委会")
        GROUP = "group", _("党小组会")
        LECTURE = "lecture", _("党课")
        ACTIVITY_DAY = "activity_day", _("主题党日")

    branch = models.ForeignKey(
        "branches.Organisation", verbose_name=_("支部"), on_delete=models.PROTECT, related_name="meetings"
    )
    type = models.CharField(_("会议类型"), max_length=14, choices=Type.choices)
    held_on = models.DateField(_("召开日期"))
    place = models.CharField(_("地点"), max_length=100, blank=True)
    topic = models.CharField(_("主题"), max_length=200)
    attendance_rule = models.ForeignKey(
        ScoringRule, verbose_name=_("参会加分细则"), on_delete=models.PROTECT, related_name="+"
    )
    absence_rule = models.ForeignKey(
        ScoringRule,
        verbose_name=_("缺席扣分细则"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    # scope: see branches/querysets.py
    branch_path = "branch"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("会议")
        verbose_name_plural = _("会议")
        ordering = ["-held_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "type", "held_on"], name="meeting_once_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.held_on} {self.get_type_display()} {self.topic}"


class Attendance(models.Model):
    """Who attended a meeting, who was excused (with the reason) and who was absent."""

    class Status(models.TextChoices):
        PRESENT = "present", _("出席")
        EXCUSED = "excused", _("请假")
        ABSENT = "absent", _("缺席")

    meeting = models.ForeignKey(Meeting, verbose_name=_("会议"), on_delete=models.PROTECT, related_name="attendance")
    member = models.ForeignKey(
        "members.Member", verbose_name=_("党员"), on_delete=models.PROTECT, related_name="attendance"
    )
    status = models.CharField(_("出勤情况"), max_length=8, choices=Status.choices)
    reason = models.CharField(_("请假事由"), max_length=200, blank=True)
    event = models.ForeignKey(
        PointEvent,
        verbose_name=_("积分条目"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    # scope: see branches/querysets.py
    branch_path = "meeting__branch"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("出勤记录")
        verbose_name_plural = _("出勤记录")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "member"], name="attendance_once"),
            models.CheckConstraint(
                condition=~models.Q(status="excused") | ~models.Q(reason=""), name="attendance_excused_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id} {self.member_id} {self.status}"
