"""Housekeeping tasks of the kernel, run by beat (CELERY_BEAT_SCHEDULE in settings)."""

from celery import shared_task
from django.core.management import call_command


@shared_task(name="core.sessions_clear", acks_late=True)
def sessions_clear_task() -> None:
    """Nightly: delete expired sessions (Django keeps them in the database until cleared)."""
    call_command("clearsessions")
