"""Which address a request came from, the one way: rate limits, the API throttle and the login
lockout (django-axes) all ask ``client_address``.

Behind ``TRUSTED_PROXY_COUNT`` reverse proxies (0: none, the default), each proxy appends the
address it received the request from to X-Forwarded-For, so the client is the entry that many
places from the right. Anything further left is whatever the client wrote and is never trusted;
with no trusted proxy, X-Forwarded-For is ignored.
"""

import ipaddress

from django.conf import settings


def client_address(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < proxies:
        return remote  # fewer hops than configured: not set by our proxies
    return forwarded[-proxies]


def client_ip(request) -> str | None:
    """The client's address as an IP, or None when it is unknown or not an address (a test
    client's bare request, a mangled header): for records that store an IP, such as the login
    lockout's, where the database column only takes addresses."""
    address = client_address(request)
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return None
    return address
