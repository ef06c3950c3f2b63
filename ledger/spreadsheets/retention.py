"""Retention of imports' personal data (README "Backup, restore and retention"); run nightly by beat."""

import datetime

from django.conf import settings

from core import clock
from ledger.spreadsheets.models import ImportBatch


def import_batches_purge(*, older_than_days: int | None = None) -> int:
    """Retention: the rows and messages of imports (names, phone numbers, birth dates) are kept
    ``IMPORT_BATCH_RETENTION_DAYS`` after upload, then emptied; the batch's record (who, when,
    which file, how many rows) stays. Returns how many batches were emptied."""
    days = settings.IMPORT_BATCH_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = clock.now() - datetime.timedelta(days=days)
    stale = ImportBatch.objects.filter(created_at__lt=cutoff).exclude(rows=[], problems=[])
    return stale.update(rows=[], problems=[])
