"""The points ledger: scoring rules, periods (branch quarters), point events, totals, audit trail.

What must never happen is enforced by the database too (check constraints here, triggers in
migrations: see ledger/book/triggers.py); ledger/book/services.py gives the friendly message first.

The model registry of the `ledger` app: each room defines its models in
ledger/<room>/models.py; importing them here registers them under the app label "ledger"."""

from ledger.audit.models import AuditEntry  # noqa: F401
from ledger.book.models import (  # noqa: F401
    Evidence,
    Kind,
    MemberQuarterTotal,
    Period,
    PointEvent,
    QuarterCount,
    ScoringRule,
    evidence_path,
)
from ledger.meetings.models import Attendance, Meeting  # noqa: F401
from ledger.review.models import Feedback, ReviewMark  # noqa: F401
from ledger.spreadsheets.models import ExportJob, ImportBatch, export_path  # noqa: F401
from ledger.web.models import IdempotencyKey  # noqa: F401
