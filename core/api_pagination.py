"""Page-number pagination for the API (a module of its own: DRF imports it while loading)."""

from django.utils.translation import gettext as _
from rest_framework import pagination
from rest_framework.exceptions import ValidationError


class Pagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

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
