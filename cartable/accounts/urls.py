from django.urls import path

from . import views

app_name = "accounts"

# Under /connexion/ (see cartable/urls.py, which also names "login" and "logout").
urlpatterns = [
    path("code/", views.second_factor, name="second_factor"),
    path("code/activer/", views.totp_setup, name="totp_setup"),
    path("mot-de-passe-oublie/", views.ResetRequestView.as_view(), name="password_reset"),
    path(
        "mot-de-passe-oublie/envoye/",
        views.ResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "nouveau-mot-de-passe/<uidb64>/<token>/",
        views.ResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "nouveau-mot-de-passe/fait/",
        views.ResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("oidc/", views.OidcStartView.as_view(), name="oidc_start"),
    path("oidc/retour/", views.OidcCallbackView.as_view(), name="oidc_callback"),
    path("oidc/refusee/", views.oidc_refused, name="oidc_refused"),
]
