"""Reads for the quarterly review page and the feedback queue. A fixed number of queries,
however many entries a quarter holds (asserted in tests)."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, QuerySet

from branches.models import RoleAssignment
from branches.querysets import signed_in
from branches.scope import COMMITTEE_ROLES, SIGNING_ROLES
from branches.selectors import user_roles
from core.points import ZERO
from ledger.audit.models import AuditEntry
from ledger.book import rules
from ledger.book.models import Evidence, Kind, Period, PointEvent
from ledger.book.selectors import kind_totals, rules_for_branch, usage_by_member_rule
from ledger.review.models import Feedback, ReviewMark
from members.models import Member

Status = PointEvent.Status

#: What a user may do on a branch's quarter or feedback: review it (approve, reject, adjust,
#: deductions, marks, posting, answers) and sign it. Officers above the branch have neither.
DECIDE = "decide"
SIGN = "sign"


def branch_permissions(user, branch) -> frozenset[str]:
    """The one answer to "what may this user do here": the review page, the feedback answer page
    and their POST handlers all ask it (read-only users see no buttons and are refused)."""
    if not signed_in(user):
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
    usage: dict[tuple[int, int], list[PointEvent]] = defaultdict(list)
    for event in events:
        counts[(event.status, event.kind)] += 1
        if event.status == Status.PENDING:
            summary.pending.append(event)
        else:
            summary.decided.append(event)
        if event.is_correction:
            summary.corrections.append(event)
            continue
        if event.on_behalf:
            summary.on_behalf.append(event)
        if rules.counts_toward_caps(status=event.status, corrects_id=event.corrects_id):
            usage[(event.member_id, event.rule_id)].append(event)
    summary.counts = dict(counts)
    summary.totals = kind_totals(events)

    capped_year = {e.rule_id for e in events if e.rule.cap_per_year is not None}
    other_quarters = (
        usage_by_member_rule(
            years=[period.year], rule_ids=capped_year, branch_id=period.branch_id, exclude_period_id=period.pk
        )
        if capped_year
        else defaultdict(lambda: ZERO)
    )
    for (member_id, rule_id), group in usage.items():
        rule = group[0].rule
        used = sum((abs(e.points) for e in group), ZERO)
        used_year = used + other_quarters[(member_id, rule_id, period.year, None)]
        for verdict in rules.caps_check(rule=rule, used_quarter=used, used_year=used_year):
            summary.over_cap.append(
                {
                    "events": group,
                    "used": verdict.used,
                    "cap": verdict.cap,
                    "scope": verdict.scope,
                    "message": verdict.message,
                }
            )
    summary.double_claims = rules.double_claim_groups(events)
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
