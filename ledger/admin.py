from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from branches.admin_import import ScopedImportExportMixin
from branches.admin_scope import (
    EstimatedCountPaginator,
    ReadOnlyAdmin,
    ScopedAdmin,
    ScopedBranchFilter,
    can_write_somewhere,
    has_any_role,
)
from branches.scope import officer_organisations
from ledger.audit.models import AuditEntry
from ledger.book import services
from ledger.book.models import Evidence, MemberQuarterTotal, Period, PointEvent, QuarterCount, ScoringRule
from ledger.meetings.models import Attendance, Meeting
from ledger.review.admin import PeriodReviewMixin, event_history_table
from ledger.spreadsheets.models import ExportJob, ImportBatch
from ledger.spreadsheets.resources import ScoringRuleResource
from ledger.web.models import IdempotencyKey


def _report(request, exc: Exception) -> None:
    text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    messages.error(request, text)


@admin.register(ScoringRule)
class ScoringRuleAdmin(ScopedImportExportMixin, ScopedAdmin):
    """Rules are set by county and township officers; branches inherit them (read-only there)."""

    resource_classes = [ScoringRuleResource]
    list_display = (
        "code",
        "title",
        "kind",
        "default_points",
        "cap_per_quarter",
        "cap_per_year",
        "evidence_required",
        "organisation",
        "is_active",
    )
    list_filter = ("kind", ("organisation", admin.RelatedOnlyFieldListFilter), "is_active", "evidence_required")
    search_fields = ("code", "title")
    list_select_related = ("organisation",)

    # Who reads and who writes a rule is the model's scope (ScoringRule.objects.visible_to /
    # writable_by): read along the path to one's branches, written by officers above them.
    def has_add_permission(self, request):
        return request.user.is_active and officer_organisations(request.user).exists()

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return self.has_add_permission(request)
        return self.in_write_scope(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organisation":
            kwargs["queryset"] = officer_organisations(request.user)
            return super(ScopedAdmin, self).formfield_for_foreignkey(db_field, request, **kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        # Once used, a rule's kind can't change: past entries were recorded under it.
        if obj is not None and obj.events.exists():
            return ("organisation", "code", "kind")
        return ()


@admin.register(Period)
class PeriodAdmin(PeriodReviewMixin, ScopedAdmin):
    list_display = (
        "branch",
        "year",
        "quarter",
        "state",
        "signed_by",
        "signed_at",
        "short_hash",
        "posting_ends_on",
        "review_link",
    )
    list_filter = ("state", "year", "quarter", ("branch", admin.RelatedOnlyFieldListFilter))
    search_fields = ("branch__name",)
    list_select_related = ("branch", "signed_by")
    readonly_fields = [f.name for f in Period._meta.fields] + ["short_hash"]
    actions = ["start_review", "sign", "post"]

    def has_add_permission(self, request):
        return False  # quarters open by themselves when their first entry is recorded

    @admin.display(description=_("校验码"))
    def short_hash(self, obj):
        return obj.short_hash

    def _run(self, request, queryset, service, done_message):
        done = 0
        for period in queryset:
            try:
                service(actor=request.user, period=period)
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                _report(request, exc)
        if done:
            messages.success(request, done_message % {"count": done})

    @admin.action(description=_("开始支委会审核"))
    def start_review(self, request, queryset):
        self._run(request, queryset, services.period_start_review, _("%(count)d 个季度已开始审核。"))

    @admin.action(description=_("书记签字确认"))
    def sign(self, request, queryset):
        self._run(request, queryset, services.period_sign, _("%(count)d 个季度已签字封存。"))

    @admin.action(description=_("张榜公示"))
    def post(self, request, queryset):
        self._run(request, queryset, services.period_post, _("%(count)d 个季度已公示。"))


class EvidenceInline(admin.TabularInline):
    model = Evidence
    extra = 0
    can_delete = False
    fields = ("thumbnail", "uploaded_at")
    readonly_fields = ("thumbnail", "uploaded_at")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # the entry itself was found through its scope; its photos go with it
        return has_any_role(request.user)

    @admin.display(description=_("照片"))
    def thumbnail(self, obj):
        # through the scoped view, never /media/: a photo is as private as the entry it proves
        url = reverse("evidence_image", args=[obj.pk])
        return format_html('<a href="{}"><img src="{}" style="max-height:120px"></a>', url, url)


@admin.register(PointEvent)
class PointEventAdmin(ScopedAdmin):
    """Entries are recorded on the secretary screens and decided by the committee; here they are
    read, approved in bulk, and their history shown. Nothing is edited in place."""

    list_display = (
        "occurred_on",
        "member",
        "rule",
        "points_column",
        "kind",
        "status",
        "entry_method",
        "entered_by",
        "period",
    )
    list_filter = (
        ("branch", ScopedBranchFilter),
        "period__year",
        "period__quarter",
        "kind",
        "status",
        "entry_method",
    )
    search_fields = ("member__name", "member__name_initials", "member__name_pinyin", "account")
    list_select_related = ("member", "rule", "entered_by", "period", "period__branch")
    # County scale (README): no date hierarchy (a DISTINCT over every entry's date; the year and
    # quarter filters serve), no full-table count, estimated page count on the big table.
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    inlines = [EvidenceInline]
    actions = ["approve"]
    list_per_page = 50

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # decisions go through actions and the review page, never a form

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in PointEvent._meta.fields if f.name != "dedupe_key"] + ["history"]

    @admin.display(description=_("分值"), ordering="points")
    def points_column(self, obj):
        if obj.original_points is not None:
            return format_html("{} <small>（原 {}）</small>", obj.points_display, obj.original_points)
        return obj.points_display

    @admin.display(description=_("历史记录"))
    def history(self, obj):
        return event_history_table(obj)

    @admin.action(description=_("审核通过所选条目"))
    def approve(self, request, queryset):
        done, refusals = services.events_decide_bulk(
            actor=request.user, events=queryset.select_related("member"), action="approve"
        )
        if done:
            messages.success(request, _("已通过 %(count)d 条。") % {"count": done})
        for refusal in refusals:
            messages.error(request, refusal)

    def get_actions(self, request):
        # the action needs change-like rights in a branch; officers only read
        actions = super().get_actions(request)
        if not can_write_somewhere(request.user):
            actions.pop("approve", None)
        return actions


@admin.register(MemberQuarterTotal)
class MemberQuarterTotalAdmin(ReadOnlyAdmin):
    list_display = ("member", "period", "base", "bonus", "deduction", "total")
    list_filter = ("period__year", "period__quarter", ("period__branch", ScopedBranchFilter))
    search_fields = ("member__name", "member__name_initials", "member__name_pinyin")
    list_select_related = ("member", "period", "period__branch")
    show_full_result_count = False
    paginator = EstimatedCountPaginator


@admin.register(QuarterCount)
class QuarterCountAdmin(ReadOnlyAdmin):
    list_display = ("period", "pending", "approved", "rejected")
    list_filter = ("period__year", "period__quarter", ("period__branch", ScopedBranchFilter))
    list_select_related = ("period", "period__branch")
    show_full_result_count = False
    paginator = EstimatedCountPaginator


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = ("event", "uploaded_at")
    list_select_related = ("event", "event__member", "event__rule")


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The audit trail: read-only for everyone, superusers included (the database agrees)."""

    list_display = ("at", "actor", "action", "branch", "summary", "reason")
    list_filter = ("action", ("branch", admin.RelatedOnlyFieldListFilter))
    search_fields = ("summary", "reason", "actor__username")
    list_select_related = ("actor", "branch")
    readonly_fields = ("at", "actor", "action", "branch", "object_type", "object_id", "summary", "reason", "data")


class AttendanceInline(admin.TabularInline):
    model = Attendance
    extra = 0
    can_delete = False
    fields = ("member", "status", "reason", "event")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyAdmin):
    """Meetings are recorded on the secretary's screens (their attendance becomes point events)."""

    list_display = ("held_on", "type", "topic", "branch", "recorded_by")
    list_filter = ("type", ("branch", admin.RelatedOnlyFieldListFilter))
    search_fields = ("topic",)
    list_select_related = ("branch", "recorded_by")
    inlines = [AttendanceInline]


@admin.register(Attendance)
class AttendanceAdmin(ReadOnlyAdmin):
    list_display = ("meeting", "member", "status", "reason")
    list_filter = ("status",)
    search_fields = ("member__name", "member__name_initials", "meeting__topic")
    list_select_related = ("meeting", "member")


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    """Spreadsheet uploads: what was previewed and what was written, by whom."""

    list_display = ("created_at", "kind", "branch", "file_name", "state", "created_count", "skipped", "created_by")
    list_filter = ("kind", "state", ("branch", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("branch", "created_by")
    exclude = ("rows",)


class OwnRecordsAdmin(ReadOnlyAdmin):
    """Records that belong to a user rather than a branch: each user sees their own (the models
    declare ``owner_path``; a superuser sees all)."""


@admin.register(ExportJob)
class ExportJobAdmin(OwnRecordsAdmin):
    list_display = ("requested_at", "kind", "status", "rows_done", "rows_total", "requested_by")
    list_filter = ("status", "kind")
    list_select_related = ("requested_by",)
    owner_lookup = "requested_by"


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(OwnRecordsAdmin):
    list_display = ("created_at", "user", "key", "status_code")
    list_select_related = ("user",)
