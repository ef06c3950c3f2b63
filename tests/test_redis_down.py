"""With Redis down, web requests degrade instead of answering 500.

The cache and the Celery broker point at a port where nothing listens (the test's own "Redis
down"). The signed-in secretary's claim and signature complete; the posting job waits in the
database (the outbox) and is produced once the broker is back; the public forms refuse with a
clear message (they fail closed); the token endpoint answers 503; ``/healthz`` says 503.
"""

import datetime
import socket

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from config.celery import app
from core.jobs import JobStatus
from ledger.models import Feedback, Period, PointEvent
from reports import services as report_services
from reports.models import Document
from tests.reports_helpers import fill_q3
from tests.screens_helpers import post_form
from tests.test_review_admin import _login, _review_url
from tests.test_screens_views import claim_data, client_for

pytestmark = pytest.mark.usefixtures("frozen_today")


def _dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _reset_celery_connections() -> None:
    app.__dict__.pop("pool", None)
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def redis_down(settings):
    """The cache and the broker on a dead port, as with Redis stopped."""
    url = f"redis://127.0.0.1:{_dead_port()}/0"
    settings.REDIS_URL = url
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    conf = app.conf
    saved = (conf.task_always_eager, conf.broker_url)
    conf.task_always_eager, conf.broker_url = False, url
    _reset_celery_connections()
    state = {"down": True}

    def back():
        conf.task_always_eager, conf.broker_url = saved
        _reset_celery_connections()
        state["down"] = False

    yield back
    if state["down"]:
        back()


def test_a_claim_on_the_web_form_is_saved(world, redis_down):
    client = client_for(world.secretary)
    response = post_form(client, reverse("claim_create", args=[world.branch_a.pk]), claim_data(world))
    assert response.status_code == 302
    assert PointEvent.objects.filter(member=world.wang, account="为村里老人义务理发").count() == 1


def test_the_public_feedback_form_refuses_with_a_message_and_keeps_nothing(world, client, redis_down):
    url = reverse("feedback_create", kwargs={"code": world.branch_a.code})
    response = client.post(url, {"body": "村口路灯坏了"})
    assert response.status_code == 429
    assert "系统繁忙，暂时无法受理" in response.content.decode()
    assert not Feedback.objects.exists()
    lookup = client.get(reverse("feedback_lookup"), {"code": "ABC123"})
    assert lookup.status_code == 429 and "系统繁忙" in lookup.content.decode()


def test_the_public_feedback_form_is_open_to_signed_in_users(world, redis_down):
    url = reverse("feedback_create", kwargs={"code": world.branch_a.code})
    response = client_for(world.secretary).post(url, {"body": "村口路灯坏了"})
    assert response.status_code == 200 and Feedback.objects.count() == 1


def test_the_token_endpoint_answers_503_with_a_message(world, redis_down):
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "secretary", "password": "pw-for-tests-1"}, format="json"
    )
    assert response.status_code == 503
    assert "登录服务暂时不可用" in response.content.decode()


def test_healthz_reports_redis_down(client, redis_down):
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["checks"]["redis"].startswith("error")


def test_signing_succeeds_and_its_posting_is_produced_once_the_broker_is_back(
    world, client, redis_down, django_capture_on_commit_callbacks
):
    period = fill_q3(world)
    with django_capture_on_commit_callbacks(execute=True):
        response = _login(client, world.secretary).post(_review_url(period), {"sign": "1"})
    assert response.status_code == 302
    period.refresh_from_db()
    assert period.state == Period.State.SIGNED
    document = Document.objects.get(period=period)
    assert (document.status, document.sent_at, document.sends) == (JobStatus.QUEUED, None, 0)
    assert "OperationalError" in document.error  # what the user sees: waiting for the queue

    with django_capture_on_commit_callbacks(execute=True):  # asked again, still down: the same one, unsent
        again = report_services.posting_request(actor=world.secretary, period=period)
    assert again.pk == document.pk and Document.objects.get(pk=document.pk).sent_at is None

    redis_down()  # Redis is back; the next sweep sends the job
    with time_machine.travel(document.queued_at + datetime.timedelta(minutes=1), tick=False):
        assert report_services.jobs_resend() == 1
        assert report_services.jobs_resend() == 0  # sent once, not at every sweep
    document.refresh_from_db()
    assert document.status == JobStatus.DONE and document.attempts == 1 and document.sends == 1
    assert Document.objects.filter(period=period).count() == 1
