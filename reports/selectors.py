"""Reads for the noticeboard documents: what each document shows, appraisal grades, scopes.

Everything a public document shows is built here, from explicit fields only (name, 村民小组,
points, rule titles and dates), so nothing private can reach a template by accident.
"""

import datetime
import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.models import Organisation
from branches.selectors import descendants
from core import clock
from core.points import ZERO, points_format
from core.quarters import quarter_label
from ledger.book.selectors import (
    branch_counts,
    branch_totals,
    member_totals,
    period_check,
    period_find_by_code,
)
from ledger.models import Kind, Period, PointEvent
from members.models import Member
from reports.models import Notification, Order

PUBLIC_STATES = (Period.State.POSTED, Period.State.FINAL)


# --- scopes ------------------------------------------------------------------------------------


def public_periods(branch: Organisation) -> QuerySet[Period]:
    """The branch's quarters that are on (or were on) the noticeboard: posted or final."""
    return Period.objects.filter(branch=branch, state__in=PUBLIC_STATES).order_by("-year", "-quarter")


def notifications_for(user) -> QuerySet[Notification]:
    if user is None or not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(user=user, read_at__isnull=True).select_related("branch")


# --- the verification code ---------------------------------------------------------------------


def period_public_url(period: Period, *, absolute: bool = True) -> str:
    """The public page of a quarter with the full hash in it: the QR code's target."""
    path = reverse("public_period", kwargs={"code": period.branch.code, "year": period.year, "quarter": period.quarter})
    url = f"{path}?h={period.content_hash}"
    return f"{settings.SITE_URL}{url}" if absolute else url


@dataclass
class Verification:
    code: str
    period: Period | None
    matches: bool
    message: str
    differences: list[str] = field(default_factory=list)  # what no longer matches (``period_check``)

    @property
    def branch_name(self) -> str:
        """The branch's name as printed on the signed board (the snapshot's), else today's."""
        if self.period is None:
            return ""
        return (self.period.signed_snapshot or {}).get("branch", {}).get("name") or self.period.branch.name


def verification_check(code: str) -> Verification:
    """Does the printed board with this code match the ledger now?

    The code finds the quarter (its stored hash begins with it); the quarter's events are hashed
    again, now, and compared with the stored hash. A row changed behind the ledger's back (the
    database triggers bypassed) gives a different hash, and the board no longer matches.
    """
    period = period_find_by_code(code or "")
    if period is None or not period.is_frozen:
        return Verification(code, None, False, _("没有找到这个校验码。请核对公示栏上的校验码后重新输入。"))
    check = period_check(period)
    cleaned = "".join(ch for ch in code.lower() if ch in "0123456789abcdef")
    matches = check.matches and period.content_hash.startswith(cleaned)
    if matches:
        message = _("一致：这张公示与台账现在的记录完全相符。")
    else:
        message = _("不一致：台账中的记录与这张公示签字时的内容不再相符，请向乡镇党委反映。")
    return Verification(code, period, matches, message, [] if matches else check.differences)


# --- the quarterly posting ---------------------------------------------------------------------


@dataclass
class Item:
    occurred_on: datetime.date
    rule: str
    kind: str
    points: Decimal
    correction_of: str = ""  # label of the quarter whose entry this corrects

    @property
    def points_display(self) -> str:
        return points_format(self.points)

    @property
    def line(self) -> str:
        """The item in short, as one run of text (far cheaper to lay out than nested markup)."""
        text = _("%(month)s月%(day)s日 %(rule)s %(points)s") % {
            "month": self.occurred_on.month,
            "day": self.occurred_on.day,
            "rule": self.rule,
            "points": self.points_display,
        }
        if self.correction_of:
            text += _("（更正%(period)s条目）") % {"period": self.correction_of}
        return text


@dataclass
class Row:
    member_id: int
    name: str
    group: str
    base: Decimal = ZERO
    bonus: Decimal = ZERO
    deduction: Decimal = ZERO
    total: Decimal = ZERO
    ytd_total: Decimal = ZERO
    items: list[Item] = field(default_factory=list)
    grade: str = ""
    quarters: list[Decimal] = field(default_factory=list)
    events: int = 0

    @property
    def items_line(self) -> str:
        return "；".join(item.line for item in self.items)


def _rows(members: QuerySet[Member], *, year: int, quarter: int | None, order: str) -> list[Row]:
    annotated = member_totals(members, year=year, quarter=quarter).only("id", "name", "group", "name_strokes")
    rows = [
        Row(
            member_id=m.pk,
            name=m.name,
            group=m.group,
            base=m.base,
            bonus=m.bonus,
            deduction=m.deduction,
            total=m.total,
            ytd_total=m.ytd_total,
        )
        for m in annotated.order_by("name_strokes", "name_pinyin", "id")
    ]
    if order == Order.TOTAL:
        rows.sort(key=lambda r: -r.total)  # stable: equal totals keep the stroke order
    return rows


def _members_of_period(period: Period) -> QuerySet[Member]:
    """Active members, and anyone (transferred, deceased) who has entries in the quarter."""
    with_events = PointEvent.objects.filter(period=period).values("member_id")
    return Member.objects.filter(
        Q(branch=period.branch_id, status=Member.Status.ACTIVE) | Q(pk__in=with_events)
    ).distinct()


def _items_by_member(events: QuerySet[PointEvent]) -> dict[int, list[Item]]:
    items: dict[int, list[Item]] = {}
    for e in (
        events.filter(status=PointEvent.Status.APPROVED)
        .select_related("rule", "corrects__period")
        .order_by("occurred_on", "id")
    ):
        correction_of = e.corrects.period.label if e.corrects_id else ""
        items.setdefault(e.member_id, []).append(Item(e.occurred_on, e.rule.title, e.kind, e.points, correction_of))
    return items


def _sum(rows: list[Row], attr: str) -> Decimal:
    return sum((getattr(r, attr) for r in rows), ZERO)


def _signed_rows(snapshot: dict, *, order: str) -> list[Row]:
    """The board's rows as signed: names, 村民小组, rule titles and figures from the snapshot."""
    rules = snapshot["rules"]
    items: dict[int, list[Item]] = {}
    for entry in snapshot["entries"]:
        if entry["status"] != PointEvent.Status.APPROVED or entry["kind"] == Kind.BASE:
            continue
        corrected = entry.get("correction_of")
        items.setdefault(entry["member"], []).append(
            Item(
                datetime.date.fromisoformat(entry["occurred_on"]),
                rules[str(entry["rule"])]["title"],
                entry["kind"],
                Decimal(entry["points"]),
                quarter_label(corrected["year"], corrected["quarter"]) if corrected else "",
            )
        )
    rows = [
        Row(
            member_id=m["id"],
            name=m["name"],
            group=m["group"],
            **{part: Decimal(m[part]) for part in ("base", "bonus", "deduction", "total", "ytd_total")},
            items=items.get(m["id"], []),
        )
        for m in snapshot["members"]
    ]
    if order == Order.TOTAL:
        rows.sort(key=lambda r: -r.total)  # stable: equal totals keep the stroke order
    return rows


def posting_context(period: Period, *, order: str = Order.STROKES) -> dict:
    """Everything the quarterly posting (季度积分公示) shows, in the order the branch chose.

    A quarter signed with a snapshot (hash version 2) shows the snapshot — the names, 村民小组,
    rule titles and figures as the secretary signed them — never the live roll: renaming a member
    or a rule afterwards changes nothing on its board. Quarters signed before the snapshot
    existed (version 1), and quarters not yet signed, show the live roll."""
    branch = period.branch
    snapshot = period.signed_snapshot if period.is_frozen else None
    if snapshot:
        rows = _signed_rows(snapshot, order=order)
        branch_name = snapshot["branch"]["name"]
    else:
        rows = _rows(_members_of_period(period), year=period.year, quarter=period.quarter, order=order)
        items = _items_by_member(PointEvent.objects.filter(period=period))
        for row in rows:
            row.items = [i for i in items.get(row.member_id, []) if i.kind != Kind.BASE]
        branch_name = branch.name
    window_days = branch.posting_window_days
    window_end = period.posting_ends_on or (
        (clock.local_date(period.signed_at) if period.signed_at else clock.today())
        + datetime.timedelta(days=window_days)
    )
    signer = period.signed_by
    if snapshot:
        secretary_name = snapshot["signed_by"]
    else:
        secretary_name = (signer.get_full_name() or signer.get_username()) if signer else ""
    return {
        "kind": "posting",
        "title": _("%(branch)s %(year)s年第%(quarter)s季度党员积分公示")
        % {"branch": branch_name, "year": period.year, "quarter": period.quarter},
        "branch": branch,
        "period": period,
        "rows": rows,
        "totals": {a: _sum(rows, a) for a in ("base", "bonus", "deduction", "total", "ytd_total")},
        "order_label": Order(order).label,
        # the committee's review: the day it decided the quarter's last entry
        "reviewed_on": PointEvent.objects.filter(period=period).aggregate(last=Max("decided_at"))["last"]
        or period.review_started_at,
        "signed_on": period.signed_at,
        "secretary_name": secretary_name,
        "window_start": period.posted_at.date() if period.posted_at else None,
        "window_end": window_end,
        "window_days": window_days,
        "verification_code": period.short_hash,
        "public_url": period_public_url(period),
        "verify_url": f"{settings.SITE_URL}{reverse('verify')}",
    }


# --- member statement --------------------------------------------------------------------------


def statement_context(member: Member, *, year: int) -> dict:
    """One member's year: each quarter's subtotal and every approved entry behind it."""
    events = PointEvent.objects.filter(member=member, period__year=year)
    items = _items_by_member(events).get(member.pk, [])
    by_quarter = dict(
        events.filter(status=PointEvent.Status.APPROVED)
        .values_list("period__quarter")
        .annotate(s=Count("id"))
        .values_list("period__quarter", "s")
    )
    row = _rows(Member.objects.filter(pk=member.pk), year=year, quarter=None, order=Order.STROKES)[0]
    quarters = []
    for q in range(1, 5):
        quarter_row = _rows(Member.objects.filter(pk=member.pk), year=year, quarter=q, order=Order.STROKES)[0]
        quarters.append(
            {"quarter": q, "total": quarter_row.total, "ytd": quarter_row.ytd_total, "count": by_quarter.get(q, 0)}
        )
    return {
        "kind": "statement",
        "title": _("%(name)s %(year)s年度党员积分明细") % {"name": member.name, "year": year},
        "branch": member.branch,
        "year": year,
        "row": row,
        "items": items,
        "quarters": quarters,
    }


# --- annual summary and appraisal grades -------------------------------------------------------

GRADE_EXCELLENT = gettext_lazy("优秀")
GRADE_COMPETENT = gettext_lazy("合格")
GRADE_BASIC = gettext_lazy("基本合格")
GRADE_NOT = gettext_lazy("不合格")
# The documented rule for suggested appraisal grades (民主评议参考等次), on the year's total:
EXCELLENT_MIN = Decimal("90")  # 优秀 needs at least 90 points …
EXCELLENT_SHARE = Decimal(1) / 3  # … and at most a third of the branch may be 优秀 (quota)
COMPETENT_MIN = Decimal("60")  # 合格: 60 or more (the full base points)
BASIC_MIN = Decimal("30")  # 基本合格: 30 to 59.9; 不合格: below 30


def appraisal_grades(totals: list[Decimal]) -> list[str]:
    """Suggested grade for each total, in the same order.

    优秀 goes to the highest totals of at least ``EXCELLENT_MIN``, at most ``floor(n / 3)`` people.
    Members tied at the quota's edge are treated alike: if taking the whole tie would exceed the
    quota, none of the tie is 优秀 (they are 合格), so the quota is never exceeded and equal
    totals never get different grades. Everyone else is graded by the thresholds above.
    """
    quota = math.floor(len(totals) * EXCELLENT_SHARE)
    candidates = sorted({t for t in totals if t >= EXCELLENT_MIN}, reverse=True)
    excellent: set[Decimal] = set()
    taken = 0
    for value in candidates:
        tied = sum(1 for t in totals if t == value)
        if taken + tied > quota:
            break
        excellent.add(value)
        taken += tied
    grades = []
    for t in totals:
        if t in excellent:
            grades.append(str(GRADE_EXCELLENT))
        elif t >= COMPETENT_MIN:
            grades.append(str(GRADE_COMPETENT))
        elif t >= BASIC_MIN:
            grades.append(str(GRADE_BASIC))
        else:
            grades.append(str(GRADE_NOT))
    return grades


def annual_context(branch: Organisation, *, year: int, order: str = Order.STROKES) -> dict:
    members = Member.objects.filter(
        Q(branch=branch, status=Member.Status.ACTIVE) | Q(events__period__year=year, events__branch=branch)
    ).distinct()
    rows = _rows(members, year=year, quarter=None, order=order)
    for row, grade in zip(rows, appraisal_grades([r.total for r in rows]), strict=True):
        row.grade = grade
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.grade] = counts.get(row.grade, 0) + 1
    return {
        "kind": "annual",
        "title": _("%(branch)s %(year)s年度党员积分汇总及评议参考等次") % {"branch": branch.name, "year": year},
        "branch": branch,
        "year": year,
        "rows": rows,
        "totals": {a: _sum(rows, a) for a in ("base", "bonus", "deduction", "total")},
        "grade_counts": [
            (g, counts.get(str(g), 0)) for g in (GRADE_EXCELLENT, GRADE_COMPETENT, GRADE_BASIC, GRADE_NOT)
        ],
        "grade_rule": _(
            "参考等次规则：全年积分不低于 %(excellent)s 分且排名在前三分之一以内为优秀（名额不超过党员数的三分之一，"
            "同分者同等次）；%(competent)s 分以上为合格；%(basic)s 分至 %(competent)s 分为基本合格；"
            "低于 %(basic)s 分为不合格。最终等次由民主评议确定。"
        )
        % {"excellent": EXCELLENT_MIN, "competent": COMPETENT_MIN, "basic": BASIC_MIN},
    }


# --- township / county roll-up -----------------------------------------------------------------


def rollup_context(organisation: Organisation, *, year: int, quarter: int | None = None) -> dict:
    """Every branch below the organisation: member and entry counts and its points by kind."""
    branches = descendants(organisation, level=Organisation.Level.BRANCH).select_related("parent")
    totals = {b.pk: b for b in branch_totals(branches, year=year, quarter=quarter)}
    counts = branch_counts(branches, year=year, quarter=quarter)
    members = {pk: row["members"] for pk, row in counts.items()}
    events = {pk: row[PointEvent.Status.APPROVED] for pk, row in counts.items()}
    states = {}
    if quarter:
        states = dict(
            Period.objects.filter(branch__in=branches, year=year, quarter=quarter).values_list("branch_id", "state")
        )
    rows = []
    for branch in branches.order_by("path"):
        t = totals[branch.pk]
        n = members.get(branch.pk, 0)
        rows.append(
            {
                "branch": branch.name,
                "township": branch.parent.name if branch.parent else "",
                "members": n,
                "events": events.get(branch.pk, 0),
                "base": t.base,
                "bonus": t.bonus,
                "deduction": t.deduction,
                "total": t.total,
                "average": (t.total / n).quantize(Decimal("0.1")) if n else ZERO,
                "state": Period.State(states[branch.pk]).label if branch.pk in states else "",
            }
        )
    label = quarter_label(year, quarter) if quarter else _("%(year)s年度") % {"year": year}
    return {
        "kind": "rollup",
        "title": _("%(org)s %(label)s党员积分汇总表") % {"org": organisation.name, "label": label},
        "organisation": organisation,
        "year": year,
        "quarter": quarter,
        "rows": rows,
        "totals": {
            a: sum((r[a] for r in rows), ZERO if a not in ("members", "events") else 0)
            for a in ("members", "events", "base", "bonus", "deduction", "total")
        },
    }
