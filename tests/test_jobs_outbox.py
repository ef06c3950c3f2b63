"""The jobs' transactional outbox and its sweeper, in one process.

A job row is committed with the change that asks for it and sent after the commit; the sweeper
(``reports.jobs_resend``, every minute) sends again what the broker lost (never sent, or sent
and never started) and what a killed worker left running; a job that kills its worker again
and again is failed. The real broker and worker are in ``test_reports_worker.py`` and
``test_faults.py``.
"""

import datetime
import threading

import pytest
import time_machine
from django.db import connection, connections, transaction

from core import jobs
from core.jobs import JobStatus
from reports import services
from reports.models import Batch, Document
from tests.reports_helpers import fill_q3, sign_and_post

pytestmark = pytest.mark.usefixtures("frozen_today")


@pytest.fixture
def sent(monkeypatch):
    """The broker, recording what it is given instead of running it."""
    calls = []
    monkeypatch.setattr(jobs, "enqueue", lambda name, *args: calls.append((name, *args)))
    return calls


def _later(moment: datetime.datetime, **delta):
    return time_machine.travel(moment + datetime.timedelta(**delta), tick=False)


def _posting(world, django_capture_on_commit_callbacks) -> Document:
    with django_capture_on_commit_callbacks(execute=True):
        period = sign_and_post(world, fill_q3(world))
    return Document.objects.get(period=period)


def test_the_job_row_commits_with_the_signature_and_is_sent_after(world, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        period = sign_and_post(world, fill_q3(world))
        document = Document.objects.get(period=period)
        assert sent == [] and document.sent_at is None  # in the outbox, not yet at the broker
    for callback in callbacks:
        callback()
    document.refresh_from_db()
    assert sent == [("reports.document_render", document.pk)]
    assert document.sends == 1 and document.sent_at is not None and document.deadline > document.sent_at


def test_a_signature_rolled_back_leaves_no_job(world, sent, django_capture_on_commit_callbacks):
    period = fill_q3(world)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        sign_and_post(world, period)
        raise RuntimeError
    assert sent == [] and not Document.objects.exists()


def test_a_killed_workers_job_is_sent_again_after_its_lease_and_produced_once(
    world, sent, django_capture_on_commit_callbacks, monkeypatch
):
    document = _posting(world, django_capture_on_commit_callbacks)
    # The worker took it, marked it running, and was killed (its render transaction rolled back).
    now = document.sent_at
    Document.objects.filter(pk=document.pk).update(
        status=JobStatus.RUNNING, started_at=now, attempts=1, deadline=now + jobs.job_seconds("JOB_LEASE_SECONDS")
    )
    sent.clear()
    with _later(now, seconds=30):
        assert services.jobs_resend() == 0  # still within its lease
    monkeypatch.undo()  # a worker is back: sends run the task (in-process here)
    with _later(now, seconds=61):
        assert services.jobs_resend() == 1
    document.refresh_from_db()
    assert document.status == JobStatus.DONE and document.attempts == 2 and document.sends == 2
    assert Document.objects.filter(period=document.period).count() == 1
    with _later(now, minutes=30):
        assert services.jobs_resend() == 0  # a finished job is never sent again


def test_a_sent_job_the_broker_lost_is_sent_again_after_the_queue_patience(
    world, sent, django_capture_on_commit_callbacks
):
    document = _posting(world, django_capture_on_commit_callbacks)  # sent, never started: Redis restarted
    sent.clear()
    patience = jobs.job_timing("JOB_QUEUE_PATIENCE_SECONDS")
    with _later(document.sent_at, seconds=patience - 5):
        assert services.jobs_resend() == 0
    with _later(document.sent_at, seconds=patience + 5):
        assert services.jobs_resend() == 1
        assert services.jobs_resend() == 0  # the send moved its deadline
    assert sent == [("reports.document_render", document.pk)]


def test_a_job_that_kills_its_worker_again_and_again_is_failed_with_a_message(
    world, sent, django_capture_on_commit_callbacks
):
    document = _posting(world, django_capture_on_commit_callbacks)
    limit = jobs.job_timing("JOB_MAX_ATTEMPTS")
    Document.objects.filter(pk=document.pk).update(
        status=JobStatus.RUNNING, attempts=limit, deadline=document.sent_at + datetime.timedelta(seconds=60)
    )
    sent.clear()
    with _later(document.sent_at, minutes=2):
        assert services.jobs_resend() == 0
    document.refresh_from_db()
    assert document.status == JobStatus.FAILED and "多次中断" in document.error and sent == []


def test_a_batch_whose_last_document_was_resent_completes(world, sent, django_capture_on_commit_callbacks):
    document = _posting(world, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        batch = services.batch_request(
            actor=world.county_officer, organisation=world.county, kind="posting", year=2026, quarter=3
        )
    assert batch.status == JobStatus.RUNNING and batch.total == 1
    # The document is rendered by a run whose batch recount never happened (killed right after).
    Document.objects.filter(pk=document.pk).update(status=JobStatus.DONE, file="x.pdf", sha256="0" * 64)
    sent.clear()
    with _later(document.sent_at, seconds=20), django_capture_on_commit_callbacks(execute=True):
        services.jobs_resend()
    batch.refresh_from_db()
    assert batch.status == JobStatus.QUEUED and batch.done == 1  # gathering, through the outbox
    assert sent == [("reports.batch_combine", batch.pk)]


def test_the_sweeper_runs_every_minute_from_the_beat_schedule(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="reports.jobs_resend")
    assert task.enabled and task.interval.every == 60 and task.interval.period == "seconds"
    assert task.expire_seconds == 50  # sweeps sent while no worker runs are dropped, not piled up


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_a_job_still_rendering_is_not_taken_from_its_live_worker(world, sent):
    """Past its lease but its row locked by a live render: the sweeper leaves it."""
    with transaction.atomic():
        period = sign_and_post(world, fill_q3(world))
    document = Document.objects.get(period=period)
    past = document.requested_at - datetime.timedelta(minutes=5)
    Document.objects.filter(pk=document.pk).update(status=JobStatus.RUNNING, attempts=1, deadline=past)
    locked, release = threading.Event(), threading.Event()

    def live_render():
        try:
            with transaction.atomic():
                Document.objects.select_for_update().get(pk=document.pk)
                locked.set()
                release.wait(20)
        finally:
            connections.close_all()

    thread = threading.Thread(target=live_render)
    thread.start()
    try:
        assert locked.wait(20)
        sent.clear()
        assert services.jobs_resend() == 0 and sent == []
    finally:
        release.set()
        thread.join(20)
    assert services.jobs_resend() == 1  # the render's worker died: now it is sent again
    assert Batch.objects.count() == 0
