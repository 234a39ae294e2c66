from django.urls import path

from . import views

app_name = "schoolwork"

urlpatterns = [
    path("prets/<int:loan_id>/travail/", views.folder, name="folder"),
    path("prets/<int:loan_id>/travail/liste.json", views.folder_json, name="folder_json"),
    path("prets/<int:loan_id>/travail/envoyer/", views.hand_out, name="hand_out"),
    path("eleve/travail/", views.pupil_folder, name="pupil_folder"),
    path("travail/<int:work_id>/", views.work_detail, name="work"),
    path("travail/<int:work_id>/voir/", views.viewer, name="viewer"),
    path("travail/<int:work_id>/fichier/<str:slug>", views.work_file, name="file"),
    path("travail/<int:work_id>/annote.pdf", views.flattened, name="flattened"),
    path("travail/<int:work_id>/rendre/", views.give_back, name="give_back"),
    path("travail/<int:work_id>/corriger/", views.correct, name="correct"),
]
