"""Backups: back up a ledger with a signed quarter, restore it into a fresh
database, and the restored ledger verifies — on PostgreSQL when the suite runs on it (pg_dump /
pg_restore), else SQLite (its backup API)."""

import datetime
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from core.backups import backups_prune
from ledger.book import services
from ledger.models import Period

ROOT = Path(__file__).resolve().parent.parent
Q3_DAY = datetime.date(2026, 8, 12)


def manage(*args, database_url: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "backup-test-" + "x" * 40,
        "SECURE_HTTPS": "0",
        "DATABASE_URL": database_url,
        "DATA_DIR": str(data_dir),
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def fresh_database(tmp_path):
    """An empty database next to the test database: a new PostgreSQL database, or a SQLite file."""
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    db = connection.settings_dict
    name = f"security_restore_{uuid.uuid4().hex[:8]}"
    pg = {**os.environ, "PGHOST": db.get("HOST") or "", "PGPORT": str(db.get("PORT") or ""), "PGUSER": db["USER"]}
    if db.get("PASSWORD"):
        pg["PGPASSWORD"] = db["PASSWORD"]
    subprocess.run(["createdb", name], env=pg, check=True)
    auth = f"{db['USER']}:{db.get('PASSWORD') or ''}@" if db.get("USER") else ""
    try:
        yield f"postgres://{auth}{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{name}"
    finally:
        subprocess.run(["dropdb", "--if-exists", name], env=pg, check=False)


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_a_fresh_database_and_verifies(world, frozen_today, tmp_path, settings, fresh_database):
    settings.MEDIA_ROOT = tmp_path / "media"
    event = services.claim_record(
        actor=world.secretary, member=world.wang, rule=world.rules.haircut, occurred_on=Q3_DAY, account="义务理发"
    )
    services.event_approve(actor=world.committee, event=event)
    period = services.period_sign(actor=world.secretary, period=Period.objects.get(pk=event.period_id))
    (tmp_path / "media" / "evidence").mkdir(parents=True)
    (tmp_path / "media" / "evidence" / "photo.jpg").write_bytes(b"jpeg bytes")

    call_command("backup", dir=tmp_path / "backups")
    dumps = sorted((tmp_path / "backups").glob("db-*"))
    archives = sorted((tmp_path / "backups").glob("media-*.tar.gz"))
    assert len(dumps) == 1 and len(archives) == 1
    assert not list((tmp_path / "backups").glob("*.partial"))

    restored_dir = tmp_path / "restored"
    restored_dir.mkdir()
    restore = manage(
        "restore",
        str(dumps[0]),
        "--media",
        str(archives[0]),
        "--yes",
        database_url=fresh_database,
        data_dir=restored_dir,
    )
    assert restore.returncode == 0, restore.stderr
    assert (restored_dir / "media" / "evidence" / "photo.jpg").read_bytes() == b"jpeg bytes"

    verify = manage("verify_ledger", database_url=fresh_database, data_dir=restored_dir)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "1 signed quarters" in verify.stdout
    assert period.content_hash


def test_restore_needs_confirmation(tmp_path, db):
    from django.core.management.base import CommandError

    dump = tmp_path / "db-x.sqlite3"
    dump.write_bytes(b"")
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(dump))


def test_old_backups_are_pruned(tmp_path, frozen_today):
    from core import clock

    old = tmp_path / "db-20200101-000000.dump"
    recent = tmp_path / "db-20991231-000000.dump"
    other = tmp_path / "notes.txt"
    for path in (old, recent, other):
        path.write_bytes(b"x")
    now = clock.now().timestamp()
    os.utime(old, (now - 15 * 86400, now - 15 * 86400))
    os.utime(other, (now - 99 * 86400, now - 99 * 86400))
    os.utime(recent, (now - 86400, now - 86400))
    assert backups_prune(directory=tmp_path, keep_days=14) == [old]
    assert recent.exists() and other.exists()
