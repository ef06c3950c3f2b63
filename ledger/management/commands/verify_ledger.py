"""Recompute every branch's chain of signed quarters and every cached total.

Exits 0 when everything matches; otherwise prints each branch-quarter that no longer matches
what was signed and exits 1. It streams (one quarter's entries, or a batch of quarters' totals, at
a time), so it runs in bounded memory over a county of millions of entries; it prints its time.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from ledger.book.models import Period
from ledger.book.selectors import ledger_verify


class Command(BaseCommand):
    help = "Verify the hash chain of every signed quarter and the cached totals against the events."

    def handle(self, *args, **options):
        start = time.perf_counter()
        problems = ledger_verify()
        checked = Period.objects.filter(chain_index__isnull=False).count()
        elapsed = time.perf_counter() - start
        if problems:
            for problem in problems:
                self.stderr.write(f"MISMATCH {problem}")
            raise CommandError(f"{len(problems)} problem(s) found in {checked} signed quarters ({elapsed:.1f}s)")
        self.stdout.write(
            self.style.SUCCESS(
                f"ledger verified: {checked} signed quarters, all chains and totals match ({elapsed:.1f}s)"
            )
        )
