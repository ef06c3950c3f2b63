"""The shared kernel's small helpers: points text, quarters and their labels."""

import datetime
from decimal import Decimal

from django.template import Context, Template
from django.utils import translation

from core.points import ZERO, points_format
from core.quarters import quarter_bounds, quarter_label, quarter_of


def test_points_format_signs_gains_only():
    assert points_format(Decimal("10.0")) == "+10.0"
    assert points_format(Decimal("-3.0")) == "-3.0"
    assert points_format(ZERO) == "0.0"
    assert points_format(Decimal("10.0"), signed=False) == "10.0"
    assert points_format("2.5") == "+2.5"


def test_points_template_filter():
    assert Template("{% load points %}{{ v|points }}").render(Context({"v": Decimal("5.0")})) == "+5.0"
    assert Template("{% load points %}{{ v|points }}").render(Context({"v": None})) == ""


def test_quarters():
    assert quarter_of(datetime.date(2026, 9, 30)) == 3 and quarter_of(datetime.date(2026, 10, 1)) == 4
    assert quarter_bounds(2028, 1) == (datetime.date(2028, 1, 1), datetime.date(2028, 3, 31))
    assert quarter_bounds(2026, 4) == (datetime.date(2026, 10, 1), datetime.date(2026, 12, 31))
    with translation.override("zh-hans"):
        assert quarter_label(2026, 3) == "2026年第3季度"
