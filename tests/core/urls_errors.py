"""The platform's URLs plus two that fail, for the error pages' tests."""

from django.core.exceptions import PermissionDenied
from django.urls import path

from cartable.urls import handler400
from cartable.urls import urlpatterns as platform


def boom(request):
    raise RuntimeError("a bug")


def forbidden(request):
    raise PermissionDenied


urlpatterns = [
    path("test-erreur/", boom),
    path("test-interdit/", forbidden),
    *platform,
]
__all__ = ["handler400", "urlpatterns"]
