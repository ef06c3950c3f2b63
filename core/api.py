"""What every API view shares: the error shape, refusing unknown fields and the schema's error
responses. (The Idempotency-Key helper stores its keys in the ledger: ledger/web/idempotency.py.)

Every error answers ``{"error": {"code": "...", "message": "...", "fields": {...}}}``: a
machine code for clients, a message in the user's language, and per-field messages.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.openapi import AutoSchema
from rest_framework import exceptions, serializers
from rest_framework.views import exception_handler

NON_FIELD = "non_field_errors"

CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "throttled",
}


class ApiError(exceptions.APIException):
    """An API refusal with an explicit machine code."""

    def __init__(self, *, status_code: int, code: str, message: str, fields: dict | None = None):
        self.status_code = status_code
        self.error_code = code
        self.fields = fields or {}
        super().__init__(detail=message, code=code)


def _flatten(detail) -> dict[str, list[str]] | list[str]:
    if isinstance(detail, dict):
        return {str(key): _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        flat = []
        for item in detail:
            value = _flatten(item)
            if isinstance(value, list):
                flat.extend(value)
            else:
                flat.append(value)
        return flat
    return [str(detail)]


def _first_message(fields: dict) -> str:
    for value in fields.values():
        if isinstance(value, list) and value:
            return value[0] if isinstance(value[0], str) else _("请求内容有误。")
        if isinstance(value, dict):
            return _first_message(value)
    return _("请求内容有误。")


def error_body(*, code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            fields = {(NON_FIELD if k == "__all__" else k): v for k, v in exc.message_dict.items()}
        else:
            fields = {NON_FIELD: exc.messages}
        exc = exceptions.ValidationError(fields)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or _("您无权执行此操作。"))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(_("未找到，或不在您的管辖范围内。"))
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ApiError):
        response.data = error_body(code=exc.error_code, message=str(exc.detail), fields=exc.fields)
        return response
    code = CODES.get(response.status_code, "error")
    if isinstance(exc, exceptions.ValidationError):
        detail = _flatten(exc.detail)
        fields = detail if isinstance(detail, dict) else {NON_FIELD: detail}
        message = _first_message(fields)
        if NON_FIELD in fields and fields[NON_FIELD]:
            message = fields[NON_FIELD][0]
        response.data = error_body(code=code, message=message, fields=fields)
    else:
        response.data = error_body(code=code, message=str(getattr(exc, "detail", exc)))
    return response


class StrictSerializerMixin:
    """Refuse fields the serializer doesn't know, instead of silently ignoring them."""

    def validate(self, attrs):
        known = set(self.fields)
        initial = self.initial_data if isinstance(self.initial_data, dict) else {}
        unknown = sorted(set(initial) - known)
        if unknown:
            raise serializers.ValidationError({name: [_("不支持的字段。")] for name in unknown})
        return super().validate(attrs)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="machine code, e.g. invalid, not_found, idempotency_key_reused")
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.JSONField(), help_text="messages per field")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class LedgerAutoSchema(AutoSchema):
    """Documents the error responses every operation can give, in the one error shape."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = ["400", "401", "403", "404", "405", "406", "415", "429"]
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["409", "422"]
        for code in codes:
            responses.setdefault(code, self._get_response_for_code(ErrorSerializer, code, direction=direction))
        return responses
