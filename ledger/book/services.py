"""Every write to the ledger. Views, admin, API, importers and tasks all call these functions.

Each function checks the user's scope and role, refuses bad input with a translated
``ValidationError`` keyed by form field (so every caller can show it next to the field), and
changes nothing when it refuses. Rows that decide an outcome are locked (``select_for_update``)
so two people acting at once end in a consistent state. Database triggers (ledger/book/triggers.py)
back up the most important rule: a signed quarter never changes.
"""

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from branches.models import Organisation
from branches.scope import branch_scope
from branches.selectors import can_decide, can_sign
from core import clock
from core.points import ZERO, points_format
from core.quarters import quarter_bounds, quarter_of
from ledger.audit.services import SYSTEM_USERNAME, audit_chain_head, audit_record, system_user
from ledger.book import hooks, rules
from ledger.book.images import evidence_prepare
from ledger.book.models import Evidence, Kind, MemberQuarterTotal, Period, PointEvent, QuarterCount, ScoringRule
from ledger.book.selectors import (
    HASH_VERSION,
    period_content_hash,
    period_snapshot_build,
    rule_applies,
    rule_usage,
    rules_for_branch,
)
from members.models import Member

Status = PointEvent.Status
EntryMethod = PointEvent.EntryMethod
CLAIM_METHODS = (
    EntryMethod.TYPED_IN,
    EntryMethod.ON_BEHALF,
    EntryMethod.GROUP,
    EntryMethod.MEETING,
    EntryMethod.IMPORT,
)
MAX_ACCOUNT = 2000


# --- helpers -----------------------------------------------------------------------------------


def require_write(actor: AbstractBaseUser, branch: Organisation) -> None:
    if not branch_scope(actor, write=True).filter(pk=branch.pk).exists():
        raise PermissionDenied(_("您无权操作该支部的积分台账。"))


def require_decider(actor: AbstractBaseUser, branch: Organisation) -> None:
    require_write(actor, branch)
    if not can_decide(actor, branch):
        raise PermissionDenied(_("只有支委会成员可以审核积分。"))


def _clean_text(value: str, *, field: str, required_message: str, max_length: int = MAX_ACCOUNT) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: required_message})
    if len(text) > max_length:
        raise ValidationError({field: _("内容太长，请控制在 %(max)d 字以内。") % {"max": max_length}})
    return text


def period_for(*, branch: Organisation, day: datetime.date, lock: bool = True) -> Period:
    """The branch's quarter that contains ``day``, created open if it does not exist yet."""
    key = {"branch": branch, "year": day.year, "quarter": quarter_of(day)}
    if lock:  # the quarter usually exists: lock it in one statement, create it only when missing
        period = Period.objects.select_for_update().filter(**key).first()
        if period is not None:
            return period
    period, _created = Period.objects.get_or_create(**key)
    if lock:
        period = Period.objects.select_for_update().get(pk=period.pk)
    return period


def _refuse_frozen(period: Period, *, field: str = "occurred_on") -> None:
    if period.is_frozen:
        raise rules.frozen_refusal(period, field=field).error()


def _check_caps(
    *, member: Member, rule: ScoringRule, period: Period, magnitude: Decimal, exclude_event_id: int | None = None
) -> None:
    if rule.cap_per_quarter is None and rule.cap_per_year is None:
        return
    usage = rule_usage(
        member=member, rule=rule, year=period.year, quarter=period.quarter, exclude_event_id=exclude_event_id
    )
    verdicts = rules.caps_check(
        rule=rule, used_quarter=usage["used_quarter"], used_year=usage["used_year"], adding=magnitude
    )
    if verdicts:
        raise verdicts[0].error()


def _total_add(event: PointEvent) -> None:
    """Add an approved event's points to the cached member-quarter total, atomically in the DB:
    one upsert (``INSERT … ON CONFLICT DO UPDATE``, on both databases) under the quarter's lock."""
    points = {kind: event.points if kind == event.kind else ZERO for kind in Kind.values}
    table = MemberQuarterTotal._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (member_id, period_id, base, bonus, deduction, total)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (member_id, period_id) DO UPDATE SET"
            f" base = {table}.base + excluded.base, bonus = {table}.bonus + excluded.bonus,"
            f" deduction = {table}.deduction + excluded.deduction, total = {table}.total + excluded.total",
            [event.member_id, event.period_id, points["base"], points["bonus"], points["deduction"], event.points],
        )


def _count_move(period_id: int, *, from_status: str | None, to_status: str) -> None:
    """Keep the quarter's entry counts (``QuarterCount``) in step, in one statement under the
    quarter's lock: an entry arrived in ``to_status`` (``from_status`` None: an upsert) or moved
    between states (its quarter's row exists since the entry arrived: an update)."""
    if from_status is None:
        arrived = dict.fromkeys(Status.values, 0) | {to_status: 1}
        table = QuarterCount._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (period_id, pending, approved, rejected) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (period_id) DO UPDATE SET"
                f" pending = {table}.pending + excluded.pending, approved = {table}.approved + excluded.approved,"
                f" rejected = {table}.rejected + excluded.rejected",
                [period_id, arrived["pending"], arrived["approved"], arrived["rejected"]],
            )
    elif from_status != to_status:
        QuarterCount.objects.filter(period_id=period_id).update(
            **{from_status: F(from_status) - 1, to_status: F(to_status) + 1}
        )


# --- recording entries -------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryDraft:
    """An entry's values after ``entry_validate``: ready for ``entry_write``."""

    member: Member
    rule: ScoringRule
    occurred_on: datetime.date
    account: str
    place: str
    points: Decimal  # signed: a deduction is negative
    entry_method: str
    evidence: tuple = ()
    corrects: PointEvent | None = None


def entry_validate(
    *,
    member: Member,
    rule: ScoringRule,
    occurred_on: datetime.date,
    account: str,
    entry_method: str,
    points=None,
    place: str = "",
    evidence: Sequence = (),
    corrects: PointEvent | None = None,
) -> EntryDraft:
    """Check an entry's own values, all at once: a ``ValidationError`` keyed by every field at fault.

    ``points`` is the value as typed (blank: the rule's default), its sign taken from the rule's
    kind — except for a correction (``corrects``), whose ``points`` is the signed difference the
    caller computed. Checks that need the ledger (signed quarter, double claims, caps) are made by
    ``entry_write`` under the member's lock."""
    errors: dict[str, str] = {}
    if member.status != Member.Status.ACTIVE:
        errors["member"] = _("%(name)s 的状态是“%(status)s”，不能再记分。") % {
            "name": member.name,
            "status": member.get_status_display(),
        }
    if corrects is None and not rule_applies(member.branch, rule):
        errors["rule"] = _("“%(rule)s”不是本支部适用的积分细则。") % {"rule": rule.title}
    refusal = rules.entry_date_refusal(occurred_on)
    if refusal is not None:
        errors["occurred_on"] = refusal.message
    try:
        account = _clean_text(account, field="account", required_message=_("请填写事由：何时、何地、做了什么。"))
    except ValidationError as exc:
        errors["account"] = exc.message_dict["account"][0]
    if len(place or "") > 100:
        errors["place"] = _("地点太长，请控制在 100 字以内。")
    signed_points = ZERO
    if corrects is not None:
        signed_points = Decimal(points)
    else:
        value = rule.default_points if points in (None, "") else points
        refusal = rules.points_refusal(value, kind=rule.kind if points not in (None, "") else None)
        if refusal is not None:
            errors["points"] = refusal.message
        else:
            signed_points = rules.signed(rule.kind, rules.points_clean(value))
    if rule.evidence_required and not evidence and corrects is None and entry_method in EntryMethod.member_claims():
        errors["evidence"] = _("“%(rule)s”须附证明照片。") % {"rule": rule.title}
    if errors:
        raise ValidationError(errors)
    return EntryDraft(
        member=member,
        rule=rule,
        occurred_on=occurred_on,
        account=account,
        place=(place or "").strip(),
        points=signed_points,
        entry_method=entry_method,
        evidence=tuple(evidence),
        corrects=corrects,
    )


def entry_write(
    *,
    actor: AbstractBaseUser,
    draft: EntryDraft,
    claimed_by: AbstractBaseUser | None,
    dedupe_key: str | None = None,
) -> PointEvent:
    """Write a validated entry, pending, into its quarter — refused if the quarter is signed, if
    ``dedupe_key`` was recorded already, if it is a double claim or goes over a cap (both checked
    for original entries only; base grants are told apart by their key)."""
    member, rule = draft.member, draft.rule
    branch = member.branch
    period = period_for(branch=branch, day=draft.occurred_on)
    _refuse_frozen(period)
    # Entries of one quarter are serialised by its lock (above): that covers double claims (one
    # day, one quarter) and quarter caps. A year cap spans quarters, so then the member is locked too.
    if rule.cap_per_year is not None and draft.corrects is None:
        list(Member.objects.select_for_update().filter(pk=member.pk).values_list("pk", flat=True))
    if dedupe_key and PointEvent.objects.filter(dedupe_key=dedupe_key).exists():
        raise ValidationError({"__all__": _("这条记录已经登记过，不能重复登记。")})
    if draft.corrects is None and draft.entry_method != EntryMethod.BASE:
        duplicate = (
            PointEvent.objects.filter(rules.counting_q(), member=member, rule=rule, occurred_on=draft.occurred_on)
            .only("entry_method", "status")
            .first()
        )
        if duplicate is not None:
            raise rules.duplicate_refusal(
                member_name=member.name,
                rule_title=rule.title,
                occurred_on=draft.occurred_on,
                existing_method=duplicate.entry_method,
                existing_status=duplicate.status,
            ).error()
    if draft.corrects is None:
        _check_caps(member=member, rule=rule, period=period, magnitude=abs(draft.points))
    prepared = [evidence_prepare(upload) for upload in draft.evidence]
    event = PointEvent(
        branch=branch,
        member=member,
        period=period,
        rule=rule,
        kind=rule.kind,
        points=draft.points,
        occurred_on=draft.occurred_on,
        place=draft.place,
        account=draft.account,
        entry_method=draft.entry_method,
        claimed_by=claimed_by,
        entered_by=actor,
        dedupe_key=dedupe_key,
        corrects=draft.corrects,
    )
    try:
        if dedupe_key:  # only a keyed entry can collide; its savepoint keeps the transaction usable
            with transaction.atomic():
                event.save()
        else:
            event.save()
    except IntegrityError:
        if dedupe_key and PointEvent.objects.filter(dedupe_key=dedupe_key).exists():
            raise ValidationError({"__all__": _("这条记录已经登记过，不能重复登记。")}) from None
        raise
    _count_move(period.pk, from_status=None, to_status=event.status)
    for content in prepared:
        Evidence.objects.create(event=event, image=content)
    audit_record(
        actor=actor,
        action="event.create",
        obj=event,
        branch=branch,
        summary=_("录入 %(name)s %(rule)s %(points)s（%(source)s）")
        % {
            "name": member.name,
            "rule": rule.title,
            "points": points_format(event.points),
            "source": event.get_entry_method_display(),
        },
        data={
            "points": str(event.points),
            "occurred_on": draft.occurred_on.isoformat(),
            "on_behalf": event.on_behalf,
            "entry_method": event.entry_method,
        },
    )
    return event


@transaction.atomic
def claim_record(
    *,
    actor: AbstractBaseUser,
    member: Member,
    rule: ScoringRule,
    occurred_on: datetime.date,
    account: str,
    points=None,
    place: str = "",
    evidence: Sequence = (),
    entry_method: str | None = None,
    dedupe_key: str | None = None,
) -> PointEvent:
    """Record a claim (个人申报) for a member: by the member, or by the committee for them.

    A member recording their own deed is always ``SELF``. For anyone else ``entry_method`` says
    how it came: ``ON_BEHALF`` (代办, the default: the secretary declares it for the member),
    ``TYPED_IN`` (the member declared it, the secretary only typed it in), or a group activity,
    a meeting's attendance or an import.
    """
    is_self = member.user_id is not None and member.user_id == actor.pk
    if not is_self:
        # the scope check loads the member's branch too (one query, not two)
        branch = branch_scope(actor, write=True).filter(pk=member.branch_id).first()
        if branch is None:
            raise PermissionDenied(_("您无权操作该支部的积分台账。"))
        member.branch = branch
    if rule.kind == Kind.DEDUCTION:
        raise ValidationError({"rule": _("扣分只能由书记或支委会录入，并须写明理由。")})
    if is_self:
        entry_method, claimed_by = EntryMethod.SELF, actor
    else:
        entry_method = entry_method or EntryMethod.ON_BEHALF
        if entry_method not in CLAIM_METHODS:
            raise ValueError(f"not a way to enter a claim: {entry_method}")
        claimed_by = member.user if entry_method == EntryMethod.TYPED_IN else actor
    draft = entry_validate(
        member=member,
        rule=rule,
        occurred_on=occurred_on,
        account=account,
        entry_method=entry_method,
        points=points,
        place=place,
        evidence=evidence,
    )
    return entry_write(actor=actor, draft=draft, claimed_by=claimed_by, dedupe_key=dedupe_key)


@transaction.atomic
def deduction_add(
    *,
    actor: AbstractBaseUser,
    member: Member,
    rule: ScoringRule,
    occurred_on: datetime.date,
    reason: str,
    points=None,
    place: str = "",
    entry_method: str = EntryMethod.COMMITTEE,
    dedupe_key: str | None = None,
) -> PointEvent:
    """A deduction (违规扣分), entered by the secretary or committee only, always with a reason
    (``entry_method``: the committee's finding, or a meeting's absence)."""
    require_decider(actor, member.branch)
    if rule.kind != Kind.DEDUCTION:
        raise ValidationError({"rule": _("请选择扣分类细则。")})
    if entry_method not in (EntryMethod.COMMITTEE, EntryMethod.MEETING):
        raise ValueError(f"not a way to enter a deduction: {entry_method}")
    reason = _clean_text(reason, field="account", required_message=_("扣分必须写明理由。"))
    draft = entry_validate(
        member=member,
        rule=rule,
        occurred_on=occurred_on,
        account=reason,
        entry_method=entry_method,
        points=points,
        place=place,
    )
    return entry_write(actor=actor, draft=draft, claimed_by=actor, dedupe_key=dedupe_key)


# --- decisions ---------------------------------------------------------------------------------


def _lock_for_decision(actor: AbstractBaseUser, event: PointEvent) -> PointEvent:
    # Lock the quarter first (the same order as signing) so a decision and a sign-off serialise.
    period = Period.objects.select_for_update().get(pk=event.period_id)
    event = PointEvent.objects.select_for_update().select_related("member", "rule").get(pk=event.pk)
    event.period = period
    require_decider(actor, event.branch)
    _refuse_frozen(period, field="__all__")
    if event.status != Status.PENDING:
        raise ValidationError(
            {"__all__": _("该条目已审核（%(status)s），不能重复审核。") % {"status": event.get_status_display()}}
        )
    if actor.pk in (event.claimed_by_id, event.entered_by_id) or (
        event.member.user_id and event.member.user_id == actor.pk
    ):
        raise ValidationError({"__all__": _("不能审核本人申报、本人录入或本人名下的条目，请由其他支委审核。")})
    return event


def _decide(event: PointEvent, *, actor: AbstractBaseUser, status: str, reason: str) -> None:
    _count_move(event.period_id, from_status=event.status, to_status=status)
    event.status = status
    event.decision_reason = reason
    event.decided_by = actor
    event.decided_at = clock.now()


@transaction.atomic
def event_approve(*, actor: AbstractBaseUser, event: PointEvent, reason: str = "") -> PointEvent:
    event = _lock_for_decision(actor, event)
    _decide(event, actor=actor, status=Status.APPROVED, reason=(reason or "").strip())
    event.save()
    _total_add(event)
    audit_record(
        actor=actor,
        action="event.approve",
        obj=event,
        branch=event.branch,
        summary=_("通过 %(name)s %(rule)s %(points)s")
        % {"name": event.member.name, "rule": event.rule.title, "points": points_format(event.points)},
        reason=event.decision_reason,
    )
    return event


@transaction.atomic
def event_reject(*, actor: AbstractBaseUser, event: PointEvent, reason: str) -> PointEvent:
    reason = _clean_text(reason, field="reason", required_message=_("不通过必须写明理由。"))
    event = _lock_for_decision(actor, event)
    _decide(event, actor=actor, status=Status.REJECTED, reason=reason)
    event.save()
    audit_record(
        actor=actor,
        action="event.reject",
        obj=event,
        branch=event.branch,
        summary=_("不通过 %(name)s %(rule)s %(points)s")
        % {"name": event.member.name, "rule": event.rule.title, "points": points_format(event.points)},
        reason=reason,
    )
    return event


@transaction.atomic
def event_adjust(*, actor: AbstractBaseUser, event: PointEvent, points, reason: str) -> PointEvent:
    """Approve with a different value; the original stays visible next to the new one."""
    reason = _clean_text(reason, field="reason", required_message=_("调整分值必须写明理由。"))
    event = _lock_for_decision(actor, event)
    magnitude = rules.points_clean(points, kind=event.kind)
    new_points = rules.signed(event.kind, magnitude)
    if new_points == event.points:
        raise ValidationError({"points": _("调整后的分值与原分值相同；如无需调整，请直接通过。")})
    _check_caps(
        member=event.member, rule=event.rule, period=event.period, magnitude=magnitude, exclude_event_id=event.pk
    )
    original = event.points
    event.original_points = original
    event.points = new_points
    _decide(event, actor=actor, status=Status.APPROVED, reason=reason)
    event.save()
    _total_add(event)
    audit_record(
        actor=actor,
        action="event.adjust",
        obj=event,
        branch=event.branch,
        summary=_("调整 %(name)s %(rule)s：%(old)s → %(new)s")
        % {
            "name": event.member.name,
            "rule": event.rule.title,
            "old": points_format(original),
            "new": points_format(new_points),
        },
        reason=reason,
        data={"original_points": str(original), "points": str(new_points)},
    )
    return event


def events_decide_bulk(
    *, actor: AbstractBaseUser, events: Iterable[PointEvent], action: str, reason: str = ""
) -> tuple[int, list[str]]:
    """Approve or reject many entries; each in its own transaction. Returns (done, refusals)."""
    done, refusals = 0, []
    for event in events:
        try:
            if action == "approve":
                event_approve(actor=actor, event=event, reason=reason)
            else:
                event_reject(actor=actor, event=event, reason=reason)
            done += 1
        except (ValidationError, PermissionDenied) as exc:
            message = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            refusals.append(f"#{event.pk} {event.member.name}：{message}")
    return done, refusals


@transaction.atomic
def event_correct(
    *,
    actor: AbstractBaseUser,
    original: PointEvent,
    points,
    reason: str,
    occurred_on: datetime.date | None = None,
) -> PointEvent:
    """Correct an entry of a signed quarter by a new adjusting entry in an open quarter.

    ``points`` is what the original should have been worth (a deduction as a positive number);
    the new entry carries the difference and points at the original, as in book-keeping.
    """
    require_decider(actor, original.branch)
    reason = _clean_text(reason, field="reason", required_message=_("更正必须写明理由。"))
    original = PointEvent.objects.select_related("member", "rule", "period").get(pk=original.pk)
    if not original.period.is_frozen:
        raise ValidationError({"__all__": _("该条目所在季度尚未签字，请直接在审核中处理，不需要更正。")})
    if original.is_correction:
        raise ValidationError({"__all__": _("请更正原始条目，而不是更正条目。")})
    zero = str(points).strip() in ("0", "0.0")
    target = ZERO if zero else rules.signed(original.kind, rules.points_clean(points, kind=original.kind))
    effective = (original.points if original.status == Status.APPROVED else ZERO) + sum(
        (c.points for c in original.corrections.filter(status=Status.APPROVED)), ZERO
    )
    delta = target - effective
    if delta == 0:
        raise ValidationError({"points": _("更正后的分值与当前有效分值相同，无需更正。")})
    draft = entry_validate(
        member=original.member,
        rule=original.rule,
        occurred_on=occurred_on or clock.today(),
        account=_("更正 %(period)s 条目 #%(id)s（%(old)s → %(new)s）：%(reason)s")
        % {
            "period": original.period.label,
            "id": original.pk,
            "old": points_format(effective),
            "new": points_format(target),
            "reason": reason,
        },
        entry_method=EntryMethod.CORRECTION,
        points=delta,
        corrects=original,
    )
    return entry_write(actor=actor, draft=draft, claimed_by=actor)


# --- quarters ----------------------------------------------------------------------------------


def _lock_period(actor: AbstractBaseUser, period: Period) -> Period:
    require_write(actor, period.branch)
    return Period.objects.select_for_update().select_related("branch").get(pk=period.pk)


@transaction.atomic
def period_start_review(*, actor: AbstractBaseUser, period: Period) -> Period:
    period = _lock_period(actor, period)
    if not can_decide(actor, period.branch):
        raise PermissionDenied(_("只有支委会成员可以开始审核。"))
    if period.state != Period.State.OPEN:
        raise ValidationError(
            {
                "__all__": _("%(period)s当前状态为“%(state)s”，不能开始审核。")
                % {"period": period.label, "state": period.get_state_display()}
            }
        )
    period.state = Period.State.REVIEW
    period.review_started_at = clock.now()
    period.review_started_by = actor
    period.save()
    audit_record(
        actor=actor,
        action="period.review",
        obj=period,
        branch=period.branch,
        summary=_("开始审核 %(period)s") % {"period": period.label},
    )
    return period


@transaction.atomic
def period_sign(*, actor: AbstractBaseUser, period: Period, on: datetime.date | None = None) -> Period:
    """The secretary signs (书记签字确认): freezes the quarter and chains its hash to the last one."""
    period = _lock_period(actor, period)
    if not can_sign(actor, period.branch):
        raise PermissionDenied(_("只有书记（或代行职责的副书记）可以签字。"))
    if period.state not in (Period.State.OPEN, Period.State.REVIEW):
        raise ValidationError({"__all__": _("%(period)s已经签字，不能重复签字。") % {"period": period.label}})
    _start, end = quarter_bounds(period.year, period.quarter)
    if (on or clock.today()) <= end:
        raise ValidationError(
            {
                "__all__": _("%(period)s到 %(end)s 才结束，季度结束后才能签字。")
                % {"period": period.label, "end": end.isoformat()}
            }
        )
    pending = list(
        PointEvent.objects.filter(period=period, status=Status.PENDING)
        .select_related("member", "rule")
        .order_by("occurred_on", "id")
    )
    if pending:
        listed = "；".join(
            f"{e.member.name} {e.occurred_on:%m-%d} {e.rule.title} {points_format(e.points)}" for e in pending[:20]
        )
        more = _("等") if len(pending) > 20 else ""
        raise ValidationError(
            {
                "__all__": _("还有 %(count)d 条待审核条目，审核完毕后才能签字：%(list)s%(more)s")
                % {"count": len(pending), "list": listed, "more": more}
            },
            code="pending",
        )
    # Lock the branch so two quarters of one branch can't take the same place in the chain.
    Organisation.objects.select_for_update().get(pk=period.branch_id)
    previous = (
        Period.objects.filter(branch_id=period.branch_id, chain_index__isnull=False).order_by("-chain_index").first()
    )
    period.chain_index = previous.chain_index + 1 if previous else 1
    period.previous_hash = previous.content_hash if previous else ""
    # What the board shows is frozen with the events and hashed with them (version 2).
    period.hash_version = HASH_VERSION
    period.signed_snapshot = period_snapshot_build(
        period,
        signed_by_name=actor.get_full_name() or actor.get_username(),
        audit_head=audit_chain_head(period.branch_id),
    )
    period.content_hash = period_content_hash(period)
    period.state = Period.State.SIGNED
    period.signed_by = actor
    period.signed_at = clock.now()
    if period.review_started_at is None:
        period.review_started_at = period.signed_at
        period.review_started_by = actor
    period.save()
    audit_record(
        actor=actor,
        action="period.sign",
        obj=period,
        branch=period.branch,
        summary=_("书记签字确认 %(period)s，校验码 %(code)s") % {"period": period.label, "code": period.short_hash},
        data={
            "content_hash": period.content_hash,
            "previous_hash": period.previous_hash,
            "chain_index": period.chain_index,
        },
    )
    # The layers above (reports' noticeboard posting) hear of it here; they queue their jobs
    # to run after this transaction commits.
    hooks.period_signed(period=period, actor=actor)
    return period


@transaction.atomic
def period_post(*, actor: AbstractBaseUser, period: Period, window_days: int | None = None) -> Period:
    """Post a signed quarter on the noticeboard (张榜公示) with an objection window (公示期)."""
    period = _lock_period(actor, period)
    if not can_decide(actor, period.branch):
        raise PermissionDenied(_("只有支委会成员可以发布公示。"))
    if period.state != Period.State.SIGNED:
        raise ValidationError(
            {
                "__all__": _("只有书记签字后的季度才能公示（当前状态：%(state)s）。")
                % {"state": period.get_state_display()}
            }
        )
    days = window_days if window_days is not None else period.branch.posting_window_days
    if not 1 <= int(days) <= 30:
        raise ValidationError({"window_days": _("公示期应为 1 到 30 天。")})
    period.state = Period.State.POSTED
    period.posted_at = clock.now()
    period.posting_ends_on = clock.today() + datetime.timedelta(days=int(days))
    period.save()
    audit_record(
        actor=actor,
        action="period.post",
        obj=period,
        branch=period.branch,
        summary=_("张榜公示 %(period)s，公示至 %(end)s")
        % {"period": period.label, "end": period.posting_ends_on.isoformat()},
    )
    return period


@transaction.atomic
def period_finalise(*, actor: AbstractBaseUser | None, period: Period) -> Period:
    """After the posting window closes, and every objection is answered, the quarter is final."""
    period = Period.objects.select_for_update().select_related("branch").get(pk=period.pk)
    if actor is not None:
        require_write(actor, period.branch)
    if period.state != Period.State.POSTED:
        raise ValidationError({"__all__": _("只有公示中的季度才能定稿。")})
    refusal = rules.finalise_refusal(period)
    if refusal is not None:
        raise refusal.error()
    unanswered = list(period.objections.filter(resolved_at__isnull=True).values_list("reference", flat=True))
    if unanswered:
        raise ValidationError(
            {
                "__all__": _("还有 %(count)d 条异议未答复，全部答复后才能定稿：%(list)s")
                % {"count": len(unanswered), "list": "、".join(unanswered)}
            }
        )
    period.state = Period.State.FINAL
    period.finalised_at = clock.now()
    period.save()
    audit_record(
        actor=actor,
        action="period.final",
        obj=period,
        branch=period.branch,
        summary=_("%(period)s公示期满，定稿") % {"period": period.label},
    )
    return period


# --- base points -------------------------------------------------------------------------------


def base_points_grant(
    *, actor: AbstractBaseUser | None, branch: Organisation, year: int, on: datetime.date | None = None
) -> int:
    """Grant the year's base points (基础积分) to every active member. Idempotent: returns how many
    entries were created; running it again for the same year creates none."""
    actor = actor or system_user()
    if actor.username != SYSTEM_USERNAME:
        require_write(actor, branch)
    day = on or (clock.today() if clock.today().year == year else datetime.date(year, 1, 1))
    if day.year != year:
        raise ValidationError({"on": _("基础积分的日期必须在 %(year)d 年内。") % {"year": year}})
    rules = list(rules_for_branch(branch, kind=Kind.BASE).order_by("code"))
    if not rules:
        raise ValidationError({"rule": _("本支部没有启用的基础积分细则。")})
    rule = rules[0]
    members = Member.objects.filter(branch=branch, status=Member.Status.ACTIVE).select_related("branch")
    granted = set(
        PointEvent.objects.filter(dedupe_key__startswith=f"base:{year}:", branch=branch).values_list(
            "dedupe_key", flat=True
        )
    )
    created = 0
    for member in members:
        key = f"base:{year}:{member.pk}"
        if key in granted:
            continue
        try:
            with transaction.atomic():
                draft = entry_validate(
                    member=member,
                    rule=rule,
                    occurred_on=day,
                    account=_("%(year)d 年度基础积分") % {"year": year},
                    entry_method=EntryMethod.BASE,
                )
                entry_write(actor=actor, draft=draft, claimed_by=None, dedupe_key=key)
            created += 1
        except ValidationError as exc:
            if "__all__" in exc.message_dict:  # granted meanwhile by a concurrent run
                continue
            raise
    return created


# --- group activities and meetings -----------------------------------------------------------


@transaction.atomic
def group_activity_record(
    *,
    actor: AbstractBaseUser,
    branch: Organisation,
    members: Sequence[Member],
    rule: ScoringRule,
    occurred_on: datetime.date,
    account: str,
    place: str = "",
    points=None,
) -> list[PointEvent]:
    """One deed done by many members (扫雪, a clean-up day): one event per participant, all or none."""
    require_write(actor, branch)
    members = list(members)
    if not members:
        raise ValidationError({"members": _("请勾选参加活动的党员。")})
    if any(member.branch_id != branch.pk for member in members):
        raise ValidationError({"members": _("只能勾选本支部的党员。")})
    if rule.kind == Kind.DEDUCTION or not rules_for_branch(branch).filter(pk=rule.pk).exists():
        raise ValidationError({"rule": _("请选择本支部适用的加分细则。")})
    events, problems = [], []
    for member in members:
        try:
            events.append(
                claim_record(
                    actor=actor,
                    member=member,
                    rule=rule,
                    occurred_on=occurred_on,
                    account=account,
                    place=place,
                    points=points,
                    entry_method=EntryMethod.GROUP,
                )
            )
        except ValidationError as exc:
            if set(exc.message_dict) - {"member", "rule", "points", "__all__"}:
                raise  # the same for everyone (date, account, place): shown once, next to its field
            problems.extend(f"{member.name}：{message}" for message in exc.messages)
    if problems:
        raise ValidationError({"members": problems})
    audit_record(
        actor=actor,
        action="group.record",
        obj=events[0],
        branch=branch,
        summary=_("集体活动 %(rule)s %(date)s，%(count)d 人")
        % {"rule": rule.title, "date": occurred_on.isoformat(), "count": len(events)},
        data={"events": [event.pk for event in events]},
    )
    return events
