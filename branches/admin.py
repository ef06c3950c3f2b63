from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from branches import services
from branches.admin_scope import ScopedAdmin
from branches.models import Organisation, RoleAssignment


@admin.register(Organisation)
class OrganisationAdmin(ScopedAdmin):
    list_display = ("name", "level", "parent", "code", "posting_window_days")
    list_filter = ("level",)
    search_fields = ("name", "code")
    readonly_fields = ("path",)

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        return ("path", "level", "parent") if obj else ("path",)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        created = services.organisation_create(
            name=obj.name,
            code=obj.code,
            level=obj.level,
            parent=obj.parent,
            posting_window_days=obj.posting_window_days,
        )
        obj.pk, obj.path = created.pk, created.path


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ScopedAdmin):
    list_display = ("user", "organisation", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "user__first_name", "user__last_name", "organisation__name")
    list_select_related = ("user", "organisation")

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def save_model(self, request, obj, form, change):
        assignment = services.role_assign(user=obj.user, organisation=obj.organisation, role=obj.role)
        obj.pk = assignment.pk

    @admin.display(description=_("用户"))
    def user_display(self, obj):
        return obj.user.get_full_name() or obj.user.username
