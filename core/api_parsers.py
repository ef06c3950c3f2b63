"""The API's JSON parser, with limits (a module of its own: DRF imports it while loading).

A body larger than ``API_MAX_JSON_BYTES`` or nested deeper than ``API_MAX_JSON_DEPTH`` is a 400
with a message — never a 500 from the interpreter's recursion limit or a worker's memory.
"""

import codecs
import json

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def json_depth_exceeds(value, limit: int) -> bool:
    """Whether ``value`` nests lists and objects deeper than ``limit`` (iteratively, no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.API_MAX_JSON_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise ParseError(_("请求内容太大（超过 %(limit)d KB）。") % {"limit": limit // 1024})
        try:
            text = codecs.decode(raw, encoding)
            data = json.loads(text, parse_constant=self._refuse_constant)
        except RecursionError:
            raise ParseError(
                _("JSON 嵌套层数太多（最多 %(depth)d 层）。") % {"depth": settings.API_MAX_JSON_DEPTH}
            ) from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(_("JSON 格式有误：%(error)s") % {"error": exc}) from None
        if json_depth_exceeds(data, settings.API_MAX_JSON_DEPTH):
            raise ParseError(_("JSON 嵌套层数太多（最多 %(depth)d 层）。") % {"depth": settings.API_MAX_JSON_DEPTH})
        return data

    @staticmethod
    def _refuse_constant(name):
        raise ValueError(f"{name} is not valid JSON")
