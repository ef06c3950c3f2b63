from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _posting_after_sign(*, period, actor) -> None:
    # Looked up at call time, so a test or benchmark that replaces
    # ``reports.services.posting_after_sign`` still takes effect.
    from reports import services

    services.posting_after_sign(period=period, actor=actor)


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("公示与报表")

    def ready(self):
        from ledger.book import hooks

        hooks.on_period_signed(_posting_after_sign)
