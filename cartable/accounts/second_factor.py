"""Who must add a second factor (a TOTP code) after their password, and whether they did.

``requires_second_factor`` is the one place that decides; the HTTP middleware, the
WebSocket guard and the pages all ask it. Extend it when new roles need a second factor.
"""

from __future__ import annotations

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device


def requires_second_factor(user) -> bool:
    """Whether ``user`` must enter a TOTP code after their password before any page.

    Staff and superusers, and whoever holds a role of the fleet and support team, the data
    protection officer or the administrator: the accounts that can see or change everyone's
    data.
    """
    if user is None or not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser:
        return True
    from cartable.organisation.models import Role, RoleGrant

    # They reach every kit, every account or every record, whatever the scope.
    wide = (Role.FLEET, Role.ADMIN, Role.DPO)
    return RoleGrant.objects.filter(user=user, role__in=wide).exists()


def session_is_verified(user, session) -> bool:
    """Whether the session of ``user`` holds a confirmed device of theirs (sync, queries).

    The HTTP side gets this from django-otp's middleware (``user.is_verified()``); the
    WebSocket side has no such middleware and asks here.
    """
    persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    if not persistent_id:
        return False
    device = Device.from_persistent_id(persistent_id)
    return device is not None and device.user_id == user.pk and device.confirmed


def may_proceed(user, session) -> bool:
    """Whether ``user`` has done all the sign-in steps they need (sync, may query)."""
    return not requires_second_factor(user) or session_is_verified(user, session)
