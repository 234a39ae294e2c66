"""The questionnaire (by its one-time link) and the review of free texts."""

from django.urls import path

from . import views

app_name = "surveys"

urlpatterns = [
    path("questionnaire/merci/", views.thanks, name="thanks"),
    path("questionnaire/<str:token>/", views.answer, name="answer"),
    path("questionnaires/relecture/", views.review_list, name="review"),
    path("questionnaires/relecture/<uuid:answer_id>/", views.review_decide, name="review_decide"),
]
