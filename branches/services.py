"""Writes to the organisation tree and role assignments."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from branches.models import Organisation, RoleAssignment

_PARENT_LEVEL = {
    Organisation.Level.TOWNSHIP: Organisation.Level.COUNTY,
    Organisation.Level.BRANCH: Organisation.Level.TOWNSHIP,
}


@transaction.atomic
def organisation_create(
    *, name: str, code: str, level: str, parent: Organisation | None = None, **fields
) -> Organisation:
    expected_parent = _PARENT_LEVEL.get(level)
    if expected_parent is None and parent is not None:
        raise ValidationError({"parent": _("县级组织没有上级组织。")})
    if expected_parent is not None and (parent is None or parent.level != expected_parent):
        raise ValidationError({"parent": _("上级组织层级不对：乡镇属于县，支部属于乡镇。")})
    organisation = Organisation.objects.create(name=name, code=code, level=level, parent=parent, **fields)
    organisation.path = f"{parent.path if parent else '/'}{organisation.pk}/"
    organisation.save(update_fields=["path"])
    return organisation


def role_assign(*, user: AbstractBaseUser, organisation: Organisation, role: str) -> RoleAssignment:
    committee_roles = {RoleAssignment.Role.SECRETARY, RoleAssignment.Role.DEPUTY, RoleAssignment.Role.COMMITTEE}
    if role in committee_roles and not organisation.is_branch:
        raise ValidationError({"role": _("支委职务只能在村（社区）党支部中担任。")})
    if role == RoleAssignment.Role.OFFICER and organisation.is_branch:
        raise ValidationError({"role": _("组织部门干部应登记在县或乡镇一级。")})
    assignment, _created = RoleAssignment.objects.get_or_create(user=user, organisation=organisation, role=role)
    if not user.is_staff:
        user.is_staff = True  # committee and officers work in the admin
        user.save(update_fields=["is_staff"])
    return assignment
