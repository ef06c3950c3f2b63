"""The committee's quarterly review in the admin: the review page of a branch-quarter, and the
feedback queue (群众反映) with its answer page. Thin: every change is a service call."""

import datetime

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
from branches.selectors import can_decide, can_sign
from core import clock
from ledger import review_services, rules, services
from ledger.models import Feedback, Kind, Period, PointEvent, ReviewMark
from ledger.review_selectors import event_history, feedback_queue, period_review, period_review_context
from ledger.selectors import event_scope, period_scope, quarter_bounds, rule_scope, rules_for_branch
from members.selectors import member_scope


def report(request, exc: Exception) -> None:
    text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    messages.error(request, text)


def _date(value: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _deduction_from_post(request, branch_id: int) -> dict:
    """The deduction form's fields, each looked up through the user's scope (404 otherwise)."""
    data = request.POST
    member = member_scope(request.user, write=True).filter(pk=data.get("member") or 0, branch_id=branch_id).first()
    rule = rule_scope(request.user).filter(pk=data.get("rule") or 0, kind=Kind.DEDUCTION).first()
    if member is None:
        raise ValidationError({"member": _("请选择本支部的党员。")})
    if rule is None:
        raise ValidationError({"rule": _("请选择扣分类细则。")})
    occurred_on = _date(data.get("occurred_on", ""))
    if occurred_on is None:
        raise ValidationError({"occurred_on": _("请填写发生日期。")})
    return {
        "member": member,
        "rule": rule,
        "occurred_on": occurred_on,
        "reason": data.get("reason", ""),
        "points": data.get("points") or None,
    }


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
        period = get_object_or_404(period_scope(request.user).select_related("branch"), pk=period_id)
        writable = (
            period_scope(request.user, write=True).filter(pk=period.pk).exists()
            and can_decide(request.user, period.branch)
            and ScopedAdmin.has_module_permission(self, request)
        )
        if request.method == "POST":
            if not writable:
                raise PermissionDenied
            self._review_post(request, period)
            return HttpResponseRedirect(request.get_full_path())
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
            "can_sign": writable and can_sign(request.user, period.branch),
            "deduction_date": min(end, clock.today()).isoformat(),
            "window_days": period.branch.posting_window_days,
            "posting_open": rules.posting_open(period),
            **extra,
        }
        return TemplateResponse(request, "admin/ledger/period/review.html", context)

    def _review_post(self, request, period: Period) -> None:
        data = request.POST
        user = request.user
        events = event_scope(user, write=True).filter(period=period).select_related("member")
        try:
            if "decide" in data:
                action, _sep, raw_id = data["decide"].partition(":")
                event = get_object_or_404(events, pk=raw_id if raw_id.isdigit() else 0)
                reason = data.get(f"reason_{event.pk}", "")
                if action == "approve":
                    services.event_approve(actor=user, event=event, reason=reason)
                    messages.success(request, _("已通过：%(event)s") % {"event": event})
                elif action == "reject":
                    services.event_reject(actor=user, event=event, reason=reason)
                    messages.success(request, _("未通过：%(event)s") % {"event": event})
                elif action == "adjust":
                    event = services.event_adjust(
                        actor=user, event=event, points=data.get(f"points_{event.pk}", ""), reason=reason
                    )
                    messages.success(
                        request,
                        _("已调整：%(name)s %(rule)s，原 %(old)s → %(new)s")
                        % {
                            "name": event.member.name,
                            "rule": event.rule.title,
                            "old": event.original_points,
                            "new": event.points_display,
                        },
                    )
                else:
                    raise Http404
            elif "bulk" in data:
                action = data["bulk"]
                if action not in ("approve", "reject"):
                    raise Http404
                chosen = events.filter(pk__in=[i for i in data.getlist("ids") if i.isdigit()]).order_by("id")
                if not chosen.exists():
                    raise ValidationError(_("请先勾选要审核的条目。"))
                if action == "reject" and not data.get("bulk_reason", "").strip():
                    raise ValidationError({"reason": _("不通过必须写明理由。")})
                done, refusals = services.events_decide_bulk(
                    actor=user, events=chosen, action=action, reason=data.get("bulk_reason", "")
                )
                if done:
                    messages.success(request, _("已处理 %(count)d 条。") % {"count": done})
                for refusal in refusals:
                    messages.error(request, refusal)
            elif "deduction" in data:
                fields = _deduction_from_post(request, period.branch_id)
                feedback_id = data.get("feedback") or ""
                if feedback_id:
                    feedback = get_object_or_404(
                        Feedback.objects.filter(branch_id=period.branch_id),
                        pk=feedback_id if feedback_id.isdigit() else 0,
                    )
                    event = review_services.feedback_deduction_add(actor=user, feedback=feedback, **fields)
                else:
                    event = services.deduction_add(actor=user, **fields)
                messages.success(request, _("已录入扣分（待其他支委审核）：%(event)s") % {"event": event})
            elif "start_review" in data:
                services.period_start_review(actor=user, period=period)
                messages.success(request, _("已开始支委会审核。"))
            elif "mark" in data:
                review_services.review_mark(actor=user, period=period, note=data.get("mark_note", ""))
                messages.success(request, _("已确认您审核过本季度。"))
            elif "sign" in data:
                period = services.period_sign(actor=user, period=period)
                messages.success(request, _("书记已签字，本季度已封存。校验码 %(code)s") % {"code": period.short_hash})
            elif "post" in data:
                days = data.get("window_days", "").strip()
                if not days.isdigit():
                    raise ValidationError({"window_days": _("公示期应为 1 到 30 天。")})
                period = services.period_post(actor=user, period=period, window_days=int(days))
                messages.success(request, _("已张榜公示，公示至 %(end)s。") % {"end": period.posting_ends_on})
            elif "finalise" in data:
                services.period_finalise(actor=user, period=period)
                messages.success(request, _("公示期满，异议均已答复，本季度已定稿。"))
            else:
                raise Http404
        except (ValidationError, PermissionDenied) as exc:
            report(request, exc)


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
            self.scope_filter(Feedback.objects.all(), request).select_related(
                "branch", "member", "period", "resolved_by"
            ),
            pk=feedback_id,
        )
        writable = (
            self.in_write_scope(request, feedback)
            and can_decide(request.user, feedback.branch)
            and self.has_module_permission(request)
        )
        if request.method == "POST":
            if not writable:
                raise PermissionDenied
            self._answer_post(request, feedback)
            return HttpResponseRedirect(request.get_full_path())
        original_choices = []
        if feedback.period_id:
            original_choices = list(
                PointEvent.objects.filter(period_id=feedback.period_id, corrects__isnull=True)
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
                member_scope(request.user, write=True)
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

    def _answer_post(self, request, feedback: Feedback) -> None:
        data = request.POST
        try:
            if "deduction" in data:
                fields = _deduction_from_post(request, feedback.branch_id)
                event = review_services.feedback_deduction_add(actor=request.user, feedback=feedback, **fields)
                messages.success(request, _("已录入扣分（待其他支委审核）：%(event)s") % {"event": event})
            elif "correction" in data:
                original = get_object_or_404(
                    event_scope(request.user, write=True).filter(period_id=feedback.period_id or 0),
                    pk=data.get("original") if (data.get("original") or "").isdigit() else 0,
                )
                event = review_services.objection_correction_add(
                    actor=request.user,
                    feedback=feedback,
                    original=original,
                    points=data.get("points", ""),
                    reason=data.get("reason", ""),
                )
                messages.success(request, _("已录入更正条目：%(event)s") % {"event": event})
            elif "resolve" in data:
                review_services.feedback_resolve(
                    actor=request.user,
                    feedback=feedback,
                    resolution=data.get("resolution", ""),
                    note=data.get("note", ""),
                )
                messages.success(request, _("已答复。"))
            else:
                raise Http404
        except (ValidationError, PermissionDenied) as exc:
            report(request, exc)


@admin.register(ReviewMark)
class ReviewMarkAdmin(ScopedAdmin):
    branch_lookup = "period__branch"
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
