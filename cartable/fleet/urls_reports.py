"""Continuous reporting: a kit's page, the fleet overview, the registers' downloads."""

from django.urls import path, re_path

from . import views_reports as views

urlpatterns = [
    path("parc/", views.overview, name="overview"),
    path("parc/cartables/<int:kit_id>/", views.kit, name="kit"),
    re_path(
        r"^parc/registre/(?P<kind>cartables|prets)\.(?P<fmt>csv|ods|xlsx)$",
        views.register_export,
        name="register_export",
    ),
]
