"""Forms for requesting documents and batches; the choices come from the user's scope."""

from django import forms
from django.utils.translation import gettext_lazy as _

from branches.models import Organisation
from core import clock
from members.models import Member
from reports.models import DocumentKind, Order, Orientation, Paper


class DocumentRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("文档类型"), choices=DocumentKind.choices)
    organisation = forms.ModelChoiceField(
        label=_("组织"), queryset=Organisation.objects.none(), required=False, help_text=_("党员年度明细不用选")
    )
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(
        label=_("季度"),
        choices=[("", _("全年")), (1, "1"), (2, "2"), (3, "3"), (4, "4")],
        coerce=int,
        empty_value=None,
        required=False,
    )
    member = forms.ModelChoiceField(
        label=_("党员（年度明细）"), queryset=None, required=False, help_text=_("只在生成党员年度积分明细时填写")
    )
    paper = forms.ChoiceField(label=_("纸张"), choices=Paper.choices, initial=Paper.A4)
    orientation = forms.ChoiceField(label=_("方向"), choices=Orientation.choices, initial=Orientation.PORTRAIT)
    order = forms.ChoiceField(label=_("排列顺序"), choices=Order.choices, initial=Order.STROKES)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.visible_to(user).order_by("path")
        self.fields["member"].queryset = (
            Member.objects.visible_to(user).select_related("branch").order_by("branch__path", "name_strokes")
        )
        self.fields["year"].initial = clock.today().year

    def clean(self):
        data = super().clean()
        if data.get("kind") == "statement":
            if not data.get("member"):
                self.add_error("member", _("请选择党员。"))
        elif not data.get("organisation"):
            self.add_error("organisation", _("请选择组织。"))
        return data


class BatchRequestForm(forms.Form):
    prefix = "batch"  # shares a page with DocumentRequestForm
    kind = forms.ChoiceField(
        label=_("文档类型"),
        choices=[(DocumentKind.POSTING, DocumentKind.POSTING.label), (DocumentKind.ANNUAL, DocumentKind.ANNUAL.label)],
    )
    organisation = forms.ModelChoiceField(label=_("乡镇或县"), queryset=Organisation.objects.none())
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(
        label=_("季度"),
        choices=[("", _("全年")), (1, "1"), (2, "2"), (3, "3"), (4, "4")],
        coerce=int,
        empty_value=None,
        required=False,
    )
    paper = forms.ChoiceField(label=_("纸张"), choices=Paper.choices, initial=Paper.A4)
    orientation = forms.ChoiceField(label=_("方向"), choices=Orientation.choices, initial=Orientation.PORTRAIT)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = (
            Organisation.objects.visible_to(user).exclude(level=Organisation.Level.BRANCH).order_by("path")
        )
        self.fields["year"].initial = clock.today().year
