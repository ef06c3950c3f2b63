"""Generate a whole county at any size on PostgreSQL, fast: ``manage.py seed_county``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scale_10m SECRET_KEY=x \\
        .venv/bin/python manage.py seed_county --events 10000000

Into an empty, migrated database it writes a county of ``--branches`` branches under
``--townships`` townships, ``--members-per-branch`` members each, ``--years`` years of quarters
(the last one the current quarter, open; the one before in committee review; every earlier one
signed, with a valid hash chain, the older ones final and the latest posted), ``--events``
entries in every state (pending only where a quarter is still open or in review), and the stored
totals (``MemberQuarterTotal``) equal to the approved events. Everything is written with
``INSERT … SELECT generate_series`` in a few statements; the hash chain is computed with the
product's own ``period_content_hash``, one quarter at a time.

During the load the ledger triggers and the foreign-key checks are off (``session_replication_role
= replica`` when the role is a superuser, otherwise the ledger triggers are uninstalled) and the
entry table's secondary indexes are dropped and rebuilt afterwards; the triggers are in force
again when the command ends, whether it succeeded or not. Users: ``county_officer``,
``township_officer_<n>``, ``secretary_<n>`` and ``member_<n>`` (the first member of branch n),
all with the password of ``--password``.
"""

import datetime
import time
from contextlib import contextmanager

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from core import clock
from core.quarters import quarter_of
from ledger.book import triggers
from ledger.book.models import Period
from ledger.book.selectors import period_content_hash

EVENT_TABLE = "ledger_pointevent"
SCRATCH = ("seed_township", "seed_branch", "seed_member", "seed_rule", "seed_quarter", "seed_period", "seed_signed")


class Command(BaseCommand):
    help = "Build a generated county (branches, members, quarters, entries, signed chains, totals) on PostgreSQL."

    def add_arguments(self, parser):
        parser.add_argument("--branches", type=int, default=800)
        parser.add_argument("--townships", type=int, default=20)
        parser.add_argument("--members-per-branch", type=int, default=100)
        parser.add_argument("--years", type=int, default=2)
        parser.add_argument("--events", type=int, default=10_000_000)
        parser.add_argument("--password", default="county-2026")

    def handle(self, *args, branches, townships, members_per_branch, years, events, password, **options):
        if connection.vendor != "postgresql":
            raise CommandError("seed_county needs PostgreSQL (set DATABASE_URL)")
        if branches < 1 or townships < 1 or members_per_branch < 1 or years < 1 or events < 0:
            raise CommandError("sizes must be positive")
        with connection.cursor() as cursor:
            cursor.execute("SELECT EXISTS (SELECT 1 FROM branches_organisation)")
            if cursor.fetchone()[0]:
                raise CommandError("the database already has organisations; give seed_county an empty one")
        self.started = time.perf_counter()
        self._drop_scratch()
        today = clock.today()
        # quarters, oldest first, ending with the current one
        quarters = []
        year, quarter = today.year, quarter_of(today)
        for _i in range(years * 4):
            quarters.append((year, quarter))
            year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
        quarters.reverse()
        self.stdout.write(
            f"county: {branches} branches in {townships} townships, {branches * members_per_branch:,} members,"
            f" {len(quarters)} quarters ({len(quarters) - 2} signed per branch), {events:,} entries"
        )
        with self._bulk_mode() as replica:
            with self._stage("organisations, users and roles"):
                self._organisations(branches, townships, make_password(password))
            with self._stage("members"):
                self._members(members_per_branch)
            with self._stage("rules and quarters"):
                self._rules_and_periods(quarters)
            dropped = self._drop_event_indexes()
            try:
                for index, (year, quarter) in enumerate(quarters):
                    state = (
                        "open" if index == len(quarters) - 1 else "review" if index == len(quarters) - 2 else "signed"
                    )
                    share = events // len(quarters) + (1 if index < events % len(quarters) else 0)
                    with self._stage(f"entries {year}Q{quarter} ({share:,}, {state})"):
                        self._events(index, year, quarter, state, share, today)
            finally:
                with self._stage(f"entry indexes rebuilt ({len(dropped)})"):
                    self._restore_indexes(dropped)
            with self._stage("stored totals"):
                self._totals()
            with self._stage("vacuum analyze"), connection.cursor() as cursor:
                cursor.execute("VACUUM (ANALYZE) ledger_pointevent")
                cursor.execute("VACUUM (ANALYZE) ledger_memberquartertotal")
                cursor.execute("VACUUM (ANALYZE) ledger_quartercount")
                cursor.execute("ANALYZE")
            with self._stage("signed quarters: hash chains"):
                signed = self._sign(quarters)
            if not replica:
                self.stdout.write("(ledger triggers were uninstalled during the load)")
        self._drop_scratch()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM ledger_pointevent")
            n_events = cursor.fetchone()[0]
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            size = cursor.fetchone()[0]
        self.stdout.write(
            self.style.SUCCESS(
                f"county built: {n_events:,} entries, {signed:,} signed quarters, database {size},"
                f" {time.perf_counter() - self.started:.1f}s in all; triggers in force"
            )
        )

    def _drop_scratch(self) -> None:
        with connection.cursor() as cursor:
            for name in SCRATCH:
                cursor.execute(f"DROP TABLE IF EXISTS {name}")

    # --- stages --------------------------------------------------------------------------------

    @contextmanager
    def _stage(self, name: str):
        start = time.perf_counter()
        yield
        self.stdout.write(f"  {name}: {time.perf_counter() - start:.1f}s")
        self.stdout.flush()

    @contextmanager
    def _bulk_mode(self):
        """Triggers and foreign-key checks off for this session while loading; back on after."""
        replica = True
        with connection.cursor() as cursor:
            cursor.execute("SET work_mem = '256MB'")
            try:
                with transaction.atomic():
                    cursor.execute("SET session_replication_role = replica")
            except Exception:  # not a superuser: at least keep the ledger triggers out of the way
                replica = False
                triggers.uninstall(connection)
        try:
            yield replica
        finally:
            with connection.cursor() as cursor:
                if replica:
                    cursor.execute("SET session_replication_role = DEFAULT")
            triggers.install(connection)
            missing = triggers.expected_names(connection) - triggers.installed_names(connection)
            if missing:  # pragma: no cover - install() is idempotent
                raise CommandError(f"ledger triggers missing after the load: {sorted(missing)}")

    def _organisations(self, branches: int, townships: int, password_hash: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO branches_organisation (name, code, level, parent_id, path, posting_window_days)"
                " VALUES ('生成县', 'county', 'county', NULL, '', 7) RETURNING id"
            )
            county = cursor.fetchone()[0]
            cursor.execute("UPDATE branches_organisation SET path = '/' || id || '/' WHERE id = %s", [county])
            cursor.execute(
                "INSERT INTO branches_organisation (name, code, level, parent_id, path, posting_window_days)"
                " SELECT '第' || g || '镇', 't' || g, 'township', %s, '', 7 FROM generate_series(1, %s) g",
                [county, townships],
            )
            cursor.execute(
                "UPDATE branches_organisation SET path = '/' || %s || '/' || id || '/' WHERE level = 'township'",
                [county],
            )
            cursor.execute(
                "CREATE TEMP TABLE seed_township AS SELECT id, row_number() OVER (ORDER BY id) AS n"
                " FROM branches_organisation WHERE level = 'township'"
            )
            cursor.execute(
                "INSERT INTO branches_organisation (name, code, level, parent_id, path, posting_window_days)"
                " SELECT '第' || g || '村党支部', 'b' || g, 'branch', t.id, '', 7 FROM generate_series(1, %s) g"
                " JOIN seed_township t ON t.n = (g - 1) %% %s + 1",
                [branches, townships],
            )
            cursor.execute(
                "UPDATE branches_organisation b SET path = t.path || b.id || '/' FROM branches_organisation t"
                " WHERE b.parent_id = t.id AND b.level = 'branch'"
            )
            cursor.execute(
                "CREATE TEMP TABLE seed_branch AS SELECT id, substr(code, 2)::int AS n, NULL::int AS secretary_id"
                " FROM branches_organisation WHERE level = 'branch'"
            )
            user_columns = (
                "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,"
                " is_staff, is_active, date_joined)"
            )
            cursor.execute(
                f"{user_columns} VALUES (%s, false, 'county_officer', '县委组织部', '', '', true, true, now())"
                " RETURNING id",
                [password_hash],
            )
            officer = cursor.fetchone()[0]
            cursor.execute(
                "INSERT INTO branches_roleassignment (user_id, organisation_id, role, created_at)"
                " VALUES (%s, %s, 'officer', now())",
                [officer, county],
            )
            cursor.execute(
                f"{user_columns} SELECT %s, false, 'township_officer_' || n, '乡镇干部' || n, '', '', true, true, now()"
                " FROM seed_township",
                [password_hash],
            )
            cursor.execute(
                "INSERT INTO branches_roleassignment (user_id, organisation_id, role, created_at)"
                " SELECT u.id, t.id, 'officer', now() FROM seed_township t"
                " JOIN auth_user u ON u.username = 'township_officer_' || t.n"
            )
            cursor.execute(
                f"{user_columns} SELECT %s, false, 'secretary_' || n, '书记' || n, '', '', true, true, now()"
                " FROM seed_branch",
                [password_hash],
            )
            cursor.execute(
                "UPDATE seed_branch b SET secretary_id = u.id FROM auth_user u WHERE u.username = 'secretary_' || b.n"
            )
            cursor.execute(
                "INSERT INTO branches_roleassignment (user_id, organisation_id, role, created_at)"
                " SELECT secretary_id, id, 'secretary', now() FROM seed_branch"
            )
            cursor.execute(
                f"{user_columns} SELECT %s, false, 'member_' || n, '党员', '', '', false, true, now() FROM seed_branch",
                [password_hash],
            )

    def _members(self, per_branch: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO members_member (branch_id, name, name_pinyin, name_initials, name_strokes, gender,"
                ' category, standing, status, "group", phone, id_number, address, created_at, user_id)'
                " SELECT b.id, '党员' || b.n || '-' || g, 'dangyuan' || b.n || '-' || g, 'dy', lpad(g::text, 6, '0'),"
                " CASE WHEN g %% 3 = 0 THEN 'female' ELSE 'male' END, 'rural', 'full', 'active',"
                " (g %% 8 + 1) || '组', '', '', '', now(), CASE WHEN g = 1 THEN u.id END"
                " FROM seed_branch b JOIN auth_user u ON u.username = 'member_' || b.n, generate_series(1, %s) g",
                [per_branch],
            )
            # dense numbering within each branch so an entry picks its member arithmetically
            cursor.execute(
                "CREATE TEMP TABLE seed_member AS SELECT m.id, m.branch_id, b.secretary_id,"
                " row_number() OVER (ORDER BY m.id) - 1 AS n FROM members_member m JOIN seed_branch b"
                " ON b.id = m.branch_id"
            )
            cursor.execute("CREATE UNIQUE INDEX ON seed_member (n)")

    def _rules_and_periods(self, quarters: list[tuple[int, int]]) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM branches_organisation WHERE level = 'county'")
            county = cursor.fetchone()[0]
            cursor.execute(
                "INSERT INTO ledger_scoringrule (organisation_id, code, title, kind, default_points,"
                " cap_per_quarter, cap_per_year, evidence_required, description, is_active) VALUES"
                " (%(c)s, 'J01', '按时参加组织生活', 'base', 5, NULL, NULL, false, '', true),"
                " (%(c)s, 'A01', '志愿服务', 'bonus', 2, NULL, NULL, false, '', true),"
                " (%(c)s, 'A02', '帮扶困难群众', 'bonus', 3, NULL, NULL, false, '', true),"
                " (%(c)s, 'A03', '参与村级事务', 'bonus', 1, NULL, NULL, false, '', true),"
                " (%(c)s, 'C01', '无故缺席组织生活', 'deduction', 2, NULL, NULL, false, '', true)",
                {"c": county},
            )
            cursor.execute("CREATE TEMP TABLE seed_rule AS SELECT id, code, kind FROM ledger_scoringrule")
            cursor.execute(
                "CREATE TEMP TABLE seed_quarter (n int, year int, quarter int)",
            )
            cursor.executemany(
                "INSERT INTO seed_quarter VALUES (%s, %s, %s)",
                [(n, year, quarter) for n, (year, quarter) in enumerate(quarters)],
            )
            last = len(quarters) - 1
            cursor.execute(
                "INSERT INTO ledger_period (branch_id, year, quarter, state, previous_hash, content_hash,"
                " review_started_at, review_started_by_id, hash_version, signed_snapshot)"
                " SELECT b.id, q.year, q.quarter, CASE WHEN q.n = %s THEN 'review' ELSE 'open' END, '', '',"
                " CASE WHEN q.n = %s THEN now() END, CASE WHEN q.n = %s THEN b.secretary_id END,"
                # Generated quarters are chained with hash version 1 (events only, no signed
                # snapshot), as quarters signed before version 2 are: fast to build in bulk.
                " 1, '{}'::jsonb FROM seed_branch b, seed_quarter q",
                [last - 1, last - 1, last - 1],
            )
            cursor.execute(
                "CREATE TEMP TABLE seed_period AS SELECT p.id, p.branch_id, q.n FROM ledger_period p"
                " JOIN seed_quarter q ON q.year = p.year AND q.quarter = p.quarter"
            )
            cursor.execute("CREATE UNIQUE INDEX ON seed_period (branch_id, n)")

    def _drop_event_indexes(self) -> list[str]:
        """The entry table's secondary indexes (not those behind a constraint), dropped for the load."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
                " WHERE i.indrelid = %s::regclass"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                [EVENT_TABLE],
            )
            found = cursor.fetchall()
            for name, _definition in found:
                cursor.execute(f"DROP INDEX {name}")
        return [definition for _name, definition in found]

    def _restore_indexes(self, definitions: list[str]) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            for definition in definitions:
                cursor.execute(definition)

    def _events(self, index: int, year: int, quarter: int, state: str, count: int, today: datetime.date) -> None:
        if not count:
            return
        status = {
            # signed quarters: everything decided
            "signed": "CASE WHEN g %% 15 = 0 THEN 'rejected' ELSE 'approved' END",
            "review": "CASE WHEN g %% 5 = 0 THEN 'pending' WHEN g %% 15 = 1 THEN 'rejected' ELSE 'approved' END",
            "open": "CASE WHEN g %% 2 = 0 THEN 'pending' WHEN g %% 15 = 1 THEN 'rejected' ELSE 'approved' END",
        }[state]
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM seed_member")
            members = cursor.fetchone()[0]
            cursor.execute(
                f"""
                INSERT INTO ledger_pointevent (branch_id, member_id, period_id, rule_id, kind, points,
                    occurred_on, place, account, entry_method, claimed_by_id, entered_by_id, status,
                    decision_reason, decided_by_id, decided_at, created_at, updated_at)
                SELECT e.branch_id, e.member_id, p.id, r.id, r.kind,
                    CASE r.kind WHEN 'deduction' THEN -2 WHEN 'base' THEN 5 ELSE (e.g %% 3) + 1 END,
                    e.day, '', r.code || ' 第' || e.g || '条', e.method, NULL, e.secretary_id, e.status,
                    CASE e.status WHEN 'rejected' THEN '不符合细则' ELSE '' END,
                    CASE WHEN e.status <> 'pending' THEN e.secretary_id END,
                    CASE WHEN e.status <> 'pending' THEN e.day + time '20:00' END, e.day, e.day
                FROM (
                    SELECT g, m.id AS member_id, m.branch_id, m.secretary_id, {status} AS status,
                        CASE WHEN g %% 4 = 0 THEN 'on_behalf' ELSE 'self' END AS method,
                        CASE WHEN g %% 20 = 0 THEN 'C01' WHEN g %% 20 IN (1, 2) THEN 'J01'
                             ELSE 'A0' || (g %% 3 + 1) END AS code,
                        least(make_date(%(year)s, %(quarter)s * 3 - 2, 1) + (g %% 90)::int, %(today)s::date) AS day
                    FROM generate_series(1, %(count)s) g
                    JOIN seed_member m ON m.n = (g::bigint * 7919 + %(index)s * 104729) %% %(members)s
                ) e
                JOIN seed_period p ON p.branch_id = e.branch_id AND p.n = %(index)s
                JOIN seed_rule r ON r.code = e.code
                """,
                {
                    "year": year,
                    "quarter": quarter,
                    "today": today,
                    "count": count,
                    "index": index,
                    "members": members,
                },
            )

    def _totals(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO ledger_memberquartertotal (member_id, period_id, base, bonus, deduction, total)"
                " SELECT member_id, period_id,"
                " coalesce(sum(points) FILTER (WHERE kind = 'base'), 0),"
                " coalesce(sum(points) FILTER (WHERE kind = 'bonus'), 0),"
                " coalesce(sum(points) FILTER (WHERE kind = 'deduction'), 0), sum(points)"
                " FROM ledger_pointevent WHERE status = 'approved' GROUP BY member_id, period_id"
            )
            cursor.execute(
                "INSERT INTO ledger_quartercount (period_id, pending, approved, rejected)"
                " SELECT period_id, count(*) FILTER (WHERE status = 'pending'),"
                " count(*) FILTER (WHERE status = 'approved'), count(*) FILTER (WHERE status = 'rejected')"
                " FROM ledger_pointevent GROUP BY period_id"
            )

    def _sign(self, quarters: list[tuple[int, int]]) -> int:
        """Sign every quarter but the last two, in order, with the product's hash; post the latest."""
        signed_quarters = quarters[:-2]
        if not signed_quarters:
            return 0
        latest = signed_quarters[-1]
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE seed_signed (id bigint PRIMARY KEY, chain_index int, previous_hash text,"
                " content_hash text, state text)"
            )
        rows = []
        count = 0
        periods = (
            Period.objects.filter(year__lte=latest[0])
            .exclude(year=latest[0], quarter__gt=latest[1])
            .order_by("branch_id", "year", "quarter")
            .only("id", "branch_id", "year", "quarter", "hash_version")
        )
        branch_id, previous, index = None, "", 0
        for period in periods.iterator(chunk_size=2000):
            if period.branch_id != branch_id:
                branch_id, previous, index = period.branch_id, "", 0
            index += 1
            content = period_content_hash(period, previous_hash=previous, chain_index=index, version=1)
            state = "posted" if (period.year, period.quarter) == latest else "final"
            rows.append((period.pk, index, previous, content, state))
            previous = content
            count += 1
            if len(rows) >= 5000:
                self._write_signed(rows)
                rows = []
        self._write_signed(rows)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE ledger_period p SET chain_index = s.chain_index, previous_hash = s.previous_hash,"
                " content_hash = s.content_hash, state = s.state, signed_by_id = b.secretary_id,"
                " review_started_by_id = b.secretary_id,"
                " review_started_at = make_date(p.year, p.quarter * 3, 28) + interval '3 days',"
                " signed_at = make_date(p.year, p.quarter * 3, 28) + interval '5 days',"
                " posted_at = make_date(p.year, p.quarter * 3, 28) + interval '5 days',"
                " posting_ends_on = make_date(p.year, p.quarter * 3, 28) + 12,"
                " finalised_at = CASE WHEN s.state = 'final' THEN make_date(p.year, p.quarter * 3, 28)"
                " + interval '13 days' END"
                " FROM seed_signed s, seed_branch b WHERE p.id = s.id AND b.id = p.branch_id"
            )
            cursor.execute("ANALYZE ledger_period")
        return count

    def _write_signed(self, rows: list[tuple]) -> None:
        if not rows:
            return
        with (
            connection.cursor() as cursor,
            cursor.copy("COPY seed_signed (id, chain_index, previous_hash, content_hash, state) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
