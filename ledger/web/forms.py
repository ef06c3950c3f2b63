"""Forms for the secretary and member screens. They only collect input: every rule is checked by
``ledger.book.services``, whose field-keyed errors are put back next to the field by ``errors_to_form``."""

import uuid

from django import forms
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.ratelimit import cache_call
from ledger.book.models import Kind, PointEvent, ScoringRule
from ledger.book.selectors import rules_for_branch
from ledger.meetings.models import Attendance, Meeting
from members.models import Member

TOKEN_SALT = "ledger.form-token"
TOKEN_MAX_AGE = 12 * 3600


# --- one-time form tokens ----------------------------------------------------------------------


def form_token_issue(user) -> str:
    """A signed token for one form; used once, so a second or stale submission saves nothing."""
    return signing.dumps({"u": user.pk, "n": uuid.uuid4().hex}, salt=TOKEN_SALT)


def form_token_claim(user, token: str) -> str | None:
    """Claim the token for this submission; returns an error message if it can't be used.

    The claim is an atomic ``cache.add``: of two identical submissions racing, one wins. When the
    cache is down the guard is skipped (logged) and the submission is saved: the form is a signed-in
    user's, and losing their entry is worse than the rare double click it would have caught.
    """
    try:
        data = signing.loads(token or "", salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return str(_("这张表单已过期，本次没有保存。请核对下面的内容后再提交一次。"))
    if data.get("u") != user.pk:
        return str(_("这张表单已过期，本次没有保存。请核对下面的内容后再提交一次。"))
    if not cache_call(lambda: cache.add(f"form-token:{data['n']}", 1, TOKEN_MAX_AGE + 60), fallback=True):
        return str(_("这张表单已经提交过了，本次没有重复保存。"))
    return None


def form_token_release(token: str) -> None:
    """The submission was refused: the same form may be corrected and sent again."""
    try:
        data = signing.loads(token or "", salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return
    cache_call(lambda: cache.delete(f"form-token:{data['n']}"), fallback=None)


def errors_to_form(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's field-keyed errors next to the fields; the rest above the form.

    A form may name a field differently from the service (``FIELD_ALIASES``: the deduction
    form's ``reason`` is the service's ``account``).
    """
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    aliases = getattr(form, "FIELD_ALIASES", {})
    for field, messages in exc.message_dict.items():
        field = aliases.get(field, field)
        form.add_error(field if field in form.fields else None, messages)


# --- widgets -----------------------------------------------------------------------------------


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos at once; phones offer the camera for ``accept=image/*``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(attrs={"accept": "image/*,.heic,.heif", "multiple": True}),
        )
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(PhotosField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


def _points_field():
    return forms.CharField(
        label=_("分值"),
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("留空则按细则的默认分值。"),
    )


def _date_field(label=None):
    return forms.DateField(
        label=label or _("发生日期"), widget=DateInput(), input_formats=["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d"]
    )


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.group}）" if obj.group else obj.name


class RuleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.title}（{obj.signed_default_display}）"


def branch_members(branch):
    return Member.objects.filter(branch=branch, status=Member.Status.ACTIVE).order_by("name_strokes", "name_pinyin")


def branch_rules(branch, kind: str):
    return rules_for_branch(branch, kind=kind).order_by("code")


# --- forms -------------------------------------------------------------------------------------


class TokenForm(forms.Form):
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)


class ClaimForm(TokenForm):
    """A claim (申报): by the secretary for a member, or by the member for themself (``member=None``)."""

    member = MemberChoiceField(label=_("党员"), queryset=Member.objects.none(), empty_label=_("请选择党员"))
    rule = RuleChoiceField(label=_("积分细则"), queryset=ScoringRule.objects.none(), empty_label=_("请选择细则"))
    occurred_on = _date_field()
    points = _points_field()
    place = forms.CharField(label=_("地点"), required=False, max_length=100)
    account = forms.CharField(
        label=_("事由"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("何时、何地、做了什么。"),
    )
    evidence = PhotosField(label=_("证明照片"), help_text=_("可拍照或从相册选择，可选多张；照片会缩小并去除位置信息。"))
    entry_method = forms.ChoiceField(
        label=_("申报方式"),
        choices=[
            (PointEvent.EntryMethod.ON_BEHALF, _("代办：由我替党员申报")),
            (PointEvent.EntryMethod.TYPED_IN, _("党员本人申报，我只是代为录入")),
        ],
        initial=PointEvent.EntryMethod.ON_BEHALF,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, branch, for_self: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].queryset = branch_rules(branch, Kind.BONUS)
        if for_self:
            del self.fields["member"]
            del self.fields["entry_method"]
        else:
            self.fields["member"].queryset = branch_members(branch)


class DeductionForm(TokenForm):
    FIELD_ALIASES = {"account": "reason"}

    member = MemberChoiceField(label=_("党员"), queryset=Member.objects.none(), empty_label=_("请选择党员"))
    rule = RuleChoiceField(label=_("扣分细则"), queryset=ScoringRule.objects.none(), empty_label=_("请选择细则"))
    occurred_on = _date_field()
    points = _points_field()
    place = forms.CharField(label=_("地点"), required=False, max_length=100)
    reason = forms.CharField(
        label=_("扣分理由"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("写明事实和依据，例如群众反映并经支委会核实的情况。"),
    )

    def __init__(self, *args, branch, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = branch_members(branch)
        self.fields["rule"].queryset = branch_rules(branch, Kind.DEDUCTION)


class GroupActivityForm(TokenForm):
    rule = RuleChoiceField(label=_("积分细则"), queryset=ScoringRule.objects.none(), empty_label=_("请选择细则"))
    occurred_on = _date_field(_("活动日期"))
    place = forms.CharField(label=_("地点"), required=False, max_length=100)
    account = forms.CharField(
        label=_("活动内容"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("例如：大雪后铲除村道积雪。"),
    )
    points = _points_field()
    members = forms.ModelMultipleChoiceField(
        label=_("参加的党员"),
        queryset=Member.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, branch, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].queryset = branch_rules(branch, Kind.BONUS)
        self.fields["members"].queryset = branch_members(branch)


class MeetingForm(TokenForm):
    type = forms.ChoiceField(label=_("会议类型"), choices=Meeting.Type.choices)
    held_on = _date_field(_("召开日期"))
    place = forms.CharField(label=_("地点"), required=False, max_length=100)
    topic = forms.CharField(label=_("会议主题"), required=False, max_length=200)
    attendance_rule = RuleChoiceField(
        label=_("出席加分细则"), queryset=ScoringRule.objects.none(), empty_label=_("请选择细则")
    )
    absence_rule = RuleChoiceField(
        label=_("无故缺席扣分细则"),
        queryset=ScoringRule.objects.none(),
        required=False,
        empty_label=_("不扣分"),
    )

    def __init__(self, *args, branch, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendance_rule"].queryset = branch_rules(branch, Kind.BONUS)
        self.fields["absence_rule"].queryset = branch_rules(branch, Kind.DEDUCTION)
        self.members = list(branch_members(branch))
        for member in self.members:
            self.fields[f"att_{member.pk}"] = forms.ChoiceField(
                label=member.name,
                choices=Attendance.Status.choices,
                initial=Attendance.Status.PRESENT,
                widget=forms.RadioSelect,
            )
            self.fields[f"reason_{member.pk}"] = forms.CharField(label=_("请假事由"), required=False, max_length=200)

    def attendance_rows(self):
        for member in self.members:
            yield member, self[f"att_{member.pk}"], self[f"reason_{member.pk}"]

    def attendance(self) -> dict[int, tuple[str, str]]:
        return {
            m.pk: (self.cleaned_data.get(f"att_{m.pk}") or "", self.cleaned_data.get(f"reason_{m.pk}") or "")
            for m in self.members
        }


class MemberSearchForm(forms.Form):
    q = forms.CharField(label=_("查找党员"), required=False, max_length=30)
    sort = forms.ChoiceField(
        label=_("排序"),
        required=False,
        choices=[("strokes", _("姓氏笔画")), ("pinyin", _("拼音")), ("total", _("积分"))],
    )
