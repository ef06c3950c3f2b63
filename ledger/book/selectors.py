"""Reads from the ledger: scoped querysets, rule inheritance, totals, the hash chain."""

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, FilteredRelation, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.models import Organisation
from core import clock
from core.points import ZERO
from core.quarters import quarter_of
from ledger.audit.selectors import audit_chain_breaks, audit_chain_contains
from ledger.book.models import Kind, MemberQuarterTotal, Period, PointEvent, QuarterCount, ScoringRule
from ledger.book.rules import counting_q
from members.models import Member

# --- scope -------------------------------------------------------------------------------------


# --- rules -------------------------------------------------------------------------------------


def _nearest_rules(branch: Organisation) -> dict[str, tuple[int, int, bool]]:
    """Code -> (depth, rule id, active) of the rule nearest the branch, in one query: the branch's
    ancestors are read from its path (county first), so their depth needs no query of its own."""
    chain = {int(part): depth for depth, part in enumerate(branch.path.strip("/").split("/")) if part}
    nearest: dict[str, tuple[int, int, bool]] = {}
    for rule_id, code, org_id, active in ScoringRule.objects.filter(organisation_id__in=chain).values_list(
        "id", "code", "organisation_id", "is_active"
    ):
        depth = chain[org_id]
        if code not in nearest or depth > nearest[code][0]:
            nearest[code] = (depth, rule_id, active)
    return nearest


def rules_for_branch(branch: Organisation, *, kind: str | None = None) -> QuerySet[ScoringRule]:
    """The branch's scoring catalogue: rules set anywhere above it, the nearest one winning a code."""
    rules = ScoringRule.objects.filter(
        id__in=[rule_id for _depth, rule_id, _active in _nearest_rules(branch).values()], is_active=True
    )
    return rules.filter(kind=kind) if kind else rules


def rule_applies(branch: Organisation, rule: ScoringRule) -> bool:
    """Whether ``rule`` is in the branch's catalogue (``rules_for_branch``), in one query."""
    return any(rule_id == rule.pk and active for _depth, rule_id, active in _nearest_rules(branch).values())


def usage_by_member_rule(
    *,
    years: Iterable[int],
    member_ids: Iterable[int] | None = None,
    rule_ids: Iterable[int] | None = None,
    branch_id: int | None = None,
    exclude_event_id: int | None = None,
    exclude_period_id: int | None = None,
) -> dict[tuple, Decimal]:
    """Points counting toward caps (``rules.counting_q``), as magnitudes, in one query.

    Keys: ``(member_id, rule_id, year, quarter)`` for a quarter and ``(member_id, rule_id, year,
    None)`` for the year. Missing keys mean nothing used (the dict is a ``defaultdict``)."""
    events = PointEvent.objects.filter(counting_q(), period__year__in=list(years))
    if member_ids is not None:
        events = events.filter(member_id__in=list(member_ids))
    if rule_ids is not None:
        events = events.filter(rule_id__in=list(rule_ids))
    if branch_id is not None:
        events = events.filter(branch_id=branch_id)
    if exclude_event_id:
        events = events.exclude(pk=exclude_event_id)
    if exclude_period_id:
        events = events.exclude(period_id=exclude_period_id)
    used: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for member_id, rule_id, year, quarter, total in (
        events.values_list("member_id", "rule_id", "period__year", "period__quarter")
        .annotate(total=Sum("points"))
        .order_by()
    ):
        used[(member_id, rule_id, year, quarter)] += abs(total)
        used[(member_id, rule_id, year, None)] += abs(total)
    return used


def rule_usage(
    *, member: Member, rule: ScoringRule, year: int, quarter: int, exclude_event_id: int | None = None
) -> dict:
    """How much of the rule's quarter and year caps the member has used (pending and approved)."""
    used = usage_by_member_rule(
        years=[year], member_ids=[member.pk], rule_ids=[rule.pk], exclude_event_id=exclude_event_id
    )
    used_quarter = used[(member.pk, rule.pk, year, quarter)]
    used_year = used[(member.pk, rule.pk, year, None)]
    return {
        "used_quarter": used_quarter,
        "used_year": used_year,
        "left_quarter": None if rule.cap_per_quarter is None else max(rule.cap_per_quarter - used_quarter, ZERO),
        "left_year": None if rule.cap_per_year is None else max(rule.cap_per_year - used_year, ZERO),
    }


# --- periods -----------------------------------------------------------------------------------


def current_period(branch: Organisation) -> Period | None:
    day = clock.today()
    return Period.objects.filter(branch=branch, year=day.year, quarter=quarter_of(day)).first()


# --- totals ------------------------------------------------------------------------------------


TOTAL_FIELD = DecimalField(max_digits=10, decimal_places=1)


def _stored(stored: QuerySet[MemberQuarterTotal], group: str, column: str) -> Coalesce:
    """One stored-totals column summed over ``stored`` (correlated by the caller), 0 when none."""
    summed = stored.values(group).annotate(s=Sum(column)).values("s")
    return Coalesce(Subquery(summed, output_field=TOTAL_FIELD), Value(ZERO), output_field=TOTAL_FIELD)


def member_totals(members: QuerySet[Member], *, year: int, quarter: int | None = None) -> QuerySet[Member]:
    """Annotate members with approved points by kind for a quarter (or the year) and year-to-date.

    Adds ``base``, ``bonus``, ``deduction``, ``total`` (the quarter, or the whole year when no
    quarter is given) and ``ytd_total`` (the year up to and including the quarter). One query,
    read from the stored member-quarter totals (``MemberQuarterTotal``, one row per member and
    quarter, kept equal to the approved events), so its cost does not grow with the entries."""
    year_rows = MemberQuarterTotal.objects.filter(member=OuterRef("pk"), period__year=year)
    scope = year_rows.filter(period__quarter=quarter) if quarter else year_rows
    ytd = year_rows.filter(period__quarter__lte=quarter) if quarter else year_rows
    return members.annotate(
        base=_stored(scope, "member", "base"),
        bonus=_stored(scope, "member", "bonus"),
        deduction=_stored(scope, "member", "deduction"),
        total=_stored(scope, "member", "total"),
        ytd_total=_stored(ytd, "member", "total"),
    )


def kind_totals(events: QuerySet[PointEvent] | Iterable[PointEvent]) -> dict[str, Decimal]:
    """Approved points of these events by kind, plus 'total'.

    A queryset is summed by the database (one query); events already loaded (a page that shows
    them anyway) are summed as they are, so the page makes no extra query."""
    if isinstance(events, QuerySet):
        rows = dict(
            events.filter(status=PointEvent.Status.APPROVED)
            .values_list("kind")
            .annotate(s=Sum("points"))
            .values_list("kind", "s")
            .order_by()
        )
    else:
        rows: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for event in events:
            if event.status == PointEvent.Status.APPROVED:
                rows[event.kind] += event.points
    result = {kind: rows.get(kind) or ZERO for kind in Kind.values}
    result["total"] = sum(result.values(), ZERO)
    return result


def period_totals(periods: QuerySet[Period]) -> QuerySet[Period]:
    """Annotate quarters with approved points by kind: ``base``, ``bonus``, ``deduction``, ``total``,
    read from the stored member-quarter totals (a quarter's rows, not its entries)."""
    stored = MemberQuarterTotal.objects.filter(period=OuterRef("pk"))
    return periods.annotate(
        base=_stored(stored, "period", "base"),
        bonus=_stored(stored, "period", "bonus"),
        deduction=_stored(stored, "period", "deduction"),
        total=_stored(stored, "period", "total"),
    )


def branch_totals(branches: QuerySet[Organisation], *, year: int, quarter: int | None = None) -> QuerySet[Organisation]:
    """Annotate branches with approved points by kind for a quarter or year: ``base``, ``bonus``,
    ``deduction``, ``total``.

    Read from the stored member-quarter totals (``MemberQuarterTotal``), not from the events, in one
    GROUP BY: each branch joined to its quarter(s) of ``year`` (the join condition carries the year
    and quarter, so no other quarter is read) and their stored rows (index-only on
    ``total_period_cover_idx``). A county roll-up then reads one row per member-quarter shown,
    however many events there are (scripts/bench_county.py: 800 branches, 1 M entries; correlated
    subqueries per branch cost ~130 ms, the GROUP BY ~15 ms). The stored totals equal the sums of
    events (``stored_totals_mismatches``, checked by ``ledger_verify`` and the tests)."""
    condition = Q(periods__year=year)
    if quarter:
        condition &= Q(periods__quarter=quarter)

    def part(column: str) -> Coalesce:
        return Coalesce(Sum(f"shown__totals__{column}"), Value(ZERO), output_field=TOTAL_FIELD)

    return branches.annotate(shown=FilteredRelation("periods", condition=condition)).annotate(
        base=part("base"), bonus=part("bonus"), deduction=part("deduction"), total=part("total")
    )


def branch_counts(
    branches: QuerySet[Organisation], *, year: int, quarter: int | None = None
) -> dict[int, dict[str, int]]:
    """Per branch: active members and the entries of a quarter (or year) by status.

    ``{branch_id: {"members": n, "pending": n, "approved": n, "rejected": n}}`` in two queries:
    active members grouped by branch, and the stored quarter counts (``QuarterCount``, one row per
    branch-quarter, kept in step with the entries) — never a count over the quarter's entries, so
    the cost follows the branches shown, not the entries they hold."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(("members", *PointEvent.Status.values), 0))
    for branch_id, n in (
        Member.objects.filter(branch__in=branches, status=Member.Status.ACTIVE)
        .values_list("branch_id")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counts[branch_id]["members"] = n
    stored = QuarterCount.objects.filter(period__branch__in=branches, period__year=year)
    if quarter:
        stored = stored.filter(period__quarter=quarter)
    for branch_id, *numbers in stored.values_list("period__branch_id", *PointEvent.Status.values):
        for status, n in zip(PointEvent.Status.values, numbers, strict=True):
            counts[branch_id][status] += n
    return counts


def stored_totals_mismatches(*, batch: int = 200) -> list[tuple[int, int, Decimal, Decimal]]:
    """(member_id, period_id, stored, from events) for every cached total that disagrees.

    Streams: quarters are compared ``batch`` at a time (two indexed queries per batch), so memory
    stays bounded by the batch, not by the ledger (10 million entries: see README "County scale")."""
    problems = []
    period_ids = Period.objects.order_by("pk").values_list("pk", flat=True)
    chunk: list[int] = []
    for period_id in period_ids.iterator(chunk_size=batch):
        chunk.append(period_id)
        if len(chunk) >= batch:
            problems += _totals_mismatches_in(chunk)
            chunk = []
    if chunk:
        problems += _totals_mismatches_in(chunk)
    return problems


def _totals_mismatches_in(period_ids: list[int]) -> list[tuple[int, int, Decimal, Decimal]]:
    sums: dict[tuple[int, int], dict[str, Decimal]] = {}
    for member_id, period_id, kind, points in (
        PointEvent.objects.filter(status=PointEvent.Status.APPROVED, period_id__in=period_ids)
        .values_list("member_id", "period_id", "kind")
        .annotate(s=Sum("points"))
        .values_list("member_id", "period_id", "kind", "s")
        .order_by()
    ):
        sums.setdefault((member_id, period_id), {})[kind] = points
    problems = []
    seen = set()
    for row in MemberQuarterTotal.objects.filter(period_id__in=period_ids).order_by("pk").iterator(chunk_size=5000):
        key = (row.member_id, row.period_id)
        seen.add(key)
        expected = sums.get(key, {})
        for kind in Kind.values:
            if getattr(row, kind) != expected.get(kind, ZERO):
                problems.append((row.member_id, row.period_id, getattr(row, kind), expected.get(kind, ZERO)))
    for key, expected in sums.items():
        if key not in seen and any(expected.values()):
            problems.append((key[0], key[1], ZERO, sum(expected.values(), ZERO)))
    return problems + _counts_mismatches_in(period_ids)


def _counts_mismatches_in(period_ids: list[int]) -> list[tuple[int | None, int, Decimal, Decimal]]:
    """(None, period_id, stored, counted) for every stored quarter count (``QuarterCount``) that
    disagrees with the quarter's entries in that state."""
    counted: dict[tuple[int, str], int] = defaultdict(int)
    for period_id, status, n in (
        PointEvent.objects.filter(period_id__in=period_ids)
        .values_list("period_id", "status")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counted[(period_id, status)] = n
    stored = {
        period_id: dict(zip(PointEvent.Status.values, numbers, strict=True))
        for period_id, *numbers in QuarterCount.objects.filter(period_id__in=period_ids).values_list(
            "period_id", *PointEvent.Status.values
        )
    }
    problems = []
    for period_id in period_ids:
        for status in PointEvent.Status.values:
            have = stored.get(period_id, {}).get(status, 0)
            if have != counted[(period_id, status)]:
                problems.append((None, period_id, Decimal(have), Decimal(counted[(period_id, status)])))
    return problems


# --- hash chain --------------------------------------------------------------------------------

HASHED_FIELDS = (
    "id",
    "member_id",
    "rule_id",
    "kind",
    "points",
    "original_points",
    "occurred_on",
    "place",
    "account",
    "status",
    "decision_reason",
    "decided_by_id",
    "corrects_id",
)


#: The hash algorithm new signatures use. 1: the quarter's identity, its place in the chain and its
#: event rows (``HASHED_FIELDS``) — quarters signed before 2027 keep it and are verified with it.
#: 2: the same and the signed snapshot (what the board shows: names, 村民小组, rule titles,
#: figures and totals), so a rename after signing can't change a signed quarter unnoticed.
HASH_VERSION = 2


def _figure(value) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal("0.1")))


def _event_rows(period: Period) -> list[list]:
    return [
        [str(value) if value is not None else None for value in row]
        for row in PointEvent.objects.filter(period=period).order_by("id").values_list(*HASHED_FIELDS)
    ]


def period_content_hash(
    period: Period,
    *,
    previous_hash: str | None = None,
    chain_index: int | None = None,
    version: int | None = None,
    snapshot: dict | None = None,
) -> str:
    """SHA-256 over the quarter's identity, its place in the chain and every event in it; from
    version 2 on, also over the signed snapshot (the stored one unless another is given)."""
    version = version or period.hash_version
    payload = {
        "branch": period.branch_id,
        "year": period.year,
        "quarter": period.quarter,
        "chain_index": period.chain_index if chain_index is None else chain_index,
        "previous": period.previous_hash if previous_hash is None else previous_hash,
        "fields": HASHED_FIELDS,
        "events": _event_rows(period),
    }
    if version >= 2:
        payload["version"] = version
        payload["snapshot"] = period.signed_snapshot if snapshot is None else snapshot
    encoded = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


# --- the signed snapshot -----------------------------------------------------------------------

ENTRY_FIGURES = ("member", "rule", "kind", "points", "original_points", "occurred_on", "status")


def _entry_figures(period: Period) -> list[dict]:
    return [
        {
            "id": e.pk,
            "member": e.member_id,
            "rule": e.rule_id,
            "kind": e.kind,
            "points": _figure(e.points),
            "original_points": _figure(e.original_points),
            "occurred_on": e.occurred_on.isoformat(),
            "status": e.status,
            "correction_of": (
                {"year": e.corrects.period.year, "quarter": e.corrects.period.quarter} if e.corrects_id else None
            ),
        }
        for e in PointEvent.objects.filter(period=period).select_related("corrects__period").order_by("id")
    ]


def period_snapshot_build(period: Period, *, signed_by_name: str = "", audit_head: str = "") -> dict:
    """What the board of this quarter shows, as plain JSON: the branch, the signer, every member
    on it (name, 村民小组 and figures, in 姓氏笔画 order), every rule its entries use (code, title,
    kind) and every entry's figures. Taken when the secretary signs; from then on the posting,
    the public page, exports and /verify/ read it instead of the live roll and catalogue.

    ``audit_head`` is the hash of the branch's last audit entry at signing: the printed code then
    also vouches for the audit trail up to that moment (deleting its tail is found)."""
    with_events = PointEvent.objects.filter(period=period).values("member_id")
    members = member_totals(
        Member.objects.filter(Q(branch=period.branch_id, status=Member.Status.ACTIVE) | Q(pk__in=with_events)),
        year=period.year,
        quarter=period.quarter,
    ).order_by("name_strokes", "name_pinyin", "id")
    entries = _entry_figures(period)
    rules = ScoringRule.objects.filter(pk__in={e["rule"] for e in entries}).order_by("pk")
    return {
        "branch": {"code": period.branch.code, "name": period.branch.name},
        "signed_by": signed_by_name,
        "members": [
            {
                "id": m.pk,
                "name": m.name,
                "group": m.group,
                **{part: _figure(getattr(m, part)) for part in ("base", "bonus", "deduction", "total", "ytd_total")},
            }
            for m in members
        ],
        "rules": {str(r.pk): {"code": r.code, "title": r.title, "kind": r.kind} for r in rules},
        "entries": entries,
        "audit_head": audit_head,
    }


_LABELS = {
    "member": gettext_lazy("党员"),
    "rule": gettext_lazy("细则"),
    "kind": gettext_lazy("类别"),
    "points": gettext_lazy("分值"),
    "original_points": gettext_lazy("调整前分值"),
    "occurred_on": gettext_lazy("发生日期"),
    "status": gettext_lazy("审核状态"),
    "correction_of": gettext_lazy("更正的季度"),
    "name": gettext_lazy("姓名"),
    "group": gettext_lazy("村民小组"),
    "code": gettext_lazy("编号"),
    "title": gettext_lazy("细则名称"),
    "base": Kind.BASE.label,
    "bonus": Kind.BONUS.label,
    "deduction": Kind.DEDUCTION.label,
}


def period_snapshot_differences(period: Period) -> list[str]:
    """Where a signed quarter's snapshot and its events disagree, named (member, rule, entry).

    Hard differences: an entry whose figures differ from the snapshot's, an entry added or gone,
    a member's printed figures that are not the sum of the printed entries, an entry naming a
    member or rule missing from the snapshot. When none is found but the hash still differs, the
    snapshot's names were changed: each name that differs from the live roll or catalogue is
    listed as the likely place (a rename after signing is allowed, so a difference there is a
    lead, not proof)."""
    snapshot = period.signed_snapshot or {}
    found: list[str] = []
    signed = {e["id"]: e for e in snapshot.get("entries", [])}
    current = {e["id"]: e for e in _entry_figures(period)}
    for entry_id in sorted(signed.keys() | current.keys()):
        was, now = signed.get(entry_id), current.get(entry_id)
        if now is None:
            found.append(_("条目 #%(id)s：签字时在公示内容中，台账中已不存在") % {"id": entry_id})
        elif was is None:
            found.append(_("条目 #%(id)s：台账中有，签字时的公示内容中没有") % {"id": entry_id})
        else:
            for name in (*ENTRY_FIGURES, "correction_of"):
                if was.get(name) != now[name]:
                    found.append(
                        _("条目 #%(id)s：%(field)s签字时为 %(signed)s，现为 %(now)s")
                        % {"id": entry_id, "field": _LABELS[name], "signed": was.get(name), "now": now[name]}
                    )
    members = {m["id"]: m for m in snapshot.get("members", [])}
    rules = snapshot.get("rules", {})
    sums: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for entry in signed.values():
        if entry.get("member") not in members:
            found.append(
                _("条目 #%(id)s：党员 #%(member)s 不在签字时的公示内容中")
                % {"id": entry["id"], "member": entry.get("member")}
            )
        if str(entry.get("rule")) not in rules:
            found.append(
                _("条目 #%(id)s：细则 #%(rule)s 不在签字时的公示内容中")
                % {"id": entry["id"], "rule": entry.get("rule")}
            )
        if entry.get("status") == PointEvent.Status.APPROVED:
            sums[entry.get("member")][entry.get("kind")] += Decimal(entry.get("points") or 0)
    for member_id, member in members.items():
        for kind in Kind.values:
            if _figure(member.get(kind)) != _figure(sums[member_id][kind]):
                found.append(
                    _("党员 %(name)s（#%(id)s）：公示的%(kind)s为 %(shown)s，签字时的条目合计为 %(sum)s")
                    % {
                        "name": member.get("name"),
                        "id": member_id,
                        "kind": _LABELS[kind],
                        "shown": member.get(kind),
                        "sum": _figure(sums[member_id][kind]),
                    }
                )
        parts = sum((Decimal(member.get(kind) or 0) for kind in Kind.values), ZERO)
        if _figure(member.get("total")) != _figure(parts):
            found.append(
                _("党员 %(name)s（#%(id)s）：公示的合计 %(shown)s 不等于各项之和")
                % {"name": member.get("name"), "id": member_id, "shown": member.get("total")}
            )
    if found:
        return found
    for m in Member.objects.filter(pk__in=members).only("id", "name", "group"):
        for name in ("name", "group"):
            if members[m.pk].get(name) != getattr(m, name):
                found.append(
                    _("党员 #%(id)s：%(field)s签字时的公示内容为“%(signed)s”，花名册现为“%(now)s”")
                    % {"id": m.pk, "field": _LABELS[name], "signed": members[m.pk].get(name), "now": getattr(m, name)}
                )
    for r in ScoringRule.objects.filter(pk__in=[int(pk) for pk in rules if pk.isdigit()]):
        for name in ("code", "title", "kind"):
            if rules[str(r.pk)].get(name) != getattr(r, name):
                found.append(
                    _("细则 #%(id)s：%(field)s签字时的公示内容为“%(signed)s”，细则库现为“%(now)s”")
                    % {
                        "id": r.pk,
                        "field": _LABELS[name],
                        "signed": rules[str(r.pk)].get(name),
                        "now": getattr(r, name),
                    }
                )
    branch = snapshot.get("branch", {})
    if branch.get("name") != period.branch.name:
        found.append(
            _("支部名称：签字时的公示内容为“%(signed)s”，现为“%(now)s”")
            % {"signed": branch.get("name"), "now": period.branch.name}
        )
    return found


def signed_snapshots(period_ids) -> dict[int, dict]:
    """The signed snapshots of these quarters (those signed with one), by quarter id. The caller
    passes ids it took from a scoped query."""
    return dict(
        Period.objects.filter(pk__in=period_ids, state__in=Period.FROZEN_STATES)
        .exclude(signed_snapshot={})
        .values_list("pk", "signed_snapshot")
    )


@dataclass
class PeriodCheck:
    matches: bool
    differences: list[str]


def period_check(period: Period) -> PeriodCheck:
    """Hash a signed quarter again, now, from its events (and from version 2 on its snapshot),
    and compare with the stored hash; on a mismatch name what differs."""
    if period_content_hash(period) == period.content_hash:
        return PeriodCheck(True, [])
    if period.hash_version >= 2:
        differences = period_snapshot_differences(period)
    else:
        differences = []
    return PeriodCheck(False, differences or [_("台账中的条目与签字时的校验码不再相符")])


@dataclass
class LedgerProblem:
    branch: str
    period: str
    message: str

    def __str__(self) -> str:
        return f"{self.branch} {self.period}: {self.message}"


def ledger_verify(branches: QuerySet[Organisation] | None = None) -> list[LedgerProblem]:
    """Recompute every branch's chain of signed quarters and compare with what was stored."""
    problems: list[LedgerProblem] = []
    periods = Period.objects.filter(chain_index__isnull=False).select_related("branch")
    if branches is not None:
        periods = periods.filter(branch__in=branches)
    by_branch: dict[int, list[Period]] = {}
    for period in periods.order_by("branch_id", "chain_index"):
        by_branch.setdefault(period.branch_id, []).append(period)
    for chain in by_branch.values():
        expected_previous = ""
        for position, period in enumerate(chain, start=1):
            label = f"{period.year}Q{period.quarter}"
            if period.chain_index != position:
                problems.append(
                    LedgerProblem(period.branch.name, label, f"chain index {period.chain_index}, expected {position}")
                )
            if period.previous_hash != expected_previous:
                problems.append(
                    LedgerProblem(period.branch.name, label, "link to the previous signed quarter is broken")
                )
            check = period_check(period)
            if not check.matches:
                problems.append(
                    LedgerProblem(period.branch.name, label, "the signed content no longer matches its hash")
                )
                problems.extend(LedgerProblem(period.branch.name, label, text) for text in check.differences)
            audit_head = (period.signed_snapshot or {}).get("audit_head")
            if audit_head and not audit_chain_contains(period.branch_id, audit_head):
                problems.append(
                    LedgerProblem(
                        period.branch.name, label, "the audit entry the signature vouches for is gone from the trail"
                    )
                )
            expected_previous = period.content_hash
    wanted = None if branches is None else set(branches.values_list("pk", flat=True))
    for broken in audit_chain_breaks():
        if wanted is not None and broken.branch_id not in wanted:
            continue
        branch = Organisation.objects.filter(pk=broken.branch_id).first() if broken.branch_id else None
        problems.append(LedgerProblem(branch.name if branch else "-", "audit", str(broken)))
    for member_id, period_id, stored, computed in stored_totals_mismatches():
        period = Period.objects.select_related("branch").get(pk=period_id)
        problems.append(
            LedgerProblem(
                period.branch.name,
                f"{period.year}Q{period.quarter}",
                f"stored total of member {member_id} is {stored}, events sum to {computed}"
                if member_id is not None
                else f"stored entry count is {stored:.0f}, the quarter holds {computed:.0f}",
            )
        )
    return problems


def period_find_by_code(code: str) -> Period | None:
    """A signed quarter by its verification code: the full hash or its first 16 hex digits."""
    cleaned = "".join(ch for ch in code.lower() if ch in "0123456789abcdef")
    if len(cleaned) < 16:
        return None
    return Period.objects.filter(content_hash__startswith=cleaned[:64]).select_related("branch").order_by("pk").first()
