"""ASGI entry point: HTTP pages and the signalling WebSocket in one process."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cartable.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from cartable.accounts.websocket import SecondFactorGuard  # noqa: E402
from cartable.live.routing import websocket_urlpatterns  # noqa: E402
from cartable.schoolwork.uploads import BodyLimit  # noqa: E402

application = ProtocolTypeRouter(
    {
        # An over-long upload to the folder « Travail » is refused before it is read.
        "http": BodyLimit(django_asgi_app),
        # Browsers send their page's Origin: a WebSocket opened from another site is refused,
        # so a page elsewhere cannot ride on a paired tablet's cookie.
        "websocket": AllowedHostsOriginValidator(
            # A session still waiting for its second factor is anonymous here too.
            AuthMiddlewareStack(SecondFactorGuard(URLRouter(websocket_urlpatterns)))
        ),
    }
)
