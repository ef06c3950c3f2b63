"""The quarterly review beyond single decisions: feedback, objections, marks, the posting window."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from ledger.book import services
from ledger.models import AuditEntry, Feedback, Period, PointEvent, ReviewMark
from ledger.review import services as review_services

Q3_DAY = datetime.date(2026, 8, 10)


def _claim(world, member=None, rule=None, day=Q3_DAY, actor=None):
    return services.claim_record(
        actor=actor or world.secretary,
        member=member or world.wang,
        rule=rule or world.rules.clean,
        occurred_on=day,
        account="责任区一个季度保持干净",
    )


def _signed_posted(world, frozen_today):
    """Q3 with one approved entry, signed and posted with a 7-day window (to 2026-11-30)."""
    event = _claim(world)
    services.event_approve(actor=world.committee, event=event)
    period = services.period_sign(actor=world.secretary, period=event.period)
    period = services.period_post(actor=world.committee, period=period)
    return period, event


# --- feedback_submit ---------------------------------------------------------------------------


def test_feedback_submit_keeps_what_the_villager_wrote_and_draws_a_code(world):
    feedback = review_services.feedback_submit(
        branch=world.branch_a, body="  王学恩在村道上堆放柴草  ", member=world.wang, contact="13900001111"
    )
    assert feedback.body == "王学恩在村道上堆放柴草"
    assert feedback.contact == "13900001111"
    assert len(feedback.reference) == review_services.REFERENCE_LENGTH
    assert set(feedback.reference) <= set(review_services.REFERENCE_ALPHABET)
    assert review_services.feedback_find(feedback.reference.lower()) == feedback


def test_feedback_submit_anonymous_keeps_no_contact(world):
    feedback = review_services.feedback_submit(
        branch=world.branch_a, body="有党员乱倒垃圾", contact="13900001111", anonymous=True
    )
    assert feedback.anonymous and feedback.contact == ""


@pytest.mark.parametrize(
    ("body", "contact", "field"),
    [("", "", "body"), ("   ", "", "body"), ("字" * 1001, "", "body"), ("有事", "9" * 51, "contact")],
)
def test_feedback_submit_refuses_empty_or_too_long(world, body, contact, field):
    with pytest.raises(ValidationError) as exc:
        review_services.feedback_submit(branch=world.branch_a, body=body, contact=contact)
    assert field in exc.value.message_dict
    assert Feedback.objects.count() == 0


def test_feedback_submit_refuses_a_member_of_another_branch(world):
    with pytest.raises(ValidationError) as exc:
        review_services.feedback_submit(branch=world.branch_a, body="有事", member=world.yang)
    assert "member" in exc.value.message_dict


def test_objection_only_during_the_posting_window(world, frozen_today):
    period, _event = _signed_posted(world, frozen_today)
    objection = review_services.feedback_submit(branch=world.branch_a, body="王学恩的卫生区并不干净", period=period)
    assert objection.is_objection
    frozen_today(datetime.date(2026, 12, 1))  # the window ended on 2026-11-30
    with pytest.raises(ValidationError) as exc:
        review_services.feedback_submit(branch=world.branch_a, body="还有异议", period=period)
    assert "period" in exc.value.message_dict


def test_objection_refused_for_a_quarter_not_posted(world, frozen_today):
    event = _claim(world)
    with pytest.raises(ValidationError):
        review_services.feedback_submit(branch=world.branch_a, body="异议", period=event.period)


# --- deductions from feedback ------------------------------------------------------------------


def test_deduction_from_feedback_links_both_ways_and_is_audited(world, frozen_today):
    feedback = review_services.feedback_submit(branch=world.branch_a, body="占用村道堆放柴草", member=world.wang)
    event = review_services.feedback_deduction_add(
        actor=world.committee,
        feedback=feedback,
        member=world.wang,
        rule=world.rules.absent,
        occurred_on=Q3_DAY,
        reason="群众反映占用村道，经核实属实",
    )
    event.refresh_from_db()
    assert event.feedback == feedback
    assert list(feedback.events.all()) == [event]
    assert event.entry_method == PointEvent.EntryMethod.COMMITTEE and event.points == -3
    assert AuditEntry.objects.filter(action="feedback.deduction", object_id=feedback.pk).exists()
    # Nobody decides their own entry: the committee member who entered it can't approve it.
    with pytest.raises(ValidationError):
        services.event_approve(actor=world.committee, event=event)
    services.event_approve(actor=world.secretary, event=event)


def test_deduction_from_feedback_needs_a_reason_and_changes_nothing(world, frozen_today):
    feedback = review_services.feedback_submit(branch=world.branch_a, body="占用村道", member=world.wang)
    with pytest.raises(ValidationError):
        review_services.feedback_deduction_add(
            actor=world.committee,
            feedback=feedback,
            member=world.wang,
            rule=world.rules.absent,
            occurred_on=Q3_DAY,
            reason="  ",
        )
    assert PointEvent.objects.count() == 0


def test_deduction_from_feedback_refused_to_another_branch_and_to_officers(world, frozen_today):
    feedback = review_services.feedback_submit(branch=world.branch_a, body="占用村道", member=world.wang)
    for actor in (world.other_secretary, world.township_officer, world.member_user):
        with pytest.raises(PermissionDenied):
            review_services.feedback_deduction_add(
                actor=actor,
                feedback=feedback,
                member=world.wang,
                rule=world.rules.absent,
                occurred_on=Q3_DAY,
                reason="理由",
            )
    assert PointEvent.objects.count() == 0


def test_deduction_from_feedback_refuses_a_member_of_another_branch(world, frozen_today):
    feedback = review_services.feedback_submit(branch=world.branch_a, body="占用村道")
    with pytest.raises((ValidationError, PermissionDenied)):
        review_services.feedback_deduction_add(
            actor=world.committee,
            feedback=feedback,
            member=world.yang,
            rule=world.rules.absent,
            occurred_on=Q3_DAY,
            reason="理由",
        )
    assert PointEvent.objects.count() == 0


# --- resolving ---------------------------------------------------------------------------------


def test_resolve_needs_a_note_and_a_known_resolution(world):
    feedback = review_services.feedback_submit(branch=world.branch_a, body="有事")
    with pytest.raises(ValidationError) as exc:
        review_services.feedback_resolve(actor=world.committee, feedback=feedback, resolution="no_action", note=" ")
    assert "note" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        review_services.feedback_resolve(actor=world.committee, feedback=feedback, resolution="whatever", note="好")
    assert "resolution" in exc.value.message_dict
    feedback.refresh_from_db()
    assert not feedback.is_resolved


def test_resolve_as_deduction_needs_a_linked_deduction(world, frozen_today):
    feedback = review_services.feedback_submit(branch=world.branch_a, body="占用村道", member=world.wang)
    with pytest.raises(ValidationError) as exc:
        review_services.feedback_resolve(
            actor=world.committee, feedback=feedback, resolution="deduction", note="已扣分"
        )
    assert "resolution" in exc.value.message_dict
    review_services.feedback_deduction_add(
        actor=world.committee,
        feedback=feedback,
        member=world.wang,
        rule=world.rules.absent,
        occurred_on=Q3_DAY,
        reason="核实属实",
    )
    feedback = review_services.feedback_resolve(
        actor=world.committee, feedback=feedback, resolution="deduction", note="经核实属实，已扣3分"
    )
    assert feedback.is_resolved and feedback.resolved_by == world.committee


def test_resolved_feedback_cannot_be_answered_again(world):
    feedback = review_services.feedback_submit(branch=world.branch_a, body="有事")
    review_services.feedback_resolve(
        actor=world.committee, feedback=feedback, resolution="passed_on", note="已转交乡里"
    )
    with pytest.raises(ValidationError):
        review_services.feedback_resolve(actor=world.secretary, feedback=feedback, resolution="no_action", note="改")
    feedback.refresh_from_db()
    assert feedback.resolution == "passed_on"


def test_resolve_refused_outside_scope(world):
    feedback = review_services.feedback_submit(branch=world.branch_a, body="有事")
    for actor in (world.other_secretary, world.county_officer, world.member_user):
        with pytest.raises(PermissionDenied):
            review_services.feedback_resolve(actor=actor, feedback=feedback, resolution="no_action", note="无")


# --- posting window and objections -------------------------------------------------------------


def test_final_only_after_the_window_and_every_objection_answered(world, frozen_today):
    period, event = _signed_posted(world, frozen_today)
    objection = review_services.feedback_submit(branch=world.branch_a, body="卫生区不干净", period=period)
    with pytest.raises(ValidationError):  # window still open
        services.period_finalise(actor=world.committee, period=period)
    frozen_today(datetime.date(2026, 12, 1))
    with pytest.raises(ValidationError) as exc:  # an objection unanswered
        services.period_finalise(actor=world.committee, period=period)
    assert objection.reference in exc.value.messages[0]
    review_services.feedback_resolve(
        actor=world.committee, feedback=objection, resolution="no_action", note="经村民小组长核实，卫生区干净"
    )
    period = services.period_finalise(actor=world.committee, period=period)
    assert period.state == Period.State.FINAL


def test_upheld_objection_is_an_adjusting_entry_not_an_edit(world, frozen_today):
    period, event = _signed_posted(world, frozen_today)
    objection = review_services.feedback_submit(branch=world.branch_a, body="王学恩只打扫了一半", period=period)
    with pytest.raises(ValidationError):  # "corrected" needs the correction first
        review_services.feedback_resolve(actor=world.committee, feedback=objection, resolution="corrected", note="更正")
    correction = review_services.objection_correction_add(
        actor=world.committee, feedback=objection, original=event, points="5", reason="经核实只打扫了一半"
    )
    assert correction.corrects == event and correction.points == -5
    assert correction.period.quarter == 4 and correction.feedback_id == objection.pk
    event.refresh_from_db()
    assert event.points == 10  # the signed entry is untouched
    review_services.feedback_resolve(
        actor=world.committee, feedback=objection, resolution="corrected", note="异议成立，已在第四季度更正"
    )


def test_ordinary_feedback_cannot_be_answered_as_corrected(world):
    feedback = review_services.feedback_submit(branch=world.branch_a, body="有事")
    with pytest.raises(ValidationError):
        review_services.feedback_resolve(actor=world.committee, feedback=feedback, resolution="corrected", note="无")


def test_correction_only_for_the_objected_quarter(world, frozen_today):
    period, event = _signed_posted(world, frozen_today)
    feedback = review_services.feedback_submit(branch=world.branch_a, body="一般反映")
    with pytest.raises(ValidationError):
        review_services.objection_correction_add(
            actor=world.committee, feedback=feedback, original=event, points="5", reason="理由"
        )


# --- review marks ------------------------------------------------------------------------------


def test_review_mark_is_idempotent_and_committee_only(world, frozen_today):
    period = _claim(world).period
    review_services.review_mark(actor=world.committee, period=period)
    review_services.review_mark(actor=world.committee, period=period)
    assert ReviewMark.objects.filter(period=period).count() == 1
    for actor in (world.township_officer, world.other_secretary, world.member_user):
        with pytest.raises(PermissionDenied):
            review_services.review_mark(actor=actor, period=period)


def test_review_mark_refused_on_a_signed_quarter(world, frozen_today):
    period, _event = _signed_posted(world, frozen_today)
    with pytest.raises(ValidationError):
        review_services.review_mark(actor=world.deputy, period=period)
