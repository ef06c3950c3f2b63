"""Benchmark for the noticeboard jobs (not a test): how long postings and batches take.

    .venv/bin/python scripts/bench_reports.py [--branches 30] [--members 40] [--big 100]

Builds a throw-away SQLite database (or uses DATABASE_URL if set: give it an empty database),
a township of N branches × M members with a quarter of approved entries, signs every quarter,
then times: one branch's posting (with where the time goes), the township batch (in-process,
one job after another, as one worker would), and one branch of --big members. Prints pages per
second, seconds per branch and peak memory.
"""

import argparse
import datetime
import os
import random
import resource
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(tmp: Path) -> None:
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ["DATA_DIR"] = str(tmp)
    os.environ["MEDIA_ROOT"] = str(tmp / "media")
    os.environ.pop("REDIS_URL", None)  # jobs in-process: timing the work, not the broker
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(
    *, township, admin, rules, branches: int, members: int, rng: random.Random, name: str = "村", code: str = "v"
):
    """Branches with members and a quarter (2026 Q3) of approved entries, signed."""

    from branches.models import Organisation
    from branches.services import organisation_create
    from core import clock
    from ledger.book import services as ledger
    from ledger.models import Period, PointEvent
    from members.models import Member
    from members.names import initials_key, pinyin_key, stroke_key

    surnames = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    given = "学恩建国秀英海燕振华桂兰国强玉珍长生春花志刚丽娟德明凤英彩霞冬梅瑞芳红梅小红爱华淑珍"
    groups = ["第一村民组", "第二村民组", "第三村民组", "第四村民组", "第五村民组"]
    now = clock.now()
    signed = []
    for b in range(branches):
        branch = organisation_create(
            name=f"{name}{b + 1:03d}党支部", code=f"bench-{code}-{b}", level=Organisation.Level.BRANCH, parent=township
        )
        people = []
        for _m in range(members):
            full = rng.choice(surnames) + "".join(rng.sample(given, 2))
            people.append(
                Member(
                    branch=branch,
                    name=full,
                    name_pinyin=pinyin_key(full),
                    name_initials=initials_key(full),
                    name_strokes=stroke_key(full),
                    gender="male",
                    group=rng.choice(groups),
                    phone=f"139{rng.randrange(10**8):08d}",
                )
            )
        people = Member.objects.bulk_create(people)
        period = Period.objects.create(branch=branch, year=2026, quarter=3)
        events = []
        for person in people:
            for rule in [rules["base"], *rng.sample(rules["others"], rng.randint(3, 8))]:
                points = rule.default_points if rule.kind != "deduction" else -rule.default_points
                events.append(
                    PointEvent(
                        branch=branch,
                        member=person,
                        period=period,
                        rule=rule,
                        kind=rule.kind,
                        points=points,
                        occurred_on=datetime.date(2026, 7, 1) + datetime.timedelta(days=rng.randrange(90)),
                        account="基准测试条目",
                        entry_method="on_behalf",
                        entered_by=admin,
                        status="approved",
                        decided_by=admin,
                        decided_at=now,
                    )
                )
        PointEvent.objects.bulk_create(events)
        signed.append(ledger.period_sign(actor=admin, period=period))
    return signed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--branches", type=int, default=30)
    parser.add_argument("--members", type=int, default=40)
    parser.add_argument("--big", type=int, default=100, help="members of the one large branch")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    setup(tmp)

    from django.contrib.auth import get_user_model

    from branches.models import Organisation
    from branches.services import organisation_create
    from ledger.models import Kind, ScoringRule
    from reports import services
    from reports.models import Document

    # A fixed, ordinary day (the clock is read through core.clock, which time-machine moves).
    time_machine.travel(datetime.datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))).start()
    # Sign without producing postings: the batch below is what we time.
    services.posting_after_sign = lambda **kwargs: None

    rng = random.Random(7)
    admin = get_user_model().objects.create_superuser("bench", password="x")
    county = organisation_create(name="基准县", code="bench-county", level=Organisation.Level.COUNTY)
    township = organisation_create(name="基准乡", code="bench-town", level=Organisation.Level.TOWNSHIP, parent=county)
    big_town = organisation_create(name="大村乡", code="bench-big", level=Organisation.Level.TOWNSHIP, parent=county)

    def rule(code, kind, points, title):
        return ScoringRule.objects.create(
            organisation=county, code=code, kind=kind, default_points=Decimal(points), title=title
        )

    rules = {
        "base": rule("B01", Kind.BASE, "60", "年度基础积分"),
        "others": [
            rule("A01", Kind.BONUS, "10", "保持绿化卫生责任区干净"),
            rule("A02", Kind.BONUS, "1", "参加义务扫雪"),
            rule("A03", Kind.BONUS, "20", "为群众义务理发"),
            rule("A04", Kind.BONUS, "2", "参加主题党日活动"),
            rule("A05", Kind.BONUS, "3", "按时足额缴纳党费"),
            rule("A06", Kind.BONUS, "5", "帮扶困难群众"),
            rule("A07", Kind.BONUS, "2", "参加村庄环境整治"),
            rule("A08", Kind.BONUS, "4", "调解邻里纠纷"),
            rule("D01", Kind.DEDUCTION, "3", "无故缺席三会一课"),
            rule("D02", Kind.DEDUCTION, "5", "不按时缴纳党费"),
        ],
    }
    started = time.monotonic()
    build(township=township, admin=admin, rules=rules, branches=args.branches, members=args.members, rng=rng)
    (big,) = build(
        township=big_town, admin=admin, rules=rules, branches=1, members=args.big, rng=rng, name="大", code="big"
    )
    print(f"data: {args.branches} branches × {args.members} members + 1 × {args.big}, "
          f"built in {time.monotonic() - started:.1f}s")  # fmt: skip

    # Warm up (font discovery, template loading) so the figures below are steady-state.
    services.pdf_render(
        services.html_render([("reports/documents/rollup.html", {"title": "预热", "rows": [], "totals": {}})])
    )

    # One branch of the township, step by step.
    from ledger.models import Period

    period = Period.objects.filter(branch__parent=township).select_related("branch", "signed_by").first()
    t0 = time.monotonic()
    context = services.selectors.posting_context(period)
    context["qr_data_uri"] = services.qr_data_uri(context["public_url"])
    t1 = time.monotonic()
    html = services.html_render([("reports/documents/posting.html", context)])
    t2 = time.monotonic()
    from weasyprint import HTML

    rendered = HTML(string=html, base_url=str(ROOT)).render()
    t3 = time.monotonic()
    rendered.write_pdf()
    t4 = time.monotonic()
    print(
        f"one branch ({args.members} members, {len(rendered.pages)} pages): queries {t1 - t0:.2f}s, "
        f"template {t2 - t1:.2f}s, layout {t3 - t2:.2f}s, PDF {t4 - t3:.2f}s, total {t4 - t0:.2f}s"
    )

    # The township batch, in-process (one job after another, like one worker).
    t0, c0 = time.monotonic(), time.process_time()
    batch = services.batch_request(
        actor=admin, organisation=township, kind="posting", year=2026, quarter=3, paper="A4", orientation="portrait"
    )
    batch.refresh_from_db()
    elapsed, cpu = time.monotonic() - t0, time.process_time() - c0
    pages = sum(d.pages or 0 for d in batch.documents.all())
    render_ms = sum(d.duration_ms or 0 for d in batch.documents.all())
    print(
        f"township batch: {batch.total} branches, {pages} pages, status {batch.status}, {elapsed:.1f}s "
        f"({elapsed / batch.total:.2f} s/branch, {pages / elapsed:.1f} pages/s); "
        f"render jobs {render_ms / 1000:.1f}s, combine + bookkeeping {elapsed - render_ms / 1000:.1f}s; "
        f"combined PDF {batch.pdf_file.size / 1e6:.1f} MB; CPU time {cpu:.1f}s ({cpu / batch.total:.2f} s/branch)"
    )
    county_minutes = 800 * (elapsed / batch.total) / 2 / 60
    print(
        f"projected county of 800 branches with 2 workers: {county_minutes:.1f} min "
        f"({800 * cpu / batch.total / 2 / 60:.1f} min from CPU time, i.e. on an otherwise idle machine); "
        f"load average now {os.getloadavg()[0]:.1f}"
    )

    t0 = time.monotonic()
    document = services.posting_request(actor=admin, period=big)
    document = Document.objects.get(pk=document.pk)
    print(
        f"one branch of {args.big} members: {time.monotonic() - t0:.2f}s, {document.pages} pages, "
        f"status {document.status}"
    )
    print(f"peak memory (max RSS): {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
