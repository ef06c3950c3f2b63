"""Bad input gets a message, never a 500.

Points far beyond the bound, a sign against the rule's kind, dates before the product's first year,
implausible dates of people, images that would take gigabytes to decode: each is refused with the
shared rule's message by every caller, and nothing is written.
"""

import datetime
import io
import struct
import zlib
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from ledger.book import rules, services
from ledger.book.images import evidence_prepare
from ledger.models import Period, PointEvent
from members import services as member_services
from members.models import Member
from tests import factories
from tests.test_api import client_for
from tests.test_rules_equivalence import CALLERS, submit
from tests.xlsx import xlsx

TOO_LARGE = "分值不能超过 1000 分。"
NEGATIVE_BONUS = "加分细则的分值不能是负数；如要扣分，请选择扣分细则。"
TOO_EARLY = "日期不能早于 2020-01-01（本台账启用的年份）。"


@pytest.fixture
def uncapped(world):
    return factories.rule(world.county, code="A09", points="5", title="义务劳动")


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("value", ["1e27", "1E+400", "-9e99999", "1" * 12])
def test_huge_points_are_refused_not_a_500(caller, value, world, client, uncapped, frozen_today):
    assert rules.points_refusal(value).message == TOO_LARGE
    assert submit(caller, world, client, rule=uncapped, points=value) == ("points", TOO_LARGE)
    assert not PointEvent.objects.exists()


@pytest.mark.parametrize("caller", CALLERS)
def test_a_minus_on_a_bonus_is_refused_everywhere(caller, world, client, uncapped, frozen_today):
    assert submit(caller, world, client, rule=uncapped, points="-5") == ("points", NEGATIVE_BONUS)
    assert not PointEvent.objects.exists()


def test_the_sign_must_agree_with_the_kind(world, frozen_today):
    assert rules.points_refusal("-5", kind="bonus").code == "sign"
    assert rules.points_refusal("－5", kind="base").code == "sign"  # full-width minus
    assert rules.points_refusal(-5, kind="bonus").code == "sign"
    assert rules.points_refusal("+5", kind="deduction").code == "sign"
    assert rules.points_refusal("-5", kind="deduction") is None
    assert rules.points_refusal("5", kind="deduction") is None
    assert rules.points_refusal("+5", kind="bonus") is None
    event = services.deduction_add(
        actor=world.secretary,
        member=world.wang,
        rule=world.rules.absent,
        occurred_on=datetime.date(2026, 11, 20),
        reason="无故缺席",
        points="-3",
    )
    assert event.points == Decimal("-3.0")


def test_review_adjust_refuses_huge_points_and_a_wrong_sign(world, frozen_today):
    event = services.claim_record(
        actor=world.secretary,
        member=world.wang,
        rule=world.rules.snow,
        occurred_on=datetime.date(2026, 11, 20),
        account="扫雪",
    )
    for value, code in (("1e27", TOO_LARGE), ("-1", NEGATIVE_BONUS)):
        with pytest.raises(ValidationError) as exc:
            services.event_adjust(actor=world.committee, event=event, points=value, reason="调整")
        assert exc.value.message_dict["points"] == [code]
    event.refresh_from_db()
    assert event.status == PointEvent.Status.PENDING and event.points == Decimal("1.0")


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("day", [datetime.date(1, 1, 1), datetime.date(2019, 12, 31)])
def test_dates_before_the_first_year_are_refused(caller, day, world, client, uncapped, frozen_today):
    assert submit(caller, world, client, rule=uncapped, day=day) == ("occurred_on", TOO_EARLY)
    assert not PointEvent.objects.exists()
    assert not Period.objects.filter(year__lt=2020).exists()


def test_the_first_year_is_a_setting(world, uncapped, frozen_today, settings):
    settings.LEDGER_FIRST_YEAR = 2026
    refusal = rules.entry_date_refusal(datetime.date(2025, 12, 31))
    assert refusal.code == "too_early" and "2026-01-01" in refusal.message
    assert rules.entry_date_refusal(datetime.date(2026, 1, 1)) is None


def test_a_meeting_before_the_first_year_is_refused(world, frozen_today):
    from ledger.meetings.services import meeting_record

    with pytest.raises(ValidationError) as exc:
        meeting_record(
            actor=world.committee,
            branch=world.branch_a,
            type="general",
            held_on=datetime.date(1, 1, 1),
            topic="学习",
            attendance_rule=world.rules.snow,
            absence_rule=None,
            attendance={world.wang.pk: ("present", "")},
        )
    assert exc.value.message_dict["held_on"] == [TOO_EARLY]


# --- people's dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "joined", "field"),
    [
        (datetime.date(1, 1, 1), None, "birth_date"),
        (datetime.date(2027, 1, 1), None, "birth_date"),
        (None, datetime.date(9999, 12, 31), "joined_on"),
        (datetime.date(1990, 6, 1), datetime.date(2008, 5, 31), "joined_on"),
    ],
)
def test_implausible_dates_of_people_are_refused(birth, joined, field, world, frozen_today):
    with pytest.raises(ValidationError) as exc:
        member_services.member_create(
            actor=world.secretary, branch=world.branch_a, name="赵新", gender="male", birth_date=birth, joined_on=joined
        )
    assert field in exc.value.message_dict
    assert not Member.objects.filter(name="赵新").exists()
    with pytest.raises(ValidationError):
        member_services.member_update(actor=world.secretary, member=world.wang, birth_date=birth, joined_on=joined)


def test_plausible_dates_of_people_are_accepted(world, frozen_today):
    member = member_services.member_create(
        actor=world.secretary,
        branch=world.branch_a,
        name="赵新",
        gender="male",
        birth_date=datetime.date(1990, 6, 1),
        joined_on=datetime.date(2008, 6, 1),
    )
    assert member.joined_on == datetime.date(2008, 6, 1)


def test_the_api_refuses_a_join_date_in_the_future(world, frozen_today):
    response = client_for(world.secretary).patch(
        f"/api/v1/members/{world.wang.pk}/", {"joined_on": "9999-12-31"}, format="json"
    )
    assert response.status_code == 400
    assert "joined_on" in response.json()["error"]["fields"]


def test_the_roll_import_refuses_implausible_dates(world, frozen_today):
    from ledger.spreadsheets.imports import import_preview

    content = xlsx(
        [
            ["姓名", "性别", "出生日期", "入党日期"],
            ["赵新", "男", "0001-01-01", ""],
            ["钱多", "男", "1990-01-01", "2000-01-01"],
        ]
    )
    batch = import_preview(actor=world.secretary, branch=world.branch_a, kind="members", data=content, name="名册.xlsx")
    assert {(p["row"], p["column"]) for p in batch.problems if p.get("level") != "skip"} >= {
        (2, "出生日期"),
        (3, "入党日期"),
    }


# --- images -----------------------------------------------------------------------------------


def _png_header_only(width: int, height: int) -> bytes:
    """A small PNG claiming a huge canvas (a decompression bomb's header): compressed zeros."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(200)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def test_an_image_above_the_pixel_budget_is_refused_before_decoding(settings):
    upload = SimpleUploadedFile("bomb.png", _png_header_only(13_300, 13_300), content_type="image/png")
    assert upload.size < 600_000
    with pytest.raises(ValidationError) as exc:
        evidence_prepare(upload)
    assert "像素" in exc.value.message_dict["evidence"][0]


def test_an_ordinary_photo_is_accepted():
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4000, 3000), "white").save(out, format="JPEG")
    content = evidence_prepare(SimpleUploadedFile("p.jpg", out.getvalue(), content_type="image/jpeg"))
    assert content.name == "p.jpg"


# --- the API -------------------------------------------------------------------------------------


def test_json_nested_deeply_is_a_400_not_a_500(world, frozen_today):
    api = client_for(world.secretary)
    for body in ("[" * 100_000 + "]" * 100_000, '{"a":' * 50 + "1" + "}" * 50):
        response = api.post("/api/v1/events/", body, content_type="application/json")
        assert response.status_code == 400, response.content
        assert response.json()["error"]["code"] == "invalid"
    assert not PointEvent.objects.exists()


def test_json_body_above_the_size_limit_is_a_400(world, frozen_today, settings):
    settings.API_MAX_JSON_BYTES = 1000
    body = '{"account": "' + "好" * 1000 + '"}'
    response = client_for(world.secretary).post("/api/v1/events/", body, content_type="application/json")
    assert response.status_code == 400
    assert "太大" in response.json()["error"]["message"]


def test_api_404_answers_json(world):
    response = client_for(world.secretary).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "not_found"
    assert client_for(world.secretary).get("/no-such-page/")["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/events/?member={other}",
        "/api/v1/members/?branch={other_branch}",
        "/api/v1/documents/?member={other}",
        "/api/v1/periods/?branch={other_branch}",
    ],
)
def test_an_unknown_id_answers_like_another_branchs_id(url, world, frozen_today):
    api = client_for(world.secretary)
    other = api.get(url.format(other=world.yang.pk, other_branch=world.branch_b.pk))
    unknown = api.get(url.format(other=987654, other_branch=987654))
    assert other.status_code == unknown.status_code == 200
    assert other.json() == unknown.json() == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize(
    "query",
    [
        "page_size=null",
        "page_size=0",
        "page_size=1.5",
        "year=0.5",
        "quarter=1.5",
        "member=1e3",
        "member=99999999999999999999999",
    ],
)
def test_malformed_list_parameters_are_refused(query, world, frozen_today):
    response = client_for(world.secretary).get(f"/api/v1/events/?{query}")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"]


def test_periods_year_must_be_whole(world):
    assert client_for(world.secretary).get("/api/v1/periods/?year=0.5").status_code == 400
    assert client_for(world.secretary).get("/api/v1/periods/?year=2026").status_code == 200
