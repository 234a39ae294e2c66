from django.urls import path

from cartable.core.middleware import uses_camera

from . import views

app_name = "live"

urlpatterns = [
    path("station/<int:loan_id>/", uses_camera(views.station), name="station"),
    path("eleve/", uses_camera(views.pupil), name="pupil"),
    path("appairer/", views.pair, name="pair"),
    path("prets/<int:loan_id>/appairage/", views.pairing_manage, name="pairing_manage"),
]
