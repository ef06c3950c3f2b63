from django.contrib import admin

from branches.admin_import import ScopedImportExportMixin
from branches.admin_scope import ScopedAdmin
from members import services
from members.models import Member
from members.resources import MemberResource
from members.services import MEMBER_FIELDS


@admin.register(Member)
class MemberAdmin(ScopedImportExportMixin, ScopedAdmin):
    resource_classes = [MemberResource]
    list_display = ("name", "branch", "group", "gender", "category", "standing", "status", "joined_on")
    list_filter = (("branch", admin.RelatedOnlyFieldListFilter), "category", "standing", "status", "gender")
    # 王学恩 is found by "wxe" (initials) or "wangxue" (pinyin).
    search_fields = ("name", "name_initials", "name_pinyin", "phone")
    list_select_related = ("branch",)
    readonly_fields = ("name_pinyin", "name_initials", "created_at")
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("branch", "name", "group", "gender", "birth_date", "joined_on")}),
        ("党员信息", {"fields": ("category", "standing", "status", "user")}),
        ("联系方式（不公开）", {"fields": ("phone", "id_number", "address")}),
        ("检索", {"fields": ("name_pinyin", "name_initials", "created_at")}),
    )

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in MEMBER_FIELDS if name in form.cleaned_data}
        if change:
            saved = services.member_update(actor=request.user, member=obj, name=form.cleaned_data["name"], **fields)
        else:
            saved = services.member_create(
                actor=request.user, branch=form.cleaned_data["branch"], name=form.cleaned_data["name"], **fields
            )
        obj.pk = saved.pk

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "branch"] if obj else fields
