from django.urls import path

from . import views

app_name = "organisations"
urlpatterns = [
    path("", views.organisation_list, name="list"),
    path("<slug:slug>/", views.organisation_detail, name="detail"),
    path("<slug:slug>/history/", views.organisation_history, name="history"),
    path("<slug:slug>/edit/", views.organisation_edit, name="edit"),
    path("<slug:slug>/members/new/", views.member_create, name="member_create"),
    path("<slug:slug>/members/<int:link_pk>/end/", views.membership_end, name="membership_end"),
]
