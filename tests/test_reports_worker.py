"""Jobs through a real Redis and a real Celery worker (started here), not only eager mode.

Needs REDIS_URL and PostgreSQL (the worker is a separate process and must see the test
database); skipped otherwise. `.ci/run` runs them against PostgreSQL and Redis.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app
from core.jobs import JobStatus
from reports.models import Document
from tests.reports_helpers import fill_q3, pdf_text, sign_and_post

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("frozen_today")]


@pytest.fixture
def queue(settings, tmp_path):
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.skip("needs REDIS_URL and PostgreSQL")
    settings.MEDIA_ROOT = tmp_path  # the workers get the same folder
    name = f"test-{uuid.uuid4().hex[:8]}"
    conf = app.conf
    saved = (conf.task_always_eager, conf.task_default_queue, conf.task_routes)
    conf.task_always_eager = False
    conf.task_default_queue = name
    conf.task_routes = {"reports.*": {"queue": name}}
    _forget_routes()
    # Declared before anything is sent: Redis drops a message sent to a queue nobody bound yet.
    from kombu import Exchange, Queue

    with app.connection_for_write() as conn:
        Queue(name, Exchange(name), routing_key=name)(conn).declare()
    yield name
    conf.task_always_eager, conf.task_default_queue, conf.task_routes = saved
    _forget_routes()
    with app.connection_for_write() as conn, contextlib.suppress(Exception):
        conn.default_channel.queue_purge(name)


def _forget_routes() -> None:
    """Celery caches its router and queues on first use; make it read the new routes."""
    amqp = app.amqp
    amqp._rtable = None
    for cached in ("router", "queues", "default_queue"):
        amqp.__dict__.pop(cached, None)


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker(queue: str, log_name: str, **extra_env) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
        "SECRET_KEY": "worker-test",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "TEST_QUEUE": queue,
        **extra_env,
    }
    log_dir = settings.BASE_DIR / "test-artifacts"
    log_dir.mkdir(exist_ok=True)
    log = open(log_dir / f"worker-{log_name}.log", "w")  # noqa: SIM115  (closed with the process)
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo", "-Q", queue,
         "-n", f"{queue}-{log_name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"],
        cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    ready = _wait_for(lambda: "ready." in (log_dir / f"worker-{log_name}.log").read_text(errors="replace"), 60)
    assert ready, f"worker {log_name} did not start"
    return process


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for(predicate, timeout: float = 90) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def test_round_trip_through_redis_and_a_real_worker(world, queue):
    worker = _start_worker(queue, "round-trip")
    try:
        period = sign_and_post(world, fill_q3(world))  # the job is sent to Redis when this commits
        document = Document.objects.get(period=period)
        assert _wait_for(lambda: Document.objects.get(pk=document.pk).status == JobStatus.DONE)
        document.refresh_from_db()
        assert document.attempts == 1
        assert "王学恩" in pdf_text(document.file.open("rb").read())
    finally:
        _stop(worker)


def test_a_killed_workers_job_is_picked_up_again_and_yields_one_document(world, queue):
    slow = _start_worker(queue, "killed", TEST_RENDER_DELAY="30", TEST_VISIBILITY_TIMEOUT="4")
    rescuer = None
    try:
        period = sign_and_post(world, fill_q3(world))
        document = Document.objects.get(period=period)
        assert _wait_for(lambda: Document.objects.get(pk=document.pk).status == JobStatus.RUNNING)
        time.sleep(1)  # inside the render, holding the row lock
        slow.send_signal(signal.SIGKILL)
        slow.wait()
        rescuer = _start_worker(queue, "rescuer", TEST_VISIBILITY_TIMEOUT="4")
        assert _wait_for(lambda: Document.objects.get(pk=document.pk).status == JobStatus.DONE, timeout=120)
        document.refresh_from_db()
        assert document.attempts == 2
        assert Document.objects.filter(period=period).count() == 1
        folder = settings.MEDIA_ROOT / "documents" / "posting" / str(document.pk)
        assert len(list(folder.iterdir())) == 1
    finally:
        _stop(slow)
        if rescuer is not None:
            _stop(rescuer)
