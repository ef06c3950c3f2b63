"""Writes of the quarterly review beyond the decisions themselves: villagers' feedback (群众反映)
and objections (异议) during the posting window, deductions and corrections decided on them,
and the committee members' "reviewed" marks.

Decisions, deductions, corrections and the quarter's states stay in ``ledger.book.services``; these
functions call them and add the link to the feedback, so no rule lives in two places.
"""

import datetime
import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import Organisation
from branches.selectors import can_decide
from core import clock
from ledger.audit.services import audit_record
from ledger.book import rules, services
from ledger.book.models import Period, PointEvent, ScoringRule
from ledger.review.models import Feedback, ReviewMark
from members.models import Member

MAX_BODY = 1000
MAX_CONTACT = 50
MAX_NOTE = 2000
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed on phones
REFERENCE_LENGTH = 10


def reference_normalise(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch in REFERENCE_ALPHABET)[:REFERENCE_LENGTH]


def _reference_new() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _i in range(REFERENCE_LENGTH))


# --- the public side -----------------------------------------------------------------------------


@transaction.atomic
def feedback_submit(
    *,
    branch: Organisation,
    body: str,
    member: Member | None = None,
    period: Period | None = None,
    contact: str = "",
    anonymous: bool = False,
) -> Feedback:
    """A villager's report (no login). With ``period`` it is an objection to a posted quarter."""
    errors: dict[str, str] = {}
    if not branch.is_branch:
        raise ValidationError({"__all__": _("请选择村（社区）党支部。")})
    body = (body or "").strip()
    contact = (contact or "").strip()
    if not body:
        errors["body"] = _("请写明反映的事情：什么时间、什么地方、发生了什么。")
    elif len(body) > MAX_BODY:
        errors["body"] = _("内容太长，请控制在 %(max)d 字以内。") % {"max": MAX_BODY}
    if len(contact) > MAX_CONTACT:
        errors["contact"] = _("联系方式太长，请控制在 %(max)d 字以内。") % {"max": MAX_CONTACT}
    if anonymous:
        contact = ""  # anonymous means nothing that identifies the sender is kept
    if member is not None and (member.branch_id != branch.pk or member.status != Member.Status.ACTIVE):
        errors["member"] = _("请从本支部党员中选择。")
    if period is not None:
        period = Period.objects.filter(pk=period.pk).first()  # its state as stored, not as passed in
    refusal = rules.objection_refusal(period, branch_id=branch.pk) if period is not None else None
    if refusal is not None:
        errors[refusal.field] = refusal.message
    if errors:
        raise ValidationError(errors)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                feedback = Feedback.objects.create(
                    branch=branch,
                    member=member,
                    period=period,
                    reference=_reference_new(),
                    body=body,
                    contact=contact,
                    anonymous=anonymous,
                )
                # Kept to the day: a precise time could tie an anonymous report to its sender.
                feedback.submitted_at = _start_of_day(feedback.submitted_at)
                Feedback.objects.filter(pk=feedback.pk).update(submitted_at=feedback.submitted_at)
                return feedback
        except IntegrityError:  # a reference code drawn twice: draw again
            continue
    raise RuntimeError("could not draw a unique feedback reference")


def _start_of_day(moment: datetime.datetime) -> datetime.datetime:
    """Midnight, in the village's time zone, of the day ``moment`` falls on."""
    day = clock.local_date(moment)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def feedback_find(code: str) -> Feedback | None:
    """The feedback item for a reference code (the code is the only key: nothing else is asked)."""
    cleaned = reference_normalise(code)
    if len(cleaned) != REFERENCE_LENGTH:
        return None
    return Feedback.objects.filter(reference=cleaned).select_related("branch", "period").first()


# --- the committee's side --------------------------------------------------------------------------


def _lock_feedback(actor: AbstractBaseUser, feedback: Feedback) -> Feedback:
    services.require_decider(actor, feedback.branch)
    return Feedback.objects.select_for_update(of=("self",)).select_related("branch", "period").get(pk=feedback.pk)


def _refuse_resolved(feedback: Feedback) -> None:
    if feedback.is_resolved:
        raise ValidationError(
            {
                "__all__": _("反映 %(ref)s 已经答复（%(res)s），不能再处理。")
                % {"ref": feedback.reference, "res": feedback.get_resolution_display()}
            }
        )


@transaction.atomic
def feedback_deduction_add(
    *,
    actor: AbstractBaseUser,
    feedback: Feedback,
    member: Member,
    rule: ScoringRule,
    occurred_on: datetime.date,
    reason: str,
    points=None,
) -> PointEvent:
    """A committee deduction decided on a villager's report; the two point at each other."""
    feedback = _lock_feedback(actor, feedback)
    _refuse_resolved(feedback)
    if member.branch_id != feedback.branch_id:
        raise ValidationError({"member": _("请从本支部党员中选择。")})
    event = services.deduction_add(
        actor=actor, member=member, rule=rule, occurred_on=occurred_on, reason=reason, points=points
    )
    # The entry was created a moment ago in an open quarter (deduction_add refuses a signed one).
    PointEvent.objects.filter(pk=event.pk).update(feedback=feedback)
    event.feedback = feedback
    audit_record(
        actor=actor,
        action="feedback.deduction",
        obj=feedback,
        branch=feedback.branch,
        summary=_("据群众反映 %(ref)s 扣分：%(name)s %(rule)s %(points)s（条目 #%(id)s）")
        % {
            "ref": feedback.reference,
            "name": member.name,
            "rule": rule.title,
            "points": event.points_display,
            "id": event.pk,
        },
        reason=event.account,
        data={"event": event.pk},
    )
    return event


@transaction.atomic
def objection_correction_add(
    *, actor: AbstractBaseUser, feedback: Feedback, original: PointEvent, points, reason: str
) -> PointEvent:
    """An upheld objection: an adjusting entry in the open quarter, never an edit of the signed one."""
    feedback = _lock_feedback(actor, feedback)
    _refuse_resolved(feedback)
    if not feedback.is_objection or original.period_id != feedback.period_id:
        raise ValidationError({"original": _("只能更正异议所针对的公示季度中的条目。")})
    event = services.event_correct(actor=actor, original=original, points=points, reason=reason)
    PointEvent.objects.filter(pk=event.pk).update(feedback=feedback)
    event.feedback = feedback
    audit_record(
        actor=actor,
        action="feedback.correction",
        obj=feedback,
        branch=feedback.branch,
        summary=_("异议 %(ref)s 成立，更正条目 #%(orig)s（更正条目 #%(id)s，%(points)s）")
        % {"ref": feedback.reference, "orig": original.pk, "id": event.pk, "points": event.points_display},
        reason=reason,
        data={"event": event.pk, "original": original.pk},
    )
    return event


@transaction.atomic
def feedback_resolve(*, actor: AbstractBaseUser, feedback: Feedback, resolution: str, note: str) -> Feedback:
    """Answer a feedback item or an objection. The note is what the sender reads with the code."""
    feedback = _lock_feedback(actor, feedback)
    _refuse_resolved(feedback)
    if resolution not in Feedback.Resolution.values:
        raise ValidationError({"resolution": _("请选择处理结果。")})
    note = services._clean_text(note, field="note", required_message=_("请写明答复意见。"), max_length=MAX_NOTE)
    linked = feedback.events.exclude(status=PointEvent.Status.REJECTED)
    if (
        resolution == Feedback.Resolution.DEDUCTION
        and not linked.filter(entry_method=PointEvent.EntryMethod.COMMITTEE).exists()
    ):
        raise ValidationError({"resolution": _("还没有据此反映录入扣分，请先录入扣分，或选择其他处理结果。")})
    if resolution == Feedback.Resolution.CORRECTED:
        if not feedback.is_objection:
            raise ValidationError({"resolution": _("只有对公示季度的异议才能以更正处理。")})
        if not linked.filter(entry_method=PointEvent.EntryMethod.CORRECTION).exists():
            raise ValidationError({"resolution": _("还没有据此异议录入更正条目，请先录入更正。")})
    feedback.resolution = resolution
    feedback.note = note
    feedback.resolved_by = actor
    feedback.resolved_at = clock.now()
    feedback.save(update_fields=["resolution", "note", "resolved_by", "resolved_at"])
    audit_record(
        actor=actor,
        action="objection.answer" if feedback.is_objection else "feedback.resolve",
        obj=feedback,
        branch=feedback.branch,
        summary=_("答复%(what)s %(ref)s：%(res)s")
        % {
            "what": _("异议") if feedback.is_objection else _("群众反映"),
            "ref": feedback.reference,
            "res": feedback.get_resolution_display(),
        },
        reason=note,
    )
    return feedback


# --- review marks ------------------------------------------------------------------------------


@transaction.atomic
def review_mark(*, actor: AbstractBaseUser, period: Period, note: str = "") -> ReviewMark:
    """A committee member records that they have reviewed the quarter. Idempotent."""
    period = services._lock_period(actor, period)
    if not can_decide(actor, period.branch):
        raise PermissionDenied(_("只有支委会成员可以确认审核。"))
    if period.is_frozen:
        raise ValidationError({"__all__": _("%(period)s已由书记签字封存。") % {"period": period.label}})
    if len(note or "") > 200:
        raise ValidationError({"note": _("意见太长，请控制在 %(max)d 字以内。") % {"max": 200}})
    mark, created = ReviewMark.objects.get_or_create(period=period, user=actor, defaults={"note": (note or "").strip()})
    if created:
        audit_record(
            actor=actor,
            action="period.mark",
            obj=period,
            branch=period.branch,
            summary=_("确认已审核 %(period)s") % {"period": period.label},
            reason=mark.note,
        )
    return mark
