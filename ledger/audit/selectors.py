"""Reading the audit trail: checking its hash chains (see ``ledger.audit.services``)."""

from dataclasses import dataclass

from ledger.audit.models import CHAINED_FIELDS, AuditEntry, audit_digest


@dataclass
class AuditBreak:
    """The first place a chain no longer holds: the entry, and what is wrong with it."""

    branch_id: int | None
    entry_id: int
    message: str

    def __str__(self) -> str:
        return f"audit entry #{self.entry_id}: {self.message}"


def audit_chain_breaks(*, chunk_size: int = 5000) -> list[AuditBreak]:
    """Walk every chain in order and name its first broken link (at most one per chain).

    An entry whose content no longer gives its stored hash was edited; an entry whose link is not
    the hash of the entry before it in the chain comes after a deleted (or inserted) entry. One
    pass over the table in (branch, id) order, streamed, so the check runs at county scale."""
    breaks: dict[int | None, AuditBreak] = {}
    previous: dict[int | None, tuple[int, str]] = {}
    rows = (
        AuditEntry.objects.order_by("branch_id", "id")
        .values("id", "previous_hash", "entry_hash", *CHAINED_FIELDS)
        .iterator(chunk_size=chunk_size)
    )
    for row in rows:
        chain = row["branch_id"]
        if chain in breaks:
            continue
        before_id, expected = previous.get(chain, (None, ""))
        previous[chain] = (row["id"], row["entry_hash"])
        if row["previous_hash"] != expected:
            where = f"after entry #{before_id}" if before_id else "at the start of the chain"
            breaks[chain] = AuditBreak(
                chain,
                row["id"],
                f"the link to the entry before it is broken ({where}): an entry was deleted or inserted",
            )
        elif audit_digest(row, previous_hash=row["previous_hash"]) != row["entry_hash"]:
            breaks[chain] = AuditBreak(chain, row["id"], "its content no longer matches its hash: it was edited")
    return list(breaks.values())


def audit_chain_contains(branch_id: int | None, entry_hash: str) -> bool:
    return AuditEntry.objects.filter(branch_id=branch_id, entry_hash=entry_hash).exists()
