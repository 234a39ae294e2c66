"""Loans through the pages: the request, the list, the loan page and each step's form."""

from django.urls import path

from . import views_loans as views

urlpatterns = [
    path("prets/", views.loan_list, name="loans"),
    path("prets/demande/", views.loan_request, name="loan_request"),
    path("prets/<int:loan_id>/", views.loan_detail, name="loan"),
    path("prets/<int:loan_id>/attribuer/", views.loan_assign, name="loan_assign"),
    path("prets/<int:loan_id>/expedier/", views.loan_ship, name="loan_ship"),
    path(
        "prets/<int:loan_id>/installation-classe/",
        views.loan_install_class,
        name="loan_install_class",
    ),
    path(
        "prets/<int:loan_id>/installation-eleve/",
        views.loan_install_pupil,
        name="loan_install_pupil",
    ),
    path("prets/<int:loan_id>/prolonger/", views.loan_extend, name="loan_extend"),
    path("prets/<int:loan_id>/terminer/", views.loan_end, name="loan_end"),
    path("prets/<int:loan_id>/annuler/", views.loan_cancel, name="loan_cancel"),
    path("prets/<int:loan_id>/retour/", views.loan_return, name="loan_return"),
]
