from django.urls import path

from .consumers import LiveConsumer

websocket_urlpatterns = [
    # The side is in the URL: one browser may hold a paired-tablet cookie and a teacher's
    # session at once (the demo does), and each page must get the side it asked for.
    path("ws/live/<int:loan_id>/<str:side>/", LiveConsumer.as_asgi()),
]
