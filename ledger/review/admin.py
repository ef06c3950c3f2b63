"""The committee's quarterly review in the admin: the review page of a branch-quarter, and the
feedback queue (群众反映) with its answer page. Thin: every change is a service call."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.admin_scope import ScopedAdmin
from core import clock
from core.quarters import quarter_bounds
from ledger.book import rules
from ledger.book.models import Kind, Period, PointEvent
from ledger.book.selectors import rules_for_branch
from ledger.review.forms import FEEDBACK_ACTIONS, PERIOD_ACTIONS, REFUSALS, Action, action_from_post
from ledger.review.models import Feedback, ReviewMark
from ledger.review.selectors import (
    DECIDE,
    SIGN,
    branch_permissions,
    event_history,
    feedback_queue,
    period_permissions,
    period_review,
    period_review_context,
)
from members.models import Member


def report(request, exc: Exception) -> None:
    text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    messages.error(request, text)


def perform_action(request, actions: dict[str, Action], permissions: frozenset[str], **page) -> None:
    """Dispatch a POST through an action table: unknown action 404, a read-only user 403, a missing
    permission or a refusal by the form or the service a message on the page."""
    if not permissions:
        raise PermissionDenied
    name, data = action_from_post(request.POST, actions)
    if name is None:
        raise Http404
    action = actions[name]
    if action.permission not in permissions:
        refusal = REFUSALS.get(action.permission)
        report(request, PermissionDenied(refusal() if refusal else _("只读：您可以查看，不能审核")))
        return
    form = action.form(data, user=request.user, **page)
    if not form.is_valid():
        if any(field in form.errors for field in form.lookups):
            raise Http404
        report(request, ValidationError([m for errors in form.errors.values() for m in errors]))
        return
    try:
        notes = form.run()
    except (ValidationError, PermissionDenied) as exc:
        report(request, exc)
        return
    for level, text in notes:
        messages.add_message(request, level, text)


class PeriodReviewMixin:
    """Adds /admin/ledger/period/<id>/review/ to PeriodAdmin."""

    def get_urls(self):
        urls = super().get_urls()
        return [
            path(
                "<int:period_id>/review/",
                self.admin_site.admin_view(self.review_view),
                name="ledger_period_review",
            ),
            *urls,
        ]

    @admin.display(description=gettext_lazy("审核"))
    def review_link(self, obj):
        url = reverse("admin:ledger_period_review", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("季度审核"))

    def review_view(self, request, period_id: int):
        period = get_object_or_404(Period.objects.visible_to(request.user).select_related("branch"), pk=period_id)
        permissions = period_permissions(request.user, period)
        if request.method == "POST":
            perform_action(request, PERIOD_ACTIONS, permissions, period=period)
            return HttpResponseRedirect(request.get_full_path())
        writable = DECIDE in permissions
        summary = period_review(period)
        extra = period_review_context(period)
        _start, end = quarter_bounds(period.year, period.quarter)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("%(branch)s %(period)s 支委会审核") % {"branch": period.branch.name, "period": period.label},
            "period": period,
            "summary": summary,
            "kinds": Kind.choices,
            "writable": writable,
            "can_sign": SIGN in permissions,
            "deduction_date": min(end, clock.today()).isoformat(),
            "window_days": period.branch.posting_window_days,
            "posting_open": rules.posting_open(period),
            **extra,
        }
        return TemplateResponse(request, "admin/ledger/period/review.html", context)


@admin.register(Feedback)
class FeedbackAdmin(ScopedAdmin):
    """The committee's queue of villagers' feedback and objections; answered on its own page."""

    list_display = (
        "reference",
        "submitted_at",
        "branch",
        "member",
        "kind_column",
        "short_body",
        "status_column",
        "answer_link",
    )
    # Related-only: the choices come from the scoped queryset, never naming other branches.
    list_filter = (
        ("branch", admin.RelatedOnlyFieldListFilter),
        ("resolved_at", admin.EmptyFieldListFilter),
        "resolution",
    )
    search_fields = ("reference", "body", "member__name")
    list_per_page = 50
    readonly_fields = (
        "reference",
        "branch",
        "member",
        "period",
        "body",
        "contact",
        "anonymous",
        "submitted_at",
        "resolution",
        "note",
        "resolved_by",
        "resolved_at",
        "trail",
    )

    def get_queryset(self, request):
        return feedback_queue(super().get_queryset(request))

    def get_fields(self, request, obj=None):
        # The contact is for the branch committee that checks the report, not for the officers above.
        fields = list(self.readonly_fields)
        if obj is None or not self.in_write_scope(request, obj):
            fields.remove("contact")
        return fields

    def has_add_permission(self, request):
        return False  # feedback comes from the public form

    def has_change_permission(self, request, obj=None):
        return False  # answered through the answer page, never edited

    @admin.display(description=gettext_lazy("类型"))
    def kind_column(self, obj):
        return _("异议") if obj.is_objection else _("反映")

    @admin.display(description=gettext_lazy("内容"))
    def short_body(self, obj):
        return obj.body if len(obj.body) <= 40 else obj.body[:40] + "…"

    @admin.display(description=gettext_lazy("状态"), ordering="resolved_at")
    def status_column(self, obj):
        if obj.is_resolved:
            return obj.get_resolution_display()
        return format_html("<strong>{}</strong>", _("待答复"))

    @admin.display(description=gettext_lazy("处理"))
    def answer_link(self, obj):
        url = reverse("admin:ledger_feedback_answer", args=[obj.pk])
        label = _("查看") if obj.is_resolved else _("处理")
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description=gettext_lazy("相关积分条目"))
    def trail(self, obj):
        rows = [
            format_html(
                '<li><a href="{}">#{}</a> {} {} {}（{}）</li>',
                reverse("admin:ledger_pointevent_change", args=[e.pk]),
                e.pk,
                e.member.name,
                e.rule.title,
                e.points_display,
                e.get_status_display(),
            )
            for e in obj.events.select_related("member", "rule").order_by("id")
        ]
        return format_html("<ul>{}</ul>", mark_safe("".join(rows))) if rows else "—"  # rows escaped above

    def get_urls(self):
        return [
            path(
                "<int:feedback_id>/answer/",
                self.admin_site.admin_view(self.answer_view),
                name="ledger_feedback_answer",
            ),
            *super().get_urls(),
        ]

    def answer_view(self, request, feedback_id: int):
        feedback = get_object_or_404(
            Feedback.objects.visible_to(request.user).select_related("branch", "member", "period", "resolved_by"),
            pk=feedback_id,
        )
        permissions = branch_permissions(request.user, feedback.branch)
        if request.method == "POST":
            perform_action(request, FEEDBACK_ACTIONS, permissions, feedback=feedback)
            return HttpResponseRedirect(request.get_full_path())
        writable = DECIDE in permissions
        original_choices = []
        if feedback.period_id:
            original_choices = list(
                PointEvent.objects.visible_to(request.user)
                .filter(period_id=feedback.period_id, corrects__isnull=True)
                .select_related("member", "rule")
                .order_by("member__name_pinyin", "occurred_on")
            )
        resolutions = [
            (value, label)
            for value, label in Feedback.Resolution.choices
            if feedback.is_objection or value != Feedback.Resolution.CORRECTED
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("群众反映 %(ref)s") % {"ref": feedback.reference},
            "feedback": feedback,
            "events": list(feedback.events.select_related("member", "rule", "period").order_by("id")),
            "writable": writable,
            "show_contact": writable,
            "resolutions": resolutions,
            "original_choices": original_choices,
            "members": list(
                Member.objects.writable_by(request.user)
                .filter(branch_id=feedback.branch_id, status="active")
                .order_by("name_strokes", "name_pinyin")
            )
            if writable
            else [],
            "deduction_rules": list(rules_for_branch(feedback.branch, kind=Kind.DEDUCTION).order_by("code"))
            if writable
            else [],
            "deduction_date": clock.today().isoformat(),
        }
        return TemplateResponse(request, "admin/ledger/feedback/answer.html", context)


@admin.register(ReviewMark)
class ReviewMarkAdmin(ScopedAdmin):
    list_display = ("period", "user", "marked_at", "note")
    list_select_related = ("period", "period__branch", "user")
    writable = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def event_history_table(event: PointEvent) -> str:
    """The audit trail of an entry as an HTML table (used by PointEventAdmin.history)."""
    rows = []
    for entry in event_history(event):
        correction = entry.object_id != event.pk
        rows.append(
            format_html(
                "<tr><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td></tr>",
                entry.at.strftime("%Y-%m-%d %H:%M"),
                (entry.actor.get_full_name() or entry.actor.username) if entry.actor else _("系统"),
                format_html("<small>{}</small> ", _("更正条目 #%(id)s") % {"id": entry.object_id})
                if correction
                else "",
                entry.summary,
                entry.reason or "—",
            )
        )
    extra = []
    if event.original_points is not None:
        extra.append(
            format_html(
                "<p>{}</p>",
                _("原分值 %(old)s，调整为 %(new)s") % {"old": event.original_points, "new": event.points_display},
            )
        )
    if event.feedback_id:
        extra.append(
            format_html(
                '<p>{} <a href="{}">{}</a></p>',
                _("依据群众反映："),
                reverse("admin:ledger_feedback_answer", args=[event.feedback_id]),
                event.feedback.reference,
            )
        )
    for correction in event.corrections.order_by("id"):
        extra.append(
            format_html(
                '<p>{} <a href="{}">#{}</a>（{}，{}）：{}</p>',
                _("更正条目"),
                reverse("admin:ledger_pointevent_change", args=[correction.pk]),
                correction.pk,
                correction.points_display,
                correction.get_status_display(),
                correction.account,
            )
        )
    if event.corrects_id:
        extra.append(
            format_html(
                '<p>{} <a href="{}">#{}</a></p>',
                _("更正的原条目："),
                reverse("admin:ledger_pointevent_change", args=[event.corrects_id]),
                event.corrects_id,
            )
        )
    header = format_html(
        "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>", _("时间"), _("操作人"), _("操作"), _("理由")
    )
    # every piece was built by format_html, so joining them keeps them escaped
    return format_html("{}<table>{}{}</table>", mark_safe("".join(extra)), header, mark_safe("".join(rows)))
