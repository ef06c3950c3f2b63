"""Factories for the domain: a county → township → branch tree, members, rules, users."""

import datetime
import itertools
from decimal import Decimal

from django.contrib.auth import get_user_model

from branches.models import Organisation, RoleAssignment
from branches.services import organisation_create, role_assign
from ledger.models import Kind, ScoringRule
from members.models import Member
from members.services import member_create

_counter = itertools.count(1)

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN = ["学恩", "建国", "秀英", "海燕", "振华", "桂兰", "国强", "玉珍", "长生", "春花"]


def user(username: str | None = None, *, password: str = "pw-for-tests-1", **extra):
    username = username or f"user{next(_counter)}"
    u = get_user_model().objects.create_user(username=username, password=password, **extra)
    return u


def county(name: str = "卢氏县") -> Organisation:
    return organisation_create(name=name, code=f"county{next(_counter)}", level=Organisation.Level.COUNTY)


def township(parent: Organisation | None = None, name: str = "潘河乡") -> Organisation:
    return organisation_create(
        name=name, code=f"township{next(_counter)}", level=Organisation.Level.TOWNSHIP, parent=parent or county()
    )


def branch(parent: Organisation | None = None, name: str = "山岔村党支部") -> Organisation:
    return organisation_create(
        name=name, code=f"branch{next(_counter)}", level=Organisation.Level.BRANCH, parent=parent or township()
    )


def member(branch_: Organisation, name: str | None = None, **fields) -> Member:
    n = next(_counter)
    name = name or SURNAMES[n % len(SURNAMES)] + GIVEN[n % len(GIVEN)] + ("" if n < 200 else str(n))
    fields.setdefault("gender", Member.Gender.MALE)
    fields.setdefault("birth_date", datetime.date(1960, 5, 1))
    fields.setdefault("phone", f"139{n:08d}")
    return member_create(actor=None, branch=branch_, name=name, **fields)


def rule(
    organisation: Organisation,
    *,
    code: str | None = None,
    kind: str = Kind.BONUS,
    points: str = "2",
    cap_per_quarter: str | None = None,
    cap_per_year: str | None = None,
    title: str | None = None,
    evidence_required: bool = False,
) -> ScoringRule:
    n = next(_counter)
    return ScoringRule.objects.create(
        organisation=organisation,
        code=code or f"R{n}",
        title=title or f"细则{n}",
        kind=kind,
        default_points=Decimal(points),
        cap_per_quarter=Decimal(cap_per_quarter) if cap_per_quarter else None,
        cap_per_year=Decimal(cap_per_year) if cap_per_year else None,
        evidence_required=evidence_required,
    )


def role(user_, organisation: Organisation, role_: str) -> RoleAssignment:
    return role_assign(user=user_, organisation=organisation, role=role_)
