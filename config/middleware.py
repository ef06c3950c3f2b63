"""Language choice: Simplified Chinese until the user picks another language.

The browser's Accept-Language header is ignored: village office PCs and second-hand phones often
carry an English system locale their users never chose. The language switch in the footer sets a
cookie that LocaleMiddleware reads, so a chosen language sticks.
"""


class IgnoreBrowserLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
