"""A small fixed-window rate limit on Django's cache (Redis when REDIS_URL is set, else in-process).

Used by the public forms instead of a captcha service. The client address is hashed before it
becomes a cache key, so no address is stored in the clear.
"""

import hashlib

from django.core.cache import cache

from core import clock
from core.client import client_address  # proxy-aware: TRUSTED_PROXY_COUNT


def rate_limit_hit(*, scope: str, request, limit: int, window_seconds: int) -> bool:
    """Count one request; True when this client has gone over ``limit`` in the current window."""
    digest = hashlib.sha256(client_address(request).encode()).hexdigest()[:24]
    key = f"ratelimit:{scope}:{digest}:{int(clock.now().timestamp() // window_seconds)}"
    cache.add(key, 0, timeout=window_seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window_seconds)
        count = 1
    return count > limit
