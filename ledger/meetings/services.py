"""Meetings (三会一课, the member activity day): who attended is credited, who was excused is
neither credited nor deducted, who was absent is deducted — every entry through the book's
entry_validate/entry_write, so a meeting credit and a member's own claim for it are one deed."""

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from branches.models import Organisation
from ledger.audit.services import audit_record
from ledger.book import rules
from ledger.book.models import Kind, PointEvent, ScoringRule
from ledger.book.selectors import rules_for_branch
from ledger.book.services import claim_record, deduction_add, require_decider
from ledger.meetings.models import Attendance, Meeting
from members.models import Member

EntryMethod = PointEvent.EntryMethod


@transaction.atomic
def meeting_record(
    *,
    actor: AbstractBaseUser,
    branch: Organisation,
    type: str,
    held_on: datetime.date,
    topic: str,
    attendance_rule: ScoringRule,
    absence_rule: ScoringRule | None,
    attendance: dict[int, tuple[str, str]],
    place: str = "",
) -> Meeting:
    """Record a meeting (三会一课, 主题党日) and its attendance, once.

    ``attendance`` maps each member id to (status, reason). Who attended is credited by the
    attendance rule, who was absent without leave loses the absence rule's points, and an
    excused absence is recorded with its reason and neither credited nor deducted. The same
    meeting can't be recorded twice; a member who already declared the same deed that day
    (the same rule and date) is linked to that claim instead of being credited a second time.
    """
    require_decider(actor, branch)
    errors: dict[str, list[str]] = {}
    if type not in Meeting.Type.values:
        errors["type"] = [_("请选择会议类型。")]
    topic = (topic or "").strip()
    if not topic:
        errors["topic"] = [_("请填写会议主题。")]
    elif len(topic) > 200:
        errors["topic"] = [_("内容太长，请控制在 %(max)d 字以内。") % {"max": 200}]
    refusal = rules.entry_date_refusal(held_on, field="held_on")
    if refusal is not None:
        errors["held_on"] = [refusal.message]
    applicable = rules_for_branch(branch)
    if attendance_rule.kind == Kind.DEDUCTION or not applicable.filter(pk=attendance_rule.pk).exists():
        errors["attendance_rule"] = [_("请选择本支部适用的加分细则。")]
    if absence_rule is not None and (
        absence_rule.kind != Kind.DEDUCTION or not applicable.filter(pk=absence_rule.pk).exists()
    ):
        errors["absence_rule"] = [_("请选择本支部适用的扣分细则。")]
    members = {m.pk: m for m in Member.objects.filter(branch=branch, pk__in=list(attendance)).select_related("branch")}
    if not attendance:
        errors["attendance"] = [_("请登记每位党员的出勤情况。")]
    for member_id, (status, reason) in attendance.items():
        member = members.get(member_id)
        if member is None:
            errors.setdefault("attendance", []).append(_("只能登记本支部的党员。"))
        elif status not in Attendance.Status.values:
            errors.setdefault("attendance", []).append(_("%(name)s：请选择出勤情况。") % {"name": member.name})
        elif status == Attendance.Status.EXCUSED and not (reason or "").strip():
            errors.setdefault("attendance", []).append(
                _("%(name)s 请假，请写明请假事由（如卧病在床、外出务工）。") % {"name": member.name}
            )
    if errors:
        raise ValidationError(errors)
    if Meeting.objects.filter(branch=branch, type=type, held_on=held_on).exists():
        raise ValidationError(
            {
                "held_on": _("%(date)s 的%(type)s已经登记过，不能重复登记。")
                % {"date": held_on.isoformat(), "type": Meeting.Type(type).label}
            }
        )
    meeting = Meeting(
        branch=branch,
        type=type,
        held_on=held_on,
        place=(place or "").strip()[:100],
        topic=topic,
        attendance_rule=attendance_rule,
        absence_rule=absence_rule,
        recorded_by=actor,
    )
    try:
        with transaction.atomic():
            meeting.save()
    except IntegrityError:
        raise ValidationError({"held_on": _("这次会议已经登记过，不能重复登记。")}) from None
    title = f"{meeting.get_type_display()}：{topic}"
    problems: list[str] = []
    notes: list[str] = []
    for member_id, (status, reason) in sorted(attendance.items()):
        member = members[member_id]
        event = None
        key = f"meeting:{meeting.pk}:{member.pk}"
        try:
            if status == Attendance.Status.PRESENT:
                declared = PointEvent.objects.filter(
                    rules.counting_q(), member=member, rule=attendance_rule, occurred_on=held_on
                ).first()
                if declared is not None:
                    event = declared  # the same deed, already claimed: linked, not credited twice
                else:
                    event = claim_record(
                        actor=actor,
                        member=member,
                        rule=attendance_rule,
                        occurred_on=held_on,
                        account=_("参加%(meeting)s") % {"meeting": title},
                        place=place,
                        entry_method=EntryMethod.MEETING,
                        dedupe_key=key,
                    )
            elif status == Attendance.Status.ABSENT and absence_rule is not None:
                event = deduction_add(
                    actor=actor,
                    member=member,
                    rule=absence_rule,
                    occurred_on=held_on,
                    reason=_("无故缺席%(meeting)s") % {"meeting": title},
                    place=place,
                    entry_method=EntryMethod.MEETING,
                    dedupe_key=key,
                )
        except ValidationError as exc:
            if status == Attendance.Status.PRESENT and set(exc.message_dict) == {"points"}:
                # Over the rule's cap: the attendance is recorded, without more points.
                notes.append(f"{member.name}：{exc.messages[0]}")
            else:
                problems.extend(f"{member.name}：{message}" for message in exc.messages)
                continue
        Attendance.objects.create(
            meeting=meeting,
            member=member,
            status=status,
            reason=(reason or "").strip()[:200] if status == Attendance.Status.EXCUSED else "",
            event=event,
        )
    if problems:
        raise ValidationError({"attendance": problems})
    counts = {s: sum(1 for st, _r in attendance.values() if st == s) for s in Attendance.Status.values}
    audit_record(
        actor=actor,
        action="meeting.record",
        obj=meeting,
        branch=branch,
        summary=_("登记%(title)s（%(date)s）：出席 %(present)d，请假 %(excused)d，缺席 %(absent)d")
        % {"title": title, "date": held_on.isoformat(), **counts},
        data={"notes": notes},
    )
    meeting.notes = notes
    return meeting
