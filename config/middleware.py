"""Project middleware.

Language choice: Simplified Chinese until the user picks another language.

The browser's Accept-Language header is ignored: village office PCs and second-hand phones often
carry an English system locale their users never chose. The language switch in the footer sets a
cookie that LocaleMiddleware reads, so a chosen language sticks.
"""

from django.utils.cache import patch_cache_control


class IgnoreBrowserLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class PrivatePagesMiddleware:
    """``Cache-Control: private, no-store`` on every page seen signed in and on the admin: a
    member's account, a branch's ledger and the review must not stay in a shared PC's cache or a
    proxy. Responses that set their own Cache-Control (static files, public pages) keep it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        personal = (user is not None and user.is_authenticated) or request.path.startswith("/admin/")
        if personal and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response
