"""The review report: its page, its PDF and its data files (see views.py)."""

from django.urls import path, re_path

from . import views

urlpatterns = [
    path("evaluation/", views.report_page, name="report"),
    path("evaluation/rapport.pdf", views.report_pdf, name="report_pdf"),
    re_path(r"^evaluation/donnees\.(?P<fmt>csv|ods|xlsx)$", views.report_data, name="report_data"),
]
