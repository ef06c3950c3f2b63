"""Moments in the villages' time zone, for tests that pin the clock with time-machine."""

import datetime
import zoneinfo

VILLAGE_TZ = zoneinfo.ZoneInfo("Asia/Shanghai")


def village_time(day: datetime.date, hour: int = 10, minute: int = 0, second: int = 0) -> datetime.datetime:
    """A moment on ``day`` in the villages' time zone (mid-morning unless told)."""
    return datetime.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=VILLAGE_TZ)


def last_second(day: datetime.date) -> datetime.datetime:
    """23:59:59 on ``day`` in the villages (15:59:59 UTC the same day)."""
    return village_time(day, 23, 59, 59)


def first_second(day: datetime.date) -> datetime.datetime:
    """00:00:00 on ``day`` in the villages (16:00 UTC on the day before)."""
    return village_time(day, 0, 0, 0)
