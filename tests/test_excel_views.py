"""The secretary's import and export screens, and the export job."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ledger.book import services
from ledger.models import ExportJob, ImportBatch, PointEvent
from members.models import Member
from tests import factories
from tests.xlsx import read, xlsx

pytestmark = pytest.mark.usefixtures("frozen_today")

ROLL = [["姓名", "性别", "出生日期"], ["周立波", "男", "1970-01-02"], ["吴春花", "女", "1980/2/3"]]


def upload(client, kind, content, name="名册.xlsx", branch=None):
    return client.post(
        "/excel/import/",
        {"kind": kind, "branch": branch, "file": SimpleUploadedFile(name, content)},
    )


def test_secretary_uploads_previews_and_confirms(client, world):
    client.force_login(world.secretary)
    response = upload(client, "members", xlsx(ROLL), branch=world.branch_a.pk)
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    page = client.get(response.url)
    assert "周立波" in page.content.decode() and "确认导入 2 条" in page.content.decode()
    assert not Member.objects.filter(name="周立波").exists()
    response = client.post(response.url)
    assert response.status_code == 302
    assert Member.objects.filter(name__in=["周立波", "吴春花"], branch=world.branch_a).count() == 2
    assert "导入完成" in client.get(response.url).content.decode()
    batch.refresh_from_db()
    assert batch.state == "done"


def test_preview_lists_each_bad_row_with_row_and_column(client, world):
    client.force_login(world.secretary)
    content = xlsx([["姓名", "性别", "出生日期"], ["周立波", "男", "1970-13-01"], ["", "女"]])
    page = client.get(upload(client, "members", content, branch=world.branch_a.pk).url).content.decode()
    assert "整个文件未导入" in page
    assert '<td class="num">2</td><td class="nowrap">出生日期</td>' in page
    assert '<td class="num">3</td><td class="nowrap">姓名</td><td>请填写姓名。</td>' in page
    assert "确认导入" not in page


def test_unreadable_file_message_on_the_form(client, world):
    client.force_login(world.secretary)
    response = upload(client, "members", b"not a spreadsheet", name="名册.docx", branch=world.branch_a.pk)
    assert response.status_code == 200
    assert "只能上传 Excel（.xlsx）或 CSV 文件" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_choice_for_an_ambiguous_name_on_the_preview(client, world):
    twin = factories.member(world.branch_a, "王学恩", birth_date=datetime.date(1980, 1, 1), group="五组")
    client.force_login(world.secretary)
    content = xlsx([["姓名", "细则编号", "发生日期"], ["王学恩", "A02", "2026-11-02"]])
    url = upload(client, "claims", content, branch=world.branch_a.pk).url
    page = client.get(url).content.decode()
    assert 'name="choice-2"' in page and "五组" in page
    client.post(url)
    assert not PointEvent.objects.exists()
    client.post(url, {"choice-2": twin.pk})
    assert PointEvent.objects.get().member == twin


def test_other_users_cannot_reach_an_upload(client, world):
    client.force_login(world.secretary)
    url = upload(client, "members", xlsx(ROLL), branch=world.branch_a.pk).url
    for user in (world.other_secretary, world.committee, world.township_officer):
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    assert not Member.objects.filter(name="周立波").exists()


def test_import_screen_is_for_committees_only(client, world):
    for user in (world.member_user, world.township_officer):
        client.force_login(user)
        assert client.get("/excel/import/").status_code == 404
    client.force_login(world.other_secretary)
    response = upload(client, "members", xlsx(ROLL), branch=world.branch_a.pk)
    assert response.status_code == 200 and not ImportBatch.objects.exists()


def test_templates_have_chinese_headers_and_an_example(client, world):
    client.force_login(world.secretary)
    for kind, first in (("members", "姓名*"), ("claims", "姓名*")):
        response = client.get(f"/excel/template/{kind}.xlsx")
        assert response.status_code == 200
        sheet = read(response.content)[0]
        assert sheet[0][0] == first and sheet[1][0] == "王学恩"
    client.get("/excel/template/members.xlsx")


def test_the_downloaded_template_imports_cleanly(client, world):
    client.force_login(world.secretary)
    content = client.get("/excel/template/claims.xlsx").content
    url = upload(client, "claims", content, branch=world.branch_a.pk).url
    batch = ImportBatch.objects.get()
    assert batch.state == "preview", batch.problems
    assert client.get(url).status_code == 200


# --- exports ---------------------------------------------------------------------------------


def _claim(world, member, account="铲雪", day=datetime.date(2026, 11, 2)):
    return services.claim_record(
        actor=world.secretary, member=member, rule=world.rules.snow, occurred_on=day, account=account
    )


def test_branch_quarter_export_with_formulas_neutralised(client, world):
    _claim(world, world.wang, account='=HYPERLINK("http://x","点我")')
    _claim(world, world.li, account="@SUM(A1)")
    client.force_login(world.secretary)
    response = client.get(f"/excel/export/branch_quarter.xlsx?branch={world.branch_a.pk}&year=2026&quarter=4")
    assert response.status_code == 200
    totals, detail = read(response.content)
    assert totals[0][:3] == ["党员", "村民小组", "基础积分"]
    assert detail[0][0] == "发生日期" and len(detail) == 3
    accounts = {row[9] for row in detail[1:]}
    assert accounts == {'\'=HYPERLINK("http://x","点我")', "'@SUM(A1)"}


def test_member_year_and_rollup_exports(client, world):
    event = _claim(world, world.wang)
    services.event_approve(actor=world.committee, event=event)
    client.force_login(world.secretary)
    sheet = read(client.get(f"/excel/export/member_year.xlsx?member={world.wang.pk}&year=2026").content)[0]
    assert sheet[1][2] == "王学恩" and sheet[1][7] == 1
    client.force_login(world.county_officer)
    branches, members = read(
        client.get(f"/excel/export/rollup.xlsx?organisation={world.county.pk}&year=2026&detail=members").content
    )
    assert branches[0][:2] == ["乡镇", "支部"]
    assert {row[1] for row in branches[1:]} == {"山岔村党支部", "西川村党支部"}
    shancha = next(row for row in branches[1:] if row[1] == "山岔村党支部")
    assert shancha[2] == 3 and shancha[6] == 1
    assert len(members) == 1 + 4


def test_exports_outside_scope_are_404(client, world):
    client.force_login(world.secretary)
    assert (
        client.get(f"/excel/export/branch_quarter.xlsx?branch={world.branch_b.pk}&year=2026&quarter=4").status_code
        == 404
    )
    assert client.get(f"/excel/export/member_year.xlsx?member={world.yang.pk}&year=2026").status_code == 404
    assert client.get(f"/excel/export/rollup.xlsx?organisation={world.township_b.pk}&year=2026").status_code == 404
    assert client.get("/excel/export/nonsense.xlsx").status_code == 404
    response = client.get(f"/excel/export/branch_quarter.xlsx?branch={world.branch_a.pk}&year=abc&quarter=9")
    assert response.status_code == 302


def test_large_export_runs_as_a_job_with_progress_and_download(
    client, world, settings, django_capture_on_commit_callbacks, monkeypatch
):
    from config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)  # the job runs here, even with Redis set
    settings.EXPORT_INLINE_MAX_ROWS = 2
    for member in (world.wang, world.li, world.zhang):
        _claim(world, member)
    client.force_login(world.secretary)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(f"/excel/export/branch_quarter.xlsx?branch={world.branch_a.pk}&year=2026&quarter=4")
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert job.status == "done", job.error
    assert job.rows_total == 6 and job.percent == 100  # eager in tests
    page = client.get(response.url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in page and "下载 Excel" in page
    download = client.get(f"/excel/export/jobs/{job.pk}/file/")
    assert download.status_code == 200
    assert len(read(b"".join(download.streaming_content))[1]) == 4
    client.force_login(world.committee)
    assert client.get(response.url).status_code == 404
    assert client.get(f"/excel/export/jobs/{job.pk}/file/").status_code == 404


def test_running_job_page_polls(client, world):
    job = ExportJob.objects.create(
        kind="rollup", params={}, requested_by=world.secretary, rows_total=10, rows_done=4, status="running"
    )
    client.force_login(world.secretary)
    page = client.get(f"/excel/export/jobs/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page and 'aria-valuenow="40"' in page


@pytest.mark.parametrize(
    "url", ["/excel/import/", "/excel/import/1/", "/excel/template/members.xlsx", "/excel/export/",
            "/excel/export/rollup.xlsx", "/excel/export/jobs/1/", "/excel/export/jobs/1/file/"],
)  # fmt: skip
def test_anonymous_visitors_are_sent_to_log_in(client, world, url):
    response = client.get(url)
    assert response.status_code == 302 and "login" in response.url
