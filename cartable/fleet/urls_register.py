"""The fleet register: kits, their statuses, devices and their enrolment labels."""

from django.urls import path

from . import views_register as views

urlpatterns = [
    path("parc/cartables/", views.kits, name="kits"),
    path("parc/cartables/nouveau/", views.kit_create, name="kit_create"),
    path("parc/cartables/<int:kit_id>/statut/", views.kit_status, name="kit_status"),
    path("parc/appareils/nouveau/", views.device_create, name="device_create"),
    path("parc/appareils/import/", views.devices_import, name="devices_import"),
    path("parc/appareils/<int:device_id>/", views.device_edit, name="device_edit"),
    path("parc/appareils/<int:device_id>/commande/", views.device_command, name="device_command"),
    path(
        "parc/appareils/<int:device_id>/etiquette/", views.enrolment_label, name="enrolment_label"
    ),
]
