"""The scheduled jobs (django-celery-beat), stored in the database so exactly one beat runs them.

- every day at 08:00: remind secretaries whose quarter ends within a week (reports.quarter_end_remind)
- every day at 00:30: finalise quarters whose posting window has closed (reports.posting_windows_close)
- 1 January at 01:00, and again on the 2nd in case the first run was missed: the new year's base
  points (reports.base_points_new_year; idempotent, a second run grants nothing)
"""

from django.db import migrations

SCHEDULES = [
    ("季度结束前提醒书记签字", "reports.quarter_end_remind", {"minute": "0", "hour": "8"}),
    ("公示期满自动定稿", "reports.posting_windows_close", {"minute": "30", "hour": "0"}),
    (
        "新年度基础积分",
        "reports.base_points_new_year",
        {"minute": "0", "hour": "1", "day_of_month": "1,2", "month_of_year": "1"},
    ),
]


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, cron in SCHEDULES:
        fields = {"minute": "*", "hour": "*", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"}
        fields.update(cron)
        schedule, _created = CrontabSchedule.objects.get_or_create(timezone="Asia/Shanghai", **fields)
        PeriodicTask.objects.update_or_create(name=name, defaults={"task": task, "crontab": schedule, "enabled": True})


def remove(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[name for name, _task, _cron in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
