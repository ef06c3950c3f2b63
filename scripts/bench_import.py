"""Import speed: our importer against django-import-export's default resource, on the same files.

    DATABASE_URL=postgres://… .venv/bin/python scripts/bench_import.py [--roll 20000] [--claims 100000]

Builds a throw-away county/branch, writes a member-roll xlsx and a claims xlsx, then runs each
scenario in its own process (so peak memory is per scenario) and prints rows per second, wall
time and peak resident memory:

- ours, roll: upload bytes → read + validate once → stored preview → confirm (bulk insert);
- default django-import-export, roll: a plain ModelResource, ``import_data`` twice as its admin
  does (dry run for the preview, then the real run);
- ours, claims: preview, then confirm, every row through ``ledger.book.services.claim_record``;
- default django-import-export, claims: a plain ModelResource for PointEvent (which, unlike
  ours, bypasses the ledger services — shown only for speed).

Everything it creates is deleted at the end (on SQLite the ledger triggers forbid deleting
entries, so use a scratch DATA_DIR there).
"""

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only")

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱"
GIVEN = "建国军强华学恩宝山长生福来海红旗卫东保德明秋满仓有才春铁柱双喜永金锁新民占根胜利秀英桂兰玉珍春花"
BENCH_CODE = "benchcounty"


def setup_django():
    import django

    django.setup()


def name_for(i: int) -> str:
    a = SURNAMES[i % len(SURNAMES)]
    b = GIVEN[(i // len(SURNAMES)) % len(GIVEN)]
    c = GIVEN[(i // (len(SURNAMES) * len(GIVEN))) % len(GIVEN)]
    return a + b + c


def build_files(roll: int, claims: int, workdir: Path) -> None:
    import datetime

    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("党员名册")
    sheet.append(["所在支部", "姓名", "性别", "出生日期", "入党日期", "党员类别", "村民小组", "手机号码"])
    for i in range(roll):
        sheet.append(
            [
                "基准村党支部",
                name_for(i),
                "男" if i % 3 else "女",
                datetime.date(1940 + i % 60, 1 + i % 12, 1 + i % 28),
                datetime.date(1990 + i % 30, 7, 1),
                "农村党员",
                f"{1 + i % 9}组",
                f"139{i:08d}",
            ]
        )
    workbook.save(workdir / "roll.xlsx")
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("积分申报")
    sheet.append(["姓名", "细则编号", "发生日期", "分值", "事由", "地点"])
    start = datetime.date(2026, 1, 1)
    for i in range(claims):
        sheet.append(
            [
                name_for(i % roll),
                f"BX{i // roll % 5}",
                start + datetime.timedelta(days=(i // roll) * 7 + i % 7),
                "+2",
                "参加义务劳动，清理村道垃圾",
                "村委会",
            ]
        )
    workbook.save(workdir / "claims.xlsx")


def world():
    from django.contrib.auth import get_user_model

    from branches.models import Organisation, RoleAssignment
    from branches.services import organisation_create, role_assign
    from ledger.models import Kind, ScoringRule

    county = Organisation.objects.filter(code=BENCH_CODE).first()
    if county is None:
        county = organisation_create(name="基准县", code=BENCH_CODE, level=Organisation.Level.COUNTY)
        township = organisation_create(
            name="基准乡", code=BENCH_CODE + "-t", level=Organisation.Level.TOWNSHIP, parent=county
        )
        branch = organisation_create(
            name="基准村党支部", code=BENCH_CODE + "-b", level=Organisation.Level.BRANCH, parent=township
        )
        user = get_user_model().objects.create_user(username="bench-secretary", password="x")
        role_assign(user=user, organisation=branch, role=RoleAssignment.Role.SECRETARY)
        for n in range(5):
            ScoringRule.objects.create(
                organisation=county, code=f"BX{n}", title=f"基准细则{n}", kind=Kind.BONUS, default_points=2
            )
    branch = Organisation.objects.get(code=BENCH_CODE + "-b")
    user = get_user_model().objects.get(username="bench-secretary")
    return branch, user


def clean_up():
    from django.contrib.auth import get_user_model
    from django.db import connection

    from branches.models import Organisation
    from ledger.book import triggers
    from ledger.models import AuditEntry, ImportBatch, MemberQuarterTotal, Period, PointEvent, ScoringRule
    from members.models import Member

    orgs = list(Organisation.objects.filter(path__startswith=Organisation.objects.get(code=BENCH_CODE).path))
    triggers.uninstall(connection)
    try:
        PointEvent.objects.filter(branch__in=orgs).delete()
        MemberQuarterTotal.objects.filter(period__branch__in=orgs).delete()
        Period.objects.filter(branch__in=orgs).delete()
        ImportBatch.objects.filter(branch__in=orgs).delete()
        AuditEntry.objects.filter(branch__in=orgs).delete()
        Member.objects.filter(branch__in=orgs).delete()
        ScoringRule.objects.filter(organisation__in=orgs).delete()
        for org in sorted(orgs, key=lambda o: -len(o.path)):
            org.roles.all().delete()
            org.delete()
        get_user_model().objects.filter(username="bench-secretary").delete()
    finally:
        triggers.install(connection)


def clear_members_and_events():
    from django.db import connection

    from ledger.book import triggers
    from ledger.models import AuditEntry, ImportBatch, Period, PointEvent
    from members.models import Member

    branch, _user = world()
    triggers.uninstall(connection)
    try:
        PointEvent.objects.filter(branch=branch).delete()
        Period.objects.filter(branch=branch).delete()
        ImportBatch.objects.filter(branch=branch).delete()
        AuditEntry.objects.filter(branch=branch).delete()
        Member.objects.filter(branch=branch).delete()
    finally:
        triggers.install(connection)


# --- scenarios (each in its own process) ------------------------------------------------------


def ours(kind: str, path: Path, confirm_limit: int = 0) -> dict:
    from ledger.spreadsheets.imports import import_confirm, import_preview

    branch, user = world()
    data = path.read_bytes()
    t0 = time.perf_counter()
    batch = import_preview(actor=user, branch=branch, kind=kind, data=data, name=path.name)
    t1 = time.perf_counter()
    assert batch.state == "preview", batch.problems[:5]
    previewed = len(batch.rows)
    if confirm_limit and previewed > confirm_limit:
        # Claims are written one by one through claim_record; time a slice and scale.
        batch.rows = batch.rows[:confirm_limit]
        batch.save(update_fields=["rows"])
    batch = import_confirm(actor=user, batch=batch)
    t2 = time.perf_counter()
    confirm_s = (t2 - t1) * previewed / batch.created_count
    return {
        "rows": previewed,
        "written": batch.created_count,
        "preview_s": t1 - t0,
        "confirm_s": confirm_s,
        "total_s": t1 - t0 + confirm_s,
        "estimated": batch.created_count < previewed,
    }


def default_resource(kind: str, path: Path) -> dict:
    from import_export import fields, resources, widgets
    from import_export.formats.base_formats import XLSX

    from branches.models import Organisation
    from ledger.models import PointEvent, ScoringRule
    from members.models import Member

    branch, user = world()
    if kind == "members":

        class DefaultMemberResource(resources.ModelResource):
            branch = fields.Field(attribute="branch", column_name="所在支部",
                                  widget=widgets.ForeignKeyWidget(Organisation, "name"))  # fmt: skip
            name = fields.Field(attribute="name", column_name="姓名")
            gender = fields.Field(attribute="gender", column_name="性别")
            birth_date = fields.Field(attribute="birth_date", column_name="出生日期", widget=widgets.DateWidget())
            joined_on = fields.Field(attribute="joined_on", column_name="入党日期", widget=widgets.DateWidget())
            category = fields.Field(attribute="category", column_name="党员类别")
            group = fields.Field(attribute="group", column_name="村民小组")
            phone = fields.Field(attribute="phone", column_name="手机号码")

            class Meta:
                model = Member
                fields = ("branch", "name", "gender", "birth_date", "joined_on", "category", "group", "phone")
                import_id_fields = ("name", "birth_date")

        resource = DefaultMemberResource()
    else:

        class DefaultClaimResource(resources.ModelResource):
            member = fields.Field(
                attribute="member", column_name="姓名", widget=widgets.ForeignKeyWidget(Member, "name")
            )
            rule = fields.Field(
                attribute="rule", column_name="细则编号", widget=widgets.ForeignKeyWidget(ScoringRule, "code")
            )
            occurred_on = fields.Field(attribute="occurred_on", column_name="发生日期", widget=widgets.DateWidget())
            points = fields.Field(attribute="points", column_name="分值", widget=widgets.DecimalWidget())
            account = fields.Field(attribute="account", column_name="事由")
            place = fields.Field(attribute="place", column_name="地点")

            class Meta:
                model = PointEvent
                fields = ("member", "rule", "occurred_on", "points", "account", "place")
                import_id_fields = ("member", "rule", "occurred_on")

            def before_save_instance(self, instance, row, **kwargs):
                from ledger.book.services import period_for

                instance.branch = branch
                instance.kind = instance.rule.kind
                instance.period = period_for(branch=branch, day=instance.occurred_on, lock=False)
                instance.entry_method = PointEvent.EntryMethod.IMPORT
                instance.entered_by = user

        resource = DefaultClaimResource()
    data = path.read_bytes()
    t0 = time.perf_counter()
    dataset = XLSX().create_dataset(io.BytesIO(data).getvalue())
    t1 = time.perf_counter()
    preview = resource.import_data(dataset, dry_run=True)
    t2 = time.perf_counter()
    if os.environ.get("BENCH_PREVIEW_ONLY"):
        return {"rows": dataset.height, "read_s": t1 - t0, "preview_s": t2 - t1, "confirm_s": t2 - t1,
                "total_s": 2 * (t2 - t1) + t1 - t0, "estimated": True}  # fmt: skip
    assert not preview.has_errors() and not preview.has_validation_errors(), preview.invalid_rows[:3] or [
        e.error for _n, errs in preview.row_errors()[:3] for e in errs
    ]
    result = resource.import_data(dataset, dry_run=False)
    t3 = time.perf_counter()
    return {
        "rows": result.totals.get("new", 0),
        "read_s": t1 - t0,
        "preview_s": t2 - t1,
        "confirm_s": t3 - t2,
        "total_s": t3 - t0,
    }


def run_child(scenario: str, kind: str, path: Path) -> dict:
    setup_django()
    limit = int(os.environ.get("BENCH_CONFIRM_LIMIT", "0"))
    result = ours(kind, path, limit) if scenario == "ours" else default_resource(kind, path)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def spawn(scenario: str, kind: str, path: Path, timeout: int, env: dict | None = None) -> dict:
    started = time.perf_counter()
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--child", scenario, kind, str(path)],
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"stopped after {timeout} s"}
    if out.returncode != 0:
        lines = (out.stderr or out.stdout).strip().splitlines()
        return {"error": lines[-1][:300] if lines else f"exit status {out.returncode}"}
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--roll", type=int, default=20_000)
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per scenario")
    parser.add_argument("--skip-default-claims", action="store_true")
    parser.add_argument("--only-ours", action="store_true", help="skip django-import-export's default resource")
    parser.add_argument(
        "--claims-confirm-limit", type=int, default=2000,
        help="write only this many claims (each through claim_record) and scale the time; 0 = all",
    )  # fmt: skip
    parser.add_argument(
        "--default-claims-preview-only", action="store_true",
        help="run only the default resource's dry run on the claims file and count the write as long",
    )  # fmt: skip
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        scenario, kind, path = args.child
        print(json.dumps(run_child(scenario, kind, Path(path))))
        return

    setup_django()
    from django.db import connection

    workdir = ROOT / "var" / "bench"
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"database: {connection.vendor}; roll {args.roll} rows, claims {args.claims} rows")
    t0 = time.perf_counter()
    build_files(args.roll, args.claims, workdir)
    print(f"files written in {time.perf_counter() - t0:.1f} s "
          f"(roll {os.path.getsize(workdir / 'roll.xlsx') // 1024} KB, "
          f"claims {os.path.getsize(workdir / 'claims.xlsx') // 1024} KB)")  # fmt: skip
    world()
    print(
        f"{'file':8} {'importer':30} {'rows':>7} {'preview s':>10} {'write s':>9} {'total s':>9} {'rows/s':>9} {'peak MB':>8}"
    )
    limit = {"BENCH_CONFIRM_LIMIT": str(args.claims_confirm_limit)}
    default_claims = {"BENCH_PREVIEW_ONLY": "1"} if args.default_claims_preview_only else {}
    try:
        clear_members_and_events()
        report("roll", "ours", spawn("ours", "members", workdir / "roll.xlsx", args.timeout))
        if args.claims:
            report("claims", "ours", spawn("ours", "claims", workdir / "claims.xlsx", args.timeout, limit))
        clear_members_and_events()
        if args.only_ours:
            return
        report("roll", "django-import-export default",
               spawn("default", "members", workdir / "roll.xlsx", args.timeout))  # fmt: skip
        if args.claims and not args.skip_default_claims:
            report("claims", "django-import-export default",
                   spawn("default", "claims", workdir / "claims.xlsx", args.timeout, default_claims))  # fmt: skip
    finally:
        clean_up()
    print("(*) estimated: the write was timed on the first rows (claims: --claims-confirm-limit) or, for the")
    print("    default resource with --default-claims-preview-only, taken equal to its dry run.")


def report(kind: str, name: str, r: dict) -> None:
    if "error" in r:
        print(f"{kind:8} {name:30} failed: {r['error']}", flush=True)
        return
    preview = r["preview_s"] + r.get("read_s", 0)
    rate = r["rows"] / r["total_s"] if r["total_s"] else 0
    mark = "*" if r.get("estimated") else " "
    print(
        f"{kind:8} {name:30} {r['rows']:>7} {preview:>10.2f} {r['confirm_s']:>8.1f}{mark} {r['total_s']:>8.1f}{mark} "
        f"{rate:>9.0f} {r['peak_rss_mb']:>8.0f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
