"""``ledger.spreadsheets.exports.export_request``: validates, records the job, and queues it only after commit."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404

from core.jobs import Job, JobStatus, jobs_sweep
from ledger.models import ExportJob
from ledger.spreadsheets import exports, tasks
from reports.models import Batch, Document

pytestmark = pytest.mark.usefixtures("frozen_today")


@pytest.fixture
def queued(monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.export_job_run, "delay", lambda job_id: sent.append(job_id))
    return sent


def _params(world):
    return {"branch": str(world.branch_a.pk), "year": "2026", "quarter": "4"}


def test_request_records_the_job_and_queues_it_after_commit(world, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        job = exports.export_request(actor=world.secretary, kind="branch_quarter", params=_params(world))
        assert queued == []  # nothing sent while the row is uncommitted
    assert len(callbacks) == 1
    assert (job.status, job.requested_by, job.kind) == (JobStatus.QUEUED, world.secretary, "branch_quarter")
    callbacks[0]()
    assert queued == [job.pk]


def test_request_rolled_back_queues_nothing(world, queued, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        exports.export_request(actor=world.secretary, kind="branch_quarter", params=_params(world))
        raise RuntimeError
    assert callbacks == [] and queued == [] and not ExportJob.objects.exists()


def test_invalid_request_creates_nothing(world, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Http404):
            exports.export_request(actor=world.secretary, kind="nonsense", params={})
        with pytest.raises((ValidationError, Http404)):  # another branch, or no branch at all
            exports.export_request(
                actor=world.secretary,
                kind="branch_quarter",
                params={**_params(world), "branch": str(world.branch_b.pk)},
            )
    assert callbacks == [] and queued == [] and not ExportJob.objects.exists()


def test_broker_failure_is_shown_on_the_job_which_waits_for_the_sweeper(
    world, monkeypatch, django_capture_on_commit_callbacks, queued
):
    """A broker outage delays the job, it does not fail it (it used to be failed)."""

    def down(job_id):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.export_job_run, "delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        job = exports.export_request(actor=world.secretary, kind="branch_quarter", params=_params(world))
    job.refresh_from_db()
    assert "broker unreachable" in job.error
    assert (job.status, job.sent_at, job.sends) == (JobStatus.QUEUED, None, 0)

    monkeypatch.setattr(tasks.export_job_run, "delay", lambda job_id: queued.append(job_id))  # the broker is back
    frozen_later = job.queued_at + datetime.timedelta(minutes=1)
    with time_machine.travel(frozen_later, tick=False):
        assert jobs_sweep() == 1
    job.refresh_from_db()
    assert queued == [job.pk] and job.sends == 1 and job.sent_at is not None


def test_every_long_job_shares_one_status_enum():
    for model in (Document, Batch, ExportJob):
        assert issubclass(model, Job)
        assert model._meta.get_field("status").choices == JobStatus.choices
