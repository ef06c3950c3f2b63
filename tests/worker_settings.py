"""Settings for a real Celery worker started by tests/test_reports_worker.py.

The production settings, with a short visibility timeout (so a killed worker's job is handed out
again within seconds) and, when TEST_RENDER_DELAY is set, a slow render to kill a worker in.
"""

import os

from celery.signals import worker_process_init, worker_ready

from config.settings import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("TEST_VISIBILITY_TIMEOUT", "3600")),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("TEST_QUEUE", "celery")


@worker_process_init.connect(weak=False)  # prefork pool children (the fault suite)
@worker_ready.connect(weak=False)  # solo pool
def _slow_render(**kwargs):
    delay = float(os.environ.get("TEST_RENDER_DELAY", "0"))
    if not delay:
        return
    import time

    from reports import services

    real = services.pdf_render

    def slow(html):
        time.sleep(delay)
        return real(html)

    services.pdf_render = slow


# The outbox's timings, shortened by the fault suite (tests/test_faults.py); core.jobs has the defaults.
for _name in ("JOB_LEASE_SECONDS", "JOB_QUEUE_PATIENCE_SECONDS", "JOB_SEND_GRACE_SECONDS"):
    if os.environ.get(_name):
        globals()[_name] = int(os.environ[_name])
if os.environ.get("TEST_ALLOWED_HOSTS"):
    # The fault suite's driver renders pages in-process, without collectstatic.
    ALLOWED_HOSTS = os.environ["TEST_ALLOWED_HOSTS"].split(",")
    STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
