"""The committee's actions on the quarter review page and the feedback answer page.

One small form per action, and one table per page from the action's name to its form, the
service call it makes and the permission it needs (``review_selectors.branch_permissions``).
The admin views only parse which button was pressed and dispatch through the table.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ledger.book import services
from ledger.book.models import Kind, Period, PointEvent, ScoringRule
from ledger.review import services as review_services
from ledger.review.models import Feedback
from ledger.review.selectors import DECIDE, SIGN
from members.models import Member

#: (message level, text) pairs an action reports back to the page.
Notes = list[tuple[int, str]]


class ActionForm(forms.Form):
    """An action on one page object (a quarter or a feedback item), done by ``user``.

    ``lookups`` are the fields naming an object: a value outside the user's scope answers 404,
    as everywhere else, rather than a form error."""

    lookups: tuple[str, ...] = ()

    def __init__(self, data, *, user, period: Period | None = None, feedback: Feedback | None = None):
        super().__init__(data)
        self.user = user
        self.period = period
        self.feedback = feedback

    def run(self) -> Notes:
        raise NotImplementedError


# --- the quarter review page -----------------------------------------------------------------


class EventDecisionForm(ActionForm):
    lookups = ("event",)
    event = forms.ModelChoiceField(queryset=PointEvent.objects.none())
    reason = forms.CharField(required=False, strip=False)

    def __init__(self, data, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["event"].queryset = (
            PointEvent.objects.writable_by(self.user).filter(period=self.period).select_related("member")
        )


class ApproveForm(EventDecisionForm):
    def run(self) -> Notes:
        event = self.cleaned_data["event"]
        services.event_approve(actor=self.user, event=event, reason=self.cleaned_data["reason"])
        return [(messages.SUCCESS, _("已通过：%(event)s") % {"event": event})]


class RejectForm(EventDecisionForm):
    def run(self) -> Notes:
        event = self.cleaned_data["event"]
        services.event_reject(actor=self.user, event=event, reason=self.cleaned_data["reason"])
        return [(messages.SUCCESS, _("未通过：%(event)s") % {"event": event})]


class AdjustForm(EventDecisionForm):
    points = forms.CharField(required=False)  # cleaned by the service, with its message

    def run(self) -> Notes:
        event = services.event_adjust(
            actor=self.user,
            event=self.cleaned_data["event"],
            points=self.cleaned_data["points"],
            reason=self.cleaned_data["reason"],
        )
        text = _("已调整：%(name)s %(rule)s，原 %(old)s → %(new)s") % {
            "name": event.member.name,
            "rule": event.rule.title,
            "old": event.original_points,
            "new": event.points_display,
        }
        return [(messages.SUCCESS, text)]


class BulkDecisionForm(ActionForm):
    lookups = ("action",)
    action = forms.ChoiceField(choices=[("approve", "approve"), ("reject", "reject")])
    ids = forms.Field(required=False, widget=forms.MultipleHiddenInput)
    reason = forms.CharField(required=False, strip=False)

    def clean(self):
        data = super().clean()
        ids = [i for i in (data.get("ids") or []) if str(i).isdigit()]
        chosen = PointEvent.objects.writable_by(self.user).filter(period=self.period, pk__in=ids).order_by("id")
        if not chosen.exists():
            raise forms.ValidationError(_("请先勾选要审核的条目。"))
        if data.get("action") == "reject" and not (data.get("reason") or "").strip():
            self.add_error("reason", _("不通过必须写明理由。"))
        data["events"] = chosen.select_related("member")
        return data

    def run(self) -> Notes:
        done, refusals = services.events_decide_bulk(
            actor=self.user,
            events=self.cleaned_data["events"],
            action=self.cleaned_data["action"],
            reason=self.cleaned_data["reason"],
        )
        notes: Notes = []
        if done:
            notes.append((messages.SUCCESS, _("已处理 %(count)d 条。") % {"count": done}))
        notes.extend((messages.ERROR, refusal) for refusal in refusals)
        return notes


class DeductionForm(ActionForm):
    """A deduction entered by a committee member (from the review page, or from a feedback item)."""

    member = forms.ModelChoiceField(
        queryset=Member.objects.none(),
        error_messages={
            "required": gettext_lazy("请选择本支部的党员。"),
            "invalid_choice": gettext_lazy("请选择本支部的党员。"),
        },
    )
    rule = forms.ModelChoiceField(
        queryset=ScoringRule.objects.none(),
        error_messages={
            "required": gettext_lazy("请选择扣分类细则。"),
            "invalid_choice": gettext_lazy("请选择扣分类细则。"),
        },
    )
    occurred_on = forms.DateField(
        input_formats=["%Y-%m-%d"],
        error_messages={"required": gettext_lazy("请填写发生日期。"), "invalid": gettext_lazy("请填写发生日期。")},
    )
    reason = forms.CharField(required=False, strip=False)
    points = forms.CharField(required=False, strip=False)

    def __init__(self, data, **kwargs):
        super().__init__(data, **kwargs)
        branch_id = self.feedback.branch_id if self.feedback else self.period.branch_id
        self.fields["member"].queryset = Member.objects.writable_by(self.user).filter(branch_id=branch_id)
        self.fields["rule"].queryset = ScoringRule.objects.visible_to(self.user).filter(kind=Kind.DEDUCTION)

    def deduction_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "member": data["member"],
            "rule": data["rule"],
            "occurred_on": data["occurred_on"],
            "reason": data["reason"],
            "points": data["points"] or None,
        }

    def run(self) -> Notes:
        feedback = self.feedback or self.cleaned_data.get("feedback")
        if feedback is not None:
            event = review_services.feedback_deduction_add(
                actor=self.user, feedback=feedback, **self.deduction_fields()
            )
        else:
            event = services.deduction_add(actor=self.user, **self.deduction_fields())
        return [(messages.SUCCESS, _("已录入扣分（待其他支委审核）：%(event)s") % {"event": event})]


class PeriodDeductionForm(DeductionForm):
    """On the review page the deduction may name the feedback item it answers."""

    lookups = ("feedback",)
    feedback = forms.ModelChoiceField(queryset=Feedback.objects.none(), required=False)

    def __init__(self, data, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["feedback"].queryset = Feedback.objects.visible_to(self.user).filter(
            branch_id=self.period.branch_id
        )


class StartReviewForm(ActionForm):
    def run(self) -> Notes:
        services.period_start_review(actor=self.user, period=self.period)
        return [(messages.SUCCESS, _("已开始支委会审核。"))]


class ReviewMarkForm(ActionForm):
    mark_note = forms.CharField(required=False, strip=False)

    def run(self) -> Notes:
        review_services.review_mark(actor=self.user, period=self.period, note=self.cleaned_data["mark_note"])
        return [(messages.SUCCESS, _("已确认您审核过本季度。"))]


class SignForm(ActionForm):
    def run(self) -> Notes:
        period = services.period_sign(actor=self.user, period=self.period)
        return [(messages.SUCCESS, _("书记已签字，本季度已封存。校验码 %(code)s") % {"code": period.short_hash})]


class PostForm(ActionForm):
    window_days = forms.IntegerField(
        min_value=0,
        error_messages={
            "required": gettext_lazy("公示期应为 1 到 30 天。"),
            "invalid": gettext_lazy("公示期应为 1 到 30 天。"),
            "min_value": gettext_lazy("公示期应为 1 到 30 天。"),
        },
    )

    def run(self) -> Notes:
        period = services.period_post(actor=self.user, period=self.period, window_days=self.cleaned_data["window_days"])
        return [(messages.SUCCESS, _("已张榜公示，公示至 %(end)s。") % {"end": period.posting_ends_on})]


class FinaliseForm(ActionForm):
    def run(self) -> Notes:
        services.period_finalise(actor=self.user, period=self.period)
        return [(messages.SUCCESS, _("公示期满，异议均已答复，本季度已定稿。"))]


# --- the feedback answer page ----------------------------------------------------------------


class CorrectionForm(ActionForm):
    lookups = ("original",)
    original = forms.ModelChoiceField(queryset=PointEvent.objects.none())
    points = forms.CharField(required=False, strip=False)
    reason = forms.CharField(required=False, strip=False)

    def __init__(self, data, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["original"].queryset = PointEvent.objects.writable_by(self.user).filter(
            period_id=self.feedback.period_id or 0
        )

    def run(self) -> Notes:
        event = review_services.objection_correction_add(
            actor=self.user,
            feedback=self.feedback,
            original=self.cleaned_data["original"],
            points=self.cleaned_data["points"],
            reason=self.cleaned_data["reason"],
        )
        return [(messages.SUCCESS, _("已录入更正条目：%(event)s") % {"event": event})]


class ResolveForm(ActionForm):
    resolution = forms.CharField(required=False)  # checked by the service, with its message
    note = forms.CharField(required=False, strip=False)

    def run(self) -> Notes:
        review_services.feedback_resolve(
            actor=self.user,
            feedback=self.feedback,
            resolution=self.cleaned_data["resolution"],
            note=self.cleaned_data["note"],
        )
        return [(messages.SUCCESS, _("已答复。"))]


# --- the tables ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    form: type[ActionForm]
    #: the permission from ``branch_permissions`` the action needs
    permission: str


PERIOD_ACTIONS: dict[str, Action] = {
    "approve": Action(ApproveForm, DECIDE),
    "reject": Action(RejectForm, DECIDE),
    "adjust": Action(AdjustForm, DECIDE),
    "bulk": Action(BulkDecisionForm, DECIDE),
    "deduction": Action(PeriodDeductionForm, DECIDE),
    "start_review": Action(StartReviewForm, DECIDE),
    "mark": Action(ReviewMarkForm, DECIDE),
    "sign": Action(SignForm, SIGN),
    "post": Action(PostForm, DECIDE),
    "finalise": Action(FinaliseForm, DECIDE),
}

FEEDBACK_ACTIONS: dict[str, Action] = {
    "deduction": Action(DeductionForm, DECIDE),
    "correction": Action(CorrectionForm, DECIDE),
    "resolve": Action(ResolveForm, DECIDE),
}

#: Why an action is refused to a committee member who lacks its permission.
REFUSALS: dict[str, Callable[[], str]] = {
    SIGN: lambda: _("只有书记（或代行职责的副书记）可以签字。"),
}


def action_from_post(post: QueryDict, actions: dict[str, Action]) -> tuple[str | None, QueryDict]:
    """Which action a POST asks for, and the data for its form.

    Per-entry buttons are ``decide=<action>:<event id>`` with ``reason_<id>`` / ``points_<id>``
    beside them; the bulk buttons are ``bulk=<approve|reject>``; every other button is named
    after its action. An unknown name gives ``None``."""
    if "decide" in post:
        name, _sep, event_id = post["decide"].partition(":")
        data = QueryDict(mutable=True)
        data.update(
            {
                "event": event_id,
                "reason": post.get(f"reason_{event_id}", ""),
                "points": post.get(f"points_{event_id}", ""),
            }
        )
        return (name if name in ("approve", "reject", "adjust") and name in actions else None), data
    if "bulk" in post and "bulk" in actions:
        data = QueryDict(mutable=True)
        data.update({"action": post["bulk"], "reason": post.get("bulk_reason", "")})
        data.setlist("ids", post.getlist("ids"))
        return "bulk", data
    for name in actions:
        if name in post and name not in ("approve", "reject", "adjust", "bulk"):
            return name, post
    return None, post
