"""Benchmark (not a test): county roll-ups and rankings from events vs from stored totals.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rules_bench \
        .venv/bin/python scripts/bench_totals.py --events 2000000

Give it an empty PostgreSQL database: it migrates it, then builds a county with
``INSERT ... SELECT generate_series`` (800 branches in 40 townships, 100 members each, 8
quarters over two years, --events approved/pending events spread over them) and the stored
per-member-quarter totals as ``_total_add`` would have left them. Then it times, side by side in
one run (best of --repeat, warm cache), the reads that need totals at county scale: the branch
ranking of a year (``branch_totals``), a township roll-up, the county's top-100 member ranking of
a year, and one branch's member list (``member_totals``) — each from events and from stored totals.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build(cursor, *, branches: int, members: int, events: int) -> None:
    townships = max(branches // 20, 1)
    cursor.execute(
        "INSERT INTO branches_organisation (name, code, level, parent_id, path, posting_window_days)"
        " VALUES ('县', 'county', 'county', NULL, '', 7) RETURNING id"
    )
    county = cursor.fetchone()[0]
    cursor.execute("UPDATE branches_organisation SET path = '/' || id || '/' WHERE id = %s", [county])
    cursor.execute(
        "INSERT INTO branches_organisation (name, code, level, parent_id, path, posting_window_days)"
        " SELECT '镇' || g, 't' || g, 'township', %s, '', 7 FROM generate_series(1, %s) g",
        [county, townships],
    )
    cursor.execute(
        "UPDATE branches_organisation SET path = '/' || %s || '/' || id || '/' WHERE level = 'township'", [county]
    )
    cursor.execute(
        "INSERT INTO branches_organisation (name, code, level, parent_id, path, posting_window_days)"
        " SELECT '村' || g, 'b' || g, 'branch', t.id, '', 7 FROM generate_series(1, %s) g"
        " JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM branches_organisation"
        "       WHERE level = 'township') t ON t.n = (g - 1) %% %s",
        [branches, townships],
    )
    cursor.execute(
        "UPDATE branches_organisation b SET path = t.path || b.id || '/' FROM branches_organisation t"
        " WHERE b.parent_id = t.id AND b.level = 'branch'"
    )
    cursor.execute(
        "INSERT INTO members_member (branch_id, name, name_pinyin, name_initials, name_strokes, gender, category,"
        ' standing, status, "group", phone, id_number, address, created_at)'
        " SELECT b.id, '党员' || g, 'dangyuan' || g, 'dy', lpad(g::text, 8, '0'), 'male', 'rural', 'full', 'active',"
        " '', '', '', '', now()"
        " FROM (SELECT id FROM branches_organisation WHERE level = 'branch') b, generate_series(1, %s) g",
        [members],
    )
    cursor.execute(
        "INSERT INTO ledger_period (branch_id, year, quarter, state, previous_hash, content_hash)"
        " SELECT b.id, y, q, 'open', '', '' FROM (SELECT id FROM branches_organisation WHERE level = 'branch') b,"
        " generate_series(2025, 2026) y, generate_series(1, 4) q"
    )
    cursor.execute(
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff,"
        " is_active, date_joined) VALUES ('!', false, 'bench', '', '', '', false, true, now()) RETURNING id"
    )
    user = cursor.fetchone()[0]
    cursor.execute(
        "INSERT INTO ledger_scoringrule (organisation_id, code, title, kind, default_points, evidence_required,"
        " description, is_active) VALUES (%s, 'a1', '加分', 'bonus', 1, false, '', true),"
        " (%s, 'c1', '扣分', 'deduction', 1, false, '', true) RETURNING id",
        [county, county],
    )
    bonus_rule, deduction_rule = (row[0] for row in cursor.fetchall())
    # Members and periods numbered densely so each generated event picks one arithmetically.
    cursor.execute(
        "CREATE TEMP TABLE m AS SELECT id, branch_id, row_number() OVER (ORDER BY id) - 1 AS n FROM members_member"
    )
    cursor.execute(
        "CREATE TEMP TABLE p AS SELECT id, branch_id, year, quarter,"
        " (year - 2025) * 4 + quarter - 1 AS n FROM ledger_period"
    )
    cursor.execute("CREATE INDEX ON m (n)")
    cursor.execute("CREATE INDEX ON p (branch_id, n)")
    cursor.execute("SELECT count(*) FROM m")
    member_count = cursor.fetchone()[0]
    cursor.execute(
        "INSERT INTO ledger_pointevent (branch_id, member_id, period_id, rule_id, kind, points, occurred_on, place,"
        " account, entry_method, entered_by_id, status, decision_reason, decided_at, created_at, updated_at)"
        " SELECT m.branch_id, m.id, p.id, CASE WHEN g %% 10 = 0 THEN %s ELSE %s END,"
        " CASE WHEN g %% 10 = 0 THEN 'deduction' ELSE 'bonus' END,"
        " CASE WHEN g %% 10 = 0 THEN -2 ELSE (g %% 5) + 1 END,"
        " make_date(p.year, p.quarter * 3 - 2, 1 + g %% 28), '', '事由', 'self', %s,"
        " CASE WHEN g %% 7 = 0 THEN 'pending' ELSE 'approved' END, '',"
        " CASE WHEN g %% 7 = 0 THEN NULL ELSE now() END, now(), now()"
        " FROM generate_series(1, %s) g"
        " JOIN m ON m.n = (g::bigint * 7919) %% %s"
        " JOIN p ON p.branch_id = m.branch_id AND p.n = (g / 13) %% 8",
        [deduction_rule, bonus_rule, user, events, member_count],
    )
    cursor.execute(
        "INSERT INTO ledger_memberquartertotal (member_id, period_id, base, bonus, deduction, total)"
        " SELECT member_id, period_id,"
        " coalesce(sum(points) FILTER (WHERE kind = 'base'), 0),"
        " coalesce(sum(points) FILTER (WHERE kind = 'bonus'), 0),"
        " coalesce(sum(points) FILTER (WHERE kind = 'deduction'), 0), sum(points)"
        " FROM ledger_pointevent WHERE status = 'approved' GROUP BY member_id, period_id"
    )
    cursor.execute("ANALYZE")


def timed(fn, repeat: int) -> tuple[float, object]:
    best, result = None, None
    for _i in range(repeat):
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--branches", type=int, default=800)
    parser.add_argument("--members", type=int, default=100, help="members per branch")
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
    from django.db.models.functions import Coalesce

    from branches.models import Organisation
    from ledger.book.selectors import branch_totals, member_totals
    from ledger.models import MemberQuarterTotal
    from members.models import Member

    assert connection.vendor == "postgresql", "run against PostgreSQL (DATABASE_URL)"
    call_command("migrate", verbosity=0)
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM ledger_pointevent")
        if cursor.fetchone()[0] == 0:
            build(cursor, branches=args.branches, members=args.members, events=args.events)
        cursor.execute("SELECT count(*) FROM ledger_pointevent")
        n_events = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM ledger_memberquartertotal")
        n_totals = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('ledger_memberquartertotal'))")
        size_totals = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('ledger_pointevent'))")
        size_events = cursor.fetchone()[0]
    print(
        f"data: {n_events:,} events ({size_events}), {n_totals:,} stored totals ({size_totals}),"
        f" built/checked in {time.perf_counter() - start:.0f}s"
    )

    decimal = DecimalField(max_digits=12, decimal_places=1)
    branches = Organisation.objects.filter(level="branch")
    township = Organisation.objects.filter(level="township").order_by("id").first()
    one_branch = branches.order_by("id").first()

    def stored_branch_totals(qs, year):
        sub = (
            MemberQuarterTotal.objects.filter(period__branch=OuterRef("pk"), period__year=year)
            .values("period__branch")
            .annotate(s=Sum("total"))
            .values("s")
        )
        return qs.annotate(total=Coalesce(Subquery(sub, output_field=decimal), Value(0, output_field=decimal)))

    def stored_member_totals(qs, year):
        sub = (
            MemberQuarterTotal.objects.filter(member=OuterRef("pk"), period__year=year)
            .values("member")
            .annotate(s=Sum("total"))
            .values("s")
        )
        return qs.annotate(total=Coalesce(Subquery(sub, output_field=decimal), Value(0, output_field=decimal)))

    def stored_grouped_branches(year):
        return list(
            MemberQuarterTotal.objects.filter(period__year=year)
            .values("period__branch")
            .annotate(s=Sum("total"))
            .order_by("-s")
        )

    cases = [
        (
            "county branch ranking, year (800 branches)",
            lambda: list(branch_totals(branches, year=2026).order_by("-total").values_list("pk", "total")),
            lambda: list(stored_branch_totals(branches, 2026).order_by("-total").values_list("pk", "total")),
        ),
        (
            "county branch ranking, GROUP BY only",
            None,
            lambda: stored_grouped_branches(2026),
        ),
        (
            "township roll-up, quarter (20 branches)",
            lambda: list(
                branch_totals(branches.filter(parent=township), year=2026, quarter=2).values_list("pk", "total")
            ),
            None,
        ),
        (
            "county top-100 members, year (80,000 members)",
            lambda: list(member_totals(Member.objects.all(), year=2026).order_by("-total")[:100].values_list("pk")),
            lambda: list(stored_member_totals(Member.objects.all(), 2026).order_by("-total")[:100].values_list("pk")),
        ),
        (
            "one branch's member list, quarter + ytd (100 members)",
            lambda: list(member_totals(Member.objects.filter(branch=one_branch), year=2026, quarter=3)),
            lambda: list(stored_member_totals(Member.objects.filter(branch=one_branch), 2026)),
        ),
    ]
    print(f"{'read':<55} {'from events':>12} {'from stored':>12}")
    for label, from_events, from_stored in cases:
        a = f"{timed(from_events, args.repeat)[0] * 1000:,.0f} ms" if from_events else "-"
        b = f"{timed(from_stored, args.repeat)[0] * 1000:,.0f} ms" if from_stored else "-"
        print(f"{label:<55} {a:>12} {b:>12}")


if __name__ == "__main__":
    main()
