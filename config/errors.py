"""Error pages: under /api/ in the API's one error shape (JSON), elsewhere the site's HTML pages."""

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

from core.api import error_body


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body(code="not_found", message=_("未找到，或不在您的管辖范围内。")), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse(error_body(code="server_error", message=_("服务器出错，请稍后再试。")), status=500)
    return defaults.server_error(request)


def bad_request(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body(code="invalid", message=_("请求内容有误。")), status=400)
    return defaults.bad_request(request, exception)
