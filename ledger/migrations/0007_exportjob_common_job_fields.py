"""ExportJob becomes a ``core.jobs.Job``: the same status, requester and timing fields as the
documents. Columns are renamed in place (state → status, created_by → requested_by,
created_at → requested_at), so every row keeps its values; the status values were already
the shared ones (queued / running / done / failed). Two new columns: started_at, attempts."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0006_pointevent_entry_method"),
    ]

    operations = [
        migrations.RenameField(model_name="exportjob", old_name="state", new_name="status"),
        migrations.RenameField(model_name="exportjob", old_name="created_by", new_name="requested_by"),
        migrations.RenameField(model_name="exportjob", old_name="created_at", new_name="requested_at"),
        migrations.AlterModelOptions(
            name="exportjob",
            options={
                "ordering": ["-requested_at", "-id"],
                "verbose_name": "导出任务",
                "verbose_name_plural": "导出任务",
            },
        ),
        migrations.AlterField(
            model_name="exportjob",
            name="requested_at",
            field=models.DateTimeField(auto_now_add=True, verbose_name="申请时间"),
        ),
        migrations.AlterField(
            model_name="exportjob",
            name="error",
            field=models.TextField(blank=True, verbose_name="错误信息"),
        ),
        migrations.AddField(
            model_name="exportjob",
            name="started_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="开始时间"),
        ),
        migrations.AddField(
            model_name="exportjob",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="尝试次数"),
        ),
    ]
