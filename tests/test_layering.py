"""The hooks that let lower apps call the layers above them without importing them."""

from core import audit
from ledger.audit.services import audit_record
from ledger.book import hooks
from reports.apps import _posting_after_sign


def test_reports_hears_of_every_signed_quarter_through_the_ledger_hook():
    assert _posting_after_sign in hooks.period_signed_callbacks
    hooks.on_period_signed(_posting_after_sign)
    assert hooks.period_signed_callbacks.count(_posting_after_sign) == 1, "registering twice runs once"


def test_the_ledger_writes_the_audit_trail_for_the_apps_below_it():
    assert audit._writer is audit_record
