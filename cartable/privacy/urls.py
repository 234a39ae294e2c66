from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("confidentialite/", views.index, name="index"),
    path("confidentialite/registre/", views.register, name="register"),
    path("confidentialite/journal/", views.audit_log, name="audit_log"),
    path("confidentialite/droits/", views.rights_search, name="rights_search"),
    path("confidentialite/droits/eleves/<int:pupil_id>/", views.pupil_data, name="pupil_data"),
    path(
        "confidentialite/droits/eleves/<int:pupil_id>/donnees.json",
        views.pupil_json,
        name="pupil_json",
    ),
    path(
        "confidentialite/droits/eleves/<int:pupil_id>/effacer/",
        views.pupil_erase,
        name="pupil_erase",
    ),
    path("informations/familles/", views.notice_families, name="notice_families"),
    path("informations/eleves/", views.notice_pupils, name="notice_pupils"),
]
