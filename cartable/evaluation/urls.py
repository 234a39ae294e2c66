"""Pages of the evaluation: the review report of a period and a scope, and its downloads."""

from django.urls import include, path

app_name = "evaluation"

urlpatterns = [
    path("", include("cartable.evaluation.urls_report")),
]
