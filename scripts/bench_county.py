"""Benchmark (not a test): every page a county uses, on a generated county, beside a floor.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scale_1m SECRET_KEY=x \\
        .venv/bin/python scripts/bench_county.py --events 1000000

Builds the county with ``manage.py seed_county`` when the database has none (``--events``,
``--branches``, ``--members-per-branch``), or reuses it. For each page or read it prints the
server time (median of --repeat warm runs, Django's test client with ``force_login``), the DB time
and query count of one run, the floor (a raw SQL read of the same figures) and the ratio.
"""

import argparse
import base64
import datetime
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--branches", type=int, default=800)
    parser.add_argument("--members-per-branch", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from branches.models import Organisation
    from core import clock
    from core.quarters import quarter_of
    from ledger.book.models import Period, PointEvent
    from ledger.book.selectors import rules_for_branch
    from ledger.book.services import claim_record, event_approve
    from members.models import Member
    from reports.selectors import rollup_context

    assert connection.vendor == "postgresql", "run against PostgreSQL (DATABASE_URL)"
    settings.ALLOWED_HOSTS = ["*"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("migrate", verbosity=0)
    if not Organisation.objects.exists():
        call_command(
            "seed_county",
            events=args.events,
            branches=args.branches,
            members_per_branch=args.members_per_branch,
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'ledger_pointevent'")
        n_events = cursor.fetchone()[0]
    day = clock.today()
    year, quarter = day.year, quarter_of(day)
    county = Organisation.objects.get(level="county")
    township = Organisation.objects.filter(level="township").order_by("id").first()
    branch = Organisation.objects.filter(level="branch").order_by("id").first()
    users = {name: User.objects.get(username=name) for name in ("county_officer", "township_officer_1")}
    users["secretary"] = User.objects.get(roles__organisation=branch, roles__role="secretary")
    users["member"] = Member.objects.filter(branch=branch, user__isnull=False).first().user
    users["superuser"], _ = User.objects.get_or_create(
        username="bench_admin", defaults={"is_superuser": True, "is_staff": True}
    )
    signed = Period.objects.filter(branch=branch, state="posted").first()
    clients = {}
    for name, user in users.items():
        clients[name] = Client()
        clients[name].force_login(user)

    def floor(sql: str, params=()) -> float:
        def run():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                cursor.fetchall()

        return measure(run)[0]

    def measure(fn):
        fn()  # warm
        times = []
        for _i in range(args.repeat):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        with CaptureQueriesContext(connection) as ctx:
            fn()
        db = sum(float(q["time"]) for q in ctx.captured_queries)
        return statistics.median(times), db, len(ctx.captured_queries)

    def page(who: str, url: str):
        def fn():
            response = clients[who].get(url)
            assert response.status_code == 200, (url, response.status_code)

        return fn

    period_ids = "SELECT id FROM ledger_period WHERE year = %s AND quarter = %s"
    branch_floor = (
        f"SELECT period_id, status, count(*) FROM ledger_pointevent WHERE period_id IN ({period_ids}) GROUP BY 1, 2"
    )
    rollup_floor = (
        "SELECT p.branch_id, sum(t.base), sum(t.bonus), sum(t.deduction), sum(t.total) FROM ledger_memberquartertotal t"
        " JOIN ledger_period p ON p.id = t.period_id WHERE p.year = %s AND p.quarter = %s GROUP BY 1"
    )
    middle = PointEvent.objects.order_by("-id").values_list("id", flat=True).first() // 2
    deep_cursor = base64.b64encode(urlencode({"p": middle}).encode()).decode()
    rule = rules_for_branch(branch, kind="bonus").first()

    # one claim per member, of a deed on a day none of them has claimed yet (a second claim of one
    # deed on one day is refused): the branch's members, newest day first
    fresh = [
        (m, on)
        for on in (day - datetime.timedelta(days=n) for n in range(60))
        for m in Member.objects.filter(branch=branch, status="active").exclude(
            events__rule=rule, events__occurred_on=on
        )[:6]
    ]

    def claim():
        who, on = fresh.pop(0)
        claimed.append(
            claim_record(actor=users["secretary"], member=who, rule=rule, occurred_on=on, account="基准测试：一条申报")
        )

    claimed: list = []
    decider = User.objects.filter(roles__organisation=branch, roles__role="committee").exclude(pk=users["secretary"].pk)

    def approve():  # the claims just made, one each time (the committee member did not enter them)
        event_approve(actor=decider.first() or users["superuser"], event=claimed.pop())

    current = Period.objects.filter(branch=branch, year=year, quarter=quarter).first()

    cases = [
        ("/overview/ county officer", page("county_officer", "/overview/"), (branch_floor, (year, quarter))),
        ("/overview/ township officer", page("township_officer_1", "/overview/"), None),
        ("/overview/ secretary", page("secretary", "/overview/"), None),
        (
            "rollup_context county, quarter",
            lambda: rollup_context(county, year=year, quarter=quarter),
            (rollup_floor, (year, quarter)),
        ),
        ("rollup_context township, quarter", lambda: rollup_context(township, year=year, quarter=quarter), None),
        (
            f"branch home /b/{branch.pk}/",
            page("secretary", f"/b/{branch.pk}/"),
            (
                "SELECT t.member_id, t.total FROM ledger_memberquartertotal t JOIN ledger_period p ON p.id = t.period_id"
                " WHERE p.branch_id = %s AND p.year = %s AND p.quarter = %s",
                (branch.pk, year, quarter),
            ),
        ),
        ("admin entry list, superuser", page("superuser", "/admin/ledger/pointevent/"), None),
        (
            "admin entry list, branch filter",
            page("superuser", f"/admin/ledger/pointevent/?branch__id__exact={branch.pk}"),
            None,
        ),
        (
            "public posting page",
            page("member", f"/p/{branch.code}/{signed.year}/{signed.quarter}/") if signed else None,
            None,
        ),
        ("API events page 1, secretary", page("secretary", "/api/v1/events/"), None),
        ("API events keyset page 1, secretary", page("secretary", "/api/v1/events/?cursor="), None),
        (
            "API events keyset deep, superuser",
            page("superuser", f"/api/v1/events/?cursor={deep_cursor}"),
            ("SELECT id FROM ledger_pointevent WHERE id < %s ORDER BY id DESC LIMIT 50", (middle,)),
        ),
        ("API periods page 1, county officer", page("county_officer", "/api/v1/periods/"), None),
        ("/me/", page("member", "/me/"), None),
        (
            "committee review page (current quarter)",
            page("superuser", f"/admin/ledger/period/{current.pk}/review/") if current else None,
            None,
        ),
        ("one claim (claim_record)", claim, None),
        ("one decision (event_approve)", approve, None),
    ]
    print(f"county: {n_events:,} entries (estimate); quarter {year}Q{quarter}; median of {args.repeat}, warm")
    print(f"{'what':40} {'server ms':>10} {'DB ms':>8} {'queries':>8} {'floor ms':>9} {'ratio':>7}")
    for name, fn, floor_sql in cases:
        if fn is None:
            print(f"{name:40} {'(no signed quarter)':>10}")
            continue
        try:
            server, db, queries = measure(fn)
        except Exception as exc:  # print and go on: one page failing should not hide the rest
            print(f"{name:40} ERROR {type(exc).__name__}: {str(exc)[:80]}")
            continue
        floor_ms = floor(*floor_sql) * 1000 if floor_sql else None
        ratio = f"{server * 1000 / floor_ms:7.1f}" if floor_ms else "      -"
        floor_text = f"{floor_ms:9.1f}" if floor_ms else "        -"
        print(f"{name:40} {server * 1000:10.1f} {db * 1000:8.1f} {queries:8d} {floor_text} {ratio}")


if __name__ == "__main__":
    main()
