"""Sign in with the username or the mobile number on the member roll (many members know only that);
API tokens that expire and end with a password change."""

import datetime

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.utils.translation import gettext as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from core import clock
from members.models import Member


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


class UsernameOrPhoneBackend(ModelBackend):
    """Falls back to ``Member.phone`` when no user has the given username.

    A phone number shared by two member rows (a family phone) signs nobody in: it is ambiguous.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or password is None:
            return None
        users = get_user_model()._default_manager
        if users.filter(username=username).exists():
            return None  # a username: ModelBackend has already answered
        phone = _digits(username)
        if len(phone) < 7:
            return None
        user_ids = list(
            Member.objects.filter(phone=phone, user__isnull=False).values_list("user_id", flat=True).distinct()[:2]
        )
        if len(user_ids) != 1:
            users.model().set_password(password)  # same time whether or not the number is known
            return None
        user = users.filter(pk=user_ids[0]).first()
        if user is not None and user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


class ExpiringTokenAuthentication(TokenAuthentication):
    """API tokens last ``API_TOKEN_TTL_DAYS`` from when they were issued; an expired token is
    deleted and refused (the client asks for a new one with the password)."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            token.delete()
            raise AuthenticationFailed(_("登录凭证已过期，请重新获取。"))
        return user, token


def token_expired(token: Token) -> bool:
    return token.created + datetime.timedelta(days=settings.API_TOKEN_TTL_DAYS) <= clock.now()


def token_issue(user) -> Token:
    """The user's API token: the current one while it is valid, else a new one."""
    token = Token.objects.filter(user=user).first()
    if token is not None and token_expired(token):
        token.delete()
        token = None
    return token or Token.objects.create(user=user)


class RevokeTokensOnPasswordChange:
    """Not a rule on passwords: Django calls every validator's ``password_changed`` when a user's
    new password is saved (admin, password forms, ``changepassword``), the one hook for all of
    them. A changed password revokes the user's API tokens, as it ends their other sessions."""

    def validate(self, password, user=None):
        return None

    def password_changed(self, password, user=None):
        if user is not None and user.pk is not None:
            Token.objects.filter(user=user).delete()

    def get_help_text(self):
        return ""


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check, first of the backends. Every sign-in page (web, admin, API
    token) passes its request; a call without one (a management command, the shell) has no
    client address to lock and is let through to the password check."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
