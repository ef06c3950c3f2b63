"""The one scope function every screen, admin page, API view, import, export and report goes through.

``branch_scope(user, write=...)`` answers "which branches may this user see (or change)":
- superuser: every branch;
- secretary, deputy or committee member of a branch: that branch, to read and to change;
- officer of a county or township: every branch below it, to read only;
- anyone else (an ordinary member, a villager): no branch. A member reaches their own rows
  through the models' ``visible_to`` (``branches/querysets.py``), which builds on this function.
It fails closed: an unknown user, an inactive one or a role it does not know gets nothing.

It sits with the models (their managers are built on it); everything else reads it from here.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from branches.models import Organisation, RoleAssignment
from branches.querysets import signed_in

Role = RoleAssignment.Role
COMMITTEE_ROLES = (Role.SECRETARY, Role.DEPUTY, Role.COMMITTEE)
SIGNING_ROLES = (Role.SECRETARY, Role.DEPUTY)


def branch_scope(user: AbstractBaseUser | AnonymousUser | None, *, write: bool = False) -> QuerySet[Organisation]:
    branches = Organisation.objects.filter(level=Organisation.Level.BRANCH)
    if not signed_in(user):
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
    if not signed_in(user):
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
    if not signed_in(user):
        return organisations.none()
    if user.is_superuser:
        return organisations
    paths = RoleAssignment.objects.filter(user=user, role=Role.OFFICER).values_list("organisation__path", flat=True)
    allowed = Q(pk__in=[])
    for path in paths:
        allowed |= Q(path__startswith=path)
    return organisations.filter(allowed)
