"""The demo data command, the settings' strictness, and the name sort keys."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.management import call_command

from branches.models import Organisation, RoleAssignment
from ledger.book.selectors import ledger_verify
from ledger.models import AuditEntry, Period, PointEvent
from members.models import Member
from members.names import initials_key, normalise_name, pinyin_key, stroke_count, stroke_key


@pytest.mark.django_db
def test_seed_demo_builds_the_county_once():
    call_command("seed_demo", password="pw-demo-1")
    counts = (
        Organisation.objects.count(),
        Member.objects.count(),
        PointEvent.objects.count(),
        AuditEntry.objects.count(),
    )
    assert Organisation.objects.filter(level="branch").count() >= 5
    assert Member.objects.filter(branch__code="shancha").count() >= 40
    assert Member.objects.filter(branch__code="xichuan").count() == 42
    assert Member.objects.filter(name="王学恩", branch__code="shancha").exists()
    states = set(Period.objects.values_list("state", flat=True))
    assert {"open", "review", "posted", "final"} <= states
    assert set(PointEvent.objects.values_list("status", flat=True)) == {"pending", "approved", "rejected"}
    assert PointEvent.objects.filter(corrects__isnull=False).exists()
    assert (
        PointEvent.objects.filter(entry_method="on_behalf").exists()
        and PointEvent.objects.filter(entry_method="self").exists()
    )
    for username in ("county", "township", "secretary", "committee", "member", "other_secretary"):
        assert authenticate(username=username, password="pw-demo-1") is not None, username
    assert RoleAssignment.objects.get(user__username="secretary").organisation.code == "shancha"
    assert RoleAssignment.objects.get(user__username="other_secretary").organisation.code != "shancha"
    assert Member.objects.get(user__username="member").branch.code == "shancha"
    assert ledger_verify() == []

    call_command("seed_demo", password="pw-demo-2")
    assert counts == (
        Organisation.objects.count(),
        Member.objects.count(),
        PointEvent.objects.count(),
        AuditEntry.objects.count(),
    )
    assert authenticate(username="secretary", password="pw-demo-2") is not None


def _settings_import(env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "DATABASE_URL", "REDIS_URL")}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    )


def test_secret_key_is_required_when_debug_is_off():
    result = _settings_import({})
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr
    assert _settings_import({"SECRET_KEY": "x"}).returncode == 0
    assert _settings_import({"DEBUG": "1"}).returncode == 0


def test_bad_boolean_fails_loudly():
    result = _settings_import({"SECRET_KEY": "x", "DEBUG": "maybe"})
    assert result.returncode != 0 and "DEBUG must be a boolean" in result.stderr


def test_language_and_time_zone():
    assert settings.LANGUAGE_CODE == "zh-hans" and settings.TIME_ZONE == "Asia/Shanghai"
    assert {code for code, _name in settings.LANGUAGES} == {"zh-hans", "zh-hant", "en"}


def test_name_keys():
    assert normalise_name(" 王\u00a0学恩 ") == "王学恩"
    assert (pinyin_key("王学恩"), initials_key("王学恩")) == ("wangxueen", "wxe")
    assert stroke_count("王") == 4 and stroke_count("丁") == 2 and stroke_count("李") == 7


def test_surname_stroke_order():
    names = ["李秀英", "王学恩", "丁一", "马小红", "王二", "张海燕", "方明"]
    ordered = sorted(names, key=stroke_key)
    # 丁(2) 马(3) then 4 strokes: 王(横 first) before 方(点 first); then 李 张 (7)
    assert ordered[:2] == ["丁一", "马小红"]
    assert ordered.index("王二") < ordered.index("方明") < ordered.index("李秀英")
    assert ordered.index("王二") < ordered.index("王学恩")  # 二 (2) before 学 (8)


def test_pages_speak_simplified_chinese_until_the_user_switches(client):
    response = client.get("/verify/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.headers["Content-Language"] == "zh-hans"
    client.post("/i18n/setlang/", {"language": "en", "next": "/verify/"})
    assert client.get("/verify/", HTTP_ACCEPT_LANGUAGE="zh-CN").headers["Content-Language"] == "en"
