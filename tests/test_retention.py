"""Retention: import batches' personal data emptied after a set time, sessions
cleared nightly, feedback kept to the day, no client address in gunicorn's access log."""

import datetime
import re
from pathlib import Path

from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from core import clock
from ledger.review.services import feedback_submit
from ledger.spreadsheets.imports import import_preview
from ledger.spreadsheets.models import ImportBatch
from ledger.spreadsheets.retention import import_batches_purge
from tests.xlsx import xlsx

ROOT = Path(__file__).resolve().parent.parent


def test_import_batches_personal_data_is_emptied_after_the_retention(world, frozen_today, settings):
    settings.IMPORT_BATCH_RETENTION_DAYS = 30
    content = xlsx([["姓名", "性别", "手机号码"], ["赵新", "男", "13800000001"]])
    batch = import_preview(actor=world.secretary, branch=world.branch_a, kind="members", data=content, name="名册.xlsx")
    assert "13800000001" in str(batch.rows)
    assert import_batches_purge() == 0  # fresh: kept
    ImportBatch.objects.filter(pk=batch.pk).update(created_at=clock.now() - datetime.timedelta(days=31))
    assert import_batches_purge() == 1
    batch.refresh_from_db()
    assert batch.rows == [] and batch.problems == []
    assert batch.file_name == "名册.xlsx"  # the record of the import stays
    assert import_batches_purge() == 0


def test_beat_clears_sessions_and_purges_imports_nightly(db):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"core.sessions_clear", "ledger.import_batches_purge"} <= tasks
    from core.tasks import sessions_clear_task

    Session.objects.create(session_key="x" * 32, session_data="e30", expire_date=timezone.now() - datetime.timedelta(1))
    sessions_clear_task()
    assert not Session.objects.filter(session_key="x" * 32).exists()


def test_feedback_is_kept_to_the_day(world, frozen_today):
    feedback = feedback_submit(branch=world.branch_a, body="村道垃圾没人清理", anonymous=True)
    stored = type(feedback).objects.get(pk=feedback.pk).submitted_at
    local = timezone.localtime(stored)
    assert (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)
    assert local.date() == clock.today()


def test_gunicorns_access_log_has_no_client_address():
    for path in ("Dockerfile", "scripts/smoke_production.sh"):
        text = (ROOT / path).read_text()
        formats = re.findall(r"access-logformat[\"',\s]+[\"']([^\n]*?)[\"'](?:\]|\s|$)", text)
        assert formats, path
        for fmt in formats:
            assert "%(h)s" not in fmt and "%({x-forwarded-for}i)s" not in fmt.lower(), fmt
            assert "%(q)s" not in fmt and "%(r)s" not in fmt, fmt  # no query strings either
