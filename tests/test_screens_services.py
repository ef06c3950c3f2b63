"""Group activities and meetings: the new ledger services behind the secretary's screens."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from ledger.book import services
from ledger.meetings.services import meeting_record
from ledger.models import Attendance, AuditEntry, Meeting, PointEvent
from tests import factories

DAY = datetime.date(2026, 11, 20)


@pytest.fixture
def meeting_rules(world):
    world.rules.meeting = factories.rule(
        world.county, code="A04", points="2", cap_per_quarter="4", title="参加“三会一课”"
    )
    return world.rules


def _meeting(world, attendance, **kw):
    args = {
        "actor": world.secretary,
        "branch": world.branch_a,
        "type": Meeting.Type.GENERAL,
        "held_on": DAY,
        "topic": "学习党章",
        "place": "村委会",
        "attendance_rule": world.rules.meeting,
        "absence_rule": world.rules.absent,
        "attendance": attendance,
    }
    args.update(kw)
    return meeting_record(**args)


def test_group_activity_records_one_event_per_participant(world, frozen_today):
    events = services.group_activity_record(
        actor=world.secretary,
        branch=world.branch_a,
        members=[world.wang, world.zhang, world.li],
        rule=world.rules.snow,
        occurred_on=DAY,
        account="大雪后铲除村道积雪",
        place="村道",
    )
    assert len(events) == 3
    assert {e.entry_method for e in events} == {PointEvent.EntryMethod.GROUP}
    assert all(e.points == 1 for e in events)
    assert AuditEntry.objects.filter(action="group.record").count() == 1


def test_group_activity_is_all_or_nothing(world, frozen_today):
    services.claim_record(
        actor=world.secretary, member=world.li, rule=world.rules.snow, occurred_on=DAY, account="扫雪"
    )
    with pytest.raises(ValidationError) as exc:
        services.group_activity_record(
            actor=world.secretary,
            branch=world.branch_a,
            members=[world.wang, world.zhang, world.li],
            rule=world.rules.snow,
            occurred_on=DAY,
            account="大雪后铲除村道积雪",
        )
    assert "李秀英" in exc.value.message_dict["members"][0]
    assert PointEvent.objects.filter(rule=world.rules.snow).count() == 1  # only the earlier one


def test_group_activity_refuses_a_member_of_another_branch(world, frozen_today):
    with pytest.raises(ValidationError) as exc:
        services.group_activity_record(
            actor=world.secretary,
            branch=world.branch_a,
            members=[world.wang, world.yang],
            rule=world.rules.snow,
            occurred_on=DAY,
            account="扫雪",
        )
    assert "members" in exc.value.message_dict
    assert not PointEvent.objects.exists()


def test_group_activity_common_error_lands_on_its_field(world, frozen_today):
    with pytest.raises(ValidationError) as exc:
        services.group_activity_record(
            actor=world.secretary,
            branch=world.branch_a,
            members=[world.wang],
            rule=world.rules.snow,
            occurred_on=datetime.date(2026, 12, 1),
            account="扫雪",
        )
    assert "occurred_on" in exc.value.message_dict


def test_group_activity_needs_write_scope(world, frozen_today):
    with pytest.raises(PermissionDenied):
        services.group_activity_record(
            actor=world.other_secretary,
            branch=world.branch_a,
            members=[world.wang],
            rule=world.rules.snow,
            occurred_on=DAY,
            account="扫雪",
        )


def test_meeting_credits_deducts_and_records_excused_with_reason(world, frozen_today, meeting_rules):
    meeting = _meeting(
        world,
        {
            world.wang.pk: ("present", ""),
            world.zhang.pk: ("excused", "外出务工"),
            world.li.pk: ("absent", ""),
        },
    )
    rows = {a.member_id: a for a in Attendance.objects.filter(meeting=meeting)}
    assert rows[world.wang.pk].event.points == 2
    assert rows[world.wang.pk].event.entry_method == PointEvent.EntryMethod.MEETING
    assert rows[world.zhang.pk].event is None
    assert rows[world.zhang.pk].reason == "外出务工"
    assert rows[world.li.pk].event.points == -3
    assert rows[world.li.pk].event.kind == "deduction"
    assert PointEvent.objects.filter(dedupe_key=f"meeting:{meeting.pk}:{world.wang.pk}").exists()


def test_excused_absence_needs_a_reason(world, frozen_today, meeting_rules):
    with pytest.raises(ValidationError) as exc:
        _meeting(world, {world.wang.pk: ("excused", "  ")})
    assert "王学恩" in exc.value.message_dict["attendance"][0]
    assert not Meeting.objects.exists()


def test_meeting_cannot_be_recorded_twice(world, frozen_today, meeting_rules):
    _meeting(world, {world.wang.pk: ("present", "")})
    with pytest.raises(ValidationError) as exc:
        _meeting(world, {world.wang.pk: ("present", "")})
    assert "held_on" in exc.value.message_dict
    assert PointEvent.objects.count() == 1


def test_self_declared_claim_after_meeting_is_a_double_claim(world, frozen_today, meeting_rules):
    _meeting(world, {world.zhang.pk: ("present", "")})
    with pytest.raises(ValidationError) as exc:
        services.claim_record(
            actor=world.member_user,
            member=world.zhang,
            rule=world.rules.meeting,
            occurred_on=DAY,
            account="参加党员大会",
        )
    message = exc.value.message_dict["rule"][0]
    assert "会议考勤" in message and "重复申报" in message


def test_meeting_after_self_declared_claim_links_it_instead_of_crediting_twice(world, frozen_today, meeting_rules):
    claim = services.claim_record(
        actor=world.member_user, member=world.zhang, rule=world.rules.meeting, occurred_on=DAY, account="参加党员大会"
    )
    meeting = _meeting(world, {world.zhang.pk: ("present", ""), world.wang.pk: ("present", "")})
    assert Attendance.objects.get(meeting=meeting, member=world.zhang).event == claim
    assert PointEvent.objects.filter(member=world.zhang, rule=world.rules.meeting).count() == 1


def test_meeting_over_the_cap_records_attendance_without_points(world, frozen_today, meeting_rules):
    _meeting(world, {world.wang.pk: ("present", "")}, held_on=datetime.date(2026, 11, 2))
    _meeting(world, {world.wang.pk: ("present", "")}, held_on=datetime.date(2026, 11, 9))
    third = _meeting(world, {world.wang.pk: ("present", "")}, held_on=datetime.date(2026, 11, 16))
    row = Attendance.objects.get(meeting=third)
    assert row.event is None and row.status == "present"
    assert third.notes and "上限" in third.notes[0]


def test_meeting_refuses_member_of_another_branch(world, frozen_today, meeting_rules):
    with pytest.raises(ValidationError) as exc:
        _meeting(world, {world.yang.pk: ("present", "")})
    assert "attendance" in exc.value.message_dict


def test_meeting_only_by_committee(world, frozen_today, meeting_rules):
    with pytest.raises(PermissionDenied):
        _meeting(world, {world.wang.pk: ("present", "")}, actor=world.member_user)
    with pytest.raises(PermissionDenied):
        _meeting(world, {world.wang.pk: ("present", "")}, actor=world.other_secretary)


def test_meeting_in_the_future_refused(world, frozen_today, meeting_rules):
    with pytest.raises(ValidationError) as exc:
        _meeting(world, {world.wang.pk: ("present", "")}, held_on=datetime.date(2026, 12, 24))
    assert "held_on" in exc.value.message_dict
