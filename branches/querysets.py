"""The scoped queryset every branch-owned model's manager is built from.

``Model.objects.visible_to(user)`` and ``Model.objects.writable_by(user)`` restrict any queryset
to the rows the user may read or change, as NetBox's ``RestrictedQuerySet.restrict()`` does.
The answer always comes from the one scope function, ``branches.scope.branch_scope`` (and
its companion ``organisation_scope`` for records that may belong to a township or the county).

Each model says how it reaches its branch with class attributes, and nothing else:

- ``branch_path``: lookup from the model to its branch, e.g. ``"branch"``, ``"event__branch"``;
- ``organisation_path``: lookup to an organisation of any level (documents, role assignments):
  readable through ``organisation_scope``, writable by superusers only;
- ``owner_path``: lookup to a user who may also read the row (a member their own events).
  A model with an owner and no branch (export jobs, idempotency keys) belongs to that user alone.

A model that declares none of them raises ``ImproperlyConfigured`` on the first scoped query,
and ``tests/test_scope_guard.py`` fails the build when an adapter (view, admin, API, export,
import) queries a scoped model without going through these two methods.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import Q


def signed_in(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The rows this user may read."""
        if not signed_in(user):
            return self.none()
        return self.filter(self.scope_q(user, write=False))

    def writable_by(self, user):
        """The rows this user may change (committee of the branch; officers only read)."""
        if not signed_in(user):
            return self.none()
        return self.filter(self.scope_q(user, write=True))

    def choosable_by(self, user):
        """The rows a form may offer this user to point at (a foreign key's choices): what they may
        change. Rows set from above for everyone below (scoring rules) are offered as read."""
        return self.writable_by(user)

    def scope_q(self, user, *, write: bool) -> Q:
        # imported here: branches.scope imports the models that use this queryset
        from branches.scope import branch_scope, organisation_scope

        model = self.model
        branch_path = getattr(model, "branch_path", None)
        organisation_path = getattr(model, "organisation_path", None)
        owner_path = getattr(model, "owner_path", None)
        if not (branch_path or organisation_path or owner_path):
            raise ImproperlyConfigured(f"{model.__name__} declares no branch_path, organisation_path or owner_path")
        if user.is_superuser and branch_path and not organisation_path:
            # branch_scope gives a superuser every branch: no "IN (every branch)" over millions of rows
            return Q()
        allowed = Q(pk__in=[])
        if branch_path:
            allowed |= Q(**{f"{branch_path}__in": branch_scope(user, write=write)})
        if organisation_path:
            if not write:
                allowed |= Q(**{f"{organisation_path}__in": organisation_scope(user)})
            elif user.is_superuser:
                return Q()
        if owner_path:
            if branch_path or organisation_path:
                if not write:  # a member reads their own rows, never changes them here
                    allowed |= _owner_q(model, owner_path, user)
            elif user.is_superuser:
                return Q()
            else:  # records that belong to a user alone: theirs to read and to change
                allowed |= Q(**{owner_path: user})
        return allowed


def _owner_q(model, owner_path: str, user) -> Q:
    """ "Rows owned by this user", as a key ``IN`` a small subquery rather than a join.

    ``member__user = u`` ORed with ``branch IN (…)`` needs a join and defeats the indexes (a
    sequential scan of every entry); ``member_id IN (SELECT id … WHERE user_id = u)`` ORed with
    ``branch_id IN (…)`` is two index scans combined (BitmapOr)."""
    head, _sep, last = owner_path.rpartition("__")
    if not head:
        return Q(**{owner_path: user})
    related = model
    for part in head.split("__"):
        related = related._meta.get_field(part).related_model
    owned = related._base_manager.filter(**{last: user}).values("pk")
    return Q(**{f"{head}__in": owned})


ScopedManager = models.Manager.from_queryset(ScopedQuerySet)


class InheritedQuerySet(ScopedQuerySet):
    """Records an organisation sets for everything below it (scoring rules).

    Read: those set by any organisation on the path to the user's branches (or, for a member,
    to their own branch). Write: officers, in the organisations they administer and below.
    """

    def choosable_by(self, user):
        return self.visible_to(user)

    def scope_q(self, user, *, write: bool) -> Q:
        from branches.scope import branch_scope, officer_organisations

        path = self.model.organisation_path
        if user.is_superuser:
            return Q()
        if write:
            return Q(**{f"{path}__in": officer_organisations(user)})
        ids: set[int] = set()
        paths = list(branch_scope(user).values_list("path", flat=True))
        member = getattr(user, "member", None)
        if member is not None:
            paths.append(member.branch.path)
        for branch_path in paths:
            ids.update(int(part) for part in branch_path.strip("/").split("/") if part)
        return Q(**{f"{path}__in": ids})


InheritedManager = models.Manager.from_queryset(InheritedQuerySet)
