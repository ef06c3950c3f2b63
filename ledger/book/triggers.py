"""Database triggers that keep a signed quarter frozen and the audit trail append-only.

One version per database (PostgreSQL, SQLite). They are installed by migration
``ledger/0002_triggers`` and installed again after every ``migrate``: SQLite rebuilds a table
when a later migration alters it, and a rebuilt table has lost its triggers. Installing is
idempotent on both databases.

What they refuse, whoever asks — a view, the admin, the API or raw SQL:
- inserting, updating or deleting a point event of a signed/posted/final quarter
  (or moving an event into such a quarter);
- changing a frozen quarter's identity, hash chain or signature, moving it back to open/review,
  or deleting it;
- changing the cached totals or evidence of a frozen quarter;
- updating or deleting an audit entry;
- on PostgreSQL, TRUNCATE of the ledger tables and the audit trail (statement triggers: row
  triggers don't see a TRUNCATE). SQLite has no TRUNCATE; its ``DELETE FROM`` is a row delete,
  which the row triggers refuse.

The test suite's flush on PostgreSQL is a TRUNCATE: its harness drops only the TRUNCATE guards
just before a flush (``truncate_guards_uninstall``) and installs everything again at the next
test, as it does with the row triggers on SQLite. Dropping a trigger takes the table's owner,
who could do that anyway; no session setting or flag lets anyone else through.
"""

from django.db.backends.base.base import BaseDatabaseWrapper

FROZEN = "('signed', 'posted', 'final')"

POSTGRES_INSTALL = f"""
CREATE OR REPLACE FUNCTION ledger_period_frozen(pid bigint) RETURNS boolean AS $$
    SELECT EXISTS (SELECT 1 FROM ledger_period WHERE id = pid AND state IN {FROZEN});
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION ledger_pointevent_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND ledger_period_frozen(OLD.period_id) THEN
        RAISE EXCEPTION 'ledger: point event % belongs to a signed quarter and cannot change', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND ledger_period_frozen(NEW.period_id) THEN
        RAISE EXCEPTION 'ledger: quarter % is signed; no event can be added to it', NEW.period_id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION ledger_period_guard() RETURNS trigger AS $$
BEGIN
    IF OLD.state IN {FROZEN} THEN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'ledger: signed quarter % cannot be deleted', OLD.id
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF NEW.state NOT IN {FROZEN}
           OR NEW.branch_id IS DISTINCT FROM OLD.branch_id
           OR NEW.year IS DISTINCT FROM OLD.year
           OR NEW.quarter IS DISTINCT FROM OLD.quarter
           OR NEW.content_hash IS DISTINCT FROM OLD.content_hash
           OR NEW.previous_hash IS DISTINCT FROM OLD.previous_hash
           OR NEW.chain_index IS DISTINCT FROM OLD.chain_index
           OR NEW.signed_at IS DISTINCT FROM OLD.signed_at
           OR NEW.signed_by_id IS DISTINCT FROM OLD.signed_by_id
           OR NEW.hash_version IS DISTINCT FROM OLD.hash_version
           OR NEW.signed_snapshot IS DISTINCT FROM OLD.signed_snapshot THEN
            RAISE EXCEPTION 'ledger: signed quarter % cannot be changed', OLD.id
                USING ERRCODE = 'restrict_violation';
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION ledger_frozen_child_guard() RETURNS trigger AS $$
DECLARE pid bigint;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF TG_TABLE_NAME = 'ledger_evidence' THEN
            SELECT period_id INTO pid FROM ledger_pointevent WHERE id = OLD.event_id;
        ELSE
            pid := OLD.period_id;
        END IF;
        IF ledger_period_frozen(pid) THEN
            RAISE EXCEPTION 'ledger: % row % belongs to a signed quarter', TG_TABLE_NAME, OLD.id
                USING ERRCODE = 'restrict_violation';
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        IF TG_TABLE_NAME = 'ledger_evidence' THEN
            SELECT period_id INTO pid FROM ledger_pointevent WHERE id = NEW.event_id;
        ELSE
            pid := NEW.period_id;
        END IF;
        IF ledger_period_frozen(pid) THEN
            RAISE EXCEPTION 'ledger: % row belongs to a signed quarter', TG_TABLE_NAME
                USING ERRCODE = 'restrict_violation';
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION ledger_audit_guard() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger: audit entries are append-only' USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS ledger_pointevent_guard ON ledger_pointevent;
CREATE TRIGGER ledger_pointevent_guard BEFORE INSERT OR UPDATE OR DELETE ON ledger_pointevent
    FOR EACH ROW EXECUTE FUNCTION ledger_pointevent_guard();
DROP TRIGGER IF EXISTS ledger_period_guard ON ledger_period;
CREATE TRIGGER ledger_period_guard BEFORE UPDATE OR DELETE ON ledger_period
    FOR EACH ROW EXECUTE FUNCTION ledger_period_guard();
DROP TRIGGER IF EXISTS ledger_total_guard ON ledger_memberquartertotal;
CREATE TRIGGER ledger_total_guard BEFORE INSERT OR UPDATE OR DELETE ON ledger_memberquartertotal
    FOR EACH ROW EXECUTE FUNCTION ledger_frozen_child_guard();
DROP TRIGGER IF EXISTS ledger_evidence_guard ON ledger_evidence;
CREATE TRIGGER ledger_evidence_guard BEFORE INSERT OR UPDATE OR DELETE ON ledger_evidence
    FOR EACH ROW EXECUTE FUNCTION ledger_frozen_child_guard();
DROP TRIGGER IF EXISTS ledger_audit_guard ON ledger_auditentry;
CREATE TRIGGER ledger_audit_guard BEFORE UPDATE OR DELETE ON ledger_auditentry
    FOR EACH ROW EXECUTE FUNCTION ledger_audit_guard();
-- The quarter's stored entry counts (migration 0011): frozen with the quarter, like the totals.
DO $$ BEGIN
    IF to_regclass('ledger_quartercount') IS NOT NULL THEN
        DROP TRIGGER IF EXISTS ledger_count_guard ON ledger_quartercount;
        CREATE TRIGGER ledger_count_guard BEFORE INSERT OR UPDATE OR DELETE ON ledger_quartercount
            FOR EACH ROW EXECUTE FUNCTION ledger_frozen_child_guard();
    END IF;
END $$;

CREATE OR REPLACE FUNCTION ledger_truncate_guard() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger: % cannot be truncated', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""

#: Tables no TRUNCATE may empty (PostgreSQL): the book and the audit trail. A TRUNCATE … CASCADE
#: from a table they reference reaches them too, and is refused.
TRUNCATE_GUARDED = (
    "ledger_pointevent",
    "ledger_period",
    "ledger_memberquartertotal",
    "ledger_evidence",
    "ledger_auditentry",
)


def _truncate_trigger(table: str) -> str:
    return f"{table}_no_truncate"


POSTGRES_INSTALL += "".join(
    f"DROP TRIGGER IF EXISTS {_truncate_trigger(t)} ON {t};\n"
    f"CREATE TRIGGER {_truncate_trigger(t)} BEFORE TRUNCATE ON {t}"
    " FOR EACH STATEMENT EXECUTE FUNCTION ledger_truncate_guard();\n"
    for t in TRUNCATE_GUARDED
)

POSTGRES_UNINSTALL_TRUNCATE = "".join(
    f"DROP TRIGGER IF EXISTS {_truncate_trigger(t)} ON {t};\n" for t in TRUNCATE_GUARDED
)

POSTGRES_UNINSTALL = (
    POSTGRES_UNINSTALL_TRUNCATE
    + """
DO $$ BEGIN
    IF to_regclass('ledger_quartercount') IS NOT NULL THEN
        DROP TRIGGER IF EXISTS ledger_count_guard ON ledger_quartercount;
    END IF;
END $$;
DROP TRIGGER IF EXISTS ledger_pointevent_guard ON ledger_pointevent;
DROP TRIGGER IF EXISTS ledger_period_guard ON ledger_period;
DROP TRIGGER IF EXISTS ledger_total_guard ON ledger_memberquartertotal;
DROP TRIGGER IF EXISTS ledger_evidence_guard ON ledger_evidence;
DROP TRIGGER IF EXISTS ledger_audit_guard ON ledger_auditentry;
DROP FUNCTION IF EXISTS ledger_pointevent_guard();
DROP FUNCTION IF EXISTS ledger_period_guard();
DROP FUNCTION IF EXISTS ledger_frozen_child_guard();
DROP FUNCTION IF EXISTS ledger_audit_guard();
DROP FUNCTION IF EXISTS ledger_truncate_guard();
DROP FUNCTION IF EXISTS ledger_period_frozen(bigint);
"""
)


def _sqlite_frozen(period_expr: str) -> str:
    return f"EXISTS (SELECT 1 FROM ledger_period WHERE id = {period_expr} AND state IN {FROZEN})"


_EVIDENCE_PERIOD = "(SELECT period_id FROM ledger_pointevent WHERE id = {row}.event_id)"

SQLITE_TRIGGERS = {
    "ledger_pointevent_no_insert": (
        "BEFORE INSERT ON ledger_pointevent",
        _sqlite_frozen("NEW.period_id"),
        "ledger: quarter is signed; no event can be added to it",
    ),
    "ledger_pointevent_no_update": (
        "BEFORE UPDATE ON ledger_pointevent",
        f"{_sqlite_frozen('OLD.period_id')} OR {_sqlite_frozen('NEW.period_id')}",
        "ledger: point event belongs to a signed quarter and cannot change",
    ),
    "ledger_pointevent_no_delete": (
        "BEFORE DELETE ON ledger_pointevent",
        _sqlite_frozen("OLD.period_id"),
        "ledger: point event belongs to a signed quarter and cannot change",
    ),
    "ledger_period_no_update": (
        "BEFORE UPDATE ON ledger_period",
        f"OLD.state IN {FROZEN} AND (NEW.state NOT IN {FROZEN}"
        " OR NEW.branch_id IS NOT OLD.branch_id OR NEW.year IS NOT OLD.year"
        " OR NEW.quarter IS NOT OLD.quarter OR NEW.content_hash IS NOT OLD.content_hash"
        " OR NEW.previous_hash IS NOT OLD.previous_hash OR NEW.chain_index IS NOT OLD.chain_index"
        " OR NEW.signed_at IS NOT OLD.signed_at OR NEW.signed_by_id IS NOT OLD.signed_by_id"
        "{snapshot})",
        "ledger: signed quarter cannot be changed",
    ),
    "ledger_period_no_delete": (
        "BEFORE DELETE ON ledger_period",
        f"OLD.state IN {FROZEN}",
        "ledger: signed quarter cannot be deleted",
    ),
    "ledger_total_no_insert": (
        "BEFORE INSERT ON ledger_memberquartertotal",
        _sqlite_frozen("NEW.period_id"),
        "ledger: totals of a signed quarter cannot change",
    ),
    "ledger_total_no_update": (
        "BEFORE UPDATE ON ledger_memberquartertotal",
        f"{_sqlite_frozen('OLD.period_id')} OR {_sqlite_frozen('NEW.period_id')}",
        "ledger: totals of a signed quarter cannot change",
    ),
    "ledger_total_no_delete": (
        "BEFORE DELETE ON ledger_memberquartertotal",
        _sqlite_frozen("OLD.period_id"),
        "ledger: totals of a signed quarter cannot change",
    ),
    "ledger_count_no_insert": (
        "BEFORE INSERT ON ledger_quartercount",
        _sqlite_frozen("NEW.period_id"),
        "ledger: entry counts of a signed quarter cannot change",
    ),
    "ledger_count_no_update": (
        "BEFORE UPDATE ON ledger_quartercount",
        f"{_sqlite_frozen('OLD.period_id')} OR {_sqlite_frozen('NEW.period_id')}",
        "ledger: entry counts of a signed quarter cannot change",
    ),
    "ledger_count_no_delete": (
        "BEFORE DELETE ON ledger_quartercount",
        _sqlite_frozen("OLD.period_id"),
        "ledger: entry counts of a signed quarter cannot change",
    ),
    "ledger_evidence_no_insert": (
        "BEFORE INSERT ON ledger_evidence",
        _sqlite_frozen(_EVIDENCE_PERIOD.format(row="NEW")),
        "ledger: evidence of a signed quarter cannot change",
    ),
    "ledger_evidence_no_update": (
        "BEFORE UPDATE ON ledger_evidence",
        f"{_sqlite_frozen(_EVIDENCE_PERIOD.format(row='OLD'))} OR {_sqlite_frozen(_EVIDENCE_PERIOD.format(row='NEW'))}",
        "ledger: evidence of a signed quarter cannot change",
    ),
    "ledger_evidence_no_delete": (
        "BEFORE DELETE ON ledger_evidence",
        _sqlite_frozen(_EVIDENCE_PERIOD.format(row="OLD")),
        "ledger: evidence of a signed quarter cannot change",
    ),
    "ledger_audit_no_update": (
        "BEFORE UPDATE ON ledger_auditentry",
        "1",
        "ledger: audit entries are append-only",
    ),
    "ledger_audit_no_delete": (
        "BEFORE DELETE ON ledger_auditentry",
        "1",
        "ledger: audit entries are append-only",
    ),
}


#: Added by migration 0009; a database migrated only part of the way (the triggers are installed
#: by 0002 and again after every migrate) doesn't have them yet, and SQLite refuses a trigger
#: that names a missing column the next time it rebuilds a table.
_SQLITE_SNAPSHOT_CONDITION = (
    " OR NEW.hash_version IS NOT OLD.hash_version OR NEW.signed_snapshot IS NOT OLD.signed_snapshot"
)


def sqlite_statements(install: bool = True, *, with_snapshot: bool = True, tables: set[str] | None = None) -> list[str]:
    """The SQLite triggers; ``tables``, when given, leaves out those on a table a database migrated
    only part of the way doesn't have yet (they are installed again after every migrate)."""
    statements = []
    for name, (when, condition, message) in SQLITE_TRIGGERS.items():
        condition = condition.replace("{snapshot}", _SQLITE_SNAPSHOT_CONDITION if with_snapshot else "")
        statements.append(f"DROP TRIGGER IF EXISTS {name}")
        if install and (tables is None or when.rsplit(" ", 1)[-1] in tables):
            statements.append(
                f"CREATE TRIGGER {name} {when} FOR EACH ROW WHEN {condition} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
    return statements


def install(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_INSTALL)
        elif connection.vendor == "sqlite":
            columns = {
                column.name for column in connection.introspection.get_table_description(cursor, "ledger_period")
            }
            tables = set(connection.introspection.table_names(cursor))
            for statement in sqlite_statements(install=True, with_snapshot="signed_snapshot" in columns, tables=tables):
                cursor.execute(statement)
        else:  # pragma: no cover - only the two supported databases
            raise NotImplementedError(f"no ledger triggers for {connection.vendor}")


def uninstall(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_UNINSTALL)
        elif connection.vendor == "sqlite":
            for statement in sqlite_statements(install=False):
                cursor.execute(statement)


def truncate_guards_uninstall(connection: BaseDatabaseWrapper) -> None:
    """Drop only the TRUNCATE guards (PostgreSQL), for the test harness's flush; ``install`` puts
    them back. Production code never calls this."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(POSTGRES_UNINSTALL_TRUNCATE)


def installed_names(connection: BaseDatabaseWrapper) -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'ledger_%%'")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {row[0] for row in cursor.fetchall()}


def expected_names(connection: BaseDatabaseWrapper) -> set[str]:
    if connection.vendor == "postgresql":
        return {
            "ledger_pointevent_guard",
            "ledger_period_guard",
            "ledger_total_guard",
            "ledger_evidence_guard",
            "ledger_audit_guard",
            "ledger_count_guard",
            *(_truncate_trigger(t) for t in TRUNCATE_GUARDED),
        }
    return set(SQLITE_TRIGGERS)
