"""Reads about organisations, and the one scope function every screen, admin page, API view,
import, export and report goes through.

``branch_scope(user, write=...)`` answers "which branches may this user see (or change)":
- superuser: every branch;
- secretary, deputy or committee member of a branch: that branch, to read and to change;
- officer of a county or township: every branch below it, to read only;
- anyone else (an ordinary member, a villager): no branch. A member reaches their own account
  through ``members.selectors.member_scope``, which builds on this function.
It fails closed: an unknown user, an inactive one or a role it does not know gets nothing.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from branches.models import Organisation, RoleAssignment

Role = RoleAssignment.Role
COMMITTEE_ROLES = (Role.SECRETARY, Role.DEPUTY, Role.COMMITTEE)
SIGNING_ROLES = (Role.SECRETARY, Role.DEPUTY)


def branch_scope(user: AbstractBaseUser | AnonymousUser | None, *, write: bool = False) -> QuerySet[Organisation]:
    branches = Organisation.objects.filter(level=Organisation.Level.BRANCH)
    if user is None or not user.is_authenticated or not user.is_active:
        return branches.none()
    if user.is_superuser:
        return branches
    committee_of = RoleAssignment.objects.filter(user=user, role__in=COMMITTEE_ROLES).values("organisation_id")
    allowed = Q(id__in=committee_of)
    if not write:
        officer_paths = RoleAssignment.objects.filter(user=user, role=Role.OFFICER).values_list(
            "organisation__path", flat=True
        )
        for path in officer_paths:
            allowed |= Q(path__startswith=path)
    return branches.filter(allowed)


def organisation_scope(user: AbstractBaseUser | AnonymousUser | None) -> QuerySet[Organisation]:
    """Every organisation (county, township or branch) the user may read: their own and below."""
    organisations = Organisation.objects.all()
    if user is None or not user.is_authenticated or not user.is_active:
        return organisations.none()
    if user.is_superuser:
        return organisations
    paths = RoleAssignment.objects.filter(user=user).values_list("organisation__path", flat=True)
    allowed = Q(pk__in=[])
    for path in paths:
        allowed |= Q(path__startswith=path)
    return organisations.filter(allowed)


def officer_organisations(user: AbstractBaseUser | AnonymousUser | None) -> QuerySet[Organisation]:
    """The organisations an officer administers (their county or township and everything below):
    where they set scoring rules. A superuser administers all; anyone else none."""
    organisations = Organisation.objects.all()
    if user is None or not user.is_authenticated or not user.is_active:
        return organisations.none()
    if user.is_superuser:
        return organisations
    paths = RoleAssignment.objects.filter(user=user, role=Role.OFFICER).values_list("organisation__path", flat=True)
    allowed = Q(pk__in=[])
    for path in paths:
        allowed |= Q(path__startswith=path)
    return organisations.filter(allowed)


def user_roles(user: AbstractBaseUser | AnonymousUser | None, branch: Organisation) -> set[str]:
    """The roles the user holds in this branch itself (not those held above it)."""
    if user is None or not user.is_authenticated or not user.is_active:
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
