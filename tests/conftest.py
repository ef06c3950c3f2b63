"""The named people every test can use (STYLE.md §7), and a demo-like world around them.

- ``secretary`` and ``committee`` of branch A (山岔村), ``deputy`` of branch A
- ``other_secretary`` of branch B (西川村), in another township
- ``township_officer`` over branch A's township, ``county_officer`` over both
- ``member_user``: a member of branch A with a login
- ``villager``: anonymous
"""

import datetime
from types import SimpleNamespace

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.db import connections

from branches.models import RoleAssignment
from ledger.book import triggers
from ledger.models import Kind
from tests import factories
from tests.timetravel import village_time

Role = RoleAssignment.Role


@pytest.fixture
def world(db):
    county = factories.county("卢氏县")
    township_a = factories.township(county, "潘河乡")
    township_b = factories.township(county, "双槐树乡")
    branch_a = factories.branch(township_a, "山岔村党支部")
    branch_b = factories.branch(township_b, "西川村党支部")
    secretary = factories.user("secretary", first_name="刘振华")
    committee = factories.user("committee", first_name="陈桂兰")
    deputy = factories.user("deputy", first_name="赵德明")
    other_secretary = factories.user("other_secretary", first_name="杨国栋")
    other_committee = factories.user("other_committee", first_name="孙玉珍")
    township_officer = factories.user("township", first_name="郑文斌")
    county_officer = factories.user("county", first_name="周立新")
    member_user = factories.user("member", first_name="张海燕")
    factories.role(secretary, branch_a, Role.SECRETARY)
    factories.role(committee, branch_a, Role.COMMITTEE)
    factories.role(deputy, branch_a, Role.DEPUTY)
    factories.role(other_secretary, branch_b, Role.SECRETARY)
    factories.role(other_committee, branch_b, Role.COMMITTEE)
    factories.role(township_officer, township_a, Role.OFFICER)
    factories.role(county_officer, county, Role.OFFICER)
    wang = factories.member(branch_a, "王学恩", birth_date=datetime.date(1956, 3, 2))
    zhang = factories.member(branch_a, "张海燕", gender="female", user=member_user)
    li = factories.member(branch_a, "李秀英", gender="female")
    yang = factories.member(branch_b, "杨长生")
    rules = SimpleNamespace(
        base=factories.rule(county, code="B01", kind=Kind.BASE, points="60", cap_per_year="60", title="年度基础积分"),
        clean=factories.rule(county, code="A01", points="10", cap_per_quarter="10", title="保持绿化卫生责任区干净"),
        snow=factories.rule(county, code="A02", points="1", cap_per_quarter="10", title="参加义务扫雪"),
        haircut=factories.rule(
            county, code="A03", points="20", cap_per_quarter="20", cap_per_year="60", title="为群众义务理发"
        ),
        help=factories.rule(county, code="A07", points="5", title="帮扶困难群众", evidence_required=True),
        absent=factories.rule(county, code="D01", kind=Kind.DEDUCTION, points="3", title="无故缺席三会一课"),
        violation=factories.rule(county, code="D05", kind=Kind.DEDUCTION, points="30", title="严重违纪违规"),
    )
    return SimpleNamespace(
        county=county,
        township_a=township_a,
        township_b=township_b,
        branch_a=branch_a,
        branch_b=branch_b,
        secretary=secretary,
        committee=committee,
        deputy=deputy,
        other_secretary=other_secretary,
        other_committee=other_committee,
        township_officer=township_officer,
        county_officer=county_officer,
        member_user=member_user,
        villager=AnonymousUser(),
        wang=wang,
        zhang=zhang,
        li=li,
        yang=yang,
        rules=rules,
    )


@pytest.fixture
def frozen_today():
    """Pin the clock to mid-morning of 2026-11-23 in Asia/Shanghai; returns a setter for another day.

    Time is moved with time-machine, so ``core.clock``, Django's ``timezone.now()`` and the
    ``auto_now`` fields all agree, in every module and thread. The clock keeps ticking from the
    pinned moment, so timeouts and waits in the tests still elapse.
    """
    state = {"day": datetime.date(2026, 11, 23)}
    traveller = time_machine.travel(village_time(state["day"]), tick=True)
    coordinates = traveller.start()

    def set_day(day: datetime.date, **at):
        state["day"] = day
        coordinates.move_to(village_time(day, **at))

    set_day.day = state
    yield set_day
    traveller.stop()


def _db_kind(request) -> str | None:
    names = request.fixturenames
    marker = request.node.get_closest_marker("django_db")
    if "transactional_db" in names or "live_server" in names or (marker and marker.kwargs.get("transaction")):
        return "transactional"
    if "db" in names or marker:
        return "db"
    return None


@pytest.fixture(autouse=True)
def _ledger_triggers(request):
    """Every test runs with the ledger triggers in place.

    Transactional tests end with a flush. On SQLite that is a DELETE the row triggers refuse, so
    they are dropped just before it; on PostgreSQL it is a TRUNCATE, which the TRUNCATE guards
    refuse, so those (only those) are dropped just before it. Everything is put back at the next
    test's start. Dropping a trigger is something only the tables' owner can do — the harness
    does it as the owner; there is no switch production code could flip instead.
    """
    kind = _db_kind(request)
    if kind is None:
        yield
        return
    request.getfixturevalue("transactional_db" if kind == "transactional" else "db")
    connection = connections["default"]
    triggers.install(connection)
    yield
    if kind == "transactional":
        if connection.vendor == "sqlite":
            triggers.uninstall(connection)
        else:
            triggers.truncate_guards_uninstall(connection)
