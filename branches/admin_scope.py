"""The admin's side of the scope rule: every ModelAdmin of the project derives from ScopedAdmin.

Querysets come from the model's scoped manager (``visible_to``/``writable_by``, see
``branches/querysets.py``); foreign-key choices and permissions from the same scope function,
``branches.scope.branch_scope``.
Django's per-model permission table is not used: what a user may do follows from their role in
a branch (or above it), the same as on every other screen. An object outside the user's scope
answers 404, as everywhere else.
"""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import QuerySet
from django.http import Http404
from django.utils.functional import cached_property

from branches.models import Organisation, RoleAssignment
from branches.querysets import ScopedQuerySet
from branches.scope import branch_scope


def has_any_role(user) -> bool:
    """Staff with a role somewhere (cached on the user object for the request)."""
    if not (user.is_active and user.is_staff):
        return False
    if not hasattr(user, "_ledger_has_role"):
        user._ledger_has_role = user.is_superuser or RoleAssignment.objects.filter(user=user).exists()
    return user._ledger_has_role


def can_write_somewhere(user) -> bool:
    if not hasattr(user, "_ledger_can_write"):
        user._ledger_can_write = branch_scope(user, write=True).exists()
    return user._ledger_can_write


class ScopedAdmin(admin.ModelAdmin):
    """The model says how it reaches its branch (``branch_path`` etc. on the model); the admin
    adds nothing to that, so the list, the forms and the API agree on who sees what."""

    #: Whether anyone (in scope) may add, change or delete here at all.
    writable = True
    deletable = False

    # --- querysets ------------------------------------------------------------------------
    def get_queryset(self, request) -> QuerySet:
        return super().get_queryset(request).visible_to(request.user)

    def in_write_scope(self, request, obj) -> bool:
        return self.model._default_manager.writable_by(request.user).filter(pk=obj.pk).exists()

    # --- permissions ----------------------------------------------------------------------
    def has_module_permission(self, request):
        return has_any_role(request.user)

    def has_view_permission(self, request, obj=None):
        return has_any_role(request.user)

    def has_add_permission(self, request):
        return self.writable and has_any_role(request.user) and can_write_somewhere(request.user)

    def has_change_permission(self, request, obj=None):
        if not self.writable or not has_any_role(request.user):
            return False
        if obj is None:
            return can_write_somewhere(request.user)
        return self.in_write_scope(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.deletable and self.has_change_permission(request, obj)

    # --- choices --------------------------------------------------------------------------
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        user = request.user
        if related is Organisation:
            if db_field.name in ("branch",):
                kwargs["queryset"] = branch_scope(user, write=True)
            else:
                kwargs["queryset"] = Organisation.objects.visible_to(user)
        elif isinstance(related._default_manager.all(), ScopedQuerySet):
            # Each model's queryset says what its rows may be chosen by whom: no app is imported here.
            queryset = related._default_manager.all().choosable_by(user)
            if "branch" in {f.name for f in related._meta.fields}:
                queryset = queryset.select_related("branch")
            kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # Another branch's object is "not found", never a redirect that admits it exists, and never
    # a 403 that admits it exists either: check the scope before Django checks permissions.
    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404

    def _require_in_scope(self, request, object_id) -> None:
        if object_id is None:
            return
        try:
            found = self.get_queryset(request).filter(pk=unquote(object_id)).exists()
        except (ValueError, ValidationError):
            found = False
        if not found:
            raise Http404

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        self._require_in_scope(request, object_id)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self._require_in_scope(request, object_id)
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        self._require_in_scope(request, object_id)
        return super().history_view(request, object_id, extra_context)


class ReadOnlyAdmin(ScopedAdmin):
    """For records nobody edits by hand (audit entries, cached totals): view only, for everyone."""

    writable = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- big tables: lists that cost what they show ------------------------------------------------


class EstimatedCountPaginator(Paginator):
    """The exact count when it is small, the planner's estimate when it is large.

    ``COUNT(*)`` over millions of entries costs seconds on every page of a list; the planner's
    row estimate (``EXPLAIN``) costs a millisecond and is close enough to number the pages. Below
    ``exact_below`` rows (as the planner guesses them) the count is exact."""

    exact_below = 10_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if connection.vendor == "postgresql" and isinstance(queryset, QuerySet):
            try:
                sql, params = queryset.query.sql_with_params()
                with connection.cursor() as cursor:
                    cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
                    estimate = int(cursor.fetchone()[0][0]["Plan"]["Plan Rows"])
            except Exception:  # an unusual query: fall back to counting it
                estimate = 0
            if estimate >= self.exact_below:
                return estimate
        return super().count


class ScopedBranchFilter(admin.RelatedFieldListFilter):
    """Filter by branch, offering the branches the user may see (one small query), instead of
    ``RelatedOnlyFieldListFilter``'s ``SELECT DISTINCT branch_id`` over every row of the table."""

    def field_choices(self, field, request, model_admin):
        return [(b.pk, str(b)) for b in branch_scope(request.user).order_by("path").only("pk", "name")]
