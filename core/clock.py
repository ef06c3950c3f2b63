"""The project's one clock.

Every "today" and "now" in the product is read here, in the configured time zone
(``TIME_ZONE``, Asia/Shanghai by default): a quarter ends at midnight in the village, not in UTC.
Tests pin time with ``time-machine`` (see ``tests/conftest.py``), which moves this clock and
every other reader of the system time together; nothing patches these functions.
"""

import datetime

from django.utils import timezone


def now() -> datetime.datetime:
    """The current moment, timezone-aware."""
    return timezone.now()


def today() -> datetime.date:
    """Today's date where the villages are (the configured time zone)."""
    return timezone.localdate()


def local_date(moment: datetime.datetime) -> datetime.date:
    """The village date of a stored moment (a signature at 16:30 UTC is the next day there)."""
    return timezone.localdate(moment)
