"""Back up the database and the media files (README "Backup, restore and retention")."""

from pathlib import Path

from django.core.management.base import BaseCommand

from core.backups import backup_create, backups_prune


class Command(BaseCommand):
    help = "Back up the database (pg_dump, or SQLite's backup API) and the media files; prune old backups."

    def add_arguments(self, parser):
        parser.add_argument("--dir", type=Path, default=None, help="where to write (default: BACKUP_DIR)")
        parser.add_argument(
            "--keep-days",
            type=int,
            default=None,
            help="delete backups older than this (default: BACKUP_RETENTION_DAYS)",
        )

    def handle(self, *args, dir=None, keep_days=None, **options):
        backup = backup_create(directory=dir)
        self.stdout.write(f"database: {backup.database}")
        if backup.media:
            self.stdout.write(f"media:    {backup.media}")
        for path in backups_prune(directory=dir or backup.database.parent, keep_days=keep_days):
            self.stdout.write(f"pruned:   {path}")
        self.stdout.write(self.style.SUCCESS("backup complete"))
