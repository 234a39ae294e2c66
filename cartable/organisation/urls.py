from django.urls import path

from . import views

app_name = "organisation"

urlpatterns = [
    path("organisation/classes/nouvelle/", views.class_create, name="class_create"),
    path("organisation/classes/<int:class_id>/", views.class_edit, name="class_edit"),
    path("organisation/eleves/nouveau/", views.pupil_create, name="pupil_create"),
    path("organisation/eleves/<int:pupil_id>/", views.pupil_edit, name="pupil_edit"),
    path("organisation/invitations/nouvelle/", views.invitation_create, name="invitation_create"),
    path("invitation/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("organisation/annuaire/", views.schools_import, name="schools_import"),
]
