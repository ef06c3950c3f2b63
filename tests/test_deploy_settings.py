"""Protection a county's security review expects: `check --deploy` clean with
the compose file's settings, a Content-Security-Policy the pages pass with no inline script,
personal pages not cached, the API docs from our own static files."""

import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.urls import reverse

from tests.test_api import client_for

ROOT = Path(__file__).resolve().parent.parent
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?[-?]([^}]*))?\}")


def compose_environment(overrides: dict[str, str]) -> dict[str, str]:
    """The app containers' environment as docker-compose.yml sets it, ``${VAR:-default}`` resolved
    from ``overrides`` (what an operator puts in .env), else the default."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    environment = compose["x-app"]["environment"]

    def resolve(match):
        name, default = match.group(1), match.group(2) or ""
        return overrides.get(name, default)

    return {key: INTERPOLATION.sub(resolve, str(value)) for key, value in environment.items()}


def run_check_deploy(env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    full = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **env,
        "DATA_DIR": str(tmp_path),  # /data exists only in the container
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_with_the_compose_settings_has_no_warnings(tmp_path):
    env = compose_environment({"SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "ledger.example.cn"})
    assert env["SECURE_HTTPS"] == "1"
    result = run_check_deploy(env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_plain_http_switch_turns_https_off(tmp_path):
    env = compose_environment(
        {"SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "ledger.example.cn", "SECURE_HTTPS": "0"}
    )
    result = run_check_deploy(env, tmp_path)
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stdout + result.stderr


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose not installed")
def test_the_compose_file_is_valid():
    result = subprocess.run(
        ["docker-compose", "config", "-q"],
        cwd=ROOT,
        env={**os.environ, "SECRET_KEY": "x" * 50},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


# --- Content-Security-Policy, no inline script -------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def personal_pages(world):
    branch = world.branch_a.pk
    return {
        world.secretary: [
            reverse("branch_home", args=[branch]),
            reverse("branch_members", args=[branch]),
            reverse("member_account", args=[branch, world.wang.pk]),
            reverse("member_statement", args=[branch, world.wang.pk]),
            reverse("claim_create", args=[branch]),
            reverse("meeting_create", args=[branch]),
        ],
        world.member_user: [reverse("my_account"), reverse("my_statement"), reverse("my_declare")],
    }


def _assert_no_inline_script(response):
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html).group(0)
    assert not INLINE_HANDLER.search(html), INLINE_HANDLER.search(html).group(0)


def test_pages_carry_a_csp_and_no_inline_script(world, client, frozen_today):
    response = client.get(reverse("login"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy
    _assert_no_inline_script(response)
    for user, urls in personal_pages(world).items():
        client.force_login(user)
        for url in filter(None, urls):
            response = client.get(url)
            assert response.status_code == 200, url
            assert "Content-Security-Policy" in response
            _assert_no_inline_script(response)


def test_the_admin_review_page_has_no_inline_script(world, client, frozen_today):
    from core import clock
    from ledger.book.services import period_for

    period = period_for(branch=world.branch_a, day=clock.today(), lock=False)
    world.committee.is_staff = True
    world.committee.save()
    client.force_login(world.committee)
    response = client.get(f"/admin/ledger/period/{period.pk}/review/")
    assert response.status_code == 200
    _assert_no_inline_script(response)
    assert "js/ui.js" in response.content.decode()


# --- personal pages are not cached ---------------------------------------------------------------


def test_personal_pages_are_private_and_not_stored(world, client, frozen_today):
    for user, urls in personal_pages(world).items():
        client.force_login(user)
        for url in filter(None, urls):
            cache_control = client.get(url)["Cache-Control"]
            assert "private" in cache_control and "no-store" in cache_control, url
    client.logout()
    assert "no-store" in client.get("/admin/login/")["Cache-Control"]


# --- API docs without a CDN -----------------------------------------------------------------------


def test_the_api_docs_load_from_our_own_static_files(world):
    api = client_for(world.secretary)
    api.force_login(world.secretary)
    for path in ("/api/docs/", "/api/redoc/"):
        html = api.get(path).content.decode()
        assert "cdn" not in html.lower() and "unpkg" not in html.lower(), path
        assert "drf_spectacular_sidecar" in html, path
        assert not INLINE_SCRIPT.search(html), path
