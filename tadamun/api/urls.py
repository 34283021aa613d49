from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from tadamun.cases import api as cases_api
from tadamun.matching import api as matching_api

from . import views

router = DefaultRouter()
router.register("territories", views.TerritoryViewSet, basename="territory")
router.register("organisations", views.OrganisationViewSet, basename="organisation")
router.register("programmes", views.ProgrammeViewSet, basename="programme")
router.register("people", views.PersonViewSet, basename="person")
router.register("groups", views.GroupViewSet, basename="group")
router.register("intakes", cases_api.IntakeViewSet, basename="intake")
router.register("cases", cases_api.CaseViewSet, basename="case")
router.register("referrals", cases_api.ReferralViewSet, basename="referral")
router.register("duplicate-runs", matching_api.DuplicateRunViewSet, basename="duplicate-run")
router.register("duplicate-pairs", matching_api.DuplicatePairViewSet, basename="duplicate-pair")
router.register("person-merges", matching_api.PersonMergeViewSet, basename="person-merge")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("v1/", include(router.urls)),
]
