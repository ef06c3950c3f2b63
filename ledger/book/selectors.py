"""Reads from the ledger: scoped querysets, rule inheritance, totals, the hash chain."""

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, FilteredRelation, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from branches.models import Organisation
from core import clock
from core.points import ZERO
from core.quarters import quarter_of
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


def period_content_hash(period: Period, *, previous_hash: str | None = None, chain_index: int | None = None) -> str:
    """SHA-256 over the quarter's identity, its place in the chain and every event in it."""
    events = [
        [str(value) if value is not None else None for value in row]
        for row in PointEvent.objects.filter(period=period).order_by("id").values_list(*HASHED_FIELDS)
    ]
    payload = {
        "branch": period.branch_id,
        "year": period.year,
        "quarter": period.quarter,
        "chain_index": period.chain_index if chain_index is None else chain_index,
        "previous": period.previous_hash if previous_hash is None else previous_hash,
        "fields": HASHED_FIELDS,
        "events": events,
    }
    encoded = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


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
            if period_content_hash(period) != period.content_hash:
                problems.append(
                    LedgerProblem(period.branch.name, label, "stored events no longer match the signed hash")
                )
            expected_previous = period.content_hash
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
