"""Sign in with the username or the mobile number on the member roll (many members know only that)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

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
