from django.urls import path

from . import views

app_name = "programmes"
urlpatterns = [
    path("", views.programme_list, name="list"),
    path("new/", views.programme_create, name="create"),
    path("<slug:code>/", views.programme_detail, name="detail"),
    path("<slug:code>/edit/", views.programme_edit, name="edit"),
    path("<slug:code>/archive/", views.programme_archive, name="archive"),
    path("<slug:code>/history/", views.programme_history, name="history"),
]
