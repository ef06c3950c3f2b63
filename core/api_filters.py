"""The API's list filters (a module of its own: DRF imports the backend while loading).

Two refusals every list shares:

- A number filter takes whole numbers only (``year=0.5`` is a 400, not an empty list), within
  the database's integer range.
- A filter by a related object's id is a plain id filter: an id that doesn't exist and an id in
  another branch both answer an empty list. (A choice filter checked ids against every row of the
  table: unknown ids were a 400 and other branches' ids a 200, so ids could be probed.)
"""

import django_filters
from django import forms
from django.db import models
from django_filters.filterset import FILTER_FOR_DBFIELD_DEFAULTS
from django_filters.rest_framework import DjangoFilterBackend

DB_INT_MAX = 2**63 - 1


class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", -DB_INT_MAX)
        kwargs.setdefault("max_value", DB_INT_MAX)
        super().__init__(*args, **kwargs)


class IdFilter(IntegerFilter):
    """A related object by its id, without checking it exists (the scoped queryset decides)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        super().__init__(*args, **kwargs)


_INTEGER = {"filter_class": IntegerFilter}
_ID = {"filter_class": IdFilter}

FILTER_DEFAULTS = {
    **FILTER_FOR_DBFIELD_DEFAULTS,
    models.AutoField: _INTEGER,
    models.BigAutoField: _INTEGER,
    models.SmallAutoField: _INTEGER,
    models.IntegerField: _INTEGER,
    models.BigIntegerField: _INTEGER,
    models.SmallIntegerField: _INTEGER,
    models.PositiveIntegerField: _INTEGER,
    models.PositiveSmallIntegerField: _INTEGER,
    models.PositiveBigIntegerField: _INTEGER,
    models.ForeignKey: _ID,
    models.OneToOneField: _ID,
}


class LedgerFilterSet(django_filters.FilterSet):
    FILTER_DEFAULTS = FILTER_DEFAULTS


class LedgerFilterBackend(DjangoFilterBackend):
    filterset_base = LedgerFilterSet
