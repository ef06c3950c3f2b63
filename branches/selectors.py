"""Reads about organisations and roles: who may decide or sign in a branch, the tree above and below.

Which branches a user may see or change is answered by ``branches.scope.branch_scope``.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from branches.models import Organisation, RoleAssignment
from branches.querysets import signed_in
from branches.scope import COMMITTEE_ROLES, SIGNING_ROLES


def user_roles(user: AbstractBaseUser | AnonymousUser | None, branch: Organisation) -> set[str]:
    """The roles the user holds in this branch itself (not those held above it)."""
    if not signed_in(user):
        return set()
    return set(RoleAssignment.objects.filter(user=user, organisation=branch).values_list("role", flat=True))


def can_decide(user, branch: Organisation) -> bool:
    """Committee members (incl. secretary and deputy) review entries of their branch."""
    if user is not None and user.is_authenticated and user.is_superuser:
        return True
    return bool(user_roles(user, branch) & set(COMMITTEE_ROLES))


def can_sign(user, branch: Organisation) -> bool:
    """Only the secretary, or the deputy acting for them, signs a quarter."""
    if user is not None and user.is_authenticated and user.is_superuser:
        return True
    return bool(user_roles(user, branch) & set(SIGNING_ROLES))


def ancestors(organisation: Organisation) -> QuerySet[Organisation]:
    ids = [int(part) for part in organisation.path.strip("/").split("/") if part]
    return Organisation.objects.filter(id__in=ids)


def descendants(organisation: Organisation, *, level: str | None = None) -> QuerySet[Organisation]:
    qs = Organisation.objects.filter(path__startswith=organisation.path)
    return qs.filter(level=level) if level else qs
