"""Password spraying: one address trying a few passwords on many accounts.

django-axes counts failures per account *and* address (``AXES_LOCKOUT_PARAMETERS``), so one
person mistyping does not lock a school's shared address, and nobody can lock a colleague
out from elsewhere; but then an address could try four passwords on every account. This
counts failures per address across all accounts too: after
``SIGN_IN_ADDRESS_FAILURE_LIMIT`` failures (default 50, far above what a school's pupils and
staff mistype behind one address) within ``SIGN_IN_LOCKOUT_MINUTES``, every sign-in from that
address is refused with a French page (HTTP 429) until the window ends, even with a right
password (or a sprayer would learn which one it was). A success does not reset the count.
The counter lives in the cache (``core.ratelimit``), shared by the workers.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cartable.core.ratelimit import Limiter


def _limiter() -> Limiter:
    return Limiter(
        "sign-in-address",
        settings.SIGN_IN_ADDRESS_FAILURE_LIMIT,
        int(settings.AXES_COOLOFF_TIME.total_seconds()),
    )


def address(request: HttpRequest) -> str:
    # The same address django-axes reads (uvicorn puts the client's there behind the proxy).
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def address_blocked(request: HttpRequest) -> bool:
    return _limiter().exceeded(address(request))


def count_failure(sender, credentials=None, request=None, **kwargs) -> None:
    """``user_login_failed``: one more failure from the request's address."""
    if request is not None:
        _limiter().hit(address(request))


def address_lockout(request: HttpRequest) -> HttpResponse:
    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    response = render(request, "accounts/address_lockout.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response
