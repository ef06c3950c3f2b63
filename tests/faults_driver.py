"""The fault suite's driver (``tests/test_faults.py``): a separate process on the suite's own
PostgreSQL and Redis, making requests through the whole Django stack (Django's test ``Client``:
middleware, sessions, cache, ``on_commit`` and the real broker) and reporting what the database
holds. ``python -m tests.faults_driver <command> [args]``; prints one JSON line.
"""

import datetime
import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.worker_settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from core import clock  # noqa: E402
from core.jobs import JobStatus  # noqa: E402
from core.quarters import quarter_of  # noqa: E402

BRANCHES = 4


def _previous_quarter() -> tuple[int, int, datetime.date]:
    today = clock.today()
    quarter = quarter_of(today)
    year, quarter = (today.year, quarter - 1) if quarter > 1 else (today.year - 1, 4)
    return year, quarter, datetime.date(year, 3 * quarter - 1, 10)


def setup(sweep_seconds: str) -> dict:
    """Migrate; a county of BRANCHES branches, each with its last quarter approved and ready to sign;
    the sweeper every ``sweep_seconds`` (the product's schedule says 60)."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from branches.models import RoleAssignment
    from ledger.book import services as ledger
    from ledger.models import Kind, Period, PointEvent
    from tests import factories

    call_command("migrate", verbosity=0)
    every, _ = IntervalSchedule.objects.get_or_create(every=int(sweep_seconds), period="seconds")
    PeriodicTask.objects.filter(task="reports.jobs_resend").update(interval=every)
    PeriodicTask.objects.exclude(task="reports.jobs_resend").update(enabled=False)
    year, quarter, day = _previous_quarter()
    county = factories.county("卢氏县")
    township = factories.township(county, "潘河乡")
    factories.role(factories.user("county", first_name="周立新"), county, RoleAssignment.Role.OFFICER)
    base = factories.rule(county, code="B01", kind=Kind.BASE, points="60", cap_per_year="60", title="年度基础积分")
    clean = factories.rule(county, code="A01", points="10", title="保持绿化卫生责任区干净")
    assert base and clean
    for n in range(BRANCHES):
        branch = factories.branch(township, f"第{n + 1}村党支部")
        secretary = factories.user(f"secretary{n}", first_name="刘振华")
        committee = factories.user(f"committee{n}", first_name="陈桂兰")
        factories.role(secretary, branch, RoleAssignment.Role.SECRETARY)
        factories.role(committee, branch, RoleAssignment.Role.COMMITTEE)
        for name in ("王学恩", "张海燕", "李秀英"):
            factories.member(branch, name)
        ledger.base_points_grant(actor=secretary, branch=branch, year=year, on=datetime.date(year, 3 * quarter - 2, 1))
        period = Period.objects.get(branch=branch, year=year, quarter=quarter)
        for member in branch.members.all():
            ledger.claim_record(actor=secretary, member=member, rule=clean, occurred_on=day, account="打扫责任区")
        for event in PointEvent.objects.filter(period=period, status=PointEvent.Status.PENDING):
            ledger.event_approve(actor=committee, event=event)
    return {"year": year, "quarter": quarter}


def _client(username: str) -> Client:
    from django.contrib.auth import get_user_model

    client = Client(raise_request_exception=False)
    client.force_login(get_user_model().objects.get(username=username))
    return client


def _period(n: int):
    from ledger.models import Period

    year, quarter, _day = _previous_quarter()
    return Period.objects.get(branch__name=f"第{n + 1}村党支部", year=year, quarter=quarter)


def sign(n: str) -> dict:
    """The secretary of branch ``n`` signs its quarter on the review page."""
    period = _period(int(n))
    response = _client(f"secretary{n}").post(reverse("admin:ledger_period_review", args=[period.pk]), {"sign": "1"})
    return {"status": response.status_code}


def claim(n: str) -> dict:
    """The secretary of branch ``n`` enters a claim on the web form (with its one-time token)."""
    import re

    from branches.models import Organisation
    from ledger.models import ScoringRule

    branch = Organisation.objects.get(name=f"第{int(n) + 1}村党支部")
    client = _client(f"secretary{n}")
    url = reverse("claim_create", args=[branch.pk])
    page = client.get(url).content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    data = {
        "member": branch.members.first().pk,
        "rule": ScoringRule.objects.get(code="A01").pk,
        "occurred_on": clock.today().isoformat(),
        "points": "",
        "place": "村委会门口",
        "account": "故障测试：打扫责任区",
        "entry_method": "on_behalf",
        "form_token": token,
    }
    response = client.post(url, data)
    return {"status": response.status_code}


def batch() -> dict:
    from branches.models import Organisation
    from reports import services

    year, quarter, _day = _previous_quarter()
    county = Organisation.objects.get(level=Organisation.Level.COUNTY)
    from django.contrib.auth import get_user_model

    officer = get_user_model().objects.get(username="county")
    made = services.batch_request(actor=officer, organisation=county, kind="posting", year=year, quarter=quarter)
    return {"batch": made.pk}


def burst(count: str) -> dict:
    """Sign every unsigned branch and enter claims, one request after another, recording each
    answer (PostgreSQL is restarted meanwhile: some answer 500 or raise; none may half-happen)."""
    import time

    from ledger.models import Period

    results = []
    for i in range(int(count)):
        time.sleep(0.3)  # a burst spread over the restart, not over before it
        n = i % BRANCHES
        try:
            if i < BRANCHES and _period(n).state == Period.State.OPEN:
                results.append(("sign", n, sign(str(n))["status"]))
            else:
                results.append(("claim", n, claim(str(n))["status"]))
        except Exception as exc:  # the database went away under the request
            results.append(("error", n, exc.__class__.__name__))
            connection.close()
    return {"results": results}


def state() -> dict:
    """What was produced: every document (status, attempts, files on disk), batches, claims."""
    from ledger.models import Period, PointEvent
    from reports.models import Batch, Document

    documents = []
    for d in Document.objects.order_by("pk"):
        folder = settings.MEDIA_ROOT / "documents" / d.kind / str(d.pk)
        files = len(list(folder.iterdir())) if folder.exists() else 0
        documents.append(
            {
                "pk": d.pk,
                "period": d.period_id,
                "status": d.status,
                "attempts": d.attempts,
                "sends": d.sends,
                "files": files,
                "finished_at": d.finished_at.timestamp() if d.finished_at else None,
            }
        )
    return {
        "documents": documents,
        "batches": [
            {"pk": b.pk, "status": b.status, "done": b.done, "total": b.total, "pdf": bool(b.pdf_file)}
            for b in Batch.objects.order_by("pk")
        ],
        "signed": sorted(Period.objects.filter(state__in=Period.FROZEN_STATES).values_list("pk", flat=True)),
        "claims": PointEvent.objects.filter(account="故障测试：打扫责任区").count(),
        "done": JobStatus.DONE,
    }


def verify() -> dict:
    from io import StringIO

    out = StringIO()
    try:
        call_command("verify_ledger", stdout=out, stderr=out)
        return {"ok": True, "output": out.getvalue()}
    except Exception as exc:
        return {"ok": False, "output": out.getvalue() + str(exc)}


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    print(json.dumps(globals()[command](*args), default=str))
