from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The shared kernel; an app only so its template filters (``{% load points %}``) load."""

    name = "core"
    verbose_name = "core"
