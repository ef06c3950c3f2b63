"""The secretary's and member's screens and the REST API over the rooms' services.

Models of the `ledger` app (registered through ledger/models.py)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from branches.querysets import ScopedManager


class IdempotencyKey(models.Model):
    """A client's Idempotency-Key for a write through the API, with the response it got.

    A retry with the same key and the same request replays the stored response instead of
    recording the claim again; the same key with a different request is refused.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE)
    key = models.CharField(_("幂等键"), max_length=100)
    fingerprint = models.CharField(_("请求指纹"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("响应状态码"))
    response = models.JSONField(_("响应内容"), default=dict)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    # scope: see branches/querysets.py
    owner_path = "user"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("幂等键")
        verbose_name_plural = _("幂等键")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique")]

    def __str__(self) -> str:
        return self.key
