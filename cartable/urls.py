from django.contrib.auth import views as auth_views
from django.urls import include, path

from cartable.accounts import views as accounts_views
from cartable.api import api
from cartable.organisation import views as organisation_views

urlpatterns = [
    path("", organisation_views.home, name="home"),
    path("connexion/", accounts_views.SignInView.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("connexion/", include("cartable.accounts.urls")),
    path("", include("cartable.live.urls")),
    path("", include("cartable.organisation.urls")),
    path("", include("cartable.fleet.urls")),
    path("", include("cartable.privacy.urls")),
    path("", include("cartable.consent.urls")),
    path("", include("cartable.evaluation.urls")),
    path("", include("cartable.surveys.urls")),
    path("api/", api.urls),
]
