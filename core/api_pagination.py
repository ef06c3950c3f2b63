"""Page-number pagination for the API (a module of its own: DRF imports it while loading)."""

from django.utils.translation import gettext as _
from rest_framework import pagination
from rest_framework.exceptions import ValidationError


class StrictPageSize:
    """``page_size`` checked the same way for page-number and keyset pages."""

    def get_page_size(self, request):
        """A ``page_size`` that is given must be a whole number from 1 (``null``, ``0``, ``1.5``
        are refused, not silently replaced by the default); above the maximum it is capped."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None:
            try:
                value = int(raw)
            except ValueError:
                value = 0
            if value < 1 or str(value) != raw.strip():
                raise ValidationError(
                    {
                        self.page_size_query_param: [
                            _("每页条数须为 1 到 %(max)d 之间的整数。") % {"max": self.max_page_size}
                        ]
                    }
                )
        return super().get_page_size(request)


class Pagination(StrictPageSize, pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class KeysetPagination(StrictPageSize, pagination.CursorPagination):
    """Keyset pages, newest entry first: ``WHERE id < last seen ORDER BY id DESC LIMIT n`` on the
    primary key — the same cost at page 1 and page 10,000, and no ``COUNT`` over the table."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"


class PageOrKeysetPagination(pagination.BasePagination):
    """Page numbers with a count, as the API always answered (``?page=``); keyset pages when the
    client asks for them with ``?cursor=`` (empty for the first page), for lists of millions."""

    def _pick(self, request):
        if not hasattr(self, "_chosen"):
            self._chosen = KeysetPagination() if "cursor" in request.query_params else Pagination()
        return self._chosen

    def paginate_queryset(self, queryset, request, view=None):
        return self._pick(request).paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        return self._chosen.get_paginated_response(data)

    def get_paginated_response_schema(self, schema):
        answer = Pagination().get_paginated_response_schema(schema)
        # keyset pages have no count
        answer["required"] = [name for name in answer.get("required", []) if name != "count"]
        return answer

    def get_schema_operation_parameters(self, view):
        return Pagination().get_schema_operation_parameters(view) + [
            p for p in KeysetPagination().get_schema_operation_parameters(view) if p["name"] == "cursor"
        ]
