"""Long work done by a Celery worker (noticeboard documents, batches of them, spreadsheet exports):
one status enum and one abstract job record the UI watches.

A job row is created by a service and its task queued with ``transaction.on_commit``; the task
takes the id, moves the status queued → running → done (or failed, with the error kept for the
user), and is safe to run again.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("生成中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


FINISHED = (JobStatus.DONE, JobStatus.FAILED)


class Job(models.Model):
    """What every long-running job records: its status, who asked and when, how it went."""

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
    default the task runs in-process, as ``delay`` does.
    """
    from celery import current_app

    if task_name not in current_app.tasks:
        current_app.loader.import_default_modules()
    current_app.tasks[task_name].delay(*args)
