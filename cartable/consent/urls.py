from django.urls import path

from . import views

app_name = "consent"

urlpatterns = [
    path("prets/<int:loan_id>/autorisations/", views.loan_authorisations, name="loan"),
    path(
        "prets/<int:loan_id>/autorisations/mon-accord/",
        views.own_agreement,
        name="own_agreement",
    ),
]
