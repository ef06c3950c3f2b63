"""The outbox's sweeper (reports.jobs_resend), every minute, in the beat's database schedule.

It expires after 50 seconds: while no worker runs, the sweeps beat sends are dropped rather than
piled up, and the first worker back runs one sweep, not one per minute it was away.
"""

from django.db import migrations

NAME = "重发丢失的后台任务"
TASK = "reports.jobs_resend"


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _created = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.update_or_create(
        name=NAME, defaults={"task": TASK, "interval": every_minute, "expire_seconds": 50, "enabled": True}
    )


def remove(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0004_job_outbox"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
