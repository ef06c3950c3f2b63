from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate
from django.utils.translation import gettext_lazy as _


def _drop_sqlite_triggers(sender, using, **kwargs):
    """SQLite rebuilds altered tables; migrate without the triggers, then put them back."""
    from django.db import connections

    from ledger.book import triggers

    connection = connections[using]
    if connection.vendor == "sqlite":
        triggers.uninstall(connection)


def _install_triggers(sender, using, plan=None, **kwargs):
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    from ledger.book import triggers

    connection = connections[using]
    recorder = MigrationRecorder(connection)
    if recorder.has_table() and recorder.migration_qs.filter(app="ledger", name="0002_triggers").exists():
        triggers.install(connection)


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = _("积分台账")

    def ready(self):
        pre_migrate.connect(_drop_sqlite_triggers, sender=self, dispatch_uid="ledger_drop_triggers")
        post_migrate.connect(_install_triggers, sender=self, dispatch_uid="ledger_install_triggers")

        # Apps below the ledger (members) write the audit trail through core.audit.
        from core import audit
        from ledger.audit.services import audit_record

        audit.set_writer(audit_record)
