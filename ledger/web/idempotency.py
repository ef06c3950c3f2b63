"""Idempotency-Key for API creates: a retried request (weak network) never creates twice.

The keys are stored per user in ``IdempotencyKey`` (a ledger table), so the helper lives here.
"""

import hashlib
import json

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response

from core.api import ApiError
from ledger.web.models import IdempotencyKey

IDEMPOTENCY_HEADER = "Idempotency-Key"


def request_fingerprint(request) -> str:
    payload = json.dumps(
        {"method": request.method, "path": request.path, "body": request.data},
        sort_keys=True,
        default=str,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def idempotent_create(request, create) -> Response:
    """Run ``create()`` (returning a 201 Response) at most once per user and Idempotency-Key.

    The same key with the same request replays the first response; with a different request
    it is refused with 422 ``idempotency_key_reused``. Refused requests store nothing, so the
    client may correct and retry them.
    """
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return create()
    key = key.strip()
    if not 1 <= len(key) <= 100:
        raise ApiError(
            status_code=400,
            code="idempotency_key_invalid",
            message=_("Idempotency-Key 须为 1 到 100 个字符。"),
        )
    fingerprint = request_fingerprint(request)

    def replay(stored: IdempotencyKey) -> Response:
        if stored.fingerprint != fingerprint:
            raise ApiError(
                status_code=422,
                code="idempotency_key_reused",
                message=_("该 Idempotency-Key 已用于另一个不同的请求，请换一个新的键。"),
            )
        return Response(stored.response, status=stored.status_code, headers={"Idempotent-Replayed": "true"})

    stored = IdempotencyKey.objects.visible_to(request.user).filter(user=request.user, key=key).first()
    if stored is not None:
        return replay(stored)
    try:
        with transaction.atomic():
            response = create()
            if response.status_code == status.HTTP_201_CREATED:
                IdempotencyKey.objects.create(
                    user=request.user,
                    key=key,
                    fingerprint=fingerprint,
                    status_code=response.status_code,
                    response=json.loads(json.dumps(response.data, default=str)),
                )
    except IntegrityError:
        # A concurrent request with the same key won; this one wrote nothing (rolled back).
        stored = IdempotencyKey.objects.visible_to(request.user).filter(user=request.user, key=key).first()
        if stored is None:
            raise ApiError(
                status_code=409, code="idempotency_in_progress", message=_("相同的请求正在处理中，请稍后重试。")
            ) from None
        return replay(stored)
    return response
