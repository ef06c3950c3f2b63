"""Page-number pagination for the API (a module of its own: DRF imports it while loading)."""

from rest_framework import pagination


class Pagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class KeysetPagination(pagination.CursorPagination):
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
