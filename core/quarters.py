"""Quarters of the calendar year, the ledger's period: which quarter a day is in, its first and
last day, and its label ("2026年第3季度")."""

import datetime

from django.utils.translation import gettext as _


def quarter_of(day: datetime.date) -> int:
    return (day.month - 1) // 3 + 1


def quarter_bounds(year: int, quarter: int) -> tuple[datetime.date, datetime.date]:
    """The first and the last day of the quarter."""
    start = datetime.date(year, 3 * quarter - 2, 1)
    end = datetime.date(year + 1, 1, 1) if quarter == 4 else datetime.date(year, 3 * quarter + 1, 1)
    return start, end - datetime.timedelta(days=1)


def quarter_label(year: int, quarter: int) -> str:
    """The label of a quarter, e.g. "2026年第3季度", in the user's language."""
    return _("%(year)s年第%(quarter)s季度") % {"year": year, "quarter": quarter}
