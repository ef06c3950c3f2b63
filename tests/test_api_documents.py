"""Noticeboard documents in the API: read only, scoped, with download and public links."""

import datetime

from rest_framework.test import APIClient

from ledger.book import services
from ledger.models import Period
from reports.models import Document


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_documents_are_listed_with_links_and_scoped(world, frozen_today, django_capture_on_commit_callbacks):
    event = services.claim_record(
        actor=world.secretary,
        member=world.wang,
        rule=world.rules.haircut,
        occurred_on=datetime.date(2026, 8, 3),
        account="理发",
    )
    services.event_approve(actor=world.committee, event=event)
    with django_capture_on_commit_callbacks(execute=True):
        period = services.period_sign(actor=world.secretary, period=Period.objects.get(pk=event.period_id))
    services.period_post(actor=world.committee, period=period)
    document = Document.objects.get(period=period, kind="posting")
    assert document.status == "done"

    listing = client_for(world.secretary).get("/api/v1/documents/", {"kind": "posting"})
    assert listing.status_code == 200
    row = listing.json()["results"][0]
    assert row["id"] == document.pk and row["sha256"] == document.sha256
    assert row["download_url"].endswith(f"/reports/documents/{document.pk}/download/")
    assert period.content_hash in row["public_url"]

    assert client_for(world.other_secretary).get(f"/api/v1/documents/{document.pk}/").status_code == 404
    assert client_for(world.other_secretary).get("/api/v1/documents/").json()["results"] == []
    assert client_for(world.county_officer).get(f"/api/v1/documents/{document.pk}/").status_code == 200
    assert APIClient().get("/api/v1/documents/").status_code == 401
    assert client_for(world.secretary).post("/api/v1/documents/", {}).status_code == 405
