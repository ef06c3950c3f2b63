"""Build a demo county from the news reports: townships, village branches, members, the scoring
catalogue, a year of entries in every state, signed quarters and one login per role.

Everything is written through the services, so the demo ledger obeys the same rules as real use.
Running it again changes nothing but the demo passwords.
"""

import contextlib
import datetime
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.db import transaction

from branches.models import Organisation, RoleAssignment
from branches.services import organisation_create, role_assign
from core import clock
from core.quarters import quarter_bounds, quarter_of
from ledger.book import services
from ledger.book.models import Kind, Period, PointEvent, ScoringRule
from ledger.review import services as review_services
from members.models import Member
from members.services import member_create

DEFAULT_PASSWORD = "demo12345"
COUNTY_CODE = "lushi"

TOWNSHIPS = [
    ("潘河乡", "panhe", [("山岔村", "shancha", 43), ("郭家村", "guojia", 30)]),
    ("双槐树乡", "shuanghuaishu", [("西川村", "xichuan", 42)]),
    ("双龙湾镇", "shuanglongwan", [("东虎岭村", "donghuling", 35), ("牛庄村", "niuzhuang", 28)]),
]

# (code, title, kind, points, cap per quarter, cap per year, evidence required, description)
RULES = [
    ("B01", "年度基础积分", Kind.BASE, "60", None, "60", False, "履行党员基本义务：参加组织生活、按时交纳党费、学习"),
    ("A01", "保持绿化卫生责任区干净", Kind.BONUS, "10", "10", None, False, "责任区一个季度保持干净，加10分"),
    ("A02", "参加义务扫雪", Kind.BONUS, "1", "10", None, False, "大雪阻路时参加铲除路面积雪，每次加1分"),
    ("A03", "为群众义务理发", Kind.BONUS, "20", "20", None, False, "一个季度坚持为村民义务理发，加20分"),
    ("A04", "参加“三会一课”", Kind.BONUS, "2", "12", None, False, "按时参加支部党员大会、支委会、党小组会和党课"),
    ("A05", "参加主题党日活动", Kind.BONUS, "2", "6", None, False, "参加每月主题党日活动"),
    ("A06", "按时足额交纳党费", Kind.BONUS, "3", "3", None, False, "一个季度按时足额交纳党费"),
    ("A07", "帮扶困难群众", Kind.BONUS, "5", "15", None, True, "结对帮扶困难户、留守老人，须附照片"),
    ("A08", "参与矛盾纠纷调解", Kind.BONUS, "3", "9", None, False, "协助调解邻里纠纷"),
    ("D01", "无故缺席“三会一课”", Kind.DEDUCTION, "3", None, None, False, "无正当理由不参加组织生活"),
    ("D02", "未按时交纳党费", Kind.DEDUCTION, "5", None, None, False, "超过期限未交纳党费"),
    ("D03", "群众反映问题经核实", Kind.DEDUCTION, "5", None, None, False, "支委会根据群众反映核实后扣分"),
    ("D04", "违反村规民约", Kind.DEDUCTION, "10", None, None, False, "乱搭乱建、乱倒垃圾等"),
    ("D05", "严重违纪违规", Kind.DEDUCTION, "30", None, None, False, "受到党纪处分的情形"),
]

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱覃武戴孔汤庞樊兰殷施陶洪翟安颜倪严牛温芦季俞章鲁葛伍申尤毕聂柴焦向柳邢岳齐梅莫庄辛管祝左涂谷祁时舒耿牟卜路詹关苗凌费纪靳盛童欧甄项曲成游阳裴席卫查屈鲍位覃霍翁隋植甘景薄单包司柏宁柯阮桂闵解强柴华车冉房边辜吉饶刁瞿戚丘古米池滕晋苑邬臧畅宫来嵺苟全褚廉简娄盖符奚木穆党燕郎邸冀谈姬屠连郜晏栾郁商蒙计喻揭窦迟宇敖糜鄢冷卓花仇艾蓝都巩稽井练仲乐虞卞封竺冼原官衣楚佟栗匡宗应台巫鞠僧桑荆谌银扬明沙薄伏岑习胥保和蔺"
GIVEN_MALE = [
    "建国",
    "建军",
    "国强",
    "志强",
    "振华",
    "学恩",
    "宝山",
    "长生",
    "福来",
    "海军",
    "红旗",
    "卫东",
    "保国",
    "德明",
    "秋生",
    "满仓",
    "有才",
    "春生",
    "铁柱",
    "双喜",
    "永红",
    "金锁",
    "新民",
    "占山",
    "根宝",
    "胜利",
    "庆丰",
    "文斌",
    "明亮",
    "忠诚",
]
GIVEN_FEMALE = [
    "桂兰",
    "秀英",
    "玉珍",
    "海燕",
    "春花",
    "翠萍",
    "淑芬",
    "红梅",
    "丽娟",
    "巧云",
    "素琴",
    "月娥",
    "金凤",
    "小红",
    "爱华",
    "凤英",
    "彩霞",
    "秀兰",
    "冬梅",
    "瑞芳",
]
GROUPS = ["第一村民组", "第二村民组", "第三村民组", "第四村民组", "第五村民组"]

DEMO_USERS = {
    # username: (full name, role, where) — where is a branch code, or the county/township code
    "county": ("县委组织部 周立新", RoleAssignment.Role.OFFICER, COUNTY_CODE),
    "township": ("潘河乡党委 郑文斌", RoleAssignment.Role.OFFICER, "panhe"),
    "secretary": ("刘振华", RoleAssignment.Role.SECRETARY, "shancha"),
    "committee": ("陈桂兰", RoleAssignment.Role.COMMITTEE, "shancha"),
    "other_secretary": ("杨国栋", RoleAssignment.Role.SECRETARY, "xichuan"),
}


def recent_quarters(day: datetime.date, count: int = 4) -> list[tuple[int, int]]:
    year, quarter = day.year, quarter_of(day)
    result = []
    for _i in range(count):
        result.append((year, quarter))
        year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    return list(reversed(result))


class Command(BaseCommand):
    help = "Load the demo county (山岔村, 西川村, …) with members, rules, a year of entries and demo logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", default=DEFAULT_PASSWORD, help=f"password for the demo logins (default: {DEFAULT_PASSWORD})"
        )

    def handle(self, *args, password: str, **options):
        if Organisation.objects.filter(code=COUNTY_CODE).exists():
            self._set_passwords(password)
            self.stdout.write("demo data already present; demo passwords reset")
            return
        with transaction.atomic():
            self._build(password)
        self.stdout.write(self.style.SUCCESS("demo county loaded"))

    # ------------------------------------------------------------------------------------------
    def _set_passwords(self, password: str) -> None:
        User = get_user_model()
        for username in [*DEMO_USERS, "member", "admin"]:
            user = User.objects.filter(username=username).first()
            if user:
                user.set_password(password)
                user.save(update_fields=["password"])

    def _user(self, username: str, full_name: str, password: str | None, **extra):
        User = get_user_model()
        user, _created = User.objects.get_or_create(username=username, defaults={"first_name": full_name, **extra})
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        return user

    def _build(self, password: str) -> None:
        rng = random.Random(2026)
        county = organisation_create(name="卢氏县", code=COUNTY_CODE, level=Organisation.Level.COUNTY)
        branches: dict[str, Organisation] = {}
        for township_name, township_code, villages in TOWNSHIPS:
            township = organisation_create(
                name=township_name, code=township_code, level=Organisation.Level.TOWNSHIP, parent=county
            )
            for village, code, _size in villages:
                branches[code] = organisation_create(
                    name=f"{village}党支部", code=code, level=Organisation.Level.BRANCH, parent=township
                )
        for code, title, kind, points, cap_q, cap_y, evidence, description in RULES:
            ScoringRule.objects.create(
                organisation=county,
                code=code,
                title=title,
                kind=kind,
                default_points=Decimal(points),
                cap_per_quarter=Decimal(cap_q) if cap_q else None,
                cap_per_year=Decimal(cap_y) if cap_y else None,
                evidence_required=evidence,
                description=description,
            )
        # A township may add a rule of its own; its branches inherit it.
        ScoringRule.objects.create(
            organisation=Organisation.objects.get(code="panhe"),
            code="A09",
            title="参与护林防火巡查",
            kind=Kind.BONUS,
            default_points=Decimal("2"),
            cap_per_quarter=Decimal("8"),
            description="潘河乡：森林防火期参加巡山",
        )

        self._user("admin", "系统管理员", password, is_staff=True, is_superuser=True)
        users = {}
        for username, (full_name, role, where) in DEMO_USERS.items():
            users[username] = self._user(username, full_name, password)
            role_assign(user=users[username], organisation=Organisation.objects.get(code=where), role=role)

        deciders: dict[str, tuple] = {}
        for code, branch in branches.items():
            if code == "shancha":
                deciders[code] = (users["secretary"], users["committee"])
            elif code == "xichuan":
                helper = self._user("xichuan_committee", "西川村支委 孙玉珍", None)
                role_assign(user=helper, organisation=branch, role=RoleAssignment.Role.COMMITTEE)
                deciders[code] = (users["other_secretary"], helper)
            else:
                sec = self._user(f"{code}_secretary", f"{branch.name}书记", None)
                com = self._user(f"{code}_committee", f"{branch.name}支委", None)
                role_assign(user=sec, organisation=branch, role=RoleAssignment.Role.SECRETARY)
                role_assign(user=com, organisation=branch, role=RoleAssignment.Role.COMMITTEE)
                deciders[code] = (sec, com)

        sizes = {code: size for _t, _c, villages in TOWNSHIPS for _v, code, size in villages}
        used_names: set[str] = set()
        members: dict[str, list[Member]] = {}
        for code, branch in branches.items():
            members[code] = []
            for index in range(sizes[code]):
                if code == "shancha" and index == 0:
                    name, gender, age = "王学恩", Member.Gender.MALE, 70
                elif code == "shancha" and index == 1:
                    name, gender, age = "张海燕", Member.Gender.FEMALE, 45
                else:
                    gender = rng.choice([Member.Gender.MALE] * 3 + [Member.Gender.FEMALE])
                    given = rng.choice(GIVEN_MALE if gender == Member.Gender.MALE else GIVEN_FEMALE)
                    name = rng.choice(SURNAMES[:60]) + given
                    while name in used_names:
                        name = rng.choice(SURNAMES) + rng.choice(
                            GIVEN_MALE if gender == Member.Gender.MALE else GIVEN_FEMALE
                        )
                    age = rng.randint(26, 84)
                used_names.add(name)
                category = Member.Category.RURAL
                if age >= 72:
                    category = Member.Category.RETIRED
                elif rng.random() < 0.12:
                    category = Member.Category.MIGRANT
                today_ = clock.today()
                members[code].append(
                    member_create(
                        actor=None,
                        branch=branch,
                        name=name,
                        gender=gender,
                        birth_date=datetime.date(today_.year - age, rng.randint(1, 12), rng.randint(1, 28)),
                        joined_on=datetime.date(today_.year - rng.randint(1, max(2, age - 20)), rng.randint(1, 12), 1),
                        category=category,
                        standing=Member.Standing.PROBATIONARY if index == sizes[code] - 1 else Member.Standing.FULL,
                        group=rng.choice(GROUPS),
                        phone=f"13{rng.randint(100000000, 999999999)}",
                        address=f"{branch.name.removesuffix('党支部')}{rng.choice(GROUPS)}{rng.randint(1, 80)}号",
                    )
                )
        member_user = self._user("member", "张海燕", password)
        members["shancha"][1].user = member_user
        members["shancha"][1].save(update_fields=["user"])

        rules = {rule.code: rule for rule in ScoringRule.objects.all()}
        quarters = recent_quarters(clock.today())
        for code, branch in branches.items():
            self._fill_branch(
                rng, branch, members[code], rules, deciders[code], quarters, member_user if code == "shancha" else None
            )
        self._feedback(branches["shancha"], members["shancha"], deciders["shancha"][1])

    # ------------------------------------------------------------------------------------------
    def _feedback(self, branch, members, committee) -> None:
        """Villagers' feedback (群众反映) for the walk-through: open items, an answered one, and an
        objection to the posted quarter whose window has just closed, still to be answered."""
        review_services.feedback_submit(
            branch=branch, member=members[3], body="他家在进村路边堆了一冬天的柴草，车过不去", contact="136****2210"
        )
        review_services.feedback_submit(branch=branch, body="村委会门前的宣传栏被风刮倒了，没人扶", anonymous=True)
        answered = review_services.feedback_submit(
            branch=branch, member=members[5], body="说他没交党费，其实交了，收据在他家里"
        )
        review_services.feedback_resolve(
            actor=committee, feedback=answered, resolution="no_action", note="经核实已按时交纳，收据已查看，不予扣分"
        )
        posted = Period.objects.filter(branch=branch, state=Period.State.POSTED).order_by("-year", "-quarter").first()
        if posted is not None:
            review_services.feedback_submit(
                branch=branch, period=posted, member=members[0], body="王学恩理发只理到八月，九月没理，20分多了"
            )
            # The window closed yesterday: the quarter can be finalised once the objection is answered.
            Period.objects.filter(pk=posted.pk).update(posting_ends_on=clock.today() - datetime.timedelta(days=1))

    # ------------------------------------------------------------------------------------------
    def _fill_branch(self, rng, branch, members, rules, deciders, quarters, member_user) -> None:
        secretary, committee = deciders
        granted_years: set[int] = set()
        signed_events: list[PointEvent] = []
        for position, (year, quarter) in enumerate(quarters):
            start, end = quarter_bounds(year, quarter)
            last_day = min(end, clock.today())
            is_current = position == len(quarters) - 1
            if year not in granted_years:
                services.base_points_grant(
                    actor=secretary, branch=branch, year=year, on=start + datetime.timedelta(days=14)
                )
                granted_years.add(year)

            def day(rng=rng, start=start, last_day=last_day):
                return start + datetime.timedelta(days=rng.randint(0, (last_day - start).days))

            entries: list[PointEvent] = []
            for member in members:
                if rng.random() < 0.85:
                    entries.append(
                        services.claim_record(
                            actor=secretary,
                            member=member,
                            rule=rules["A06"],
                            occurred_on=day(),
                            account="本季度按时足额交纳党费",
                            place="村党群服务中心",
                        )
                    )
                if rng.random() < 0.35:
                    entries.append(
                        services.claim_record(
                            actor=secretary,
                            member=member,
                            rule=rules["A01"],
                            occurred_on=min(end, clock.today()),
                            account="责任区一个季度保持干净，经村民小组长确认",
                            place=member.group or "村内",
                            entry_method=PointEvent.EntryMethod.TYPED_IN if member.user_id else None,
                        )
                    )
                if rng.random() < 0.2:
                    entries.append(
                        services.claim_record(
                            actor=secretary,
                            member=member,
                            rule=rules["A08"],
                            occurred_on=day(),
                            account="协助调解邻里宅基地纠纷，双方达成和解",
                            place=member.group or "村内",
                        )
                    )
            if quarter == 1:  # the snow of January: one event per participant
                snow_day = datetime.date(year, 1, 20)
                if snow_day <= clock.today():
                    for member in rng.sample(members, k=min(12, len(members))):
                        entries.append(
                            services.claim_record(
                                actor=secretary,
                                member=member,
                                rule=rules["A02"],
                                occurred_on=snow_day,
                                account="大雪阻路，参加支部组织的铲雪，清理进村主干道",
                                place="进村主干道",
                                entry_method=PointEvent.EntryMethod.GROUP,
                            )
                        )
            if branch.code == "shancha":
                entries.append(
                    services.claim_record(
                        actor=secretary,
                        member=members[0],
                        rule=rules["A03"],
                        occurred_on=last_day,
                        account="整个季度坚持每周为村里老人义务理发",
                        place="山岔村村委会门前",
                    )
                )
            if member_user is not None:
                own = next(m for m in members if m.user_id == member_user.pk)
                with contextlib.suppress(ValidationError):
                    entries.append(
                        services.claim_record(
                            actor=member_user,
                            member=own,
                            rule=rules["A05"],
                            occurred_on=day(),
                            account="参加主题党日活动，到敬老院打扫卫生",
                            place="乡敬老院",
                        )
                    )
            for member in rng.sample(members, k=max(1, len(members) // 12)):
                rule = rng.choice([rules["D01"], rules["D02"], rules["D03"], rules["D04"]])
                entries.append(
                    services.deduction_add(
                        actor=committee,
                        member=member,
                        rule=rule,
                        occurred_on=day(),
                        reason={
                            "D01": "无故缺席支部党员大会",
                            "D02": "党费逾期两个月未交",
                            "D03": "群众反映其占用村道堆放柴草，经核实属实",
                            "D04": "在河道乱倒建筑垃圾",
                        }[rule.code],
                    )
                )
            if position == 1 and branch.code in ("shancha", "xichuan"):
                # a serious violation: one member's year total goes negative
                entries.append(
                    services.deduction_add(
                        actor=committee,
                        member=members[-2],
                        rule=rules["D05"],
                        occurred_on=day(),
                        reason="受到党内警告处分",
                        points="30",
                    )
                )
            base_entries = list(
                PointEvent.objects.filter(
                    branch=branch,
                    period__year=year,
                    period__quarter=quarter,
                    entry_method=PointEvent.EntryMethod.BASE,
                    status=PointEvent.Status.PENDING,
                )
            )

            # Decide: everything in closed quarters; most of the quarter under review; some now.
            share = 1.0 if position < len(quarters) - 2 else (0.8 if not is_current else 0.5)
            for event in base_entries + entries:
                if rng.random() > share:
                    continue
                decider = committee if secretary.pk in (event.entered_by_id, event.claimed_by_id) else secretary
                roll = rng.random()
                if event.kind == Kind.BASE and event.member_id == members[-2].pk:
                    services.event_reject(
                        actor=decider, event=event, reason="全年无故缺席组织生活三次以上，基础分不予认定"
                    )
                elif roll < 0.08 and event.kind != Kind.BASE:
                    services.event_reject(actor=decider, event=event, reason="经核实与事实不符")
                elif roll < 0.12 and event.kind == Kind.BONUS and event.rule.default_points > 1:
                    services.event_adjust(
                        actor=decider,
                        event=event,
                        points=event.rule.default_points / 2,
                        reason="只完成了一半，按一半计分",
                    )
                else:
                    services.event_approve(actor=decider, event=event)

            period = Period.objects.get(branch=branch, year=year, quarter=quarter)
            if position < len(quarters) - 2:
                services.period_start_review(actor=committee, period=period)
                period = services.period_sign(actor=secretary, period=period)
                period = services.period_post(actor=committee, period=period)
                signed_events.extend(
                    PointEvent.objects.filter(period=period, status=PointEvent.Status.APPROVED, kind=Kind.BONUS)[:1]
                )
                if position == 0:
                    # the posting window of the oldest quarter is long over: close it
                    Period.objects.filter(pk=period.pk).update(
                        posted_at=period.signed_at, posting_ends_on=end + datetime.timedelta(days=20)
                    )
                    services.period_finalise(actor=committee, period=period)
            elif position == len(quarters) - 2:
                services.period_start_review(actor=committee, period=period)

        # A mistake found after signing is corrected in the open quarter, pointing at the original.
        if signed_events and branch.code == "shancha":
            original = signed_events[0]
            services.event_correct(
                actor=committee,
                original=original,
                points=original.points - Decimal("1") if original.points > 1 else Decimal("0.5"),
                reason="复核发现多记1分",
            )
