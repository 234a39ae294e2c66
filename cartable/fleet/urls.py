"""Pages of the fleet: the register (kits, devices), loans and their steps, the overview
and the registers' downloads. Each part has its own module of routes."""

from django.urls import include, path

app_name = "fleet"

urlpatterns = [
    path("", include("cartable.fleet.urls_register")),
    path("", include("cartable.fleet.urls_loans")),
    path("", include("cartable.fleet.urls_reports")),
]
