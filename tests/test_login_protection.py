"""Login lockout on every sign-in, one proxy-aware client address, API tokens that expire and end
with a password change."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.client import client_address
from tests import factories

PASSWORD = "pw-for-tests-1"
LIMIT = 5


@pytest.fixture(autouse=True)
def _lockout_and_throttle(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    from django.core.cache import cache

    cache.clear()  # the API throttle's counters


def web_login(client, username, password, *, path="/login/", address="10.0.0.1", forwarded=None):
    extra = {"REMOTE_ADDR": address}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(path, {"username": username, "password": password}, **extra)


def api_login(username, password, *, address="10.0.0.1", forwarded=None):
    extra = {"REMOTE_ADDR": address}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json", **extra)


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_the_web_and_admin_logins_lock_after_repeated_failures(path, world, client):
    if path == "/admin/login/":
        world.secretary.is_staff = True
        world.secretary.save()
    statuses = [web_login(client, "secretary", "wrong").status_code for _ in range(LIMIT)]
    assert statuses == [200] * (LIMIT - 1) + [429]  # the failure that reaches the limit locks
    locked = web_login(client, "secretary", PASSWORD)
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lockout_follows_the_user_name_from_any_address(world, client):
    for n in range(LIMIT):
        web_login(client, "secretary", "wrong", address=f"10.0.1.{n}")
    assert web_login(client, "secretary", PASSWORD, address="10.0.2.1").status_code == 429


def test_the_lockout_follows_the_address_across_user_names(world, client):
    for n in range(LIMIT):
        web_login(client, f"nobody{n}", "wrong", address="10.0.3.1")
    assert web_login(client, "secretary", PASSWORD, address="10.0.3.1").status_code == 429
    assert web_login(client, "committee", PASSWORD, address="10.0.3.2").status_code == 302


def test_the_lockout_ends_after_the_cool_off(world, client, settings):
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=30)
    for _ in range(LIMIT):
        web_login(client, "secretary", "wrong")
    import time_machine

    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(minutes=31), tick=False):
        assert web_login(client, "secretary", PASSWORD).status_code == 302


def test_the_api_token_endpoint_locks_too(world):
    assert [api_login("secretary", "wrong").status_code for _ in range(LIMIT)] == [400] * (LIMIT - 1) + [429]
    response = api_login("secretary", PASSWORD)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"
    assert not Token.objects.filter(user=world.secretary).exists()


def test_rotating_x_forwarded_for_does_not_escape_the_lockout_or_the_throttle(world):
    for n in range(LIMIT):
        api_login(f"nobody{n}", "wrong", forwarded=f"192.0.2.{n}")
    assert api_login("committee", PASSWORD, forwarded="192.0.2.200").status_code == 429
    statuses = {api_login("x", "y", forwarded=f"198.51.100.{n}", address="10.9.9.9").status_code for n in range(40)}
    assert 429 in statuses  # 30 a minute from one address, whatever it says it forwards


def test_client_address_trusts_only_the_configured_proxies(rf):
    request = rf.get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5")
    with override_settings(TRUSTED_PROXY_COUNT=0):
        assert client_address(request) == "10.0.0.9"
    with override_settings(TRUSTED_PROXY_COUNT=1):
        assert client_address(request) == "203.0.113.5"
    with override_settings(TRUSTED_PROXY_COUNT=2):
        assert client_address(request) == "6.6.6.6"
    with override_settings(TRUSTED_PROXY_COUNT=3):
        assert client_address(request) == "10.0.0.9"  # fewer hops than proxies: not theirs


def test_behind_one_proxy_the_lockout_keys_on_the_forwarded_client(world, client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(LIMIT):
        web_login(client, f"nobody{_}", "wrong", address="10.0.0.254", forwarded="203.0.113.7")
    assert web_login(client, "secretary", PASSWORD, address="10.0.0.254", forwarded="203.0.113.7").status_code == 429
    assert web_login(client, "committee", PASSWORD, address="10.0.0.254", forwarded="203.0.113.8").status_code == 302


# --- API tokens ---------------------------------------------------------------------------------


def test_api_tokens_expire(world, settings):
    settings.API_TOKEN_TTL_DAYS = 30
    token = api_login("secretary", PASSWORD).json()["token"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/branches/").status_code == 200
    Token.objects.filter(key=token).update(created=Token.objects.get(key=token).created - datetime.timedelta(days=31))
    response = api.get("/api/v1/branches/")
    assert response.status_code == 401
    assert "过期" in response.json()["error"]["message"]
    fresh = api_login("secretary", PASSWORD).json()["token"]
    assert fresh != token


def test_a_password_change_revokes_api_tokens(world):
    token = api_login("secretary", PASSWORD).json()["token"]
    user = get_user_model().objects.get(username="secretary")
    user.set_password("a-new-password-2")
    user.save()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/branches/").status_code == 401
    other = factories.user("someone")
    Token.objects.create(user=other)
    other.first_name = "不改密码"
    other.save()
    assert Token.objects.filter(user=other).exists()
