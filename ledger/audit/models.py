"""The audit trail: who changed what, when and why (append-only, by trigger).

Models of the `ledger` app (registered through ledger/models.py)."""

import datetime
import hashlib
import json
from collections.abc import Mapping

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from branches.querysets import ScopedManager
from core import clock

#: The columns an entry's hash covers, besides the hash of the entry before it.
CHAINED_FIELDS = ("at", "actor_id", "action", "branch_id", "object_type", "object_id", "summary", "reason", "data")


def audit_digest(values: Mapping, *, previous_hash: str) -> str:
    """SHA-256 of one audit entry's content and the hash of the entry before it in its chain.

    ``values`` holds ``CHAINED_FIELDS`` as read from the database (a row, or an entry about to be
    written with the same values). The moment is hashed in UTC with its microseconds, so the
    value written and the value read back from either database hash alike."""
    at = values["at"]
    if isinstance(at, datetime.datetime):
        at = at.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    payload = {name: values[name] for name in CHAINED_FIELDS}
    payload["at"] = at
    payload["previous"] = previous_hash
    encoded = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


class AuditEntry(models.Model):
    """Who changed what, when and why. Append-only: the database refuses updates and deletes."""

    # Set by the writer before the row exists (not auto_now_add), because the entry's hash covers it.
    at = models.DateTimeField(_("时间"), default=clock.now, editable=False, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("操作"), max_length=40)
    branch = models.ForeignKey(
        "branches.Organisation",
        verbose_name=_("组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    object_type = models.CharField(_("对象类型"), max_length=40)
    object_id = models.BigIntegerField(_("对象编号"), null=True)
    summary = models.CharField(_("摘要"), max_length=255)
    reason = models.TextField(_("理由"), blank=True)
    data = models.JSONField(_("详情"), default=dict, blank=True)
    # The trail is a hash chain, one per branch (and one for entries without a branch): each entry
    # carries the hash of the entry before it in its chain, and its own hash over its content and
    # that link. A deleted or edited entry breaks the chain (``verify_ledger`` names where).
    previous_hash = models.CharField(_("上一条记录校验码"), max_length=64, blank=True, editable=False)
    entry_hash = models.CharField(_("校验码"), max_length=64, blank=True, editable=False)

    # scope: see branches/querysets.py
    branch_path = "branch"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("操作记录")
        verbose_name_plural = _("操作记录")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            # The head of a branch's chain: its last entry.
            models.Index(fields=["branch", "id"], name="audit_chain_head"),
        ]
        constraints = [
            # No two entries follow the same one: a chain can't fork, even if two writers race.
            models.UniqueConstraint(
                fields=["previous_hash"], condition=~models.Q(previous_hash=""), name="audit_chain_no_fork"
            ),
        ]

    def __str__(self) -> str:
        return self.summary
