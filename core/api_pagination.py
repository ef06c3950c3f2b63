"""Page-number pagination for the API (a module of its own: DRF imports it while loading)."""

from rest_framework import pagination


class Pagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
