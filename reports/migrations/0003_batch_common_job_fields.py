"""Document and Batch are ``core.jobs.Job``s. Document had every field already; Batch gains
started_at and attempts (new columns, defaults). No value changes."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_schedules"),
    ]

    operations = [
        migrations.AddField(
            model_name="batch",
            name="started_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="开始时间"),
        ),
        migrations.AddField(
            model_name="batch",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="尝试次数"),
        ),
    ]
