"""The member roll for django-import-export (admin import/export with its confirm step).

Rows are written through ``members.services`` (never saved directly); the branch column is
matched only among branches the importing user may change, and exports neutralise formulas.
The secretary screen (ledger/spreadsheets/imports.py) is the fast path for large rolls.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from branches.models import Organisation
from branches.scope import branch_scope
from core.spreadsheets import safe_cell
from members import services
from members.models import Member


class ScopedResourceMixin:
    """Remembers who imports or exports; exported text cells can't run as formulas."""

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def export_field(self, field, instance, **kwargs):
        return safe_cell(super().export_field(field, instance, **kwargs))

    def before_import(self, dataset, **kwargs):
        # A new roll has no 编号 (id) column: every row is new.
        if dataset.headers and "编号" not in dataset.headers:
            dataset.insert_col(0, col=[""] * dataset.height, header="编号")
        super().before_import(dataset, **kwargs)


class ChoiceLabelWidget(widgets.Widget):
    """A choice written as its Chinese label (男, 正式党员) on both import and export."""

    def __init__(self, choices, **kwargs):
        super().__init__(**kwargs)
        self.choices = list(choices)

    def clean(self, value, row=None, **kwargs):
        text = str(value).strip() if value is not None else ""
        for code, label in self.choices:
            if text in (code, str(label)):
                return code
        if not text:
            return ""
        raise ValueError(
            _("“%(value)s”无法识别，可填：%(names)s")
            % {"value": text, "names": "、".join(str(label) for _c, label in self.choices)}
        )

    def render(self, value, obj=None, **kwargs):
        return str(dict(self.choices).get(value, value or ""))


class ScopedBranchWidget(widgets.ForeignKeyWidget):
    def __init__(self, resource, **kwargs):
        super().__init__(Organisation, field="name", **kwargs)
        self.resource = resource

    def get_queryset(self, value, row, *args, **kwargs):
        return branch_scope(self.resource.user, write=True)


class MemberResource(ScopedResourceMixin, resources.ModelResource):
    name = fields.Field(attribute="name", column_name="姓名")
    gender = fields.Field(attribute="gender", column_name="性别", widget=ChoiceLabelWidget(Member.Gender.choices))
    birth_date = fields.Field(attribute="birth_date", column_name="出生日期", widget=widgets.DateWidget())
    joined_on = fields.Field(attribute="joined_on", column_name="入党日期", widget=widgets.DateWidget())
    category = fields.Field(
        attribute="category", column_name="党员类别", widget=ChoiceLabelWidget(Member.Category.choices)
    )
    standing = fields.Field(
        attribute="standing", column_name="党员身份", widget=ChoiceLabelWidget(Member.Standing.choices)
    )
    status = fields.Field(attribute="status", column_name="状态", widget=ChoiceLabelWidget(Member.Status.choices))
    group = fields.Field(attribute="group", column_name="村民小组")

    class Meta:
        model = Member
        fields = (
            "id",
            "branch",
            "name",
            "gender",
            "birth_date",
            "joined_on",
            "category",
            "standing",
            "status",
            "group",
        )
        export_order = fields
        import_id_fields = ("id",)
        skip_unchanged = True
        report_skipped = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["id"].column_name = "编号"
        self.fields["branch"] = fields.Field(
            attribute="branch", column_name="所在支部", widget=ScopedBranchWidget(self)
        )

    def get_queryset(self):
        return Member.objects.writable_by(self.user).select_related("branch")

    def filter_export(self, queryset, **kwargs):
        return queryset

    def do_instance_save(self, instance, is_create):
        values = {name: getattr(instance, name) for name in services.MEMBER_FIELDS if name != "user"}
        values = {k: v for k, v in values.items() if v is not None or k in ("birth_date", "joined_on")}
        for key in ("category", "standing", "status"):
            if not values.get(key):
                values.pop(key, None)
        if is_create:
            if instance.branch_id is None:
                raise ValidationError({"branch": _("请填写所在支部（须是您可以管理的支部）。")})
            saved = services.member_create(actor=self.user, branch=instance.branch, name=instance.name, **values)
        else:
            saved = services.member_update(actor=self.user, member=instance, name=instance.name, **values)
        instance.pk = saved.pk
