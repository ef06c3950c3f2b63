"""Long work done by a Celery worker (noticeboard documents, batches of them, spreadsheet exports):
one status enum, one abstract job record the UI watches, and the outbox that never loses one.

**The outbox.** A service creates the job row (``queued``, not yet sent) in the same transaction
as the change that asks for it — a signature, a request — so the two commit or roll back
together. After the commit ``job_send`` hands the job's id to the broker and records when
(``sent_at``) and by when it should have started (``deadline``). When the broker is down the
send is logged and left undone: the request still succeeds, and the job waits in the database.

**The sweeper.** ``jobs_sweep`` (a beat-driven task, every minute) sends again every job that
- is queued and was never sent (the broker was down, or the process died right after commit);
- is queued, sent, and not started by its deadline (the broker lost the message: Redis restarted);
- is running past its deadline and its row is not locked — its worker was killed (a live
  document render holds its row lock for the whole render, so it is never taken from under it).

A second delivery of the same job is harmless: every task loads the row, leaves a finished job
alone and renders under the row lock, so however often a job is sent, one result is produced.
"""

import datetime
import logging

from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import clock

logger = logging.getLogger(__name__)


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("生成中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


FINISHED = (JobStatus.DONE, JobStatus.FAILED)

#: Defaults of the outbox's timings (seconds); each can be set in settings under the same name.
JOB_TIMINGS = {
    # A queued job the broker has not started by then is sent again (the broker may have lost it).
    "JOB_QUEUE_PATIENCE_SECONDS": 10 * 60,
    # A running job not finished by then, whose row is not locked by a live run, is sent again.
    "JOB_LEASE_SECONDS": 60,
    # A job just committed is sent by its request; the sweeper leaves it that long to do so.
    "JOB_SEND_GRACE_SECONDS": 10,
    # A job whose worker died this many times is failed, not sent again (it kills the worker).
    "JOB_MAX_ATTEMPTS": 5,
}


def job_timing(name: str) -> int:
    return int(getattr(settings, name, JOB_TIMINGS[name]))


def job_seconds(name: str) -> datetime.timedelta:
    return datetime.timedelta(seconds=job_timing(name))


class Job(models.Model):
    """What every long-running job records: its status, who asked and when, how it went."""

    #: The Celery task (called with the job's id) that does the job; set by each concrete model.
    task_name: str = ""

    status = models.CharField(_("状态"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    queued_at = models.DateTimeField(_("排队时间"), default=clock.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    sends = models.PositiveSmallIntegerField(_("发送次数"), default=0)
    deadline = models.DateTimeField(_("期限"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    error = models.TextField(_("错误信息"), blank=True)

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def percent(self) -> int:
        """How far the job is, 0–100; jobs that count their work override this."""
        return 100 if self.status == JobStatus.DONE else 0


def enqueue(task_name: str, *args) -> None:
    """Send a job to the Celery task registered under ``task_name``.

    Services queue their work through this, by name, so they never import the task modules that
    sit above them (tasks are adapters: they load by id and call the service). In the embedded
    default the task runs in-process, as ``delay`` does. Raises when the broker is unreachable;
    jobs go through ``job_send``, which does not.
    """
    from celery import current_app

    if task_name not in current_app.tasks:
        current_app.loader.import_default_modules()
    current_app.tasks[task_name].delay(*args)


def job_send(model: type[Job], pk: int) -> bool:
    """Hand a committed job to the broker; False (logged, kept on the job) when the broker is down.

    Called after the commit (``job_send_on_commit``) and by the sweeper; never raises, so a
    request that queued a job succeeds whatever the broker does.
    """
    try:
        enqueue(model.task_name, pk)
    except Exception as exc:
        logger.warning("job %s %s not sent (the sweeper sends it later): %r", model.__name__, pk, exc)
        message = gettext("任务队列暂时不可用，稍后会自动重试：%(error)s") % {
            "error": f"{exc.__class__.__name__}: {exc}"
        }
        model._default_manager.filter(pk=pk, status=JobStatus.QUEUED).update(error=message[:2000])
        return False
    now = clock.now()
    model._default_manager.filter(pk=pk).update(
        sent_at=now,
        sends=F("sends") + 1,
        # Only a job still waiting gets a start-by deadline; a running one has its own lease.
        deadline=Case(
            When(status=JobStatus.QUEUED, then=Value(now + job_seconds("JOB_QUEUE_PATIENCE_SECONDS"))),
            default=F("deadline"),
        ),
    )
    return True


def job_send_on_commit(model: type[Job], pk: int) -> None:
    """Send the job once the transaction that created it commits (nothing if it rolls back)."""
    transaction.on_commit(lambda: job_send(model, pk))


def job_started(*, lease: datetime.timedelta | None = None) -> dict:
    """The fields a task sets when it starts a job: running, with a lease the sweeper watches."""
    now = clock.now()
    return {
        "status": JobStatus.RUNNING,
        "started_at": now,
        "deadline": now + (lease or job_seconds("JOB_LEASE_SECONDS")),
        "error": "",
    }


def job_models() -> list[type[Job]]:
    return [m for m in apps.get_models() if issubclass(m, Job) and m.task_name]


def jobs_sweep() -> int:
    """Send again every job the broker or a worker lost (see the module's docstring); how many.

    Each sweep claims the jobs it sends under ``SKIP LOCKED`` and moves their deadline, so two
    sweeps at once never send the same job twice, and a job whose row a live run holds is skipped.
    """
    now = clock.now()
    sent = 0
    for model in job_models():
        manager = model._default_manager
        overdue = Q(
            status=JobStatus.QUEUED, sent_at__isnull=True, queued_at__lte=now - job_seconds("JOB_SEND_GRACE_SECONDS")
        )
        overdue |= Q(status__in=(JobStatus.QUEUED, JobStatus.RUNNING), deadline__lte=now)
        with transaction.atomic():
            rows = list(
                manager.select_for_update(skip_locked=True)
                .filter(overdue)
                .order_by("pk")
                .values_list("pk", "status", "attempts")[:500]
            )
            given_up = [
                pk
                for pk, status, attempts in rows
                if status == JobStatus.RUNNING and attempts >= job_timing("JOB_MAX_ATTEMPTS")
            ]
            if given_up:
                manager.filter(pk__in=given_up).update(
                    status=JobStatus.FAILED,
                    finished_at=now,
                    error=gettext("任务多次中断（%(n)d 次），已停止重试，请联系管理员。")
                    % {"n": job_timing("JOB_MAX_ATTEMPTS")},
                )
                logger.error(
                    "jobs %s %s failed: their worker stopped %d times",
                    model.__name__,
                    given_up,
                    job_timing("JOB_MAX_ATTEMPTS"),
                )
            again = [pk for pk, _status, _attempts in rows if pk not in given_up]
            # Back to the queue; the deadline moves so the next sweep waits for this send.
            manager.filter(pk__in=again).update(
                status=JobStatus.QUEUED, queued_at=now, deadline=now + job_seconds("JOB_QUEUE_PATIENCE_SECONDS")
            )
        for pk in again:
            logger.warning("job %s %s sent again by the sweeper", model.__name__, pk)
            sent += job_send(model, pk)
    return sent
