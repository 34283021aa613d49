"""Pages under /imports/ and the API under /api/v1/imports/ (one include in tadamun/urls.py)."""

from django.urls import include, path

from . import api, views

pages = [
    path("", views.import_list, name="list"),
    path("new/", views.import_new, name="new"),
    path("template/<slug:kind>.<slug:extension>", views.import_template, name="template"),
    path("<int:pk>/", views.import_detail, name="detail"),
    path("<int:pk>/status/", views.import_status, name="status"),
    path("<int:pk>/run/", views.import_run, name="run"),
    path("<int:pk>/cancel/", views.import_cancel, name="cancel"),
]

app_name = "imports"
urlpatterns = [
    path("imports/", include(pages)),
    path("api/v1/", include(api.router.urls)),
]
