"""The same rule for WebSockets: a session still waiting for its code is anonymous there."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser

from .second_factor import may_proceed


class SecondFactorGuard(BaseMiddleware):
    """Goes inside channels' AuthMiddlewareStack, which has resolved ``scope["user"]``."""

    async def __call__(self, scope, receive, send):
        user = scope.get("user")
        if (
            user is not None
            and user.is_authenticated
            and not await database_sync_to_async(may_proceed)(user, scope.get("session"))
        ):
            scope = dict(scope, user=AnonymousUser())
        return await super().__call__(scope, receive, send)
