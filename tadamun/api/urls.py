from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from tadamun.cases import api as cases_api
from tadamun.matching import api as matching_api
from tadamun.projects import api as projects_api

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
router.register("calls", projects_api.CallViewSet, basename="call")
router.register("applications", projects_api.ApplicationViewSet, basename="application")
router.register("submissions", projects_api.SubmissionViewSet, basename="submission")
router.register(
    "committee-sessions", projects_api.CommitteeSessionViewSet, basename="committee-session"
)
router.register("projects", projects_api.ProjectViewSet, basename="project")
router.register("tranches", projects_api.TrancheViewSet, basename="tranche")
router.register("financings", projects_api.FinancingViewSet, basename="financing")
router.register("products", projects_api.ProductViewSet, basename="product")
router.register("exhibitions", projects_api.ExhibitionViewSet, basename="exhibition")
router.register("catalogue", projects_api.CatalogueViewSet, basename="catalogue")
router.register("projects-dashboard", projects_api.DashboardViewSet, basename="projects-dashboard")
router.register("portfolio-at-risk", projects_api.PortfolioViewSet, basename="portfolio-at-risk")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("v1/", include(router.urls)),
]
