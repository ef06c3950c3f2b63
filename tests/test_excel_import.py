"""Importing the member roll and a quarter's claims from spreadsheets as they really look."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from ledger.book import services
from ledger.models import AuditEntry, ImportBatch, PointEvent
from ledger.spreadsheets.excel import CellError, ImportFileError, parse_date, parse_points
from ledger.spreadsheets.imports import import_confirm, import_preview
from members.models import Member
from tests import factories
from tests.xlsx import xlsx

pytestmark = pytest.mark.usefixtures("frozen_today")

ROLL_HEADER = ["姓名", "性别", "出生日期", "入党日期", "党员类别", "党员身份", "村民小组", "手机号码"]


def preview(world, kind, content, name="名册.xlsx", actor=None):
    return import_preview(actor=actor or world.secretary, branch=world.branch_a, kind=kind, data=content, name=name)


def errors(batch):
    return [(p["row"], p["column"], p["message"]) for p in batch.problems if p["level"] == "error"]


# --- cell parsers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-05",
        "2026/3/5",
        "2026.3.5",
        "2026年3月5日",
        "２０２６年３月５日",
        " 2026-03-05 ",
        46086,
        46086.0,
        datetime.datetime(2026, 3, 5, 0, 0),
        "20260305",
    ],
)
def test_dates_in_every_spelling(value):
    assert parse_date(value) == datetime.date(2026, 3, 5)


@pytest.mark.parametrize("value", ["2026-13-05", "昨天", "3/5", "2026年2月30日"])
def test_bad_dates_say_so_in_chinese(value):
    with pytest.raises(CellError, match="日期"):
        parse_date(value)


@pytest.mark.parametrize("value", ["+10", "10分", "１０", "10", 10, 10.0, "＋10分", " 10 "])
def test_points_spellings(value):
    assert parse_points(value) == Decimal("10.0")


@pytest.mark.parametrize("value", ["十分", "0", "0.25", "abc"])
def test_bad_points(value):
    with pytest.raises(CellError):
        parse_points(value)


# --- member roll -----------------------------------------------------------------------------


def test_roll_preview_writes_nothing_then_confirm_adds_all(world):
    content = xlsx(
        [
            ROLL_HEADER,
            ["周立波", "男", "1970-01-02", "1995-07-01", "农村党员", "正式党员", "二组", "13911112222"],
            ["吴春花", "女", "1980/2/3", "", "", "预备党员", "三组", ""],
        ]
    )
    before = Member.objects.count()
    batch = preview(world, "members", content)
    assert batch.state == "preview" and errors(batch) == []
    assert len(batch.rows) == 2
    assert Member.objects.count() == before
    import_confirm(actor=world.secretary, batch=batch)
    zhou = Member.objects.get(name="周立波")
    assert zhou.branch == world.branch_a and zhou.name_initials == "zlb" and zhou.group == "二组"
    wu = Member.objects.get(name="吴春花")
    assert wu.gender == "female" and wu.standing == "probationary" and wu.birth_date == datetime.date(1980, 2, 3)
    assert AuditEntry.objects.filter(action="member.import", actor=world.secretary).exists()
    assert ImportBatch.objects.get(pk=batch.pk).created_count == 2


def test_messy_roll_merged_title_traditional_fullwidth_nbsp_serials_blank_rows(world):
    header = [" 姓 名 ", "性\u3000別", "出生日期", "入黨日期", "黨員類別", "村民小組", "手機號碼"]
    content = xlsx(
        [
            header,
            [
                "王\u00a0建国 ",
                "男",
                "２０２６年３月５日".replace("２０２６", "１９６０"),
                46086,
                "農村党员".replace("農", "农"),
                "一组",
                "１３９００００１１１１",
            ],
            ["赵秀兰\u00a0", "女", 21956, "2001.7.1", "离退休党员", "二组", 13900002222],
        ],
        title="山岔村党支部党员花名册（2026年）",
        blank_rows_after=3,
    )
    batch = preview(world, "members", content)
    assert errors(batch) == []
    assert [r["row"] for r in batch.rows] == [4, 5]
    first, second = batch.rows
    assert first["name"] == "王建国" and first["birth_date"] == "1960-03-05" and first["joined_on"] == "2026-03-05"
    assert first["phone"] == "13900001111"
    assert second["name"] == "赵秀兰" and second["category"] == "retired" and second["joined_on"] == "2001-07-01"
    assert second["phone"] == "13900002222"


def test_member_listed_twice_is_an_error_and_nothing_is_written(world):
    content = xlsx([ROLL_HEADER, ["周立波", "男", "1970-01-02"], ["吴春花", "女"], ["周 立波", "男", "1970/1/2"]])
    batch = preview(world, "members", content)
    assert batch.state == "invalid"
    assert errors(batch) == [(4, "姓名", "与第 2 行是同一人（姓名、出生日期相同），请删去其中一行。")]
    with pytest.raises(ValidationError):
        import_confirm(actor=world.secretary, batch=batch)
    assert not Member.objects.filter(name__in=["周立波", "吴春花"]).exists()


def test_member_of_another_branch_refused(world):
    content = xlsx([[*ROLL_HEADER[:2], "所在支部"], ["周立波", "男", "西川村党支部"], ["吴春花", "女", "山岔村党支部"]])
    batch = preview(world, "members", content)
    assert errors(batch) == [(2, "所在支部", "该党员属于“西川村党支部”，不是本支部（山岔村党支部）的党员，不能导入。")]


def test_bad_rows_report_row_column_and_reason(world):
    content = xlsx([ROLL_HEADER, ["", "男"], ["周立波", "未知", "1970-13-01"], ["吴春花", "女", "", "", "干部"]])
    batch = preview(world, "members", content)
    found = {(row, column) for row, column, _message in errors(batch)}
    assert found == {(2, "姓名"), (3, "性别"), (3, "出生日期"), (4, "党员类别")}
    assert all(message for *_rest, message in errors(batch))


def test_same_roll_twice_creates_nothing_new(world):
    content = xlsx([ROLL_HEADER, ["周立波", "男", "1970-01-02"], ["吴春花", "女"]])
    import_confirm(actor=world.secretary, batch=preview(world, "members", content))
    count = Member.objects.count()
    again = preview(world, "members", content)
    assert again.rows == [] and again.skipped == 2
    assert again.state == "invalid" and any("导入过" in p["message"] for p in again.problems)
    with pytest.raises(ValidationError):
        import_confirm(actor=world.secretary, batch=again)
    assert Member.objects.count() == count


def test_same_people_in_a_new_file_are_skipped(world):
    import_confirm(actor=world.secretary, batch=preview(world, "members", xlsx([ROLL_HEADER, ["周立波", "男"]])))
    batch = preview(world, "members", xlsx([ROLL_HEADER, ["周立波", "男"], ["吴春花", "女"]]))
    assert [r["name"] for r in batch.rows] == ["吴春花"] and batch.skipped == 1
    import_confirm(actor=world.secretary, batch=batch)
    assert Member.objects.filter(name="周立波").count() == 1


def test_a_batch_is_confirmed_once(world):
    batch = preview(world, "members", xlsx([ROLL_HEADER, ["周立波", "男"]]))
    import_confirm(actor=world.secretary, batch=batch)
    with pytest.raises(ValidationError, match="已经导入"):
        import_confirm(actor=world.secretary, batch=batch)
    assert Member.objects.filter(name="周立波").count() == 1


def test_existing_member_is_skipped(world):
    batch = preview(world, "members", xlsx([ROLL_HEADER, ["王学恩", "男", "1956-03-02"], ["周立波", "男"]]))
    assert [r["name"] for r in batch.rows] == ["周立波"] and batch.skipped == 1


def test_only_committee_of_the_branch_may_import(world):
    content = xlsx([ROLL_HEADER, ["周立波", "男"]])
    for user in (world.other_secretary, world.township_officer, world.member_user):
        with pytest.raises(PermissionDenied):
            preview(world, "members", content, actor=user)
    batch = preview(world, "members", content)
    with pytest.raises(PermissionDenied):
        import_confirm(actor=world.committee, batch=batch)  # someone else's upload


# --- broken files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "名册.xlsx", "只能上传"),
        (b"%PDF-1.4 hello", "名册.pdf", "只能上传"),
        (b"PK\x03\x04 broken zip", "名册.xlsx", "已损坏"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "名册.xls", ".xls"),
        (b"", "名册.xlsx", "空的"),
    ],
)
def test_unreadable_files_get_a_clear_message_and_nothing_is_written(world, content, name, message):
    with pytest.raises(ImportFileError, match=message):
        preview(world, "members", content, name=name)
    assert not ImportBatch.objects.exists()


def test_oversized_upload_refused(world, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1024 * 1024
    with pytest.raises(ImportFileError, match="太大"):
        preview(world, "members", b"PK\x03\x04" + b"\x00" * (1024 * 1024 + 1))


def test_sheet_without_header_row(world):
    with pytest.raises(ImportFileError, match="找不到表头"):
        preview(world, "members", xlsx([["甲", "乙"], ["周立波", "男"]]))


def test_header_missing_a_required_column(world):
    with pytest.raises(ImportFileError, match="缺少必填列：性别"):
        preview(world, "members", xlsx([["姓名", "出生日期"], ["周立波", "1970-01-01"]]))


def test_csv_in_utf8_and_gbk(world):
    text = "姓名,性别,出生日期\n周立波,男,1970年1月2日\n"
    for encoding in ("utf-8-sig", "gb18030"):
        batch = preview(world, "members", text.encode(encoding), name="名册.csv")
        assert batch.rows[0]["name"] == "周立波" and batch.rows[0]["birth_date"] == "1970-01-02"


# --- claims ----------------------------------------------------------------------------------

CLAIM_HEADER = ["姓名", "细则编号", "发生日期", "分值", "事由", "地点"]


def test_claims_go_through_the_ledger_services(world):
    content = xlsx(
        [
            CLAIM_HEADER,
            ["王学恩", "A02", "2026/11/2", "+1", "铲雪", "村口"],
            ["李秀英 ", "保持绿化卫生责任区干净", "2026年10月5日", "10分", "责任区干净", ""],
            ["王学恩", "a03", 46300, "１０", "", ""],
        ],
        title="山岔村 2026 年第四季度积分汇总",
    )
    batch = preview(world, "claims", content, name="四季度.xlsx")
    assert errors(batch) == []
    assert not PointEvent.objects.exists()
    import_confirm(actor=world.secretary, batch=batch)
    events = list(PointEvent.objects.order_by("id"))
    assert len(events) == 3
    assert {e.status for e in events} == {"pending"}
    assert {e.entry_method for e in events} == {"import"}
    assert {e.entered_by for e in events} == {world.secretary}
    assert [e.points for e in events] == [Decimal("1.0"), Decimal("10.0"), Decimal("10.0")]
    assert events[2].occurred_on == datetime.date(2026, 10, 5) and events[2].account.startswith("为群众义务理发")
    assert AuditEntry.objects.filter(action="event.create").count() == 3
    assert AuditEntry.objects.filter(action="import.confirm").count() == 1


def test_claims_file_twice_creates_nothing_new(world):
    content = xlsx([CLAIM_HEADER, ["王学恩", "A02", "2026-11-02", "1", "铲雪"]])
    import_confirm(actor=world.secretary, batch=preview(world, "claims", content))
    again = preview(world, "claims", content)
    assert again.rows == [] and again.skipped == 1
    with pytest.raises(ValidationError):
        import_confirm(actor=world.secretary, batch=again)
    edited = preview(world, "claims", xlsx([CLAIM_HEADER, ["王学恩 ", "A02", "2026/11/2", "+1", "铲雪"]]))
    assert edited.rows == [] and edited.skipped == 1 and edited.state == "preview"
    import_confirm(actor=world.secretary, batch=edited)
    assert PointEvent.objects.count() == 1


def test_name_matching_two_members_asks_which(world):
    twin = factories.member(world.branch_a, "王学恩", birth_date=datetime.date(1980, 1, 1), group="五组")
    batch = preview(world, "claims", xlsx([CLAIM_HEADER, ["王学恩", "A02", "2026-11-02", "1", "铲雪"]]))
    row = batch.rows[0]
    assert row["member"] is None
    assert {c["id"] for c in row["candidates"]} == {world.wang.pk, twin.pk}
    with pytest.raises(ValidationError, match="请先选择"):
        import_confirm(actor=world.secretary, batch=batch)
    with pytest.raises(ValidationError, match="请先选择"):
        import_confirm(actor=world.secretary, batch=batch, choices={row["row"]: world.yang.pk})
    assert not PointEvent.objects.exists()
    import_confirm(actor=world.secretary, batch=batch, choices={row["row"]: twin.pk})
    assert PointEvent.objects.get().member == twin


def test_claim_rows_refused_with_reasons_and_nothing_written(world):
    period = services.period_for(branch=world.branch_a, day=datetime.date(2026, 2, 1), lock=False)
    period.state = "review"
    period.save()
    services.period_sign(actor=world.secretary, period=period)
    content = xlsx(
        [
            CLAIM_HEADER,
            ["王学恩", "A02", "2026-11-02", "1", "铲雪"],  # fine
            ["杨长生", "A02", "2026-11-02", "1", "铲雪"],  # another branch
            ["李秀英", "D01", "2026-11-02", "", "缺席"],  # deduction
            ["李秀英", "A01", "2026-11-02", "12", "责任区"],  # over the quarter cap
            ["李秀英", "A02", "2026-02-02", "1", "铲雪"],  # signed quarter
            ["李秀英", "A02", "2026-12-02", "1", "铲雪"],  # future
            ["李秀英", "Z99", "2026-11-02", "1", "?"],  # unknown rule
            ["李秀英", "A07", "2026-11-02", "", "帮扶"],  # needs a photo
            ["王学恩", "A02", "2026-11-02", "1", "铲雪"],  # listed twice
        ]
    )
    batch = preview(world, "claims", content)
    assert batch.state == "invalid"
    found = {(row, column) for row, column, _m in errors(batch)}
    assert found == {
        (3, "姓名"),
        (4, "细则编号"),
        (5, "分值"),
        (6, "发生日期"),
        (7, "发生日期"),
        (8, "细则编号"),
        (9, "细则编号"),
        (10, "姓名"),
    }
    messages = {(r, c): m for r, c, m in errors(batch)}
    assert "其他支部" in messages[(3, "姓名")]
    assert "扣分" in messages[(4, "细则编号")]
    assert "上限" in messages[(5, "分值")]
    assert "封存" in messages[(6, "发生日期")]
    assert "与第 2 行重复" in messages[(10, "姓名")]
    with pytest.raises(ValidationError):
        import_confirm(actor=world.secretary, batch=batch)
    assert not PointEvent.objects.exists()


def test_caps_count_the_rows_above_in_the_same_file(world):
    rows = [CLAIM_HEADER] + [["王学恩", "A02", f"2026-11-{day:02d}", "3", "铲雪"] for day in range(1, 5)]
    batch = preview(world, "claims", xlsx(rows))
    assert [(r, c) for r, c, _m in errors(batch)] == [(5, "分值")]


def test_a_refusal_at_confirm_rolls_back_every_row(world, monkeypatch):
    content = xlsx(
        [CLAIM_HEADER, ["王学恩", "A02", "2026-11-02", "1", "铲雪"], ["李秀英", "A02", "2026-11-02", "1", "铲雪"]]
    )
    batch = preview(world, "claims", content)
    # Between preview and confirm someone records the same deed for 李秀英 by hand.
    services.claim_record(
        actor=world.secretary,
        member=world.li,
        rule=world.rules.snow,
        occurred_on=datetime.date(2026, 11, 2),
        account="铲雪",
    )
    with pytest.raises(ValidationError, match="第 3 行"):
        import_confirm(actor=world.secretary, batch=batch)
    assert PointEvent.objects.count() == 1
    batch.refresh_from_db()
    assert batch.state == "invalid" and any(p["row"] == 3 for p in batch.problems)


@pytest.mark.parametrize(
    "name", ["王建国", "单雄信", "曾国藩", "解缙", "仇英", "长孙无忌", "尉迟恭", "欧阳修", "查理", "乐正", "王a建国"]
)
def test_bulk_name_keys_match_the_single_functions(name):
    from members.names import initials_key, name_keys, pinyin_key, stroke_key

    assert name_keys(name) == (pinyin_key(name), initials_key(name), stroke_key(name))


def test_sample_files_for_the_demo_import_as_described(world, tmp_path):
    from django.core.management import call_command

    world.branch_a.code = "shancha"
    world.branch_a.save()
    factories.member(world.branch_a, "赵德明")
    call_command("excel_samples", out=str(tmp_path))
    roll = preview(world, "members", (tmp_path / "山岔村-党员名册.xlsx").read_bytes())
    assert errors(roll) == [] and len(roll.rows) == 4
    tally = preview(world, "claims", (tmp_path / "山岔村-季度积分.xlsx").read_bytes())
    assert errors(tally) == [] and len(tally.rows) == 8
    messy = preview(world, "claims", (tmp_path / "山岔村-有错误的积分表.xlsx").read_bytes())
    assert len(errors(messy)) == 5


def _handmade_xlsx(sheet_xml: str) -> bytes:
    import io
    import zipfile

    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets><sheet name="s" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="x" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/worksheets/sheet1.xml", f'<worksheet xmlns="{main}"><sheetData>{sheet_xml}</sheetData></worksheet>'
        )
    return buffer.getvalue()


def test_reader_handles_inline_strings_skipped_rows_and_sparse_cells(world):
    content = _handmade_xlsx(
        '<row r="2"><c r="A2" t="inlineStr"><is><t>姓名</t></is></c><c r="C2" t="inlineStr"><is><t>性别</t></is></c></row>'
        '<row r="5"><c r="A5" t="inlineStr"><is><t>周立波 &amp;</t></is></c><c r="C5" t="inlineStr"><is><t>男</t></is></c>'
        '<c r="D5" t="e"><v>#REF!</v></c></row>'
    )
    batch = preview(world, "members", content)
    assert [(r["row"], r["name"], r["gender"]) for r in batch.rows] == [(5, "周立波&", "male")]


def test_rows_refused_by_the_ledger_checks_are_not_listed_as_fine_and_problems_are_in_row_order(world):
    rows = [CLAIM_HEADER, ["王学恩", "A01", "2026-11-02", "11", "责任区"], ["李秀英", "Z9", "2026-11-02", "1", "x"]]
    batch = preview(world, "claims", xlsx(rows))
    assert batch.rows == []
    assert [p["row"] for p in batch.problems] == [2, 3]
