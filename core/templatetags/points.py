"""``{{ value|points }}`` → "+10.0" / "-3.0", as ``core.points.points_format``."""

from django import template

from core.points import points_format

register = template.Library()


@register.filter(name="points")
def points_filter(value, signed: bool = True) -> str:
    if value in (None, ""):
        return ""
    return points_format(value, signed=signed)
