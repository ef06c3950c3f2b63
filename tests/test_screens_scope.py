"""Every URL of the project, walked as people who must not see branch A: the secretary of
another branch, a member, and an anonymous visitor. A new view is walked automatically; a view
meant to be public has to be named in PUBLIC below, on purpose."""

import datetime

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from ledger.book import services
from ledger.meetings.services import meeting_record
from ledger.models import Meeting

# Intentionally public pages (by URL name) and route prefixes that have their own access rules.
PUBLIC_NAMES = {
    "login",
    "logout",
    "set_language",
    "livez",
    "healthz",
    "public_branch",
    "public_period",
    "verify",
    "feedback_create",
    "feedback_lookup",
    "public_period_pdf",
    "verify_code",
    # the same blank spreadsheet template for everyone (its example row is the articles' 王学恩)
    "excel:import-template",
}
SEPARATELY_TESTED_PREFIXES = ("admin/", "api/", "i18n/", "static/", "media/")
# URL arguments that name a kind of file rather than an object: such pages are checked for
# leaked branch A data like pages without arguments.
NOT_OBJECTS = {"excel:export-download:kind"}
# Words only branch A's private data contains (other members' names, the branch name).
BRANCH_A_MARKERS = ("王学恩", "李秀英", "山岔村")


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), (namespace + entry.name) if entry.name else None, entry


def private_patterns():
    for route, name, entry in _walk(get_resolver()):
        if route.startswith(SEPARATELY_TESTED_PREFIXES) or name in PUBLIC_NAMES:
            continue
        yield route, name, entry


@pytest.fixture
def branch_a_objects(world, frozen_today):
    event = services.claim_record(
        actor=world.secretary,
        member=world.wang,
        rule=world.rules.help,
        occurred_on=datetime.date(2026, 11, 2),
        account="帮扶王学恩家",
        evidence=[_photo()],
    )
    meeting = meeting_record(
        actor=world.secretary,
        branch=world.branch_a,
        type=Meeting.Type.GENERAL,
        held_on=datetime.date(2026, 11, 5),
        topic="山岔村学习会",
        attendance_rule=world.rules.snow,
        absence_rule=world.rules.absent,
        attendance={world.wang.pk: ("present", ""), world.li.pk: ("absent", "")},
    )
    from reports import services as report_services

    statement = report_services.statement_request(actor=world.secretary, member=world.wang, year=2026)
    batch = report_services.batch_request(
        actor=world.township_officer, organisation=world.township_a, kind="annual", year=2026
    )
    from ledger.models import ExportJob, ImportBatch

    upload = ImportBatch.objects.create(
        kind="members",
        branch=world.branch_a,
        created_by=world.secretary,
        file_name="山岔村名册.xlsx",
        file_hash="0" * 64,
    )
    export = ExportJob.objects.create(
        kind="branch-quarter", params={"branch": world.branch_a.pk}, requested_by=world.secretary
    )
    return {
        # samples for one URL name win over the generic ones
        "excel:import-preview:pk": upload.pk,
        "excel:export-job:pk": export.pk,
        "excel:export-job-file:pk": export.pk,
        "excel:export-download:kind": "branch-quarter",
        "reports:document:pk": statement.pk,
        "reports:document_download:pk": statement.pk,
        "reports:batch:pk": batch.pk,
        "reports:batch_download:pk": batch.pk,
        "reports:batch_download:what": "pdf",
        "branch_id": world.branch_a.pk,
        "member_id": world.wang.pk,
        "meeting_id": meeting.pk,
        "event_id": event.pk,
        "evidence_id": event.evidence.get().pk,
        "period_id": event.period_id,
        "rule_id": world.rules.help.pk,
    }


def _photo():
    from tests.screens_helpers import photo_with_gps

    return photo_with_gps(size=(64, 48))


def _text(response) -> str:
    """What a person could read in the response: an HTML page, or the cells of a spreadsheet."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Type", "").startswith("application/vnd.openxmlformats"):
        import io
        import zipfile

        with zipfile.ZipFile(io.BytesIO(content)) as book:
            return "".join(book.read(n).decode("utf-8") for n in book.namelist() if n.endswith(".xml"))
    return content.decode("utf-8", errors="replace")


def _url(name, entry, samples):
    kwargs = {}
    for key in entry.pattern.converters:
        specific = f"{name}:{key}"
        assert specific in samples or key in samples, (
            f"URL {name!r} takes {key!r}: add a branch A sample for it to this test"
        )
        kwargs[key] = samples.get(specific, samples.get(key))
    has_object = any(f"{name}:{key}" not in NOT_OBJECTS for key in kwargs)
    return reverse(name, kwargs=kwargs), has_object


def test_walker_covers_the_screens():
    names = {name for _route, name, _entry in private_patterns()}
    assert {"home", "branch_home", "claim_create", "meeting_create", "my_account", "evidence_image"} <= names
    assert all(name for name in names), "every private URL needs a name so it can be walked"


@pytest.mark.parametrize("who", ["other_secretary", "member_user"])
def test_no_url_shows_branch_a_to_others(world, branch_a_objects, who):
    client = Client()
    client.force_login(getattr(world, who))
    checked = 0
    for _route, name, entry in private_patterns():
        url, has_object = _url(name, entry, branch_a_objects)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            where = f"{method.upper()} {url} ({name}) as {who}"
            assert response.status_code != 500, where
            if has_object:
                assert response.status_code in (404, 405), f"{where}: {response.status_code}"
            elif response.status_code == 200:
                body = _text(response)
                markers = BRANCH_A_MARKERS if who == "other_secretary" else BRANCH_A_MARKERS[:2]
                leaked = [m for m in markers if m in body]
                assert not leaked, f"{where} shows {leaked}"
            checked += 1
    assert checked >= 30


def test_no_url_answers_anonymous_visitors(world, branch_a_objects):
    client = Client()
    for _route, name, entry in private_patterns():
        url, _has_object = _url(name, entry, branch_a_objects)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            where = f"{method.upper()} {url} ({name})"
            assert response.status_code in (302, 404, 405), f"{where}: {response.status_code}"
            if response.status_code == 302:
                assert response.url.startswith(reverse("login")), where


def test_form_choices_of_another_branch_are_refused(world, frozen_today):
    """A member of branch B posted into branch A's claim form is not a valid choice."""
    client = Client()
    client.force_login(world.secretary)
    from tests.screens_helpers import post_form

    response = post_form(
        client,
        reverse("group_activity_create", args=[world.branch_a.pk]),
        {"rule": world.rules.snow.pk, "occurred_on": "2026-11-20", "account": "扫雪", "members": [world.yang.pk]},
    )
    assert "members" in response.context["form"].errors
    assert "杨长生" not in response.content.decode()
