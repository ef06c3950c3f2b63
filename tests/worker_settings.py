"""Settings for a real Celery worker started by tests/test_reports_worker.py.

The production settings, with a short visibility timeout (so a killed worker's job is handed out
again within seconds) and, when TEST_RENDER_DELAY is set, a slow render to kill a worker in.
"""

import os

from celery.signals import worker_ready

from config.settings import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("TEST_VISIBILITY_TIMEOUT", "3600")),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("TEST_QUEUE", "celery")


@worker_ready.connect(weak=False)
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
