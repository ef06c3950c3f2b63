"""The ledger at the edges of the calendar.

Quarters and years end at midnight in the villages (Asia/Shanghai), when it is still the
afternoon of the previous day in UTC. Every core flow — claim, decision, sign, base points,
the posting window, reminders, the importer's date checks — is run at the last second of a
period and at the first second of the next, at New Year and on 29 February 2028, with the
clock pinned by time-machine (never by patching a module).
"""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ValidationError

from core import clock
from ledger.book import services
from ledger.book.selectors import member_totals
from ledger.models import Period, PointEvent
from ledger.spreadsheets.imports import import_preview
from members.models import Member
from reports.models import Notification
from reports.services import posting_windows_close, quarter_end_remind
from tests.timetravel import first_second, last_second, village_time
from tests.xlsx import xlsx

D = Decimal
CLAIM_HEADER = ["姓名", "细则编号", "发生日期", "分值", "事由", "地点"]


def at(moment: datetime.datetime):
    return time_machine.travel(moment, tick=False)


def claim(world, day: datetime.date, member=None, rule=None):
    return services.claim_record(
        actor=world.secretary,
        member=member or world.wang,
        rule=rule or world.rules.snow,
        occurred_on=day,
        account="参加义务扫雪，清理村口道路",
    )


def approve_and_sign(world, event: PointEvent) -> Period:
    services.event_approve(actor=world.committee, event=event)
    return services.period_sign(actor=world.secretary, period=Period.objects.get(pk=event.period_id))


# --- the clock itself --------------------------------------------------------------------------


def test_today_is_the_village_date_while_utc_is_still_yesterday():
    with at(first_second(datetime.date(2026, 10, 1))):
        assert datetime.datetime.now(datetime.UTC).date() == datetime.date(2026, 9, 30)
        assert clock.today() == datetime.date(2026, 10, 1)
    with at(last_second(datetime.date(2026, 9, 30))):
        assert clock.today() == datetime.date(2026, 9, 30)
        assert clock.now().tzinfo is not None


# --- quarter end: claim, decision, sign ---------------------------------------------------------


def test_a_claim_dated_today_belongs_to_the_quarter_of_the_village_date(world):
    with at(last_second(datetime.date(2026, 9, 30))):
        last = claim(world, clock.today())
        with pytest.raises(ValidationError, match="不能晚于今天"):
            claim(world, datetime.date(2026, 10, 1), member=world.li)
    with at(first_second(datetime.date(2026, 10, 1))):
        first = claim(world, clock.today(), member=world.li)
    assert (last.period.year, last.period.quarter) == (2026, 3)
    assert (first.period.year, first.period.quarter) == (2026, 4)


def test_a_quarter_is_signed_only_from_the_first_second_after_it_ends(world):
    with at(village_time(datetime.date(2026, 9, 20))):
        event = claim(world, clock.today())
    with at(last_second(datetime.date(2026, 9, 30))):
        services.event_approve(actor=world.committee, event=event)
        with pytest.raises(ValidationError, match="季度结束后才能签字"):
            services.period_sign(actor=world.secretary, period=Period.objects.get(pk=event.period_id))
    with at(first_second(datetime.date(2026, 10, 1))):
        period = services.period_sign(actor=world.secretary, period=Period.objects.get(pk=event.period_id))
    assert period.state == Period.State.SIGNED
    # Signed at 16:00 UTC on 30 September, which is 1 October in the village.
    assert period.signed_at.astimezone(datetime.UTC).date() == datetime.date(2026, 9, 30)


def test_a_decision_in_the_next_quarter_stays_in_the_entry_s_quarter(world):
    with at(last_second(datetime.date(2026, 9, 30))):
        event = claim(world, clock.today())
    with at(first_second(datetime.date(2026, 10, 1))):
        services.event_approve(actor=world.committee, event=event)
        # A new claim the same second goes to the new quarter; the decided one stays in Q3.
        claim(world, clock.today())
    q3 = member_totals(Member.objects.filter(pk=world.wang.pk), year=2026, quarter=3).get()
    q4 = member_totals(Member.objects.filter(pk=world.wang.pk), year=2026, quarter=4).get()
    assert q3.total == D("1.0")
    assert q4.total == D("0")


# --- New Year ----------------------------------------------------------------------------------


def test_new_year_second_by_second(world):
    with at(last_second(datetime.date(2026, 12, 31))):
        december = claim(world, clock.today())
        with pytest.raises(ValidationError, match="不能晚于今天"):
            claim(world, datetime.date(2027, 1, 1), member=world.li)
    assert (december.period.year, december.period.quarter) == (2026, 4)
    with at(first_second(datetime.date(2027, 1, 1))):
        period = approve_and_sign(world, december)
        assert period.state == Period.State.SIGNED
        granted = services.base_points_grant(actor=None, branch=world.branch_a, year=2027)
        january = claim(world, clock.today(), member=world.li)
    assert granted == Member.objects.filter(branch=world.branch_a, status=Member.Status.ACTIVE).count()
    base = PointEvent.objects.filter(kind="base", occurred_on__year=2027)
    assert {e.occurred_on for e in base} == {datetime.date(2027, 1, 1)}
    assert {(e.period.year, e.period.quarter) for e in base} == {(2027, 1)}
    assert (january.period.year, january.period.quarter) == (2027, 1)
    # Granting 2027 again the same day creates nothing; 2026's base points are dated in 2026.
    with at(first_second(datetime.date(2027, 1, 1))):
        assert services.base_points_grant(actor=None, branch=world.branch_a, year=2027) == 0


def test_base_points_for_the_new_year_are_refused_on_new_year_s_eve_in_the_village(world):
    with at(last_second(datetime.date(2026, 12, 31))), pytest.raises(ValidationError, match="2027"):
        services.base_points_grant(actor=None, branch=world.branch_a, year=2027, on=datetime.date(2026, 12, 31))


# --- 29 February 2028 --------------------------------------------------------------------------


def test_leap_day_is_an_ordinary_day_of_the_first_quarter(world):
    with at(last_second(datetime.date(2028, 2, 29))):
        event = claim(world, clock.today())
    assert event.occurred_on == datetime.date(2028, 2, 29)
    assert (event.period.year, event.period.quarter) == (2028, 1)
    with at(first_second(datetime.date(2028, 3, 1))):
        services.event_approve(actor=world.committee, event=event)
        with pytest.raises(ValidationError, match="季度结束后才能签字"):
            services.period_sign(actor=world.secretary, period=event.period)
    with at(first_second(datetime.date(2028, 4, 1))):
        assert services.period_sign(actor=world.secretary, period=event.period).state == Period.State.SIGNED
    year = member_totals(Member.objects.filter(pk=world.wang.pk), year=2028).get()
    assert year.total == D("1.0")


# --- the posting window ------------------------------------------------------------------------


def test_the_posting_window_closes_at_village_midnight(world):
    with at(village_time(datetime.date(2026, 9, 20))):
        event = claim(world, clock.today())
    with at(village_time(datetime.date(2026, 10, 2))):
        period = approve_and_sign(world, event)
        period = services.period_post(actor=world.committee, period=period, window_days=7)
    assert period.posting_ends_on == datetime.date(2026, 10, 9)
    with at(last_second(datetime.date(2026, 10, 9))):
        assert posting_windows_close() == 0
        with pytest.raises(ValidationError, match="结束后才能定稿"):
            services.period_finalise(actor=world.secretary, period=period)
    with at(first_second(datetime.date(2026, 10, 10))):  # still 9 October in UTC
        assert posting_windows_close() == 1
    period.refresh_from_db()
    assert period.state == Period.State.FINAL


def test_the_posting_window_spans_new_year(world):
    with at(village_time(datetime.date(2026, 12, 1))):
        event = claim(world, clock.today())
    with at(village_time(datetime.date(2026, 12, 29))):
        services.event_approve(actor=world.committee, event=event)
    with at(village_time(datetime.date(2027, 1, 1))):
        period = services.period_sign(actor=world.secretary, period=Period.objects.get(pk=event.period_id))
        period = services.period_post(actor=world.committee, period=period, window_days=7)
    assert period.posting_ends_on == datetime.date(2027, 1, 8)


# --- reminders -----------------------------------------------------------------------------------


def test_quarter_end_reminders_start_a_week_before_the_village_quarter_end(world):
    with at(last_second(datetime.date(2026, 9, 23))):
        assert quarter_end_remind() == 0
    with at(first_second(datetime.date(2026, 9, 24))):  # still 23 September in UTC
        assert quarter_end_remind() == 2  # both branches' secretaries
    assert set(Notification.objects.values_list("key", flat=True)) == {"quarter-end:2026:3"}
    with at(last_second(datetime.date(2026, 12, 31))):
        assert quarter_end_remind() == 2
    assert Notification.objects.filter(key="quarter-end:2026:4").count() == 2


# --- the importer's date checks ------------------------------------------------------------------


def _claims_preview(world, *rows):
    content = xlsx([CLAIM_HEADER, *rows])
    return import_preview(actor=world.secretary, branch=world.branch_a, kind="claims", data=content, name="x.xlsx")


def _date_errors(batch):
    return [p for p in batch.problems if p["level"] == "error" and p["column"] == "发生日期"]


def test_import_accepts_today_and_refuses_tomorrow_at_new_year(world):
    with at(last_second(datetime.date(2026, 12, 31))):
        batch = _claims_preview(
            world,
            ["王学恩", "A02", "2026-12-31", "1", "铲雪", "村口"],
            ["李秀英", "A02", "2027-01-01", "1", "铲雪", "村口"],
        )
    assert [p["row"] for p in _date_errors(batch)] == [3]
    assert "不能晚于今天（2026-12-31）" in _date_errors(batch)[0]["message"]
    with at(first_second(datetime.date(2027, 1, 1))):
        batch = _claims_preview(world, ["李秀英", "A02", "2027-01-01", "1", "铲雪", "村口"])
    assert _date_errors(batch) == []


def test_import_accepts_the_leap_day(world):
    with at(village_time(datetime.date(2028, 3, 2))):
        batch = _claims_preview(world, ["王学恩", "A02", "2028-02-29", "1", "铲雪", "村口"])
    assert _date_errors(batch) == []
    with at(village_time(datetime.date(2028, 3, 2))):
        batch = _claims_preview(world, ["王学恩", "A02", "2027-02-29", "1", "铲雪", "村口"])
    assert len(_date_errors(batch)) == 1


# --- one clock -----------------------------------------------------------------------------------

CLOCK_READS = ("timezone.now(", "timezone.localdate(", "date.today(", "datetime.now(", "datetime.utcnow(", "time.time(")


PRODUCT = {"config", "core", "branches", "members", "ledger", "reports", "scripts", "manage.py"}


def _product_sources():
    root = Path(__file__).resolve().parent.parent
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        # The product and the scripts that run inside it; the smoke run's HTTP driver is a client
        # outside Django, with a clock of its own.
        if relative.parts[0] not in PRODUCT or "migrations" in relative.parts:
            continue
        if relative == Path("scripts/smoke_production.py"):
            continue
        if relative == Path("core/clock.py"):
            continue
        yield relative, path.read_text(encoding="utf-8")


def clock_reads(text: str) -> list[tuple[int, str]]:
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), 1)
        if any(read in line for read in CLOCK_READS) and not line.lstrip().startswith("#")
    ]


def test_the_product_reads_the_time_only_through_core_clock():
    offenders = [
        f"{relative}:{number}: {line}" for relative, text in _product_sources() for number, line in clock_reads(text)
    ]
    assert offenders == [], "read 'today'/'now' through core.clock:\n" + "\n".join(offenders)


def test_the_one_clock_guard_sees_a_stray_read():
    sample = "day = clock.today()\n# timezone.now() in a comment\nstamp = timezone.now()\nx = datetime.date.today()\n"
    assert [number for number, _line in clock_reads(sample)] == [3, 4]
