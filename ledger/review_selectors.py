"""Reads for the quarterly review page and the feedback queue. A fixed number of queries,
however many entries a quarter holds (asserted in tests)."""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Prefetch, QuerySet, Sum

from branches.models import RoleAssignment
from branches.selectors import COMMITTEE_ROLES, SIGNING_ROLES, user_roles
from core.points import ZERO
from ledger.models import AuditEntry, Evidence, Feedback, Kind, Period, PointEvent, ReviewMark
from ledger.selectors import rules_for_branch
from members.models import Member

Status = PointEvent.Status
Source = PointEvent.Source
CLAIM_SOURCES = (Source.SELF, Source.ON_BEHALF)

#: What a user may do on a branch's quarter or feedback: review it (approve, reject, adjust,
#: deductions, marks, posting, answers) and sign it. Officers above the branch have neither.
DECIDE = "decide"
SIGN = "sign"


def branch_permissions(user, branch) -> frozenset[str]:
    """The one answer to "what may this user do here": the review page, the feedback answer page
    and their POST handlers all ask it (read-only users see no buttons and are refused)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return frozenset({DECIDE, SIGN})
    roles = user_roles(user, branch)  # one query; the same sets as can_decide / can_sign
    allowed = set()
    if roles & set(COMMITTEE_ROLES):
        allowed.add(DECIDE)
        if roles & set(SIGNING_ROLES):
            allowed.add(SIGN)
    return frozenset(allowed)


def period_permissions(user, period: Period) -> frozenset[str]:
    return branch_permissions(user, period.branch)


def feedback_scope(user, *, write: bool = False) -> QuerySet[Feedback]:
    return Feedback.objects.writable_by(user) if write else Feedback.objects.visible_to(user)


def period_events(period: Period) -> QuerySet[PointEvent]:
    """Every entry of the quarter with what the review page shows of it, in two queries."""
    return (
        PointEvent.objects.filter(period=period)
        .select_related(
            "member", "rule", "claimed_by", "entered_by", "decided_by", "corrects", "corrects__period", "feedback"
        )
        .prefetch_related(Prefetch("evidence", queryset=Evidence.objects.order_by("id")))
        .order_by("occurred_on", "id")
    )


@dataclass
class ReviewSummary:
    members: int = 0
    counts: dict = field(default_factory=dict)  # {(status, kind): count}
    totals: dict = field(default_factory=dict)  # approved points by kind + total
    idle_members: list = field(default_factory=list)
    over_cap: list = field(default_factory=list)  # dicts: event ids, member, rule, used, cap, scope
    double_claims: list = field(default_factory=list)  # lists of events
    on_behalf: list = field(default_factory=list)
    pending: list = field(default_factory=list)
    decided: list = field(default_factory=list)
    corrections: list = field(default_factory=list)

    @property
    def status_rows(self) -> list[dict]:
        rows = []
        for status, status_label in Status.choices:
            cells = [self.counts.get((status, kind), 0) for kind in Kind.values]
            rows.append({"status": status, "label": status_label, "cells": cells, "total": sum(cells)})
        return rows


def _year_usage(period: Period, events: list[PointEvent]) -> dict[tuple[int, int], Decimal]:
    """Points already used this year, in the branch's other quarters, per (member, rule) with a year cap."""
    rule_ids = {e.rule_id for e in events if e.rule.cap_per_year is not None}
    if not rule_ids:
        return {}
    rows = (
        PointEvent.objects.filter(
            branch_id=period.branch_id, period__year=period.year, rule_id__in=rule_ids, corrects__isnull=True
        )
        .exclude(period=period)
        .exclude(status=Status.REJECTED)
        .values_list("member_id", "rule_id")
        .annotate(n=Sum("points"))
    )
    return {(m, r): abs(n or ZERO) for m, r, n in rows}


def period_review(period: Period) -> ReviewSummary:
    events = list(period_events(period))
    summary = ReviewSummary()
    summary.members = Member.objects.filter(branch_id=period.branch_id, status=Member.Status.ACTIVE).count()
    summary.idle_members = list(
        Member.objects.filter(branch_id=period.branch_id, status=Member.Status.ACTIVE)
        .exclude(pk__in=PointEvent.objects.filter(period=period).exclude(status=Status.REJECTED).values("member_id"))
        .order_by("name_strokes", "name_pinyin")
    )
    counts: dict = defaultdict(int)
    totals = dict.fromkeys(Kind.values, ZERO)
    usage: dict[tuple[int, int], list[PointEvent]] = defaultdict(list)
    same_day: dict[tuple, list[PointEvent]] = defaultdict(list)
    for event in events:
        counts[(event.status, event.kind)] += 1
        if event.status == Status.APPROVED:
            totals[event.kind] += event.points
        if event.status == Status.PENDING:
            summary.pending.append(event)
        else:
            summary.decided.append(event)
        if event.is_correction:
            summary.corrections.append(event)
            continue
        if event.on_behalf:
            summary.on_behalf.append(event)
        if event.status != Status.REJECTED:
            usage[(event.member_id, event.rule_id)].append(event)
            if event.kind == Kind.BONUS:
                same_day[(event.member_id, event.occurred_on)].append(event)
    totals["total"] = sum(totals.values(), ZERO)
    summary.counts, summary.totals = dict(counts), totals

    year_used = _year_usage(period, events)
    for (member_id, rule_id), group in usage.items():
        rule = group[0].rule
        used = sum((abs(e.points) for e in group), ZERO)
        if rule.cap_per_quarter is not None and used > rule.cap_per_quarter:
            summary.over_cap.append({"events": group, "used": used, "cap": rule.cap_per_quarter, "scope": "quarter"})
        if rule.cap_per_year is not None:
            used_year = used + year_used.get((member_id, rule_id), ZERO)
            if used_year > rule.cap_per_year:
                summary.over_cap.append({"events": group, "used": used_year, "cap": rule.cap_per_year, "scope": "year"})
        by_day: dict = defaultdict(list)
        for event in group:
            by_day[event.occurred_on].append(event)
        summary.double_claims.extend(g for g in by_day.values() if len(g) > 1)
    # An automatic meeting credit and a self-declared claim on the same day are the same deed.
    for group in same_day.values():
        sources = {e.source for e in group}
        if Source.MEETING in sources and sources & set(CLAIM_SOURCES):
            pair = [e for e in group if e.source == Source.MEETING or e.source in CLAIM_SOURCES]
            if pair not in summary.double_claims:
                summary.double_claims.append(pair)
    return summary


def period_review_context(period: Period) -> dict:
    """Everything around the entries: committee marks, the branch's feedback, the catalogue."""
    committee = list(
        RoleAssignment.objects.filter(organisation_id=period.branch_id, role__in=COMMITTEE_ROLES)
        .select_related("user")
        .order_by("role", "user__username")
    )
    marks = {m.user_id: m for m in ReviewMark.objects.filter(period=period)}
    seen, reviewers = set(), []
    for assignment in committee:
        if assignment.user_id in seen:
            continue
        seen.add(assignment.user_id)
        reviewers.append({"assignment": assignment, "mark": marks.get(assignment.user_id)})
    open_feedback = list(
        Feedback.objects.filter(branch_id=period.branch_id, resolved_at__isnull=True)
        .select_related("member", "period")
        .order_by("submitted_at")
    )
    objections = list(
        Feedback.objects.filter(period=period).select_related("member", "resolved_by").order_by("submitted_at")
    )
    return {
        "reviewers": reviewers,
        "open_feedback": open_feedback,
        "objections": objections,
        "members": list(
            Member.objects.filter(branch_id=period.branch_id, status=Member.Status.ACTIVE).order_by(
                "name_strokes", "name_pinyin"
            )
        ),
        "deduction_rules": list(rules_for_branch(period.branch, kind=Kind.DEDUCTION).order_by("code")),
    }


def feedback_queue(queryset: QuerySet[Feedback]) -> QuerySet[Feedback]:
    return queryset.select_related("branch", "member", "period", "resolved_by").annotate(
        event_count=Count("events", distinct=True)
    )


def event_history(event: PointEvent) -> list[AuditEntry]:
    """The whole story of an entry: its own audit entries and those of every correction of it."""
    ids = [event.pk, *event.corrections.values_list("pk", flat=True)]
    return list(
        AuditEntry.objects.filter(object_type="ledger.pointevent", object_id__in=ids)
        .select_related("actor")
        .order_by("at", "id")
    )
