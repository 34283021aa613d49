from django.urls import path

from . import views_projects as v

P = "projects/<int:pk>/"

urlpatterns = [
    path("projects/", v.dashboard, name="dashboard"),
    path("projects/list/", v.project_list, name="project_list"),
    path("projects/at-risk/", v.at_risk, name="at_risk"),
    path("projects/portfolio/", v.portfolio, name="portfolio"),
    path("projects/exhibitions/", v.exhibition_manage, name="exhibition_manage"),
    path("projects/exhibitions/<int:pk>/", v.exhibition_stands, name="exhibition_stands"),
    path(P, v.project_detail, name="project"),
    path(P + "history/", v.project_history, name="project_history"),
    path(P + "mentor/", v.mentor_assign, name="mentor_assign"),
    path(P + "tranches/<int:tranche_pk>/evidence/", v.tranche_evidence, name="tranche_evidence"),
    path(P + "tranches/<int:tranche_pk>/release/", v.tranche_release, name="tranche_release"),
    path(P + "tranches/<int:tranche_pk>/file/", v.evidence_file, name="evidence_file"),
    path(P + "loans/<int:financing_pk>/repayments/", v.repayment_record, name="repayment_record"),
    path(P + "receipts/<int:repayment_pk>/", v.receipt, name="receipt"),
    path(P + "coaching/", v.coaching_record, name="coaching_record"),
    path(P + "visits/plan/", v.visit_plan, name="visit_plan"),
    path(P + "visits/", v.visit_record, name="visit_record"),
    path(P + "visits/<int:visit_pk>/photo/", v.visit_photo, name="visit_photo"),
    path(P + "products/", v.product_add, name="product_add"),
    path(P + "products/<int:product_pk>/", v.product_edit, name="product_edit"),
    path(P + "products/<int:product_pk>/publish/", v.product_publish, name="product_publish"),
    path(P + "products/<int:product_pk>/photo/", v.product_photo, name="product_photo"),
    # Public: no sign-in, no personal data.
    path("catalogue/", v.catalogue, name="catalogue"),
    path("catalogue/<int:product_pk>/photo/", v.catalogue_photo, name="catalogue_photo"),
    path("exhibitions/", v.exhibition_list, name="exhibitions"),
    path("exhibitions/<int:pk>/", v.exhibition_detail, name="exhibition"),
]
