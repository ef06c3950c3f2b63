"""Secretary and member screens. Thin: every queryset goes through the scope function, every
write through ``ledger.book.services``; a branch or object outside the user's scope answers 404."""

from collections import OrderedDict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from branches.scope import branch_scope
from branches.selectors import can_decide
from core import clock
from core.points import ZERO
from core.quarters import quarter_bounds, quarter_label, quarter_of
from ledger.book import selectors, services
from ledger.book.models import Evidence, Kind, PointEvent
from ledger.meetings.models import Meeting
from ledger.meetings.services import meeting_record
from ledger.web.forms import (
    ClaimForm,
    DeductionForm,
    GroupActivityForm,
    MeetingForm,
    MemberSearchForm,
    errors_to_form,
    form_token_claim,
    form_token_issue,
    form_token_release,
)
from members.models import Member
from members.selectors import member_for_user, member_search

Status = PointEvent.Status


def _branch(request: HttpRequest, branch_id: int, *, write: bool = False):
    return get_object_or_404(branch_scope(request.user, write=write), pk=branch_id)


def _quarter_context(branch) -> dict:
    day = clock.today()
    year, quarter = day.year, quarter_of(day)
    period = selectors.current_period(branch)
    _start, end = quarter_bounds(year, quarter)
    return {
        "year": year,
        "quarter": quarter,
        "period": period,
        "period_label": quarter_label(year, quarter),
        "period_state": period.get_state_display() if period else _("进行中"),
        "days_left": (end - day).days,
        "quarter_end": end,
    }


def _members_listing(user, branch, params) -> tuple[MemberSearchForm, list[Member], dict]:
    """The branch's member list with quarter and year-to-date totals: one query whatever its length."""
    form = MemberSearchForm(params)
    form.is_valid()
    query = form.cleaned_data.get("q") or ""
    sort = form.cleaned_data.get("sort") or "strokes"
    day = clock.today()
    members = Member.objects.visible_to(user).filter(branch=branch, status=Member.Status.ACTIVE)
    members = selectors.member_totals(member_search(members, query), year=day.year, quarter=quarter_of(day))
    order = {
        "strokes": ["name_strokes", "name_pinyin", "id"],
        "pinyin": ["name_pinyin", "id"],
        "total": ["-ytd_total", "name_strokes", "id"],
    }[sort]
    return form, list(members.order_by(*order)), {"q": query, "sort": sort}


def _save(request, form, action, *, success_url: str, template: str, context: dict):
    """Validate, claim the one-time token, call the service; on refusal keep what was typed."""
    token = request.POST.get("form_token", "")
    if form.is_valid():
        problem = form_token_claim(request.user, token)
        if problem:
            messages.error(request, problem)
            form.add_error(None, problem)
        else:
            try:
                result = action(form.cleaned_data)
            except (ValidationError, PermissionDenied) as exc:
                form_token_release(token)
                if isinstance(exc, PermissionDenied):
                    raise Http404 from None
                errors_to_form(form, exc)
            else:
                return result if isinstance(result, HttpResponse) else redirect(success_url)
    data = form.data.copy()
    data["form_token"] = form_token_issue(request.user)
    form.data = data
    return render(request, template, {**context, "form": form}, status=200)


def _new_form(form_class, request, initial=None, **kwargs):
    initial = {**(initial or {}), "form_token": form_token_issue(request.user)}
    return form_class(initial=initial, **kwargs)


# --- secretary ---------------------------------------------------------------------------------


@login_required
def branch_home(request: HttpRequest, branch_id: int) -> HttpResponse:
    """书记首页: the quarter and its state, entry counts, members with no entry, the member list."""
    branch = _branch(request, branch_id)
    ctx = _quarter_context(branch)
    # the quarter's row, found once: its entries are then one (period_id, status) index range
    this_quarter = PointEvent.objects.visible_to(request.user).filter(branch=branch, period=ctx["period"])
    counts = dict(this_quarter.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    silent = (
        Member.objects.visible_to(request.user)
        .filter(branch=branch, status=Member.Status.ACTIVE)
        .exclude(pk__in=this_quarter.values("member_id"))
        .order_by("name_strokes", "name_pinyin")
        .values_list("id", "name")
    )
    search, members, params = _members_listing(request.user, branch, request.GET)
    return render(
        request,
        "ledger/branch_home.html",
        {
            **ctx,
            "branch": branch,
            "can_write": branch_scope(request.user, write=True).filter(pk=branch.pk).exists(),
            "counts": {s: counts.get(s, 0) for s in Status.values},
            "silent": list(silent),
            "search": search,
            "members": members,
            "params": params,
        },
    )


@login_required
@require_GET
def branch_members(request: HttpRequest, branch_id: int) -> HttpResponse:
    """The member rows alone, for search-as-you-type and sorting (htmx)."""
    branch = _branch(request, branch_id)
    _search, members, params = _members_listing(request.user, branch, request.GET)
    return render(request, "ledger/_member_rows.html", {"branch": branch, "members": members, "params": params})


@login_required
def member_account(request: HttpRequest, branch_id: int, member_id: int) -> HttpResponse:
    branch = _branch(request, branch_id)
    member = get_object_or_404(Member.objects.visible_to(request.user).filter(branch=branch), pk=member_id)
    return _account(request, member, branch=branch, template="ledger/account.html")


@login_required
def member_statement(request: HttpRequest, branch_id: int, member_id: int) -> HttpResponse:
    branch = _branch(request, branch_id)
    member = get_object_or_404(Member.objects.visible_to(request.user).filter(branch=branch), pk=member_id)
    return _account(request, member, branch=branch, template="ledger/statement.html")


@login_required
def rule_info(request: HttpRequest, branch_id: int) -> HttpResponse:
    """The chosen rule's default points, its caps and what is left of them (htmx fragment)."""
    branch = _branch(request, branch_id, write=True)
    member = Member.objects.visible_to(request.user).filter(branch=branch, pk=_int(request.GET.get("member"))).first()
    return _rule_info(request, branch, member)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _posted_rule(request, branch):
    """The rule chosen in a refused form, so its default, caps and description stay in view."""
    return selectors.rules_for_branch(branch, kind=Kind.BONUS).filter(pk=_int(request.POST.get("rule"))).first()


def _rule_info(request, branch, member) -> HttpResponse:
    rule = selectors.rules_for_branch(branch).filter(pk=_int(request.GET.get("rule"))).first()
    usage = None
    if rule is not None and member is not None:
        day = clock.today()
        usage = selectors.rule_usage(member=member, rule=rule, year=day.year, quarter=quarter_of(day))
    return render(
        request,
        "ledger/_rule_info.html",
        {"rule": rule, "usage": usage, "points_value": rule.default_points if rule else "", "swap": True},
    )


@login_required
def claim_create(request: HttpRequest, branch_id: int) -> HttpResponse:
    """Enter a claim for a member (代办 or typed in for the member)."""
    branch = _branch(request, branch_id, write=True)
    context = {"branch": branch, "title": _("录入积分申报")}
    if request.method == "POST":
        form = ClaimForm(request.POST, request.FILES, branch=branch)
        context["rule"] = _posted_rule(request, branch)

        def action(data):
            event = services.claim_record(
                actor=request.user,
                member=data["member"],
                rule=data["rule"],
                occurred_on=data["occurred_on"],
                account=data["account"],
                points=data["points"],
                place=data["place"],
                evidence=data["evidence"],
                entry_method=data["entry_method"],
            )
            messages.success(
                request,
                _("已录入：%(name)s %(rule)s %(points)s，待支委会审核。")
                % {"name": event.member.name, "rule": event.rule.title, "points": event.points_display},
            )

        return _save(
            request,
            form,
            action,
            success_url=reverse("branch_home", args=[branch.pk]),
            template="ledger/claim_form.html",
            context=context,
        )
    member = Member.objects.visible_to(request.user).filter(branch=branch, pk=_int(request.GET.get("member"))).first()
    form = _new_form(ClaimForm, request, initial={"member": member, "occurred_on": clock.today()}, branch=branch)
    return render(request, "ledger/claim_form.html", {**context, "form": form})


@login_required
def deduction_create(request: HttpRequest, branch_id: int) -> HttpResponse:
    """违规扣分: by the secretary or the committee only, always with a reason."""
    branch = _branch(request, branch_id, write=True)
    if not can_decide(request.user, branch):
        raise Http404
    context = {"branch": branch}
    if request.method == "POST":
        form = DeductionForm(request.POST, branch=branch)

        def action(data):
            event = services.deduction_add(
                actor=request.user,
                member=data["member"],
                rule=data["rule"],
                occurred_on=data["occurred_on"],
                reason=data["reason"],
                points=data["points"],
                place=data["place"],
            )
            messages.success(
                request,
                _("已录入扣分：%(name)s %(rule)s %(points)s，待支委会审核。")
                % {"name": event.member.name, "rule": event.rule.title, "points": event.points_display},
            )

        return _save(
            request,
            form,
            action,
            success_url=reverse("branch_home", args=[branch.pk]),
            template="ledger/deduction_form.html",
            context=context,
        )
    member = Member.objects.visible_to(request.user).filter(branch=branch, pk=_int(request.GET.get("member"))).first()
    form = _new_form(DeductionForm, request, initial={"member": member, "occurred_on": clock.today()}, branch=branch)
    return render(request, "ledger/deduction_form.html", {**context, "form": form})


@login_required
def group_activity_create(request: HttpRequest, branch_id: int) -> HttpResponse:
    """集体活动: one deed, many members; one event each, all in one transaction."""
    branch = _branch(request, branch_id, write=True)
    context = {"branch": branch}
    if request.method == "POST":
        form = GroupActivityForm(request.POST, branch=branch)

        def action(data):
            events = services.group_activity_record(
                actor=request.user,
                branch=branch,
                members=list(data["members"]),
                rule=data["rule"],
                occurred_on=data["occurred_on"],
                account=data["account"],
                place=data["place"],
                points=data["points"],
            )
            messages.success(
                request,
                _("已为 %(count)d 名党员录入“%(rule)s”，待支委会审核。")
                % {"count": len(events), "rule": data["rule"].title},
            )

        return _save(
            request,
            form,
            action,
            success_url=reverse("branch_home", args=[branch.pk]),
            template="ledger/group_form.html",
            context=context,
        )
    form = _new_form(GroupActivityForm, request, initial={"occurred_on": clock.today()}, branch=branch)
    return render(request, "ledger/group_form.html", {**context, "form": form})


@login_required
def meeting_list(request: HttpRequest, branch_id: int) -> HttpResponse:
    branch = _branch(request, branch_id)
    meetings = (
        Meeting.objects.visible_to(request.user)
        .filter(branch=branch)
        .annotate(
            present=Count("attendance", filter=Q(attendance__status="present")),
            excused=Count("attendance", filter=Q(attendance__status="excused")),
            absent=Count("attendance", filter=Q(attendance__status="absent")),
        )
        .order_by("-held_on", "-id")[:200]
    )
    return render(
        request,
        "ledger/meeting_list.html",
        {
            "branch": branch,
            "meetings": meetings,
            "can_write": branch_scope(request.user, write=True).filter(pk=branch.pk).exists(),
        },
    )


@login_required
def meeting_create(request: HttpRequest, branch_id: int) -> HttpResponse:
    """三会一课 / 主题党日: who attended, who was excused (with a reason), who was absent."""
    branch = _branch(request, branch_id, write=True)
    if not can_decide(request.user, branch):
        raise Http404
    context = {"branch": branch}
    if request.method == "POST":
        form = MeetingForm(request.POST, branch=branch)

        def action(data):
            meeting = meeting_record(
                actor=request.user,
                branch=branch,
                type=data["type"],
                held_on=data["held_on"],
                topic=data["topic"],
                place=data["place"],
                attendance_rule=data["attendance_rule"],
                absence_rule=data["absence_rule"],
                attendance=form.attendance(),
            )
            messages.success(request, _("会议已登记，出勤积分待支委会审核。"))
            for note in getattr(meeting, "notes", []):
                messages.warning(request, note)
            return redirect("meeting_detail", branch_id=branch.pk, meeting_id=meeting.pk)

        return _save(
            request,
            form,
            action,
            success_url=reverse("meeting_list", args=[branch.pk]),
            template="ledger/meeting_form.html",
            context=context,
        )
    bonus = list(selectors.rules_for_branch(branch, kind=Kind.BONUS).order_by("code"))
    deduction = list(selectors.rules_for_branch(branch, kind=Kind.DEDUCTION).order_by("code"))
    rules = {
        "attendance_rule": next((r for r in bonus if "三会一课" in r.title), None),
        "absence_rule": next((r for r in deduction if "缺席" in r.title), None),
    }
    form = _new_form(MeetingForm, request, initial={"held_on": clock.today(), **rules}, branch=branch)
    return render(request, "ledger/meeting_form.html", {**context, "form": form})


@login_required
def meeting_detail(request: HttpRequest, branch_id: int, meeting_id: int) -> HttpResponse:
    branch = _branch(request, branch_id)
    meeting = get_object_or_404(
        Meeting.objects.visible_to(request.user)
        .filter(branch=branch)
        .select_related("attendance_rule", "absence_rule", "recorded_by"),
        pk=meeting_id,
    )
    rows = meeting.attendance.select_related("member", "event").order_by(
        "status", "member__name_strokes", "member__name_pinyin"
    )
    return render(request, "ledger/meeting_detail.html", {"branch": branch, "meeting": meeting, "rows": rows})


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """Township and county officers: every branch below them, read-only."""
    day = clock.today()
    year, quarter = day.year, quarter_of(day)
    branches = list(branch_scope(request.user).select_related("parent").order_by("path"))
    counts = selectors.branch_counts(branch_scope(request.user), year=year, quarter=quarter)
    for branch in branches:
        row = counts[branch.pk]
        branch.members_n, branch.pending_n, branch.approved_n = row["members"], row["pending"], row["approved"]
    return render(
        request,
        "ledger/overview.html",
        {
            "branches": branches,
            "period_label": quarter_label(year, quarter),
        },
    )


@login_required
def evidence_image(request: HttpRequest, evidence_id: int) -> FileResponse:
    """An evidence photo, only for those who may see its entry (never a public media URL)."""
    evidence = get_object_or_404(Evidence.objects.visible_to(request.user), pk=evidence_id)
    return FileResponse(evidence.image.open("rb"), content_type="image/jpeg")


# --- the member's own screens -------------------------------------------------------------------


def _own_member(request) -> Member:
    member = member_for_user(request.user)
    if member is None:
        raise Http404
    return member


@login_required
def my_account(request: HttpRequest) -> HttpResponse:
    member = _own_member(request)
    return _account(request, member, branch=None, template="ledger/account.html")


@login_required
def my_statement(request: HttpRequest) -> HttpResponse:
    member = _own_member(request)
    return _account(request, member, branch=None, template="ledger/statement.html")


@login_required
def my_rule_info(request: HttpRequest) -> HttpResponse:
    member = _own_member(request)
    return _rule_info(request, member.branch, member)


@login_required
def my_declare(request: HttpRequest) -> HttpResponse:
    """个人申报: the member declares a deed of their own."""
    member = _own_member(request)
    branch = member.branch
    context = {"branch": None, "member": member, "for_self": True}
    if request.method == "POST":
        form = ClaimForm(request.POST, request.FILES, branch=branch, for_self=True)
        context["rule"] = _posted_rule(request, branch)

        def action(data):
            event = services.claim_record(
                actor=request.user,
                member=member,
                rule=data["rule"],
                occurred_on=data["occurred_on"],
                account=data["account"],
                points=data["points"],
                place=data["place"],
                evidence=data["evidence"],
            )
            messages.success(
                request,
                _("已申报：%(rule)s %(points)s，待支委会审核。")
                % {"rule": event.rule.title, "points": event.points_display},
            )

        return _save(
            request,
            form,
            action,
            success_url=reverse("my_account"),
            template="ledger/claim_form.html",
            context=context,
        )
    form = _new_form(ClaimForm, request, initial={"occurred_on": clock.today()}, branch=branch, for_self=True)
    return render(request, "ledger/claim_form.html", {**context, "form": form})


def _account(request, member: Member, *, branch, template: str) -> HttpResponse:
    """Every event of the year by quarter, with status, rule and reviewer's reason, and how the
    total is made up. A fixed number of queries whatever the number of events."""
    day = clock.today()
    years = sorted({day.year, *member.events.dates("occurred_on", "year").values_list("occurred_on__year", flat=True)})
    year = _int(request.GET.get("year")) or day.year
    if year not in years:
        year = day.year
    events = list(
        PointEvent.objects.visible_to(request.user)
        .filter(member=member, period__year=year)
        .select_related("rule", "period", "decided_by", "entered_by")
        .prefetch_related("evidence")
        .order_by("-period__quarter", "-occurred_on", "-id")
    )
    quarters: OrderedDict[int, dict] = OrderedDict()
    for event in events:
        q = quarters.setdefault(event.period.quarter, {"period": event.period, "events": []})
        q["events"].append(event)
    for q in quarters.values():
        q["total"] = selectors.kind_totals(q["events"])["total"]
        q["pending"] = sum((e.points for e in q["events"] if e.status == Status.PENDING), ZERO)
    totals = selectors.kind_totals(events)
    parts = {kind: totals[kind] for kind in Kind.values}
    total = totals["total"]
    pending = sum((e.points for e in events if e.status == Status.PENDING), ZERO)
    return render(
        request,
        template,
        {
            "branch": branch,
            "member": member,
            "year": year,
            "years": years,
            "quarters": quarters,
            "parts": parts,
            "total": total,
            "pending": pending,
            "today": day,
            "is_own": member.user_id == request.user.pk,
        },
    )
