"""Writing the audit trail: who changed what, when and why. Every service records through here;
nothing updates or deletes an entry (a database trigger refuses it)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import models

from branches.models import Organisation
from ledger.audit.models import AuditEntry

SYSTEM_USERNAME = "system"


def audit_record(
    *,
    actor: AbstractBaseUser | None,
    action: str,
    obj: models.Model,
    branch: Organisation | None,
    summary: str,
    reason: str = "",
    data: dict | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        branch=branch,
        object_type=obj._meta.label_lower,
        object_id=obj.pk,
        summary=summary[:255],
        reason=reason,
        data=data or {},
    )


def system_user() -> AbstractBaseUser:
    """The author of scheduled jobs (base points at the new year), so every entry has one."""
    user, _created = get_user_model().objects.get_or_create(
        username=SYSTEM_USERNAME, defaults={"is_active": False, "first_name": "系统"}
    )
    return user
