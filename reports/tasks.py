"""Celery tasks: thin, take ids, call reports.services. Sent after commit through the outbox
(``core.jobs``); ``jobs_resend`` (every minute) sends again what the broker or a worker lost.

``acks_late`` (with the visibility timeout in settings longer than the longest job) means Redis
hands a dead worker's job out again — after hours; the sweeper sends it again within a couple of
minutes, and the services make a second run a no-op.
"""

from celery import shared_task

from reports import services
from reports.fonts import MissingGlyphs

RETRY = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (Exception,),
    "dont_autoretry_for": (MissingGlyphs,),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 4,
}


@shared_task(name="reports.document_render", **RETRY)
def document_render_task(self, document_id: int) -> int:
    try:
        services.document_render(document_id=document_id)
    except Exception as exc:
        if isinstance(exc, MissingGlyphs) or self.request.retries >= self.max_retries:
            services.document_fail(document_id=document_id)
        raise
    return document_id


@shared_task(name="reports.batch_combine", **RETRY)
def batch_combine_task(self, batch_id: int) -> int:
    services.batch_combine(batch_id=batch_id)
    return batch_id


@shared_task(name="reports.quarter_end_remind", acks_late=True)
def quarter_end_remind_task() -> int:
    return services.quarter_end_remind()


@shared_task(name="reports.posting_windows_close", acks_late=True)
def posting_windows_close_task() -> int:
    return services.posting_windows_close()


@shared_task(name="reports.base_points_new_year", acks_late=True)
def base_points_new_year_task() -> int:
    return services.base_points_new_year()


@shared_task(name="reports.jobs_resend", ignore_result=True)
def jobs_resend_task() -> int:
    return services.jobs_resend()
