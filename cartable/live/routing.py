from django.urls import path, re_path

from .consumers import LiveConsumer, RefusingConsumer

websocket_urlpatterns = [
    # The side is in the URL: one browser may hold a paired-tablet cookie and a teacher's
    # session at once (the demo does), and each page must get the side it asked for.
    path("ws/live/<int:loan_id>/<str:side>/", LiveConsumer.as_asgi()),
    # Anything else is refused at the handshake (HTTP 403), not an error in the router.
    re_path(r"", RefusingConsumer.as_asgi()),
]
