"""Celery application. Tasks run eagerly in-process when no REDIS_URL is configured."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The ledger keeps its tasks in its rooms (``ledger/<room>/tasks.py``), not in ``ledger/tasks.py``.
app.autodiscover_tasks(["ledger.spreadsheets"])
