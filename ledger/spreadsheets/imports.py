"""Spreadsheet import of the member roll and of a quarter's claims: preview, then confirm.

``import_preview`` reads and validates the whole file once, with bulk look-ups (one query per
kind of thing, never one per row), and stores the rows ready to write on an ``ImportBatch``
together with every problem (row, column, message in Chinese). Nothing else is written.
``import_confirm`` writes the stored rows in one transaction — the member roll with
``members.services.members_import`` (bulk insert), claims one by one through
``ledger.book.services.claim_record`` (pending, caps, signed quarters, scope; source 导入) — or
nothing at all when any row is refused. The preview's result is reused, never recomputed.
"""

import datetime
import hashlib
from collections import defaultdict
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import Organisation
from branches.scope import branch_scope
from core import clock
from core.quarters import quarter_of
from ledger.audit.services import audit_record
from ledger.book import rules, selectors, services
from ledger.book.models import Kind, Period, PointEvent
from ledger.book.selectors import rules_for_branch
from ledger.spreadsheets.excel import (
    CellError,
    Choices,
    Column,
    ImportFileError,
    normalise_text,
    parse_date,
    parse_phone,
    parse_points,
    read_table,
)
from ledger.spreadsheets.models import ImportBatch
from members.models import Member
from members.names import name_keys, normalise_name
from members.services import member_dates_refusals, members_import

MEMBER_COLUMNS = [
    Column("name", "姓名", ("党员姓名", "名字"), required=True),
    Column("gender", "性别", ("性 别",), required=True),
    Column("birth_date", "出生日期", ("出生年月", "出生年月日", "生日")),
    Column("joined_on", "入党日期", ("入党时间", "入党年月")),
    Column("category", "党员类别", ("类别", "人员类别")),
    Column("standing", "党员身份", ("身份", "正式/预备")),
    Column("group", "村民小组", ("小组", "组别", "所在小组")),
    Column("phone", "手机号码", ("手机", "联系电话", "电话", "手机号")),
    Column("branch_name", "所在支部", ("支部", "党支部", "所属支部")),
]
MEMBER_EXAMPLE = ["王学恩", "男", "1956-03-02", "1985-07-01", "农村党员", "正式党员", "一组", "13900000000", ""]

CLAIM_COLUMNS = [
    Column("name", "姓名", ("党员姓名", "申报人"), required=True),
    Column("rule", "细则编号", ("编号", "细则代码", "积分细则", "细则名称", "项目"), required=True),
    Column("occurred_on", "发生日期", ("日期", "时间", "发生时间"), required=True),
    Column("points", "分值", ("分数", "加分", "积分")),
    Column("account", "事由", ("事迹", "内容", "说明", "具体事由")),
    Column("place", "地点", ("发生地点",)),
]
CLAIM_EXAMPLE = ["王学恩", "A02", "2026-03-05", "1", "3月5日清晨在村口主路铲雪", "村口主路"]

COLUMNS = {ImportBatch.Kind.MEMBERS: MEMBER_COLUMNS, ImportBatch.Kind.CLAIMS: CLAIM_COLUMNS}
EXAMPLES = {ImportBatch.Kind.MEMBERS: MEMBER_EXAMPLE, ImportBatch.Kind.CLAIMS: CLAIM_EXAMPLE}


def _label(kind: str, field: str) -> str:
    return next(c.label for c in COLUMNS[kind] if c.field == field)


class _Problems:
    def __init__(self, kind: str, labels: dict[str, str]):
        self.kind = kind
        self.labels = labels
        self.items: list[dict] = []

    def add(self, row: int, field: str | None, message: str, *, level: str = "error") -> None:
        column = (self.labels.get(field) or _label(self.kind, field)) if field else ""
        self.items.append({"row": row, "column": column, "message": message, "level": level})

    @property
    def errors(self) -> int:
        return sum(1 for p in self.items if p["level"] == "error")


def _writable_branch(actor: AbstractBaseUser, branch: Organisation) -> None:
    if not branch_scope(actor, write=True).filter(pk=branch.pk).exists():
        raise PermissionDenied(_("您无权向该支部导入数据。"))


# --- preview ---------------------------------------------------------------------------------


def import_preview(*, actor: AbstractBaseUser, branch: Organisation, kind: str, data: bytes, name: str) -> ImportBatch:
    """Validate a whole file once; store what would be written and every problem. Raises
    ``ImportFileError`` when the file as a whole can't be read."""
    _writable_branch(actor, branch)
    table = read_table(data, name, COLUMNS[kind])
    problems = _Problems(kind, table.labels)
    if kind == ImportBatch.Kind.MEMBERS:
        rows, skipped = _preview_members(branch, table.rows, problems)
    else:
        rows, skipped = _preview_claims(branch, table.rows, problems)
    file_hash = hashlib.sha256(data).hexdigest()
    earlier = (
        ImportBatch.objects.writable_by(actor)
        .filter(kind=kind, branch=branch, file_hash=file_hash, state=ImportBatch.State.DONE)
        .first()
    )
    if earlier is not None:
        problems.add(
            0,
            None,
            _("同一个文件已于 %(at)s 导入过，不会重复导入。")
            % {"at": timezone.localtime(earlier.confirmed_at).strftime("%Y-%m-%d %H:%M")},
        )
    return ImportBatch.objects.create(
        kind=kind,
        branch=branch,
        created_by=actor,
        file_name=name[:200],
        file_hash=file_hash,
        state=ImportBatch.State.INVALID if problems.errors else ImportBatch.State.PREVIEW,
        rows=rows,
        problems=sorted(problems.items, key=lambda p: p["row"]),
        skipped=skipped,
    )


def _preview_members(branch: Organisation, table_rows, problems: _Problems) -> tuple[list[dict], int]:
    existing: dict[str, set] = defaultdict(set)
    for name, birth in Member.objects.filter(branch=branch).values_list("name", "birth_date"):
        existing[name].add(birth)
    seen: dict[tuple, int] = {}
    rows: list[dict] = []
    skipped = 0
    parsers = (
        ("gender", Choices(Member.Gender.choices, label=_("性别")).parse),
        ("birth_date", parse_date),
        ("joined_on", parse_date),
        ("category", Choices(Member.Category.choices, label=_("党员类别"), default=Member.Category.RURAL).parse),
        ("standing", Choices(Member.Standing.choices, label=_("党员身份"), default=Member.Standing.FULL).parse),
        ("phone", parse_phone),
    )
    gender_missing = _("请填写性别（男或女）。")
    future = _("日期不能晚于今天。")
    this_day = clock.today()
    for number, values in table_rows:
        ok = True
        out: dict = {"row": number}
        name = normalise_name(values.get("name") or "")
        if not name:
            problems.add(number, "name", _("请填写姓名。"))
            ok = False
        elif len(name) > 30:
            problems.add(number, "name", _("姓名太长（最多 30 字）。"))
            ok = False
        out["name"] = name
        for field, parse in parsers:
            try:
                value = parse(values.get(field))
            except CellError as exc:
                problems.add(number, field, str(exc))
                ok = False
                continue
            if field == "gender" and value is None:
                problems.add(number, field, gender_missing)
                ok = False
            if isinstance(value, datetime.date):
                if value > this_day:
                    problems.add(number, field, future)
                    ok = False
                value = value.isoformat()
            out[field] = value
        group = normalise_text(values.get("group"))
        if len(group) > 30:
            problems.add(number, "group", _("村民小组太长（最多 30 字）。"))
            ok = False
        out["group"] = group
        if ok:
            dates = {
                f: datetime.date.fromisoformat(out[f]) if out.get(f) else None for f in ("birth_date", "joined_on")
            }
            for field, message in member_dates_refusals(**dates, today=this_day).items():
                problems.add(number, field, message)
                ok = False
        branch_name = normalise_name(values.get("branch_name") or "")
        if branch_name and branch_name not in (
            normalise_name(branch.name),
            normalise_name(branch.name).removesuffix("党支部"),
        ):
            problems.add(
                number,
                "branch_name",
                _("该党员属于“%(other)s”，不是本支部（%(branch)s）的党员，不能导入。")
                % {"other": branch_name, "branch": branch.name},
            )
            ok = False
        if not ok:
            continue
        birth = datetime.date.fromisoformat(out["birth_date"]) if out.get("birth_date") else None
        identity = (name, birth)
        if identity in seen:
            problems.add(
                number,
                "name",
                _("与第 %(row)d 行是同一人（姓名、出生日期相同），请删去其中一行。") % {"row": seen[identity]},
            )
            continue
        seen[identity] = number
        if name in existing and (birth in existing[name] or birth is None or None in existing[name]):
            problems.add(number, "name", _("%(name)s 已在本支部名册中，跳过。") % {"name": name}, level="skip")
            skipped += 1
            continue
        out["name_pinyin"], out["name_initials"], out["name_strokes"] = name_keys(name)
        rows.append(out)
    return rows, skipped


def _preview_claims(branch: Organisation, table_rows, problems: _Problems) -> tuple[list[dict], int]:
    members_by_name: dict[str, list[Member]] = defaultdict(list)
    for member in Member.objects.filter(branch=branch, status=Member.Status.ACTIVE).only(
        "id", "name", "group", "birth_date", "user_id"
    ):
        members_by_name[member.name].append(member)
    rules_by_key = {}
    for rule in rules_for_branch(branch):
        rules_by_key[normalise_text(rule.code).upper()] = rule
        rules_by_key[normalise_name(rule.title)] = rule
    frozen = set(Period.objects.filter(branch=branch, state__in=Period.FROZEN_STATES).values_list("year", "quarter"))
    parsed: list[dict] = []
    for number, values in table_rows:
        ok = True
        name = normalise_name(values.get("name") or "")
        candidates = members_by_name.get(name, [])
        if not name:
            problems.add(number, "name", _("请填写姓名。"))
            ok = False
        elif not candidates:
            problems.add(
                number,
                "name",
                _("本支部名册中没有名为“%(name)s”的在册党员（其他支部的党员不能在本支部导入）。") % {"name": name},
            )
            ok = False
        raw_rule = normalise_text(values.get("rule"))
        rule = rules_by_key.get(raw_rule.upper()) or rules_by_key.get(normalise_name(raw_rule))
        if rule is None:
            problems.add(
                number, "rule", _("“%(value)s”不是本支部适用的积分细则编号或名称。") % {"value": raw_rule or "（空）"}
            )
            ok = False
        elif rule.kind == Kind.DEDUCTION:
            problems.add(number, "rule", _("扣分只能由书记或支委会逐条录入并写明理由，不能通过申报导入。"))
            ok = False
        elif rule.evidence_required:
            problems.add(number, "rule", _("“%(rule)s”须附证明照片，请在录入页面逐条申报。") % {"rule": rule.title})
            ok = False
        try:
            occurred_on = parse_date(values.get("occurred_on"), required=True)
            refusal = rules.entry_date_refusal(occurred_on)
            if refusal is not None:
                raise CellError(refusal.message)
            if (occurred_on.year, quarter_of(occurred_on)) in frozen:
                raise CellError(
                    _("%(year)d年第%(quarter)d季度已由书记签字封存，不能再录入。")
                    % {"year": occurred_on.year, "quarter": quarter_of(occurred_on)}
                )
        except CellError as exc:
            problems.add(number, "occurred_on", str(exc))
            occurred_on = None
            ok = False
        try:
            points = parse_points(values.get("points"))
            refusal = rules.sign_refusal(values.get("points"), kind=rule.kind) if rule and points else None
            if refusal is not None:
                raise CellError(refusal.message)
        except CellError as exc:
            problems.add(number, "points", str(exc))
            points = None
            ok = False
        account = normalise_text(values.get("account"))
        if len(account) > 2000:
            problems.add(number, "account", _("事由太长（最多 2000 字）。"))
            ok = False
        place = normalise_text(values.get("place"))
        if len(place) > 100:
            problems.add(number, "place", _("地点太长（最多 100 字）。"))
            ok = False
        if not ok:
            continue
        magnitude = points if points is not None else rule.default_points
        parsed.append(
            {
                "row": number,
                "name": name,
                "member": candidates[0].pk if len(candidates) == 1 else None,
                "candidates": [{"id": m.pk, "label": _member_label(m)} for m in candidates]
                if len(candidates) > 1
                else [],
                "rule": rule.pk,
                "rule_code": rule.code,
                "rule_title": rule.title,
                "occurred_on": occurred_on.isoformat(),
                "points": str(points) if points is not None else "",
                "magnitude": str(magnitude),
                "account": account or _("%(rule)s（%(date)s）") % {"rule": rule.title, "date": occurred_on.isoformat()},
                "place": place,
                "_rule": rule,
            }
        )
    skipped = _check_claims_against_ledger(branch, parsed, problems)
    rows = []
    for row in parsed:
        row.pop("_rule")
        if not row.pop("_skip", False):
            rows.append(row)
    return rows, skipped


def _member_label(member: Member) -> str:
    parts = [member.name]
    if member.group:
        parts.append(member.group)
    if member.birth_date:
        parts.append(_("%(year)d年生") % {"year": member.birth_date.year})
    parts.append(f"#{member.pk}")
    return " · ".join(parts)


def _check_claims_against_ledger(branch: Organisation, rows: list[dict], problems: _Problems) -> int:
    """Double claims and caps (``ledger.book.rules``), against the ledger and within the file, with two
    bulk queries. A deed already in the ledger is skipped (re-importing a file adds only what is new)."""
    known = [r for r in rows if r["member"]]
    if not known:
        return 0
    member_ids = {r["member"] for r in known}
    dates = {r["occurred_on"] for r in known}
    recorded = {
        rules.same_deed_key(member_id=m, rule_id=r, occurred_on=d): (method, status)
        for m, r, d, method, status in PointEvent.objects.filter(
            rules.counting_q(), member_id__in=member_ids, occurred_on__in=dates
        ).values_list("member_id", "rule_id", "occurred_on", "entry_method", "status")
    }
    used = selectors.usage_by_member_rule(years={int(r["occurred_on"][:4]) for r in known}, member_ids=member_ids)
    in_file: dict[tuple, int] = {}
    skipped = 0
    for row in known:
        rule = row["_rule"]
        day = datetime.date.fromisoformat(row["occurred_on"])
        key = rules.same_deed_key(member_id=row["member"], rule_id=row["rule"], occurred_on=day)
        if key in recorded:
            method, status = recorded[key]
            refusal = rules.duplicate_refusal(
                member_name=row["name"],
                rule_title=rule.title,
                occurred_on=day,
                existing_method=method,
                existing_status=status,
            )
            problems.add(row["row"], "name", refusal.message, level="skip")
            row["_skip"] = True
            skipped += 1
            continue
        if key in in_file:
            refusal = rules.duplicate_in_batch_refusal(first_row=in_file[key])
            problems.add(row["row"], refusal.field, refusal.message)
            row["_skip"] = True
            continue
        in_file[key] = row["row"]
        magnitude = Decimal(row["magnitude"])
        quarter_key = (row["member"], row["rule"], day.year, quarter_of(day))
        year_key = (row["member"], row["rule"], day.year, None)
        verdicts = rules.caps_check(
            rule=rule, used_quarter=used[quarter_key], used_year=used[year_key], adding=magnitude
        )
        if verdicts:
            problems.add(row["row"], "points", verdicts[0].message)
            row["_skip"] = True
            continue
        used[quarter_key] += magnitude  # the rows below count the ones above
        used[year_key] += magnitude
    return skipped


# --- confirm ---------------------------------------------------------------------------------


def _dedupe_key(row: dict, member_id: int) -> str:
    digest = hashlib.sha256(f"{row['account']}|{row['points']}".encode()).hexdigest()[:16]
    return f"import:{member_id}:{row['rule']}:{row['occurred_on']}:{digest}"


def import_confirm(
    *, actor: AbstractBaseUser, batch: ImportBatch, choices: dict[int, int] | None = None
) -> ImportBatch:
    """Write a previewed batch: everything in one transaction, or nothing.

    ``choices`` maps a row number to the member chosen where a name matched several members.
    Raises ``ValidationError`` (nothing written; the refused rows are on ``batch.problems``).
    """
    choices = choices or {}
    problems: list[dict] = []
    try:
        with transaction.atomic():
            batch = ImportBatch.objects.select_for_update().select_related("branch").get(pk=batch.pk)
            if batch.created_by_id != actor.pk:
                raise PermissionDenied(_("只能确认自己上传的文件。"))
            _writable_branch(actor, batch.branch)
            if batch.state == ImportBatch.State.DONE:
                raise ValidationError({"__all__": _("这个文件已经导入，不会重复导入。")})
            if batch.state != ImportBatch.State.PREVIEW:
                raise ValidationError({"__all__": _("文件中有错误，改正后请重新上传。")})
            if batch.kind == ImportBatch.Kind.MEMBERS:
                created = members_import(actor=actor, branch=batch.branch, rows=batch.rows)
            else:
                _require_choices(batch, choices)
                created = _claims_write(actor, batch, choices, problems)
            batch.state = ImportBatch.State.DONE
            batch.created_count = created
            batch.confirmed_at = clock.now()
            batch.save(update_fields=["state", "created_count", "confirmed_at"])
            audit_record(
                actor=actor,
                action="import.confirm",
                obj=batch,
                branch=batch.branch,
                summary=_("导入%(kind)s “%(file)s”：新增 %(count)d 条")
                % {"kind": batch.get_kind_display(), "file": batch.file_name, "count": created},
                data={"file_hash": batch.file_hash},
            )
    except IntegrityError:
        raise ValidationError({"__all__": _("这个文件已经导入，不会重复导入。")}) from None
    except ValidationError:
        if problems:
            ImportBatch.objects.writable_by(actor).filter(pk=batch.pk).update(
                state=ImportBatch.State.INVALID, problems=[*batch.problems, *problems]
            )
        raise
    return batch


def _require_choices(batch: ImportBatch, choices: dict[int, int]) -> None:
    unresolved = [
        str(row["row"])
        for row in batch.rows
        if row["member"] is None and choices.get(row["row"]) not in {c["id"] for c in row["candidates"]}
    ]
    if unresolved:
        raise ValidationError(
            {
                "__all__": _("第 %(rows)s 行的姓名对应本支部多名党员，请先选择是哪一位。")
                % {"rows": "、".join(unresolved)}
            }
        )


def _claims_write(actor, batch: ImportBatch, choices: dict[int, int], problems: list[dict]) -> int:
    member_ids = {row["member"] or choices[row["row"]] for row in batch.rows}
    members = Member.objects.writable_by(actor).select_related("branch").in_bulk(member_ids)
    rules = {rule.pk: rule for rule in rules_for_branch(batch.branch)}
    created = 0
    for row in batch.rows:
        member = members.get(row["member"] or choices[row["row"]])
        rule = rules.get(row["rule"])
        try:
            if member is None or member.branch_id != batch.branch_id or rule is None:
                raise ValidationError({"name": _("党员或细则已变动，请重新上传。")})
            services.claim_record(
                actor=actor,
                member=member,
                rule=rule,
                occurred_on=datetime.date.fromisoformat(row["occurred_on"]),
                account=row["account"],
                points=row["points"] or None,
                place=row["place"],
                entry_method=PointEvent.EntryMethod.IMPORT,
                dedupe_key=_dedupe_key(row, member.pk),
            )
        except (ValidationError, PermissionDenied) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            problems.append({"row": row["row"], "column": "", "message": "；".join(messages), "level": "error"})
            raise ValidationError(
                {
                    "__all__": _("第 %(row)d 行：%(message)s 所有行均未导入。")
                    % {"row": row["row"], "message": "；".join(messages)}
                }
            ) from None
        created += 1
    return created


# --- templates -------------------------------------------------------------------------------


def import_template(kind: str) -> bytes:
    """An xlsx with the Chinese headers and one example row."""
    import io

    import openpyxl
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = str(ImportBatch.Kind(kind).label)
    sheet.append([c.label + ("*" if c.required else "") for c in COLUMNS[kind]])
    sheet.append(EXAMPLES[kind])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index in range(1, len(COLUMNS[kind]) + 1):
        sheet.column_dimensions[openpyxl.utils.get_column_letter(index)].width = 16
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


__all__ = ["ImportFileError", "import_confirm", "import_preview", "import_template"]
