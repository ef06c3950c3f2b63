"""Celery tasks of the ledger: thin, they take ids, load, call a function and store the result."""

from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile

from core import clock
from core.jobs import JobStatus, job_seconds, job_started
from ledger.spreadsheets.exports import export_build, export_write
from ledger.spreadsheets.models import ExportJob
from ledger.spreadsheets.retention import import_batches_purge


@shared_task(name="ledger.tasks.export_job_run", bind=True, max_retries=2, default_retry_delay=10)
def export_job_run(self, job_id: int) -> None:
    """Build a large export into its ExportJob, updating the progress every few thousand rows.
    Safe to retry: a finished job is left alone, an unfinished one is rebuilt from the start.
    Each progress step renews the job's lease, so the sweeper sends again only a dead build."""
    job = ExportJob.objects.filter(pk=job_id).first()
    if job is None or job.status == JobStatus.DONE:
        return
    ExportJob.objects.filter(pk=job.pk).update(attempts=job.attempts + 1, **job_started())
    user = get_user_model().objects.get(pk=job.requested_by_id)
    try:
        export = export_build(user, job.kind, job.params)
        ExportJob.objects.filter(pk=job.pk).update(rows_total=export.rows_total, rows_done=0, **job_started())

        def progress(done: int) -> None:
            lease = clock.now() + job_seconds("JOB_LEASE_SECONDS")
            ExportJob.objects.filter(pk=job.pk).update(rows_done=done, deadline=lease)

        content = export_write(export, progress=progress, every=2000)
    except Exception as exc:
        ExportJob.objects.filter(pk=job.pk).update(
            status=JobStatus.FAILED, error=str(exc)[:2000], finished_at=clock.now()
        )
        raise
    job.refresh_from_db()
    job.file.save(export.filename, ContentFile(content), save=False)
    job.status = JobStatus.DONE
    job.rows_done = job.rows_total
    job.finished_at = clock.now()
    job.save(update_fields=["file", "status", "rows_done", "finished_at"])


@shared_task(name="ledger.import_batches_purge", acks_late=True)
def import_batches_purge_task() -> int:
    """Nightly (CELERY_BEAT_SCHEDULE): empty the personal data of old import batches."""
    return import_batches_purge()
