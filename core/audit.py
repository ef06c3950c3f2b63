"""The audit trail as every app sees it: one function, ``record``, whose writer the ledger supplies.

The trail is stored by ``ledger`` (``AuditEntry``, append-only by trigger), but apps below it —
``members`` — write to it too. They call ``core.audit.record``; ``LedgerConfig.ready`` plugs in
``ledger.audit.services.audit_record`` at start-up, so the dependency points down, not up. Without a
writer the call fails loudly: a change that can't be audited must not happen silently.
"""

from collections.abc import Callable

_writer: Callable[..., object] | None = None


def set_writer(writer: Callable[..., object]) -> None:
    global _writer
    _writer = writer


def record(*, actor, action: str, obj, branch, summary: str, reason: str = "", data: dict | None = None):
    """Append one audit entry (who, what, on which object and branch, why)."""
    if _writer is None:
        raise RuntimeError("no audit writer registered (is the ledger app installed?)")
    return _writer(actor=actor, action=action, obj=obj, branch=branch, summary=summary, reason=reason, data=data)
