"""Writing the audit trail: who changed what, when and why. Every service records through here;
nothing updates or deletes an entry (a database trigger refuses it).

The trail is hash-chained per branch (entries without a branch form one more chain): each entry
stores the hash of the entry before it in its chain and its own hash over its content and that
link (``audit_digest``). Per branch rather than one global chain because the link is taken under
a lock held until the writer's transaction commits: one global chain would make every write in
the county wait for every other; per branch, writers wait only for their own branch, which the
quarter's row locks already serialise. The lock is a PostgreSQL transaction-level advisory lock
on the chain (``select_for_update`` on the last entry is not enough: a writer that waited for it
would, once it got it, still chain to the entry that is no longer last). On SQLite the database
itself lets one writer in at a time, and the unique ``audit_chain_no_fork`` constraint refuses a
second entry after the same one on either database.
"""

import json

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction

from branches.models import Organisation
from core import clock
from ledger.audit.models import AuditEntry, audit_digest

SYSTEM_USERNAME = "system"

#: First key of the advisory lock that guards a branch's audit chain (second key: the branch id,
#: 0 for the chain of entries without a branch). "AUDT" in ASCII, well inside int4.
AUDIT_CHAIN_LOCK = 0x41554454


def _chain_lock(branch_id: int | None) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [AUDIT_CHAIN_LOCK, branch_id or 0])


def audit_chain_head(branch_id: int | None) -> str:
    """The hash of the last entry of the branch's chain ('' when it has none)."""
    last = (
        AuditEntry.objects.filter(branch_id=branch_id)
        .exclude(entry_hash="")
        .order_by("-id")
        .values_list("entry_hash", flat=True)
        .first()
    )
    return last or ""


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
    # Stored exactly as hashed: the details are reduced to plain JSON first (a date becomes its
    # ISO text), so the row read back hashes like the row written.
    plain = json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))
    entry = AuditEntry(
        at=clock.now(),
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        branch=branch,
        object_type=obj._meta.label_lower,
        object_id=obj.pk,
        summary=summary[:255],
        reason=reason,
        data=plain,
    )
    with transaction.atomic():
        _chain_lock(entry.branch_id)
        entry.previous_hash = audit_chain_head(entry.branch_id)
        entry.entry_hash = audit_digest(vars(entry), previous_hash=entry.previous_hash)
        entry.save(force_insert=True)
    return entry


def system_user() -> AbstractBaseUser:
    """The author of scheduled jobs (base points at the new year), so every entry has one."""
    user, _created = get_user_model().objects.get_or_create(
        username=SYSTEM_USERNAME, defaults={"is_active": False, "first_name": "系统"}
    )
    return user
