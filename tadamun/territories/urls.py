from django.urls import path

from . import views

app_name = "territories"
urlpatterns = [
    path("", views.territory_list, name="list"),
    path("<str:code>/", views.territory_detail, name="detail"),
]
