from django.urls import path

from . import views

app_name = "registry"
urlpatterns = [
    path("people/", views.person_list, name="person_list"),
    path("people/new/", views.person_create, name="person_create"),
    path("people/pick/", views.person_pick, name="person_pick"),
    path("people/lookups/", views.lookup_log, name="lookup_log"),
    path("people/<int:pk>/", views.person_detail, name="person_detail"),
    path("people/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("people/<int:pk>/archive/", views.person_archive, name="person_archive"),
    path("people/<int:pk>/history/", views.person_history, name="person_history"),
    path("people/<int:pk>/consents/", views.consent_add, name="consent_add"),
    path(
        "people/<int:pk>/consents/<int:consent_pk>/withdraw/",
        views.consent_withdraw,
        name="consent_withdraw",
    ),
    path("groups/", views.group_list, name="group_list"),
    path("groups/new/", views.group_create, name="group_create"),
    path("groups/<int:pk>/", views.group_detail, name="group_detail"),
    path("groups/<int:pk>/edit/", views.group_edit, name="group_edit"),
    path("groups/<int:pk>/archive/", views.group_archive, name="group_archive"),
    path("groups/<int:pk>/history/", views.group_history, name="group_history"),
    path("groups/<int:pk>/members/", views.group_member_add, name="group_member_add"),
    path(
        "groups/<int:pk>/members/<int:member_pk>/remove/",
        views.group_member_remove,
        name="group_member_remove",
    ),
]
