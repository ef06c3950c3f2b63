"""Admin for the noticeboard: print settings per branch (editable), documents and batches (read only)."""

from django.contrib import admin

from branches.admin_scope import ReadOnlyAdmin, ScopedAdmin
from reports.models import Batch, Document, Notification, PostingPreference


@admin.register(PostingPreference)
class PostingPreferenceAdmin(ScopedAdmin):
    list_display = ("branch", "order", "paper", "orientation")
    list_select_related = ("branch",)


class OrganisationScopedReadOnly(ReadOnlyAdmin):
    """Documents and batches may belong to a township or the county: the models' scope is by
    organisation (``organisation_path``)."""


@admin.register(Document)
class DocumentAdmin(OrganisationScopedReadOnly):
    list_display = ("kind", "organisation", "year", "quarter", "status", "pages", "duration_ms", "requested_at")
    list_filter = ("kind", "status", "year")
    list_select_related = ("organisation",)
    exclude = ("params",)


@admin.register(Batch)
class BatchAdmin(OrganisationScopedReadOnly):
    list_display = ("organisation", "kind", "year", "quarter", "status", "done", "total", "requested_at")
    list_filter = ("kind", "status")
    list_select_related = ("organisation",)
    exclude = ("documents",)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "branch", "message", "read_at")
    list_filter = (("branch", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("user", "branch")
