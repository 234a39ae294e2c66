from django.contrib.auth import views as auth_views
from django.urls import include, path

from cartable.accounts import views as accounts_views
from cartable.api import api
from cartable.core import views as core_views
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
    path("", include("cartable.schoolwork.urls")),
    path("api/", api.urls),
    # The source of the running version, for every user (GNU AGPL v3, section 13).
    path("code-source/", core_views.source, name="source"),
    path("code-source/cartable.tar.gz", core_views.source_archive, name="source_archive"),
    path("code-source/licence.txt", core_views.source_licence, name="source_licence"),
]

# Bad input (``core.errors.Refused``) answers 400 with its French message; 403, 404 and 500
# are Django's handlers with the French templates of cartable/templates.
handler400 = "cartable.core.views.bad_request"
