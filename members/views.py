"""Sign-in and the role-aware home page."""

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from branches.scope import branch_scope
from members.selectors import member_for_user


class SignInForm(AuthenticationForm):
    username = forms.CharField(
        label=_("用户名或手机号"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}),
    )
    error_messages = {
        "invalid_login": _("用户名（或手机号）和密码不匹配，请重新输入。"),
        "inactive": _("该账号已停用。"),
    }


class SignInView(auth_views.LoginView):
    template_name = "members/login.html"
    form_class = SignInForm
    redirect_authenticated_user = True


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands where its work is: the branch, the overview, or one's own account."""
    user = request.user
    if user.is_superuser:
        return redirect("admin:index")
    writable = list(branch_scope(user, write=True).values_list("pk", flat=True)[:2])
    if len(writable) == 1:
        return redirect("branch_home", branch_id=writable[0])
    if writable or branch_scope(user).exists():
        return redirect("overview")
    if member_for_user(user) is not None:
        return redirect("my_account")
    return render(request, "members/no_role.html")
