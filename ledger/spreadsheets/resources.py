"""Scoring rules and point claims for django-import-export.

Rules are imported by county and township officers into organisations they administer.
Claims are imported through ``ledger.book.services.claim_record`` — pending, capped, refused in a
signed quarter, scoped, and marked as imported (source 导入) with the importing user.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from branches.models import Organisation
from branches.scope import officer_organisations
from ledger.book.models import Kind, ScoringRule
from members.resources import ChoiceLabelWidget, ScopedResourceMixin


class OfficerOrganisationWidget(widgets.ForeignKeyWidget):
    def __init__(self, resource, **kwargs):
        super().__init__(Organisation, field="name", **kwargs)
        self.resource = resource

    def get_queryset(self, value, row, *args, **kwargs):
        return officer_organisations(self.resource.user)


class ScoringRuleResource(ScopedResourceMixin, resources.ModelResource):
    code = fields.Field(attribute="code", column_name="编号")
    title = fields.Field(attribute="title", column_name="细则名称")
    kind = fields.Field(attribute="kind", column_name="类别", widget=ChoiceLabelWidget(Kind.choices))
    default_points = fields.Field(attribute="default_points", column_name="默认分值", widget=widgets.DecimalWidget())
    cap_per_quarter = fields.Field(
        attribute="cap_per_quarter", column_name="每季度上限", widget=widgets.DecimalWidget()
    )
    cap_per_year = fields.Field(attribute="cap_per_year", column_name="每年上限", widget=widgets.DecimalWidget())
    evidence_required = fields.Field(
        attribute="evidence_required", column_name="须附证明材料", widget=widgets.BooleanWidget()
    )
    description = fields.Field(attribute="description", column_name="说明")

    class Meta:
        model = ScoringRule
        fields = ("organisation", "code", "title", "kind", "default_points", "cap_per_quarter", "cap_per_year",
                  "evidence_required", "description")  # fmt: skip
        export_order = fields
        import_id_fields = ("organisation", "code")
        skip_unchanged = True
        report_skipped = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"] = fields.Field(
            attribute="organisation", column_name="制定组织", widget=OfficerOrganisationWidget(self)
        )

    def get_queryset(self):
        return ScoringRule.objects.writable_by(self.user)

    def before_save_instance(self, instance, row, **kwargs):
        if instance.pk and instance.events.exists():
            original = ScoringRule.objects.writable_by(self.user).get(pk=instance.pk)
            if original.kind != instance.kind:
                raise ValidationError({"kind": _("该细则已有积分记录，类别不能修改。")})
        instance.full_clean()
