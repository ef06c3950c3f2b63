"""Public pages for villagers (no login): leave feedback about a branch's members, or an objection
to a posted quarter, and read the committee's answer with the reference code.

Abuse protection without a captcha service: a honeypot field, a per-address rate limit and size
limits. Nothing on these pages shows a villager's name or contact.
"""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from branches.models import Organisation
from core.ratelimit import RateLimitUnavailable, rate_limit_hit
from ledger.book import rules
from ledger.book.models import Period
from ledger.review import services as review_services
from members.models import Member

# Requests per address per hour; settings may override (tests do).
FEEDBACK_PER_HOUR = 5
LOOKUPS_PER_HOUR = 30


class FeedbackForm(forms.Form):
    member = forms.TypedChoiceField(
        label=gettext_lazy("反映哪位党员（可不选）"), required=False, coerce=int, empty_value=None
    )
    period = forms.TypedChoiceField(label=gettext_lazy("类型"), required=False, coerce=int, empty_value=None)
    body = forms.CharField(
        label=gettext_lazy("反映的事情"),
        help_text=gettext_lazy("什么时间、什么地方、发生了什么（%(max)d 字以内）") % {"max": review_services.MAX_BODY},
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": review_services.MAX_BODY}),
        max_length=review_services.MAX_BODY,
        error_messages={"required": gettext_lazy("请写明反映的事情：什么时间、什么地方、发生了什么。")},
    )
    contact = forms.CharField(
        label=gettext_lazy("联系方式（可不填）"),
        help_text=gettext_lazy("只有支委会能看到，用于核实情况"),
        required=False,
        max_length=review_services.MAX_CONTACT,
    )
    anonymous = forms.BooleanField(label=gettext_lazy("匿名反映（不留联系方式）"), required=False)
    # Honeypot: hidden from people, filled in by bots.
    website = forms.CharField(label=gettext_lazy("请不要填写此项"), required=False)

    def __init__(self, *args, branch: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        members = Member.objects.filter(branch=branch, status=Member.Status.ACTIVE).order_by(
            "name_strokes", "name_pinyin"
        )
        self.fields["member"].choices = [("", _("不指定"))] + [(m.pk, m.name) for m in members]
        self.open_periods = list(Period.objects.filter(rules.posting_open_q(), branch=branch))
        self.fields["period"].choices = [("", _("一般反映"))] + [
            (p.pk, _("对 %(period)s 公示积分的异议（%(end)s 截止）") % {"period": p.label, "end": p.posting_ends_on})
            for p in self.open_periods
        ]


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _over_limit(request, *, scope: str, setting: str, default: int) -> str | None:
    """The message refusing this request when it is over the public form's hourly limit, or when
    the limit cannot be counted (the cache is down: the public forms fail closed)."""
    try:
        if rate_limit_hit(scope=scope, request=request, limit=_limit(setting, default), window_seconds=3600):
            return str(_("提交太频繁，请一小时后再试。") if scope == "feedback" else _("查询太频繁，请一小时后再试。"))
    except RateLimitUnavailable:
        return str(_("系统繁忙，暂时无法受理，本次没有保存。请几分钟后再试。"))
    return None


@require_http_methods(["GET", "POST"])
def feedback_create(request, code: str):
    branch = get_object_or_404(Organisation, code=code, level=Organisation.Level.BRANCH)
    form = FeedbackForm(request.POST or None, branch=branch)
    if request.method == "POST":
        refused = _over_limit(request, scope="feedback", setting="FEEDBACK_PER_HOUR", default=FEEDBACK_PER_HOUR)
        if refused:
            form.add_error(None, refused)
            return render(request, "ledger/feedback_form.html", {"branch": branch, "form": form}, status=429)
        if form.is_valid():
            data = form.cleaned_data
            if data["website"]:
                # A bot: answer as if it worked, keep nothing.
                return render(request, "ledger/feedback_done.html", {"branch": branch, "reference": None})
            member = Member.objects.filter(branch=branch, pk=data["member"]).first() if data["member"] else None
            period = next((p for p in form.open_periods if p.pk == data["period"]), None)
            try:
                feedback = review_services.feedback_submit(
                    branch=branch,
                    body=data["body"],
                    member=member,
                    period=period,
                    contact=data["contact"],
                    anonymous=data["anonymous"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                return render(request, "ledger/feedback_done.html", {"branch": branch, "reference": feedback.reference})
        return render(request, "ledger/feedback_form.html", {"branch": branch, "form": form}, status=400)
    return render(request, "ledger/feedback_form.html", {"branch": branch, "form": form})


@require_http_methods(["GET"])
def feedback_lookup(request):
    code = (request.GET.get("code") or "").strip()[:40]
    context = {"code": code, "feedback": None, "error": ""}
    status = 200
    if code:
        refused = _over_limit(request, scope="lookup", setting="LOOKUPS_PER_HOUR", default=LOOKUPS_PER_HOUR)
        if refused:
            context["error"] = refused
            status = 429
        else:
            context["feedback"] = review_services.feedback_find(code)
            if context["feedback"] is None:
                context["error"] = _("没有找到这个查询码，请核对后重新输入。")
                status = 404
    return render(request, "ledger/feedback_lookup.html", context, status=status)
