"""A small fixed-window rate limit on Django's cache (Redis when REDIS_URL is set, else in-process).

Used by the public forms instead of a captcha service. The client address is hashed before it
becomes a cache key, so no address is stored in the clear.

When the cache is unreachable (Redis down) the limit cannot count: it fails *closed* for anonymous
visitors — ``RateLimitUnavailable``, which the public forms turn into a clear message, because an
uncounted public form is an open door — and *open* for signed-in users, whose work must go on.
``cache_call`` is the one place that decides what a cache error means for the caller.
"""

import hashlib
import logging
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

from core import clock
from core.client import client_address  # proxy-aware: TRUSTED_PROXY_COUNT

logger = logging.getLogger(__name__)

T = TypeVar("T")


class RateLimitUnavailable(Exception):
    """The rate limit could not count this anonymous request (the cache is down): refuse it."""


def cache_call(operation: Callable[[], T], *, fallback: T) -> T:
    """Run a cache operation; when the cache is unreachable, log it and return ``fallback``.

    Django's cache backends raise their client's connection errors (redis-py's ``ConnectionError``,
    ``TimeoutError``…), which share no base class worth naming; anything but a programming error
    counts as "the cache is down".
    """
    try:
        return operation()
    except (TypeError, AttributeError, NameError):
        raise
    except Exception as exc:
        logger.warning("cache unavailable, degrading: %r", exc)
        return fallback


_DOWN = object()


def rate_limit_hit(*, scope: str, request, limit: int, window_seconds: int) -> bool:
    """Count one request; True when this client has gone over ``limit`` in the current window.

    Raises ``RateLimitUnavailable`` for an anonymous visitor when the cache is down; a signed-in
    user is let through (False)."""
    digest = hashlib.sha256(client_address(request).encode()).hexdigest()[:24]
    key = f"ratelimit:{scope}:{digest}:{int(clock.now().timestamp() // window_seconds)}"

    def count() -> int:
        cache.add(key, 0, timeout=window_seconds)
        try:
            return cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window_seconds)
            return 1

    counted = cache_call(count, fallback=_DOWN)
    if counted is _DOWN:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return False
        raise RateLimitUnavailable
    return counted > limit


class CacheSafeThrottleMixin:
    """A DRF throttle that fails closed for anonymous clients and open for signed-in ones when the
    cache is down, instead of answering 500 (``on_cache_down`` says what an anonymous one gets)."""

    def on_cache_down(self):
        return False

    def allow_request(self, request, view):
        allowed = cache_call(lambda: super(CacheSafeThrottleMixin, self).allow_request(request, view), fallback=_DOWN)
        if allowed is _DOWN:
            user = getattr(request, "user", None)
            return True if user is not None and user.is_authenticated else self.on_cache_down()
        return allowed
