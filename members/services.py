"""Writes to the member roll."""

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from branches.models import Organisation
from branches.scope import branch_scope
from core import audit, clock
from members.models import Member
from members.names import initials_key, normalise_name, pinyin_key, stroke_key

MEMBER_FIELDS = (
    "gender",
    "birth_date",
    "joined_on",
    "category",
    "standing",
    "status",
    "group",
    "phone",
    "id_number",
    "address",
    "user",
)


OLDEST_BIRTH_DATE = datetime.date(1900, 1, 1)
ADULT_AGE = 18


def member_dates_refusals(*, birth_date, joined_on, today: datetime.date | None = None) -> dict[str, str]:
    """People's dates must be plausible: born between 1900 and today, joined the party not in the
    future and not before the 18th birthday. Returns the message per field at fault (none: {})."""
    today = today or clock.today()
    errors: dict[str, str] = {}
    if birth_date is not None and not (OLDEST_BIRTH_DATE <= birth_date <= today):
        errors["birth_date"] = _("出生日期应在 %(first)s 到今天（%(today)s）之间。") % {
            "first": OLDEST_BIRTH_DATE.isoformat(),
            "today": today.isoformat(),
        }
    if joined_on is not None:
        if joined_on > today:
            errors["joined_on"] = _("入党日期不能晚于今天（%(today)s）。") % {"today": today.isoformat()}
        elif joined_on < OLDEST_BIRTH_DATE:
            errors["joined_on"] = _("入党日期不能早于 %(first)s。") % {"first": OLDEST_BIRTH_DATE.isoformat()}
        elif birth_date is not None and "birth_date" not in errors and joined_on < _birthday(birth_date, ADULT_AGE):
            errors["joined_on"] = _("入党日期应在年满 %(age)d 周岁（%(day)s）之后。") % {
                "age": ADULT_AGE,
                "day": _birthday(birth_date, ADULT_AGE).isoformat(),
            }
    return errors


def _birthday(born: datetime.date, age: int) -> datetime.date:
    try:
        return born.replace(year=born.year + age)
    except ValueError:  # born on 29 February
        return datetime.date(born.year + age, 3, 1)


def _check_dates(member: Member) -> None:
    errors = member_dates_refusals(birth_date=member.birth_date, joined_on=member.joined_on)
    if errors:
        raise ValidationError(errors)


def _apply_name(member: Member, name: str) -> None:
    name = normalise_name(name)
    if not name:
        raise ValidationError({"name": _("请填写姓名。")})
    member.name = name
    member.name_pinyin = pinyin_key(name)
    member.name_initials = initials_key(name)
    member.name_strokes = stroke_key(name)


@transaction.atomic
def member_create(*, actor: AbstractBaseUser | None, branch: Organisation, name: str, **fields) -> Member:
    if actor is not None and not branch_scope(actor, write=True).filter(pk=branch.pk).exists():
        raise PermissionDenied(_("您无权在该支部登记党员。"))
    if not branch.is_branch:
        raise ValidationError({"branch": _("党员只能登记在村（社区）党支部。")})
    unknown = set(fields) - set(MEMBER_FIELDS)
    if unknown:
        raise TypeError(f"unknown member fields: {sorted(unknown)}")
    member = Member(branch=branch, **fields)
    _apply_name(member, name)
    member.full_clean(exclude=["user"])
    _check_dates(member)
    member.save()
    audit.record(
        actor=actor,
        action="member.create",
        obj=member,
        branch=branch,
        summary=_("登记党员 %(name)s") % {"name": member.name},
    )
    return member


@transaction.atomic
def member_update(*, actor: AbstractBaseUser | None, member: Member, **fields) -> Member:
    if actor is not None and not branch_scope(actor, write=True).filter(pk=member.branch_id).exists():
        raise PermissionDenied(_("您无权修改该支部的党员信息。"))
    member = Member.objects.select_for_update().get(pk=member.pk)
    changed = {}
    if "name" in fields:
        new_name = fields.pop("name")
        if normalise_name(new_name) != member.name:
            changed["name"] = [member.name, normalise_name(new_name)]
            _apply_name(member, new_name)
    for field, value in fields.items():
        if field not in MEMBER_FIELDS:
            raise TypeError(f"unknown member field: {field}")
        old = getattr(member, field)
        if old != value:
            # Contact details are private: the audit trail records that they changed, not to what.
            private = field in ("phone", "id_number", "address")
            changed[field] = ["***", "***"] if private else [str(old), str(value)]
            setattr(member, field, value)
    member.full_clean(exclude=["user"])
    _check_dates(member)
    member.save()
    if changed:
        audit.record(
            actor=actor,
            action="member.update",
            obj=member,
            branch=member.branch,
            summary=_("修改党员信息 %(name)s") % {"name": member.name},
            data={"changed": changed},
        )
    return member


IMPORT_BATCH_SIZE = 2000


def members_import(*, actor: AbstractBaseUser, branch: Organisation, rows: list[dict]) -> int:
    """Add many members to a branch's roll at once (spreadsheet import), in batched inserts.

    ``rows`` are the already validated rows of an import preview (ledger.spreadsheets.imports), with their
    sort keys computed there; one audit entry records the import. Returns how many were added.
    """
    if not branch_scope(actor, write=True).filter(pk=branch.pk).exists():
        raise PermissionDenied(_("您无权在该支部登记党员。"))
    if not branch.is_branch:
        raise ValidationError({"branch": _("党员只能登记在村（社区）党支部。")})
    values = [
        {
            "name": row["name"],
            "name_pinyin": row["name_pinyin"],
            "name_initials": row["name_initials"],
            "name_strokes": row["name_strokes"],
            "gender": row["gender"],
            "birth_date": row.get("birth_date") or None,
            "joined_on": row.get("joined_on") or None,
            "category": row.get("category") or Member.Category.RURAL,
            "standing": row.get("standing") or Member.Standing.FULL,
            "group": row.get("group") or "",
            "phone": row.get("phone") or "",
        }
        for row in rows
    ]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _copy_members(branch, values)
        else:
            Member.objects.bulk_create([Member(branch=branch, **v) for v in values], batch_size=IMPORT_BATCH_SIZE)
        audit.record(
            actor=actor,
            action="member.import",
            obj=branch,
            branch=branch,
            summary=_("导入党员名册 %(count)d 人") % {"count": len(values)},
        )
    return len(values)


def _copy_members(branch: Organisation, values: list[dict]) -> None:
    """PostgreSQL's COPY: several times faster than INSERT for a whole roll. Every column not
    in ``values`` takes its model default (status active, no login, created now)."""
    columns = [f for f in Member._meta.concrete_fields if not f.primary_key]
    fixed = {"branch_id": branch.pk, "created_at": clock.now(), "user_id": None}
    sample = values[0] if values else {}
    for f in columns:
        if f.attname not in fixed and f.attname not in sample:
            fixed[f.attname] = f.get_default()
    names = [f.attname for f in columns]
    quoted = ", ".join(connection.ops.quote_name(f.column) for f in columns)
    with connection.cursor() as cursor:
        copy_sql = f"COPY {connection.ops.quote_name(Member._meta.db_table)} ({quoted}) FROM STDIN"
        with cursor.cursor.copy(copy_sql) as copy:
            for row in values:
                copy.write_row([row[n] if n in row else fixed[n] for n in names])
