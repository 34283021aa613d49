from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from tadamun.accounts.views import LoginView, api_token
from tadamun.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/preferences/", core_views.preferences, name="preferences"),
    path("accounts/token/", api_token, name="api_token"),
    path("i18n/language/", core_views.language_set, name="language_set"),
    path("", include("tadamun.registry.urls")),
    path("organisations/", include("tadamun.organisations.urls")),
    path("territories/", include("tadamun.territories.urls")),
    path("programmes/", include("tadamun.programmes.urls")),
    path("cases/", include("tadamun.cases.urls")),
    path("", include("tadamun.projects.urls")),  # /projects/, /apply/, /catalogue/
    path("duplicates/", include("tadamun.matching.urls")),
    path("", include("tadamun.imports.urls")),  # pages under imports/, API under api/v1/
    path("api/", include("tadamun.api.urls")),
    path("admin/", admin.site.urls),
]
