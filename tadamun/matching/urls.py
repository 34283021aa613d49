"""Pages under /duplicates/ (one include in tadamun/urls.py; the API is in tadamun/api/urls.py)."""

from django.urls import path

from . import views

app_name = "matching"
urlpatterns = [
    path("", views.run_list, name="run_list"),
    path("<int:pk>/", views.run_detail, name="run_detail"),
    path("<int:pk>/results/", views.run_results, name="run_results"),
    path("pairs/<int:pk>/decide/", views.pair_decide, name="pair_decide"),
    path("pairs/<int:pk>/merge/", views.pair_merge, name="pair_merge"),
    path("merges/<int:pk>/", views.merge_detail, name="merge_detail"),
    path("merges/<int:pk>/undo/", views.merge_undo, name="merge_undo"),
]
