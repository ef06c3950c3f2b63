"""Reads about members, always through the scope function."""

from django.db.models import Q, QuerySet

from members.models import Member
from members.names import normalise_name


def member_search(queryset: QuerySet[Member], query: str) -> QuerySet[Member]:
    """Find by name, full pinyin or pinyin initials (王学恩 is found by 'wxe')."""
    query = normalise_name(query).lower()
    if not query:
        return queryset
    return queryset.filter(
        Q(name__contains=query) | Q(name_initials__startswith=query) | Q(name_pinyin__startswith=query)
    )


def member_for_user(user) -> Member | None:
    if user is None or not user.is_authenticated:
        return None
    return Member.objects.select_related("branch").filter(user=user).first()
