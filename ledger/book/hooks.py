"""What the ledger tells the layers above it, without importing them.

``reports`` sits above ``ledger``: it renders the noticeboard posting once a quarter is signed.
Signing must not import ``reports``, so ``reports`` registers a callback here when Django starts
(``ReportsConfig.ready``) and ``period_sign`` calls every registered callback inside its
transaction, exactly where it used to call ``reports.services.posting_after_sign``. A callback
that queues work does so with ``transaction.on_commit``, so nothing is queued if signing rolls back.
"""

from collections.abc import Callable

#: Called as ``callback(period=period, actor=actor)`` by ``ledger.book.services.period_sign``.
period_signed_callbacks: list[Callable[..., object]] = []


def on_period_signed(callback: Callable[..., object]) -> Callable[..., object]:
    """Register ``callback`` to run when a quarter is signed (once, however often it is asked)."""
    if callback not in period_signed_callbacks:
        period_signed_callbacks.append(callback)
    return callback


def period_signed(*, period, actor) -> None:
    for callback in list(period_signed_callbacks):
        callback(period=period, actor=actor)
