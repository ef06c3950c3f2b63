"""Backups of the database and the media files, and restoring them (``manage.py backup`` and
``manage.py restore``; README "Backup, restore and retention").

A backup is two files with one timestamp in ``BACKUP_DIR``: ``db-<stamp>.dump`` (PostgreSQL:
``pg_dump`` custom format; SQLite: a consistent copy made with SQLite's backup API, the file
named ``db-<stamp>.sqlite3``) and ``media-<stamp>.tar.gz`` (evidence photos and documents).
Files are written under a temporary name and renamed when complete; backups older than
``BACKUP_RETENTION_DAYS`` are deleted after a new one succeeds.
"""

import os
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

from core import clock

PREFIXES = ("db-", "media-")


@dataclass(frozen=True)
class Backup:
    database: Path
    media: Path | None


def _pg_env(db: dict) -> dict[str, str]:
    env = {**os.environ}
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[name] = str(db[key])
    return env


def backup_create(*, directory: Path | None = None, stamp: str | None = None) -> Backup:
    directory = Path(directory or settings.BACKUP_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = stamp or clock.now().strftime("%Y%m%d-%H%M%S")
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        target = directory / f"db-{stamp}.dump"
        partial = target.with_name(target.name + ".partial")
        subprocess.run(
            ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}", db["NAME"]],
            env=_pg_env(db),
            check=True,
            capture_output=True,
        )
    else:
        target = directory / f"db-{stamp}.sqlite3"
        partial = target.with_name(target.name + ".partial")
        connection.ensure_connection()
        destination = sqlite3.connect(partial)
        try:
            connection.connection.backup(destination)  # consistent even while others write
        finally:
            destination.close()
    partial.rename(target)
    media = _media_archive(directory, stamp)
    return Backup(database=target, media=media)


def _media_archive(directory: Path, stamp: str) -> Path | None:
    media_root = Path(settings.MEDIA_ROOT)
    target = directory / f"media-{stamp}.tar.gz"
    partial = target.with_name(target.name + ".partial")
    with tarfile.open(partial, "w:gz") as archive:
        if media_root.is_dir():
            archive.add(media_root, arcname="media")
    partial.rename(target)
    return target


def backups_prune(*, directory: Path | None = None, keep_days: int | None = None) -> list[Path]:
    """Delete backups older than ``keep_days`` (by the file's time); returns what was deleted."""
    directory = Path(directory or settings.BACKUP_DIR)
    keep_days = settings.BACKUP_RETENTION_DAYS if keep_days is None else keep_days
    cutoff = clock.now().timestamp() - keep_days * 86400
    removed = []
    for path in sorted(directory.glob("*")):
        if path.name.startswith(PREFIXES) and path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink()
            removed.append(path)
    return removed


def backup_restore(*, database: Path, media: Path | None = None) -> None:
    """Load a backup into the configured database (which should be new and empty) and unpack its
    media files into ``MEDIA_ROOT``."""
    db = connection.settings_dict
    database = Path(database)
    if connection.vendor == "postgresql":
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={db['NAME']}",
                str(database),
            ],
            env=_pg_env(db),
            check=True,
            capture_output=True,
        )
    else:
        connection.close()
        source = sqlite3.connect(database)
        target = sqlite3.connect(db["NAME"])
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
    if media is not None:
        media_root = Path(settings.MEDIA_ROOT)
        media_root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(media) as archive:
            staging = media_root.parent / f".restore-{media_root.name}"
            shutil.rmtree(staging, ignore_errors=True)
            archive.extractall(staging, filter="data")  # no absolute paths, links out or devices
            shutil.copytree(staging / "media", media_root, dirs_exist_ok=True)
            shutil.rmtree(staging, ignore_errors=True)
