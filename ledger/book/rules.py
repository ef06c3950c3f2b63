"""The ledger's business rules, one function each.

Pure functions: they take values already loaded (one item, or a batch the caller loaded with a
fixed number of queries) and return a verdict — never query, never write. Every caller (the
services, the spreadsheet import preview, the committee's review summary, the forms, the API and
the villagers' feedback form) asks the same function, so a rule has one bound and one message.

A refusal is a ``Refusal``: the form field it belongs to and a translated message. ``.error()``
turns it into the project's one error contract, a field-keyed ``ValidationError``.
"""

import datetime
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from core import clock
from core.points import ZERO
from ledger.book.models import Kind, Period, PointEvent, ScoringRule

MAX_POINTS = Decimal("1000")
EntryMethod = PointEvent.EntryMethod


@dataclass(frozen=True)
class Refusal:
    field: str
    message: str
    code: str = "invalid"

    def error(self) -> ValidationError:
        return ValidationError({self.field: ValidationError(self.message, code=self.code)})


# --- points: a value as typed, in a form, a spreadsheet cell or an API body ----------------------


def points_clean(value, *, field: str = "points", kind: str | None = None) -> Decimal:
    """The magnitude of a points value: a number, at most one decimal place, not 0, at most
    ``MAX_POINTS``. The sign comes from the rule's kind, so "-3", "+3", "3分", "３" all give 3.0;
    given the ``kind``, a sign typed against it is refused (``sign_refusal``).
    Raises a ``ValidationError`` keyed by ``field``."""
    refusal = points_refusal(value, field=field, kind=kind)
    if refusal is not None:
        raise refusal.error()
    return _points_parse(value).quantize(Decimal("0.1"))


def points_refusal(value, *, field: str = "points", kind: str | None = None) -> Refusal | None:
    not_a_number = Refusal(field, _("分值必须是数字，例如 10 或 0.5。"), "not_a_number")
    if isinstance(value, bool):
        return not_a_number
    try:
        points = _points_parse(value)
    except (InvalidOperation, ValueError):
        return not_a_number
    if not points.is_finite():
        return not_a_number
    # The bound first: quantizing 1e27 to one place needs more digits than Decimal's precision.
    if points > MAX_POINTS:
        return Refusal(field, _("分值不能超过 %(max)s 分。") % {"max": MAX_POINTS}, "too_large")
    if points != points.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP):
        return Refusal(field, _("分值最多保留一位小数。"), "too_precise")
    if points == 0:
        return Refusal(field, _("分值不能为 0。"), "zero")
    if kind is not None:
        return sign_refusal(value, kind=kind, field=field)
    return None


def sign_refusal(value, *, kind: str, field: str = "points") -> Refusal | None:
    """A sign typed with the value must agree with the rule's kind: a minus only on a deduction,
    a plus never on one. No sign is always fine (the kind gives it)."""
    sign = _points_sign(value)
    if sign == "-" and kind != Kind.DEDUCTION:
        return Refusal(field, _("加分细则的分值不能是负数；如要扣分，请选择扣分细则。"), "sign")
    if sign == "+" and kind == Kind.DEDUCTION:
        return Refusal(field, _("扣分细则的分值不能带“+”号；填写要扣的分数即可，例如 5。"), "sign")
    return None


def _points_text(value) -> str:
    return unicodedata.normalize("NFKC", str(value)).replace(" ", "").replace("\u2212", "-").strip()


def _points_sign(value) -> str:
    if isinstance(value, int | float | Decimal):
        return "-" if value < 0 else ""
    text = _points_text(value)
    return text[:1] if text[:1] in ("-", "+") else ""


def _points_parse(value) -> Decimal:
    text = _points_text(value).removesuffix("分")
    if len(text) > 40:  # no points value is this long; don't hand Decimal a megabyte of digits
        raise ValueError("too long")
    return abs(Decimal(text))


def signed(kind: str, magnitude: Decimal) -> Decimal:
    """A deduction is stored negative, base and bonus points positive."""
    return -magnitude if kind == Kind.DEDUCTION else magnitude


# --- dates: when a deed happened, or a meeting was held ------------------------------------------

FUTURE_MESSAGES = {
    "held_on": lambda today: _("召开日期不能晚于今天（%(today)s）。") % {"today": today.isoformat()},
}


def first_day() -> datetime.date:
    """The first day the ledger takes entries for: 1 January of ``LEDGER_FIRST_YEAR``."""
    return datetime.date(settings.LEDGER_FIRST_YEAR, 1, 1)


def entry_date_refusal(
    day, *, field: str = "occurred_on", period: Period | None = None, today: datetime.date | None = None
) -> Refusal | None:
    """An entry's date: a date, not before the product's first year, not after today, and — given
    the branch's quarter that holds it — in a quarter that is not signed."""
    today = today or clock.today()
    if not isinstance(day, datetime.date):
        return Refusal(field, _("请填写发生日期。") if field == "occurred_on" else _("请填写召开日期。"), "required")
    if day < first_day():
        return Refusal(
            field,
            _("日期不能早于 %(first)s（本台账启用的年份）。") % {"first": first_day().isoformat()},
            "too_early",
        )
    if day > today:
        message = FUTURE_MESSAGES.get(field)
        return Refusal(
            field,
            message(today) if message else _("发生日期不能晚于今天（%(today)s）。") % {"today": today.isoformat()},
            "future",
        )
    if period is not None and period.is_frozen:
        return frozen_refusal(period, field=field)
    return None


def frozen_refusal(period: Period, *, field: str = "occurred_on") -> Refusal:
    """Nothing is entered into, or changed in, a signed quarter."""
    return Refusal(
        field,
        _("%(period)s已由书记签字封存，不能再录入或修改。如需更正，请在当前季度录入更正条目。")
        % {"period": period.label},
        "frozen",
    )


# --- caps: how much one member may earn under one rule per quarter and per year -----------------


@dataclass(frozen=True)
class CapVerdict:
    scope: str  # "quarter" or "year"
    cap: Decimal
    used: Decimal  # already recorded (pending or approved), before ``adding``
    left: Decimal
    message: str

    def error(self) -> ValidationError:
        return Refusal("points", self.message, "over_cap").error()


def caps_check(
    *, rule: ScoringRule, used_quarter: Decimal, used_year: Decimal, adding: Decimal = ZERO
) -> list[CapVerdict]:
    """Which of the rule's caps ``used + adding`` goes over: none, the quarter's, the year's or both.

    ``used_*`` are magnitudes of the member's entries under the rule that are not rejected and not
    corrections (``usage_key``). With ``adding`` 0 it tells whether what is recorded already exceeds
    a cap (the review summary)."""
    verdicts = []
    if rule.cap_per_quarter is not None and used_quarter + adding > rule.cap_per_quarter:
        left = max(rule.cap_per_quarter - used_quarter, ZERO)
        verdicts.append(
            CapVerdict(
                "quarter",
                rule.cap_per_quarter,
                used_quarter,
                left,
                _("超过“%(rule)s”每季度上限 %(cap)s 分：本季度已记 %(used)s 分，最多还能记 %(left)s 分。")
                % {"rule": rule.title, "cap": rule.cap_per_quarter, "used": used_quarter, "left": left},
            )
        )
    if rule.cap_per_year is not None and used_year + adding > rule.cap_per_year:
        left = max(rule.cap_per_year - used_year, ZERO)
        verdicts.append(
            CapVerdict(
                "year",
                rule.cap_per_year,
                used_year,
                left,
                _("超过“%(rule)s”每年上限 %(cap)s 分：今年已记 %(used)s 分，最多还能记 %(left)s 分。")
                % {"rule": rule.title, "cap": rule.cap_per_year, "used": used_year, "left": left},
            )
        )
    return verdicts


def counts_toward_caps(*, status: str, corrects_id: int | None) -> bool:
    """Pending and approved original entries count toward caps and double claims; rejected
    entries and corrections don't."""
    return status != PointEvent.Status.REJECTED and corrects_id is None


def counting_q(prefix: str = "") -> Q:
    """``counts_toward_caps`` as a queryset filter."""
    return Q(**{f"{prefix}corrects__isnull": True}) & ~Q(**{f"{prefix}status": PointEvent.Status.REJECTED})


# --- double claims: the same deed recorded twice ------------------------------------------------


def same_deed_key(*, member_id: int, rule_id: int, occurred_on: datetime.date) -> tuple:
    """Two entries with the same key are the same deed: one member, one rule, one day."""
    return (member_id, rule_id, occurred_on)


def duplicate_refusal(
    *, member_name: str, rule_title: str, occurred_on: datetime.date, existing_method: str, existing_status: str
) -> Refusal:
    """Why a claim is refused when an entry with the same deed key exists (``existing_*`` are that
    entry's entry method and status). A meeting-attendance credit says so: the member attended and
    was credited, so declaring it again is a double claim."""
    values = {
        "name": member_name,
        "date": occurred_on.isoformat(),
        "rule": rule_title,
        "status": PointEvent.Status(existing_status).label,
    }
    if existing_method == EntryMethod.MEETING:
        return Refusal(
            "rule",
            _("%(name)s 在 %(date)s 的“%(rule)s”已由会议考勤记录（%(status)s），属于重复申报。") % values,
            "duplicate",
        )
    return Refusal(
        "rule", _("%(name)s 在 %(date)s 已有一条“%(rule)s”记录（%(status)s），不能重复申报。") % values, "duplicate"
    )


def duplicate_in_batch_refusal(*, first_row: int) -> Refusal:
    """The same deed listed twice in one spreadsheet."""
    return Refusal(
        "name",
        _("与第 %(row)d 行重复（同一党员、同一细则、同一天），请删去其中一行。") % {"row": first_row},
        "duplicate",
    )


def double_claim_groups(events: Iterable[PointEvent]) -> list[list[PointEvent]]:
    """Entries of a quarter that look like one deed recorded twice, for the committee to check.

    The same deed key (refused at entry, so found only if the data got in another way), and an
    automatic meeting-attendance credit next to a member's own bonus claim on the same day — under
    another rule, so not refused at entry, but usually the same meeting declared again."""
    by_key: dict[tuple, list[PointEvent]] = defaultdict(list)
    same_day: dict[tuple, list[PointEvent]] = defaultdict(list)
    for event in events:
        if not counts_toward_caps(status=event.status, corrects_id=event.corrects_id):
            continue
        by_key[same_deed_key(member_id=event.member_id, rule_id=event.rule_id, occurred_on=event.occurred_on)].append(
            event
        )
        if event.kind == Kind.BONUS:
            same_day[(event.member_id, event.occurred_on)].append(event)
    groups = [group for group in by_key.values() if len(group) > 1]
    for group in same_day.values():
        methods = {e.entry_method for e in group}
        if EntryMethod.MEETING in methods and methods & set(EntryMethod.member_claims()):
            pair = [
                e
                for e in group
                if e.entry_method == EntryMethod.MEETING or e.entry_method in EntryMethod.member_claims()
            ]
            if pair not in groups:
                groups.append(pair)
    return groups


# --- the posting window (公示期) ------------------------------------------------------------------


def posting_open(period: Period, *, today: datetime.date | None = None) -> bool:
    """A posted quarter takes objections up to and including its last day."""
    today = today or clock.today()
    return (
        period.state == Period.State.POSTED and period.posting_ends_on is not None and today <= period.posting_ends_on
    )


def posting_open_q(*, today: datetime.date | None = None) -> Q:
    """``posting_open`` as a queryset filter on periods."""
    return Q(state=Period.State.POSTED, posting_ends_on__gte=today or clock.today())


def posting_closed_q(*, today: datetime.date | None = None) -> Q:
    """Posted quarters whose window has closed (ready to be finalised)."""
    return Q(state=Period.State.POSTED, posting_ends_on__lt=today or clock.today())


def finalise_refusal(period: Period, *, today: datetime.date | None = None) -> Refusal | None:
    """A posted quarter becomes final only after its window has closed."""
    if period.posting_ends_on is not None and posting_open(period, today=today):
        return Refusal(
            "__all__",
            _("公示期到 %(end)s 结束，结束后才能定稿。") % {"end": period.posting_ends_on.isoformat()},
            "posting_open",
        )
    return None


def objection_refusal(period: Period, *, branch_id: int, today: datetime.date | None = None) -> Refusal | None:
    """An objection (异议) is taken only for the branch's own quarter while its window is open."""
    if period.branch_id != branch_id or not posting_open(period, today=today):
        return Refusal("period", _("该季度不在公示期内，不能再提出异议；可以作为一般反映提交。"), "posting_closed")
    return None
