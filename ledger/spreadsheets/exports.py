"""Spreadsheet exports (xlsx, Chinese headers): a branch's quarter, a member's year, and a
township or county roll-up. Every export starts from the scope functions; every text cell is
neutralised so a spreadsheet never runs it as a formula. Exports above
``settings.EXPORT_INLINE_MAX_ROWS`` rows are built by a Celery job (``ledger.spreadsheets.tasks``).
"""

import io
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.http import Http404
from django.utils.translation import gettext as _

from branches.models import Organisation
from branches.scope import branch_scope
from branches.selectors import descendants
from core.jobs import job_send_on_commit
from core.spreadsheets import safe_cell
from ledger.book.models import Period, PointEvent
from ledger.book.selectors import branch_totals, member_totals, signed_snapshots
from ledger.spreadsheets.models import ExportJob
from members.models import Member

EVENT_HEADERS = [
    "发生日期",
    "季度",
    "党员",
    "村民小组",
    "细则编号",
    "积分细则",
    "类别",
    "分值",
    "调整前分值",
    "事由",
    "地点",
    "来源",
    "审核状态",
    "审核意见",
    "录入人",
]


@dataclass
class Sheet:
    title: str
    headers: list[str]
    rows: Iterable[list]
    count: int


@dataclass
class Export:
    filename: str
    sheets: list[Sheet]

    @property
    def rows_total(self) -> int:
        return sum(sheet.count for sheet in self.sheets)


class SignedNames:
    """Names as signed: for an event of a quarter signed with a snapshot, its member's name and
    村民小组 and its rule's code and title as the board printed them; otherwise today's."""

    def __init__(self, periods) -> None:
        """``periods``: ids of quarters the caller may already see (from its scoped events)."""
        self._by_period: dict[int, tuple[dict, dict]] = {}
        for period_id, snapshot in signed_snapshots(periods).items():
            members = {m["id"]: m for m in snapshot.get("members", [])}
            self._by_period[period_id] = (members, snapshot.get("rules", {}))

    def member(self, e: PointEvent) -> tuple[str, str]:
        signed = self._by_period.get(e.period_id, ({}, {}))[0].get(e.member_id)
        return (signed["name"], signed["group"]) if signed else (e.member.name, e.member.group)

    def rule(self, e: PointEvent) -> tuple[str, str]:
        signed = self._by_period.get(e.period_id, ({}, {}))[1].get(str(e.rule_id))
        return (signed["code"], signed["title"]) if signed else (e.rule.code, e.rule.title)


def _event_rows(events) -> Iterable[list]:
    names = SignedNames(events.order_by().values("period_id").distinct())
    for e in events.iterator(chunk_size=2000):
        yield [
            e.occurred_on,
            f"{e.period.year}Q{e.period.quarter}",
            *names.member(e),
            *names.rule(e),
            e.get_kind_display(),
            float(e.points),
            float(e.original_points) if e.original_points is not None else None,
            e.account,
            e.place,
            e.get_entry_method_display(),
            e.get_status_display(),
            e.decision_reason,
            (e.entered_by.get_full_name() or e.entered_by.username) if e.entered_by_id else "",
        ]


def _events(qs):
    return qs.select_related("member", "rule", "period", "entered_by").order_by("occurred_on", "id")


def _int(params: dict, name: str, *, low: int, high: int, required: bool = True) -> int | None:
    value = params.get(name)
    if value in (None, "") and not required:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({name: _("请填写正确的数字。")}) from None
    if not low <= number <= high:
        raise ValidationError({name: _("请填写正确的数字。")})
    return number


def branch_quarter_export(user, params: dict) -> Export:
    branch = branch_scope(user).filter(pk=params.get("branch") or 0).first()
    if branch is None:
        raise Http404
    year = _int(params, "year", low=2000, high=2100)
    quarter = _int(params, "quarter", low=1, high=4)
    events = _events(
        PointEvent.objects.visible_to(user).filter(branch=branch, period__year=year, period__quarter=quarter)
    )
    members = member_totals(Member.objects.visible_to(user).filter(branch=branch), year=year, quarter=quarter).order_by(
        "name_strokes", "name_pinyin", "id"
    )
    period = Period.objects.visible_to(user).filter(branch=branch, year=year, quarter=quarter).first()
    totals_headers = ["党员", "村民小组", "基础积分", "贡献加分", "违规扣分", "本季度合计", "年度累计"]
    if period is not None and period.is_frozen and period.signed_snapshot:
        # A signed quarter exports what was signed: the board's rows as the snapshot holds them.
        signed = period.signed_snapshot["members"]
        figures = ("base", "bonus", "deduction", "total", "ytd_total")
        totals = Sheet(
            title=_("季度汇总"),
            headers=totals_headers,
            rows=([m["name"], m["group"], *(float(m[f]) for f in figures)] for m in signed),
            count=len(signed),
        )
    else:
        totals = Sheet(
            title=_("季度汇总"),
            headers=totals_headers,
            rows=(
                [m.name, m.group, float(m.base), float(m.bonus), float(m.deduction), float(m.total), float(m.ytd_total)]
                for m in members
            ),
            count=members.count(),
        )
    detail = Sheet(title=_("积分明细"), headers=EVENT_HEADERS, rows=_event_rows(events), count=events.count())
    state = period.get_state_display() if period else _("尚无记录")
    return Export(filename=f"{branch.name}-{year}年第{quarter}季度-{state}.xlsx", sheets=[totals, detail])


def member_year_export(user, params: dict) -> Export:
    member = Member.objects.visible_to(user).filter(pk=params.get("member") or 0).select_related("branch").first()
    if member is None:
        raise Http404
    year = _int(params, "year", low=2000, high=2100)
    events = _events(PointEvent.objects.visible_to(user).filter(member=member, period__year=year))
    return Export(
        filename=f"{member.name}-{year}年积分.xlsx",
        sheets=[Sheet(title=_("积分明细"), headers=EVENT_HEADERS, rows=_event_rows(events), count=events.count())],
    )


def rollup_export(user, params: dict) -> Export:
    """Per-branch totals under a township or county; with ``detail=members`` one row per member."""
    organisation = Organisation.objects.visible_to(user).filter(pk=params.get("organisation") or 0).first()
    if organisation is None:
        raise Http404
    year = _int(params, "year", low=2000, high=2100)
    quarter = _int(params, "quarter", low=1, high=4, required=False)
    branches = branch_scope(user).filter(pk__in=descendants(organisation, level=Organisation.Level.BRANCH))
    label = f"{year}年" + (f"第{quarter}季度" if quarter else "")
    sheets = []
    active_members = (
        Member.objects.visible_to(user)
        .filter(branch=OuterRef("pk"), status=Member.Status.ACTIVE)
        .order_by()
        .values("branch")
        .annotate(n=Count("id"))
        .values("n")
    )
    rows = (
        branch_totals(branches, year=year, quarter=quarter)
        .select_related("parent")
        .annotate(members_count=Subquery(active_members, output_field=IntegerField()))
        .order_by("path")
    )

    def branch_rows():
        for b in rows:
            count = b.members_count or 0
            average = float(b.total) / count if count else 0
            yield [
                b.parent.name if b.parent else "",
                b.name,
                count,
                float(b.base),
                float(b.bonus),
                float(b.deduction),
                float(b.total),
                round(average, 1),
            ]

    sheets.append(
        Sheet(
            title=_("支部汇总"),
            headers=["乡镇", "支部", "在册党员", "基础积分", "贡献加分", "违规扣分", "合计", "人均"],
            rows=branch_rows(),
            count=branches.count(),
        )
    )
    if params.get("detail") == "members":
        members = (
            member_totals(Member.objects.visible_to(user).filter(branch__in=branches), year=year, quarter=quarter)
            .select_related("branch")
            .order_by("branch__path", "name_strokes", "id")
        )
        sheets.append(
            Sheet(
                title=_("党员明细"),
                headers=["支部", "党员", "村民小组", "基础积分", "贡献加分", "违规扣分", "合计"],
                rows=(
                    [m.branch.name, m.name, m.group, float(m.base), float(m.bonus), float(m.deduction), float(m.total)]
                    for m in members.iterator(chunk_size=2000)
                ),
                count=members.count(),
            )
        )
    return Export(filename=f"{organisation.name}-{label}积分汇总.xlsx", sheets=sheets)


EXPORTS: dict[str, Callable] = {
    "branch_quarter": branch_quarter_export,
    "member_year": member_year_export,
    "rollup": rollup_export,
}


def export_build(user, kind: str, params: dict) -> Export:
    if kind not in EXPORTS:
        raise Http404
    return EXPORTS[kind](user, params)


def export_write(export: Export, *, progress: Callable[[int], None] | None = None, every: int = 1000) -> bytes:
    """Stream the rows into an xlsx (write-only mode: constant memory), neutralising text cells."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook(write_only=True)
    done = 0
    for sheet_def in export.sheets:
        sheet = workbook.create_sheet(title=str(sheet_def.title)[:31])
        bold = Font(bold=True)
        header = []
        for title in sheet_def.headers:
            cell = WriteOnlyCell(sheet, value=title)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in sheet_def.rows:
            sheet.append([safe_cell(value) for value in row])
            done += 1
            if progress is not None and done % every == 0:
                progress(done)
    buffer = io.BytesIO()
    workbook.save(buffer)
    if progress is not None:
        progress(done)
    return buffer.getvalue()


def export_is_large(export: Export) -> bool:
    return export.rows_total > settings.EXPORT_INLINE_MAX_ROWS


logger = logging.getLogger(__name__)


@transaction.atomic
def export_request(*, actor, kind: str, params: dict, export: Export | None = None) -> ExportJob:
    """Record an export to be built by the worker and send it once the record is committed (the
    outbox: when the broker is down the job waits, queued, and the sweeper sends it later).

    Validates the request first (scope, parameters: ``ValidationError`` / 404 as the inline
    download does); ``export`` may be passed when the caller has built it already."""
    if export is None:
        export = export_build(actor, kind, params)
    job = ExportJob.objects.create(kind=kind, params=params, requested_by=actor, rows_total=export.rows_total)
    job_send_on_commit(ExportJob, job.pk)
    return job
