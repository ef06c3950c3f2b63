"""Evidence photos and generated documents leave the server only through scoped views.

No template or module links a file's storage URL (``.image.url``, ``.file.url`` …): every photo
goes through ``ledger.web.views.evidence_image`` and every document through the reports' download
views. No URL serves ``MEDIA_ROOT``, not even under ``DEBUG``.
"""

import datetime
import importlib
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import clear_url_caches, reverse

from ledger.book import services
from ledger.models import Period
from tests import factories
from tests.screens_helpers import photo_with_gps

ROOT = Path(__file__).resolve().parent.parent
STORAGE_URL = re.compile(r"\.(image|file|pdf_file|zip_file)\.url\b")
SCANNED_SUFFIXES = (".py", ".html", ".txt", ".js")
SKIPPED_PARTS = {".venv", "tests", "locale", "node_modules", "var", ".git", "staticfiles", "migrations"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_no_template_or_module_links_a_stored_file_directly():
    offenders = []
    for path in ROOT.rglob("*"):
        if path.suffix not in SCANNED_SUFFIXES or SKIPPED_PARTS & set(path.relative_to(ROOT).parts):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="ignore").splitlines(), 1):
            if STORAGE_URL.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_scan_would_see_an_image_url():
    assert STORAGE_URL.search('<img src="{{ ev.image.url }}">')
    assert STORAGE_URL.search("format_html('<a href=\"{}\">', obj.image.url)")
    assert not STORAGE_URL.search("reverse('evidence_image', args=[ev.pk])")


@pytest.fixture
def photo(world, frozen_today):
    event = services.claim_record(
        actor=world.secretary,
        member=world.zhang,
        rule=world.rules.help,
        occurred_on=datetime.date(2026, 11, 2),
        account="帮扶",
        evidence=[photo_with_gps()],
    )
    return event.evidence.get()


@pytest.fixture
def debug_urls(settings):
    """The project's URLs as they are built with DEBUG on (where a static(media) route would be)."""
    import config.urls

    settings.DEBUG = True
    importlib.reload(config.urls)
    clear_url_caches()
    yield
    settings.DEBUG = False
    importlib.reload(config.urls)
    clear_url_caches()


def test_media_url_of_a_real_evidence_file_is_not_served(world, photo, debug_urls):
    assert Path(photo.image.path).exists()
    media_url = f"/{settings.MEDIA_URL.strip('/')}/{photo.image.name}"
    admin = factories.user("root", is_staff=True, is_superuser=True)
    for user in (None, world.other_secretary, world.secretary, admin):
        client = client_for(user) if user else Client()
        response = client.get(media_url)
        assert response.status_code == 404, (user, media_url)


def test_the_scoped_view_serves_the_photo_to_its_branch_and_404_to_another(world, photo):
    url = reverse("evidence_image", args=[photo.pk])
    response = client_for(world.secretary).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == Path(photo.image.path).read_bytes()
    assert client_for(world.township_officer).get(url).status_code == 200  # officers above read
    assert client_for(world.member_user).get(url).status_code == 200  # her own entry
    assert client_for(world.other_secretary).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the login page


def test_admin_and_review_page_show_photos_through_the_scoped_view(world, photo):
    scoped_url = reverse("evidence_image", args=[photo.pk])
    client = client_for(world.secretary)
    change = client.get(reverse("admin:ledger_pointevent_change", args=[photo.event_id]))
    assert change.status_code == 200
    body = change.content.decode()
    assert scoped_url in body and settings.MEDIA_URL + "evidence" not in body
    period = Period.objects.get(pk=photo.event.period_id)
    review = client.get(reverse("admin:ledger_period_review", args=[period.pk]))
    assert review.status_code == 200
    body = review.content.decode()
    assert scoped_url in body and settings.MEDIA_URL + "evidence" not in body


def test_stored_file_names_cannot_be_guessed(world, photo):
    """A random folder in every stored path: knowing the branch, entry and file name is not enough."""
    from ledger.book.models import evidence_path
    from reports.models import batch_path, document_path

    name = photo.image.name
    assert re.fullmatch(rf"evidence/{world.branch_a.pk}/{photo.event_id}/[A-Za-z0-9_-]{{16}}/[^/]+\.jpg", name), name
    assert evidence_path(photo, "a.jpg") != evidence_path(photo, "a.jpg")
    document = type("D", (), {"kind": "posting", "pk": 1})()
    assert document_path(document, "a.pdf") != document_path(document, "a.pdf")
    assert batch_path(document, "a.zip") != batch_path(document, "a.zip")
