"""Recompute every branch's chain of signed quarters and every cached total.

Exits 0 when everything matches; otherwise prints each branch-quarter that no longer matches
what was signed and exits 1.
"""

from django.core.management.base import BaseCommand, CommandError

from ledger.book.models import Period
from ledger.book.selectors import ledger_verify


class Command(BaseCommand):
    help = "Verify the hash chain of every signed quarter and the cached totals against the events."

    def handle(self, *args, **options):
        problems = ledger_verify()
        checked = Period.objects.filter(chain_index__isnull=False).count()
        if problems:
            for problem in problems:
                self.stderr.write(f"MISMATCH {problem}")
            raise CommandError(f"{len(problems)} problem(s) found in {checked} signed quarters")
        self.stdout.write(
            self.style.SUCCESS(f"ledger verified: {checked} signed quarters, all chains and totals match")
        )
