"""Write sample spreadsheets for trying the import screen on the demo data:

- ``<branch>-党员名册.xlsx``: new members for the branch, as a township office's roll looks
  (merged title, Traditional and full-width headers, mixed date spellings, blank rows);
- ``<branch>-季度积分.xlsx``: the current quarter's tally for members of the branch;
- ``<branch>-有错误的积分表.xlsx``: the same with the mistakes real files have (a member of
  another branch, a deduction, a cap exceeded, a bad date), to see the per-row errors.

    python manage.py excel_samples [--branch shancha] [--out var/samples]
"""

import io
from pathlib import Path

import openpyxl
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from branches.models import Organisation
from core import clock
from core.quarters import quarter_bounds, quarter_of
from ledger.book.models import Kind
from ledger.book.selectors import rule_usage, rules_for_branch
from members.models import Member

NEW_MEMBERS = [
    ["郭建新", "男", "1968年4月12日", "1996.7.1", "農村黨員", "一组", "１３９１２３４５６７８"],
    ["\u00a0孟秀芝 ", "女", "1975/10/3", "2003-06-28", "农村党员", "三组", ""],
    ["田满仓", "男", 23500, 36000, "流动党员", "五组", 13700001111],
    ["卫红梅", "女", "1990-02-14", "2018年7月1日", "社区党员", "二组", ""],
]


def _save(rows: list[list], path: Path, *, title: str | None = None) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if title:
        sheet.append([title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(rows[0]))
        sheet.append([])
    for row in rows:
        sheet.append(row)
    sheet.append([])
    sheet.append([None, " "])
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.write_bytes(buffer.getvalue())


class Command(BaseCommand):
    help = "Write sample spreadsheets (a roll, a quarter's tally, a tally with mistakes) for a demo branch."

    def add_arguments(self, parser):
        parser.add_argument("--branch", default="shancha", help="code of the branch")
        parser.add_argument("--out", default=str(Path(settings.DATA_DIR) / "samples"))

    def handle(self, *args, branch: str, out: str, **options):
        organisation = Organisation.objects.filter(code=branch, level=Organisation.Level.BRANCH).first()
        if organisation is None:
            raise CommandError(f"no branch with code {branch!r}; run seed_demo first")
        members = list(Member.objects.filter(branch=organisation, status=Member.Status.ACTIVE).order_by("id")[:8])
        other = Member.objects.exclude(branch=organisation).order_by("id").first()
        if len(members) < 4 or other is None:
            raise CommandError("the branch needs a few members, and another branch one")
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        day = clock.today()
        start, _end = quarter_bounds(day.year, quarter_of(day))
        dates = [start.replace(day=min(start.day + n, 28)) for n in range(0, 40, 6) if start.replace(day=1) <= day]
        dates = [d for d in dates if d <= day] or [day]
        name = organisation.name.removesuffix("党支部")

        header = [" 姓 名 ", "性　別", "出生日期", "入黨時間", "黨員類別", "村民小組", "手機號碼"]
        _save([header, *NEW_MEMBERS], folder / f"{name}-党员名册.xlsx", title=f"{organisation.name}党员花名册")

        tally = [["姓名", "细则编号", "发生日期", "分值", "事由", "地点"]]
        rules = [r for r in rules_for_branch(organisation, kind=Kind.BONUS).order_by("code") if not r.evidence_required]
        for index, member in enumerate(members):
            when = dates[index % len(dates)]
            unused = [
                r
                for r in rules
                if rule_usage(member=member, rule=r, year=day.year, quarter=quarter_of(day))["used_quarter"] == 0
                and (r.cap_per_year is None or r.cap_per_year >= r.default_points * 2)
            ][:2]
            for position, rule in enumerate(unused):
                spelled = f"{when.year}年{when.month}月{when.day}日" if position == 0 else when.strftime("%Y/%m/%d")
                points = f"+{rule.default_points}" if position == 0 else f"{rule.default_points}分"
                tally.append([member.name + " ", rule.code, spelled, points, rule.description or rule.title, ""])
        _save(
            tally, folder / f"{name}-季度积分.xlsx", title=f"{organisation.name}{day.year}年第{quarter_of(day)}季度积分"
        )

        messy = [*tally[:3]]
        messy.append([other.name, "A02", dates[0].isoformat(), "1", "铲雪", ""])
        messy.append([members[0].name, "D01", dates[0].isoformat(), "", "无故缺席", ""])
        capped = next((r for r in rules if r.cap_per_quarter is not None), rules[0])
        messy.append(
            [members[1].name, capped.code, dates[0].isoformat(), str(capped.cap_per_quarter + 1), "超过上限", ""]
        )
        messy.append([members[2].name, "A02", "明天", "1", "铲雪", ""])
        messy.append([members[3].name, "A02", dates[0].isoformat(), "十分", "铲雪", ""])
        _save(messy, folder / f"{name}-有错误的积分表.xlsx", title="积分汇总（有错误）")
        for path in sorted(folder.glob(f"{name}-*.xlsx")):
            self.stdout.write(str(path))
