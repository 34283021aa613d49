from django.urls import path

from . import views_calls as v

C = "projects/calls/<int:pk>/"
A = "projects/applications/<int:pk>/"
S = "projects/sessions/<int:pk>/"

urlpatterns = [
    # Calls (coordinators) and applications at a desk.
    path("projects/calls/", v.call_list, name="call_list"),
    path("projects/calls/new/", v.call_create, name="call_create"),
    path(C, v.call_detail, name="call"),
    path(C + "edit/", v.call_edit, name="call_edit"),
    path(C + "history/", v.call_history, name="call_history"),
    path(C + "status/", v.call_status, name="call_status"),
    path(C + "envelopes/", v.envelope_set, name="envelope_set"),
    path(C + "criteria/", v.criterion_add, name="criterion_add"),
    path(C + "documents/", v.document_add, name="document_add"),
    path(C + "applications/new/", v.application_create, name="application_create"),
    path(C + "sessions/new/", v.session_create, name="session_create"),
    path("projects/promoters/pick/", v.promoter_pick, name="promoter_pick"),
    path(A, v.application_detail, name="application"),
    path(A + "history/", v.application_history, name="application_history"),
    path(A + "precheck/", v.application_precheck, name="application_precheck"),
    path(A + "withdraw/", v.application_withdraw, name="application_withdraw"),
    path(A + "finance/", v.application_award, name="application_award"),
    # Public submissions, for field officers.
    path("projects/submissions/", v.submission_list, name="submissions"),
    path("projects/submissions/<int:pk>/", v.submission_detail, name="submission"),
    path("projects/submissions/<int:pk>/decline/", v.submission_decline, name="submission_decline"),
    path(
        "projects/submissions/<int:pk>/register/",
        v.submission_register,
        name="submission_register",
    ),
    # Committee sessions.
    path(S, v.session_detail, name="session"),
    path(S + "applications/<int:application_pk>/score/", v.score_record, name="score_record"),
    path(S + "decide/", v.session_decide, name="session_decide"),
    path(S + "remarks/", v.session_remarks, name="session_remarks"),
    path(S + "minutes/", v.session_minutes, name="minutes"),
    # Public: no sign-in.
    path("apply/", v.public_calls, name="public_calls"),
    path("apply/rows/<slug:prefix>/", v.plan_row, name="plan_row"),
    path("apply/track/<str:reference>/<str:secret>/", v.public_track, name="track"),
    path("apply/<slug:code>/", v.public_apply, name="public_apply"),
]
