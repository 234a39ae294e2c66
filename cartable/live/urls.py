from django.urls import path

from . import views

app_name = "live"

urlpatterns = [
    path("station/<int:loan_id>/", views.station, name="station"),
    path("eleve/", views.pupil, name="pupil"),
    path("appairer/", views.pair, name="pair"),
    path("prets/<int:loan_id>/appairage/", views.pairing_manage, name="pairing_manage"),
]
