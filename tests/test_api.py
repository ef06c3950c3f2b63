"""The REST API: token auth, scope (404 outside it), claims through the ledger services,
idempotency keys, the error shape, unknown fields, filters, pagination and query counts."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ledger.book import services
from ledger.models import IdempotencyKey, PointEvent
from tests import factories

pytestmark = pytest.mark.usefixtures("frozen_today")


def client_for(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def claim_body(world, **overrides):
    body = {
        "member": world.wang.pk,
        "rule": world.rules.snow.pk,
        "occurred_on": "2026-11-20",
        "account": "11月20日清晨在村口主路铲雪",
    }
    body.update(overrides)
    return body


# --- auth ------------------------------------------------------------------------------------


def test_token_by_username_and_by_member_mobile(world):
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": "secretary", "password": "pw-for-tests-1"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(key=token).user == world.secretary

    response = client.post(
        "/api/v1/auth/token/", {"username": world.zhang.phone, "password": "pw-for-tests-1"}, format="json"
    )
    assert response.status_code == 200
    assert Token.objects.get(key=response.json()["token"]).user == world.member_user


def test_token_refused_with_wrong_password(world):
    response = APIClient().post("/api/v1/auth/token/", {"username": "secretary", "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert "密码不正确" in response.json()["error"]["message"]


def test_anonymous_gets_401_in_error_shape(world):
    response = APIClient().get("/api/v1/events/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_session_auth_works_for_the_browser(world):
    client = APIClient()
    client.force_login(world.secretary)
    assert client.get("/api/v1/members/").status_code == 200


# --- scope -----------------------------------------------------------------------------------


def test_lists_are_scoped(world):
    names = {m["name"] for m in client_for(world.secretary).get("/api/v1/members/").json()["results"]}
    assert names == {"王学恩", "张海燕", "李秀英"}
    names = {m["name"] for m in client_for(world.other_secretary).get("/api/v1/members/").json()["results"]}
    assert names == {"杨长生"}
    own = client_for(world.member_user).get("/api/v1/members/").json()["results"]
    assert [m["name"] for m in own] == ["张海燕"]
    branches = client_for(world.county_officer).get("/api/v1/branches/").json()["results"]
    assert {b["id"] for b in branches} == {world.branch_a.pk, world.branch_b.pk}


def test_another_branchs_objects_are_404(world):
    event = services.claim_record(
        actor=world.other_secretary,
        member=world.yang,
        rule=world.rules.snow,
        occurred_on=datetime.date(2026, 11, 1),
        account="铲雪",
    )
    client = client_for(world.secretary)
    for url in (
        f"/api/v1/members/{world.yang.pk}/",
        f"/api/v1/events/{event.pk}/",
        f"/api/v1/periods/{event.period_id}/",
        f"/api/v1/branches/{world.branch_b.pk}/",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found"
    assert client.patch(f"/api/v1/members/{world.yang.pk}/", {"group": "一组"}, format="json").status_code == 404


def test_private_contact_details_never_returned(world):
    row = client_for(world.secretary).get(f"/api/v1/members/{world.wang.pk}/").json()
    assert "phone" not in row and "id_number" not in row and "address" not in row


# --- claims ----------------------------------------------------------------------------------


def test_secretary_records_a_claim_for_a_member_pending_and_on_behalf(world):
    response = client_for(world.secretary).post("/api/v1/events/", claim_body(world), format="json")
    assert response.status_code == 201, response.json()
    event = PointEvent.objects.get(pk=response.json()["id"])
    assert event.status == "pending" and event.on_behalf and event.entered_by == world.secretary
    assert response.json()["points"] == "1.0"


def test_member_records_own_claim(world):
    response = client_for(world.member_user).post(
        "/api/v1/events/", claim_body(world, member=world.zhang.pk), format="json"
    )
    assert response.status_code == 201
    assert PointEvent.objects.get(pk=response.json()["id"]).entry_method == "self"


def test_member_cannot_claim_for_someone_else(world):
    response = client_for(world.member_user).post("/api/v1/events/", claim_body(world), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["member"]
    assert not PointEvent.objects.exists()


def test_claim_for_another_branchs_member_is_refused(world):
    response = client_for(world.secretary).post(
        "/api/v1/events/", claim_body(world, member=world.yang.pk), format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "管辖范围" in response.json()["error"]["fields"]["member"][0]
    assert not PointEvent.objects.exists()


def test_officer_reads_but_cannot_claim(world):
    response = client_for(world.township_officer).post("/api/v1/events/", claim_body(world), format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not PointEvent.objects.exists()


def test_no_deductions_through_claims(world):
    for user, member in ((world.member_user, world.zhang), (world.secretary, world.wang)):
        response = client_for(user).post(
            "/api/v1/events/", claim_body(world, member=member.pk, rule=world.rules.absent.pk), format="json"
        )
        assert response.status_code == 400
        assert "扣分" in response.json()["error"]["fields"]["rule"][0]
    assert not PointEvent.objects.exists()


def test_service_rules_apply_caps_and_future_dates(world):
    client = client_for(world.secretary)
    response = client.post("/api/v1/events/", claim_body(world, rule=world.rules.clean.pk, points="12"), format="json")
    assert response.status_code == 400
    assert "上限" in response.json()["error"]["message"]
    response = client.post("/api/v1/events/", claim_body(world, occurred_on="2026-12-01"), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["occurred_on"]
    assert not PointEvent.objects.exists()


def test_unknown_fields_are_refused(world):
    response = client_for(world.secretary).post(
        "/api/v1/events/", claim_body(world, status="approved", kind="bonus"), format="json"
    )
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"status", "kind"}
    assert not PointEvent.objects.exists()


def test_wrong_types_are_refused_with_field_messages(world):
    response = client_for(world.secretary).post(
        "/api/v1/events/", claim_body(world, member="abc", occurred_on="yesterday", points="many"), format="json"
    )
    assert response.status_code == 400
    assert {"member", "occurred_on", "points"} <= set(response.json()["error"]["fields"])


# --- idempotency -----------------------------------------------------------------------------


def test_retry_with_same_key_replays_and_records_once(world):
    client = client_for(world.secretary)
    first = client.post("/api/v1/events/", claim_body(world), format="json", HTTP_IDEMPOTENCY_KEY="phone-42")
    again = client.post("/api/v1/events/", claim_body(world), format="json", HTTP_IDEMPOTENCY_KEY="phone-42")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert PointEvent.objects.count() == 1


def test_same_key_with_a_different_body_is_refused(world):
    client = client_for(world.secretary)
    client.post("/api/v1/events/", claim_body(world), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    response = client.post(
        "/api/v1/events/", claim_body(world, member=world.li.pk), format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert PointEvent.objects.count() == 1


def test_keys_belong_to_their_user(world):
    client_for(world.secretary).post("/api/v1/events/", claim_body(world), format="json", HTTP_IDEMPOTENCY_KEY="k")
    response = client_for(world.deputy).post(
        "/api/v1/events/", claim_body(world, member=world.li.pk), format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 201
    assert IdempotencyKey.objects.count() == 2


def test_refused_request_stores_no_key_so_a_corrected_retry_works(world):
    client = client_for(world.secretary)
    bad = client.post("/api/v1/events/", claim_body(world, account=""), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert bad.status_code == 400
    good = client.post("/api/v1/events/", claim_body(world), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert good.status_code == 201


def test_overlong_key_refused(world):
    response = client_for(world.secretary).post(
        "/api/v1/events/", claim_body(world), format="json", HTTP_IDEMPOTENCY_KEY="x" * 101
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_invalid"
    assert not PointEvent.objects.exists()


# --- members ---------------------------------------------------------------------------------


def test_secretary_creates_and_updates_member_through_services(world):
    client = client_for(world.secretary)
    response = client.post(
        "/api/v1/members/",
        {"branch": world.branch_a.pk, "name": " 周 立 波 ", "gender": "male", "phone": "13900000000"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["name"] == "周立波"
    response = client.patch(f"/api/v1/members/{response.json()['id']}/", {"group": "三组"}, format="json")
    assert response.status_code == 200 and response.json()["group"] == "三组"


def test_officer_and_member_cannot_create_members(world):
    body = {"branch": world.branch_a.pk, "name": "周立波", "gender": "male"}
    assert client_for(world.township_officer).post("/api/v1/members/", body, format="json").status_code == 400
    assert client_for(world.member_user).post("/api/v1/members/", body, format="json").status_code == 400


# --- lists -----------------------------------------------------------------------------------


def _claims(world, n):
    members = [factories.member(world.branch_a) for _ in range(n)]
    for m in members:
        services.claim_record(
            actor=world.secretary,
            member=m,
            rule=world.rules.snow,
            occurred_on=datetime.date(2026, 11, 2),
            account="铲雪",
        )


def test_event_filters_by_member_year_quarter_kind_status(world):
    _claims(world, 3)
    services.claim_record(
        actor=world.secretary,
        member=world.wang,
        rule=world.rules.clean,
        occurred_on=datetime.date(2026, 5, 2),
        account="责任区",
    )
    client = client_for(world.secretary)
    assert client.get("/api/v1/events/?year=2026&quarter=4").json()["count"] == 3
    assert client.get("/api/v1/events/?quarter=2").json()["count"] == 1
    assert client.get(f"/api/v1/events/?member={world.wang.pk}").json()["count"] == 1
    assert client.get("/api/v1/events/?kind=bonus&status=pending").json()["count"] == 4
    assert client.get("/api/v1/events/?status=approved").json()["count"] == 0
    bad = client.get("/api/v1/events/?status=nonsense")
    assert bad.status_code == 400 and bad.json()["error"]["fields"]["status"]


def test_periods_carry_totals(world):
    event = services.claim_record(
        actor=world.secretary,
        member=world.wang,
        rule=world.rules.clean,
        occurred_on=datetime.date(2026, 11, 2),
        account="责任区",
    )
    services.event_approve(actor=world.committee, event=event)
    rows = client_for(world.secretary).get("/api/v1/periods/?year=2026&quarter=4").json()["results"]
    assert rows[0]["bonus"] == "10.0" and rows[0]["total"] == "10.0"


@pytest.mark.parametrize("url", ["/api/v1/events/", "/api/v1/members/", "/api/v1/periods/"])
def test_list_query_count_does_not_grow(world, url):
    client = client_for(world.secretary)
    _claims(world, 5)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _claims(world, 30)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small)


def test_pagination(world):
    _claims(world, 3)
    body = client_for(world.secretary).get("/api/v1/events/?page_size=2&page=1").json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    missing = client_for(world.secretary).get("/api/v1/events/?page=99")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_schema_and_docs_pages(world):
    client = APIClient()
    client.force_login(world.secretary)
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    assert "/api/v1/events/" in schema.json()["paths"]
    assert client.get("/api/docs/").status_code == 200


def test_event_list_keyset_pages_without_count(world, django_assert_max_num_queries):
    """?cursor= pages by id, newest first, with no COUNT: each page costs the same at any depth."""
    _claims(world, 3)
    client = client_for(world.secretary)
    first = client.get("/api/v1/events/?cursor=&page_size=2").json()
    assert "count" not in first and len(first["results"]) == 2 and first["next"]
    ids = [row["id"] for row in first["results"]]
    with django_assert_max_num_queries(8):
        second = client.get(first["next"]).json()
    ids += [row["id"] for row in second["results"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids) >= 3
