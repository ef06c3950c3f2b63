"""Scoring rules and point claims for django-import-export.

Rules are imported by county and township officers into organisations they administer.
Claims are imported through ``ledger.services.claim_record`` — pending, capped, refused in a
signed quarter, scoped, and marked as imported (source 导入) with the importing user.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from branches.models import Organisation, RoleAssignment
from ledger import services
from ledger.excel import parse_date
from ledger.models import Kind, PointEvent, ScoringRule
from ledger.selectors import event_scope, rule_scope, rules_for_branch
from members.resources import ChoiceLabelWidget, ScopedResourceMixin
from members.selectors import member_scope


def _officer_organisations(user):
    if user is not None and user.is_superuser:
        return Organisation.objects.all()
    paths = RoleAssignment.objects.filter(user=user, role=RoleAssignment.Role.OFFICER).values_list(
        "organisation__path", flat=True
    )
    allowed = Q(pk__in=[])
    for path in paths:
        allowed |= Q(path__startswith=path)
    return Organisation.objects.filter(allowed)


class OfficerOrganisationWidget(widgets.ForeignKeyWidget):
    def __init__(self, resource, **kwargs):
        super().__init__(Organisation, field="name", **kwargs)
        self.resource = resource

    def get_queryset(self, value, row, *args, **kwargs):
        return _officer_organisations(self.resource.user)


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
        return ScoringRule.objects.filter(organisation__in=_officer_organisations(self.user))

    def before_save_instance(self, instance, row, **kwargs):
        if instance.pk and instance.events.exists():
            original = ScoringRule.objects.get(pk=instance.pk)
            if original.kind != instance.kind:
                raise ValidationError({"kind": _("该细则已有积分记录，类别不能修改。")})
        instance.full_clean()


class ClaimResource(ScopedResourceMixin, resources.ModelResource):
    """One row per member and deed; import creates pending claims through claim_record."""

    member = fields.Field(
        attribute="member", column_name="姓名", widget=widgets.ForeignKeyWidget("members.Member", "name")
    )
    rule = fields.Field(attribute="rule", column_name="细则编号", widget=widgets.ForeignKeyWidget(ScoringRule, "code"))
    occurred_on = fields.Field(attribute="occurred_on", column_name="发生日期", widget=widgets.DateWidget())
    points = fields.Field(attribute="points", column_name="分值", widget=widgets.DecimalWidget())
    account = fields.Field(attribute="account", column_name="事由")
    place = fields.Field(attribute="place", column_name="地点")
    status = fields.Field(attribute="status", column_name="审核状态", readonly=True,
                          widget=ChoiceLabelWidget(PointEvent.Status.choices))  # fmt: skip

    class Meta:
        model = PointEvent
        fields = ("id", "member", "rule", "occurred_on", "points", "account", "place", "status")
        export_order = fields
        import_id_fields = ("id",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["id"].column_name = "编号"
        members = member_scope(self.user, write=True)
        self.fields["member"].widget = _ScopedFK(members, "name")
        self.fields["rule"].widget = _ScopedFK(rule_scope(self.user), "code")

    def get_queryset(self):
        return event_scope(self.user).select_related("member", "rule")

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        if field.attribute == "occurred_on" and row.get(field.column_name) not in (None, ""):
            row[field.column_name] = parse_date(row[field.column_name]).isoformat()
        return super().import_field(field, instance, row, is_m2m=is_m2m, **kwargs)

    def do_instance_save(self, instance, is_create):
        if not is_create:
            raise ValidationError({"__all__": _("已有条目不能通过导入修改。")})
        if instance.rule_id not in set(rules_for_branch(instance.member.branch).values_list("id", flat=True)):
            raise ValidationError({"rule": _("“%(rule)s”不是本支部适用的积分细则。") % {"rule": instance.rule.title}})
        event = services.claim_record(
            actor=self.user,
            member=instance.member,
            rule=instance.rule,
            occurred_on=instance.occurred_on if isinstance(instance.occurred_on, datetime.date) else None,
            account=instance.account,
            points=abs(instance.points) if instance.points is not None else None,
            place=instance.place or "",
            entry_method=PointEvent.EntryMethod.IMPORT,
        )
        instance.pk = event.pk


class _ScopedFK(widgets.ForeignKeyWidget):
    def __init__(self, queryset, field):
        super().__init__(queryset.model, field=field)
        self._queryset = queryset

    def get_queryset(self, value, row, *args, **kwargs):
        return self._queryset

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, str):
            value = "".join(value.split())
        try:
            return super().clean(value, row, **kwargs)
        except self.model.MultipleObjectsReturned:
            raise ValueError(_("“%(value)s”对应多条记录，请在积分申报导入页面中选择。") % {"value": value}) from None
        except self.model.DoesNotExist:
            raise ValueError(_("“%(value)s”不存在或不在您的管辖范围内。") % {"value": value}) from None
