"""Restore a backup made by ``manage.py backup`` into the configured (new, empty) database."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.backups import backup_restore


class Command(BaseCommand):
    help = "Restore a database backup (and optionally the media archive) into the configured database."

    def add_arguments(self, parser):
        parser.add_argument("database", type=Path, help="db-<stamp>.dump (PostgreSQL) or db-<stamp>.sqlite3")
        parser.add_argument("--media", type=Path, default=None, help="media-<stamp>.tar.gz to unpack into MEDIA_ROOT")
        parser.add_argument("--yes", action="store_true", help="confirm: the configured database is overwritten")

    def handle(self, *args, database, media=None, yes=False, **options):
        if not yes:
            raise CommandError("restore overwrites the configured database: run again with --yes")
        for path in (database, media):
            if path is not None and not path.is_file():
                raise CommandError(f"no such file: {path}")
        backup_restore(database=database, media=media)
        self.stdout.write(self.style.SUCCESS(f"restored {database}" + (f" and {media}" if media else "")))
        self.stdout.write("next: manage.py migrate (if the code is newer), then manage.py verify_ledger")
