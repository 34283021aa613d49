"""The whole micro-projects lifecycle through the API: a call is created and published, a
collective applies, is pre-checked, scored by two members and selected, financed with a grant
in tranches and a loan, its milestone evidenced and the tranche released, a repayment and a
visit recorded; the dashboard and the portfolio at risk say what the records say."""

import datetime
import threading

import pytest
from django.db import connection

from tadamun.projects.models import (
    Application,
    ApplicationStatus,
    Financing,
    Instalment,
    Project,
    Repayment,
    Score,
    Tranche,
    TrancheStatus,
)

from .conftest import TODAY, submit

pytestmark = pytest.mark.django_db

API = "/api/v1"


def ok(response, code=200):
    assert response.status_code == code, (response.status_code, response.content[:2000])
    return response.json()


def create_call(w, api, code="call-api"):
    call = ok(
        api.post(
            f"{API}/calls/",
            {
                "code": code,
                "organisation": "net",
                "title": {"en": "Women's micro-projects", "fr": "Micro-projets des femmes"},
                "opens_on": str(TODAY - datetime.timedelta(days=10)),
                "closes_on": str(TODAY + datetime.timedelta(days=20)),
                "currency": "TND",
                "max_amount": "8000",
                "sectors": ["crafts"],
            },
            format="json",
        ),
        201,
    )
    assert call["status"] == "draft" and call["max_amount"] == "8000.000"
    url = f"{API}/calls/{call['id']}"
    # Not publishable without envelopes and a grid: the keys say what is missing.
    refused = api.post(f"{url}/publish/")
    assert refused.status_code == 400
    assert set(refused.json()) == {"envelopes", "criteria"}
    envelope = ok(
        api.post(f"{url}/envelopes/", {"territory": "TN-32", "amount": "10000"}, format="json"),
        201,
    )
    assert envelope == {"territory": "TN-32", "amount": "10000.000"}
    for code_, label, weight in (("viability", "Viability", "2"), ("impact", "Impact", "1")):
        ok(
            api.post(
                f"{url}/criteria/",
                {"code": code_, "label": {"en": label}, "weight": weight},
                format="json",
            ),
            201,
        )
    ok(
        api.post(
            f"{url}/documents/",
            {"code": "quote", "label": {"en": "Supplier quote"}, "mandatory": False},
            format="json",
        ),
        201,
    )
    published = ok(api.post(f"{url}/publish/"))
    assert published["status"] == "open"
    assert [c["code"] for c in published["criteria"]] == ["viability", "impact"]
    assert published["envelopes"] == [envelope]
    return published


def collective_application(w, api, call_id):
    return api.post(
        f"{API}/applications/",
        {
            "call": call_id,
            "kind": "collective",
            "promoter": w.p_tabarka.pk,
            "group": w.group.pk,
            "territory": "TN-32-TBK",
            "sector": "crafts",
            "title": "Tabarka weaving cooperative",
            "financing_kind": "grant",
            "requested_amount": "4500",
            "expected_jobs_women": 3,
            "expected_jobs_men": 1,
            "investments": [
                {"label": "Looms", "quantity": "2", "unit_cost": "2000.250"},
                {"label": "Wool", "unit_cost": "999.500"},
            ],
            "financing": [
                {"source": "own", "amount": "500"},
                {"source": "grant", "amount": "4500"},
            ],
        },
        format="json",
    )


def test_lifecycle_through_the_api(pw, api_for):
    w = pw
    coordinator, second, desk = api_for(w.coordinator), api_for(w.coordinator_2), api_for(w.desk_a)
    call = create_call(w, coordinator)

    application = ok(collective_application(w, desk, call["id"]), 201)
    assert application["status"] == "submitted" and application["kind"] == "collective"
    assert application["requested_amount"] == "4500.000"
    assert application["investments"] == [
        {"label": "Looms", "quantity": "2.00", "unit_cost": "2000.250", "amount": "4000.500"},
        {"label": "Wool", "quantity": "1.00", "unit_cost": "999.500", "amount": "999.500"},
    ]
    assert [line["amount"] for line in application["financing_plan"]] == ["500.000", "4500.000"]
    assert application["promoter_name"] == w.p_tabarka.full_name
    app_url = f"{API}/applications/{application['id']}"

    listed = ok(desk.get(f"{API}/applications/", {"call": call["id"], "territory": "TN-32"}))
    assert [row["id"] for row in listed["results"]] == [application["id"]]
    assert ok(desk.get(f"{API}/applications/", {"territory": "TN-33"}))["results"] == []

    checked = ok(desk.post(f"{app_url}/precheck/", {"version": application["version"]}))
    assert checked["status"] == "eligible" and checked["eligibility_notes"] == []
    # A change based on the version read before the pre-check is refused, nothing written.
    stale = desk.post(f"{app_url}/withdraw/", {"version": application["version"]}, format="json")
    assert stale.status_code == 409
    assert Application.objects.unscoped().get(pk=application["id"]).status == "eligible"

    session = ok(
        coordinator.post(
            f"{API}/committee-sessions/",
            {
                "call": call["id"],
                "held_on": str(TODAY),
                "language": "fr",
                "members": [w.coordinator.pk, w.coordinator_2.pk],
                "chair": w.coordinator.pk,
            },
            format="json",
        ),
        201,
    )
    session_url = f"{API}/committee-sessions/{session['id']}"
    # Both members open the scoring sheet, then each sends their own scores.
    assert ok(coordinator.get(f"{session_url}/scores/")) == []
    assert ok(second.get(f"{session_url}/scores/")) == []
    early = coordinator.post(f"{session_url}/decide/", {}, format="json")
    assert early.status_code == 400 and "scores" in early.json()
    ok(
        second.post(
            f"{session_url}/scores/",
            {"application": application["id"], "scores": {"viability": 7, "impact": 9}},
            format="json",
        )
    )
    mine = ok(
        coordinator.post(
            f"{session_url}/scores/",
            {"application": application["id"], "scores": {"viability": 9, "impact": 6}},
            format="json",
        )
    )
    assert {(r["criterion"], r["value"]) for r in mine} == {("viability", 9), ("impact", 6)}
    assert {(r["criterion"], r["value"]) for r in ok(second.get(f"{session_url}/scores/"))} == {
        ("viability", 7),
        ("impact", 9),
    }
    assert Score.objects.filter(session_id=session["id"]).count() == 4
    decided = ok(coordinator.post(f"{session_url}/decide/", {}, format="json"))
    assert decided["status"] == "decided"
    # (2 x 8/10 + 1 x 7.5/10) / 3 = 78.333 out of 100
    assert decided["ranking"] == [
        {
            "rank": 1,
            "application": application["id"],
            "reference": application["reference"],
            "title": "Tabarka weaving cooperative",
            "territory": "TN-32-TBK",
            "requested_amount": "4500.000",
            "score": "78.333",
            "scorers": 2,
            "status": "selected",
        }
    ]
    selected = ok(desk.get(f"{app_url}/"))
    assert selected["status"] == "selected" and selected["awarded_amount"] == "4500.000"

    project = ok(
        coordinator.post(
            f"{app_url}/award/",
            {
                "financed_on": str(TODAY),
                "version": selected["version"],
                "financings": [
                    {
                        "kind": "grant",
                        "amount": "1500",
                        "tranches": [
                            {"amount": "1000", "milestone": "Workshop rented"},
                            {"amount": "500", "milestone": "Looms bought"},
                        ],
                    },
                    {"kind": "loan", "amount": "3000", "instalments": 7, "grace_months": 2},
                ],
            },
            format="json",
        ),
        201,
    )
    assert project["amount_financed"] == "4500.000" and project["currency"] == "TND"
    assert project["region"] == "TN-32" and project["territory"] == "TN-32-TBK"
    grant, loan = project["financings"]
    assert [t["amount"] for t in grant["tranches"]] == ["1000.000", "500.000"]
    assert grant["schedule_summary"] is None
    assert loan["schedule_summary"]["instalments"] == 7
    assert loan["schedule_summary"]["total"] == "3000.000"
    assert loan["schedule_summary"]["next_due_amount"] == "428.571"
    schedule = ok(coordinator.get(f"{API}/financings/{loan['id']}/"))["schedule"]
    assert [row["amount"] for row in schedule] == ["428.571"] * 6 + ["428.574"]
    assert ok(desk.get(f"{app_url}/"))["project"] == project["id"]

    first, second_tranche = grant["tranches"]
    unevidenced = coordinator.post(f"{API}/tranches/{first['id']}/release/", {}, format="json")
    assert unevidenced.status_code == 400 and "status" in unevidenced.json()
    evidenced = ok(
        desk.post(
            f"{API}/tranches/{first['id']}/evidence/",
            {"note": "Lease signed, copy on file"},
            format="json",
        )
    )
    assert evidenced["status"] == "evidenced" and evidenced["evidenced_on"] == str(TODAY)
    # The desk evidences, only a coordinator releases.
    assert desk.post(f"{API}/tranches/{first['id']}/release/").status_code == 403
    released = ok(coordinator.post(f"{API}/tranches/{first['id']}/release/"))
    assert released["status"] == TrancheStatus.RELEASED
    assert Tranche.objects.get(pk=second_tranche["id"]).status == TrancheStatus.PLANNED

    too_much = desk.post(
        f"{API}/financings/{loan['id']}/repayments/", {"amount": "3000.001"}, format="json"
    )
    assert too_much.status_code == 400 and "amount" in too_much.json()
    repayment = ok(
        desk.post(f"{API}/financings/{loan['id']}/repayments/", {"amount": "500"}, format="json"),
        201,
    )
    assert repayment["amount"] == "500.000" and repayment["outstanding"] == "2500.000"
    assert repayment["receipt"] == Repayment.objects.get().receipt
    assert (
        ok(desk.get(f"{API}/financings/{loan['id']}/repayments/"))[0]["receipt"]
        == (repayment["receipt"])
    )

    visit = ok(
        desk.post(
            f"{API}/projects/{project['id']}/visits/",
            {
                "visited_on": str(TODAY),
                "project_status": "active",
                "jobs_women": 3,
                "jobs_men": 2,
                "monthly_revenue": "850.5",
            },
            format="json",
        ),
        201,
    )
    assert visit["monthly_revenue"] == "850.500" and visit["state"] == "done"
    detail = ok(desk.get(f"{API}/projects/{project['id']}/"))
    assert (detail["jobs_women"], detail["jobs_men"], detail["last_visit_on"]) == (3, 2, str(TODAY))

    # The dashboard says what the records say.
    records = Project.objects.unscoped().filter(archived_at__isnull=True)
    board = ok(coordinator.get(f"{API}/projects-dashboard/"))
    assert board["total"]["projects"] == records.count() == 1
    assert board["total"]["collective"] == 1 and board["total"]["individual"] == 0
    assert board["total"]["amounts"] == [
        {"currency": "TND", "amount": str(sum(p.amount_financed for p in records))}
    ]
    assert board["total"]["jobs"] == sum(p.jobs for p in records) == 5
    assert [(r["code"], r["projects"]) for r in board["by_region"]] == [("TN-32", 1)]
    assert [(r["code"], r["projects"]) for r in board["by_sector"]] == [("crafts", 1)]
    assert board["by_status"] == {"active": 1, "struggling": 0, "stopped": 0}
    assert board["total"]["survival"][0] == {"months": 6, "eligible": 0, "alive": 0, "rate": None}
    assert (
        ok(coordinator.get(f"{API}/projects-dashboard/", {"region": "TN-33"}))["total"]["projects"]
        == 0
    )

    # The portfolio at risk, today and 200 days ahead, from the loan's own figures.
    loan_row = Financing.objects.get(pk=loan["id"])
    today = ok(coordinator.get(f"{API}/portfolio-at-risk/"))
    assert today["days"] == 30
    assert today["lines"] == [
        {
            "region": "TN-32",
            "region_name": "Jendouba",
            "currency": "TND",
            "loans": 1,
            "outstanding": "2500.000",
            "at_risk": "0.000",
            "loans_at_risk": 0,
            "par": 0.0,
        }
    ]
    later = TODAY + datetime.timedelta(days=200)
    ahead = ok(coordinator.get(f"{API}/portfolio-at-risk/", {"as_of": str(later)}))
    assert loan_row.oldest_unpaid_due_on < later - datetime.timedelta(days=30)
    assert ahead["lines"][0]["at_risk"] == str(loan_row.outstanding) == "2500.000"
    assert ahead["lines"][0]["par"] == 1.0
    assert Instalment.objects.filter(financing=loan_row).count() == 7


def test_follow_up_products_catalogue_and_exhibitions(pw, api_for):
    w = pw
    application = submit(w, amount="3000", total="3000")
    from tadamun.projects import services as s

    session = s.session_create(
        user=w.coordinator,
        call=w.call,
        held_on=TODAY,
        language="ar",
        members=[w.coordinator],
        chair=w.coordinator,
    )
    s.application_precheck(user=w.desk_a, application=application)
    s.score_record(
        user=w.coordinator,
        session=session,
        application=application,
        scores={"viability": 8, "impact": 8},
    )
    s.session_decide(user=w.coordinator, session=session)
    application.refresh_from_db()
    coordinator, desk, viewer = api_for(w.coordinator), api_for(w.desk_a), api_for(w.viewer_a)
    project = ok(
        coordinator.post(
            f"{API}/applications/{application.pk}/award/",
            {"financed_on": str(TODAY), "financings": [{"kind": "in_kind", "amount": "3000"}]},
            format="json",
        ),
        201,
    )
    url = f"{API}/projects/{project['id']}"
    mentor = ok(
        coordinator.post(
            f"{url}/mentor/",
            {"mentor": w.desk_a.pk, "version": project["version"]},
            format="json",
        )
    )
    assert mentor["mentor"] == w.desk_a.pk
    stale = coordinator.post(
        f"{url}/mentor/", {"mentor": None, "version": project["version"]}, format="json"
    )
    assert stale.status_code == 409
    coaching = ok(
        desk.post(
            f"{url}/coaching/",
            {
                "kind": "coaching",
                "held_on": str(TODAY),
                "topic": "Pricing",
                "hours": "2.5",
                "attendees": [w.p_jendouba.pk],
            },
            format="json",
        ),
        201,
    )
    assert coaching["attendees"] == [w.p_jendouba.pk] and coaching["hours"] == "2.50"
    assert viewer.post(f"{url}/coaching/", {}, format="json").status_code in (400, 403)
    assert (
        viewer.post(
            f"{url}/visits/",
            {"visited_on": str(TODAY), "project_status": "active"},
            format="json",
        ).status_code
        == 403
    )

    product = ok(
        desk.post(
            f"{API}/products/",
            {
                "project": project["id"],
                "name": {"en": "Woven basket", "ar": "سلة منسوجة"},
                "price_min": "12.5",
                "price_max": "30",
            },
            format="json",
        ),
        201,
    )
    assert (product["price_min"], product["price_max"], product["published"]) == (
        "12.500",
        "30.000",
        False,
    )
    public = api_for(None)
    assert ok(public.get(f"{API}/catalogue/"))["results"] == []
    ok(desk.patch(f"{API}/products/{product['id']}/", {"published": True}, format="json"))
    catalogue = ok(public.get(f"{API}/catalogue/"))["results"]
    assert [item["id"] for item in catalogue] == [product["id"]]
    item = catalogue[0]
    assert item["price_min"] == "12.500" and item["sector"] == "crafts"
    assert item["region"] == "TN-32" and item["currency"] == "TND"
    flattened = str(item)
    for personal in (w.p_jendouba.given_name, w.p_jendouba.family_name, project["code"]):
        assert personal not in flattened
    assert "promoter" not in item and "project" not in item
    assert ok(public.get(f"{API}/catalogue/", {"region": "TN-33"}))["results"] == []

    exhibition = ok(
        coordinator.post(
            f"{API}/exhibitions/",
            {
                "organisation": "net",
                "name": {"en": "Tabarka crafts fair"},
                "starts_on": str(TODAY + datetime.timedelta(days=5)),
                "ends_on": str(TODAY + datetime.timedelta(days=7)),
                "territory": "TN-32-TBK",
                "venue": "Town hall",
            },
            format="json",
        ),
        201,
    )
    stands = f"{API}/exhibitions/{exhibition['id']}/stands/"
    ok(coordinator.post(stands, {"project": project["id"], "label": "A1"}, format="json"), 201)
    twice = coordinator.post(stands, {"project": project["id"]}, format="json")
    assert twice.status_code == 400 and "project" in twice.json()
    assert [row["label"] for row in ok(desk.get(stands))] == ["A1"]
    assert ok(api_for(w.outsider).get(f"{API}/exhibitions/"))["results"] == []


def test_money_keeps_the_decimals_of_the_currency(pw, api_for):
    """EUR has two decimals: amounts are written and read with two, never three."""
    w = pw
    api = api_for(w.coordinator)
    call = ok(
        api.post(
            f"{API}/calls/",
            {
                "code": "call-eur",
                "organisation": "net",
                "title": {"en": "Euro call"},
                "opens_on": str(TODAY),
                "closes_on": str(TODAY),
                "currency": "EUR",
                "max_amount": "1000.5",
            },
            format="json",
        ),
        201,
    )
    assert call["max_amount"] == "1000.50"
    refused = api.post(
        f"{API}/calls/{call['id']}/envelopes/",
        {"territory": "TN-32", "amount": "10.005"},
        format="json",
    )
    assert refused.status_code == 400 and "amount" in refused.json()
    assert refused.json()["amount"] == ["EUR amounts have at most 2 decimals."]
    as_number = api.post(
        f"{API}/calls/{call['id']}/envelopes/",
        {"territory": "TN-32", "amount": 10.5},
        format="json",
    )
    assert as_number.status_code == 400 and "amount" in as_number.json()


def test_errors_keep_the_field_keys_of_the_plan(pw, api_for):
    w = pw
    desk = api_for(w.desk_a)
    before = Application.objects.unscoped().count()
    response = desk.post(
        f"{API}/applications/",
        {
            "call": w.call.pk,
            "kind": "individual",
            "promoter": w.p_jendouba.pk,
            "territory": "TN-32",
            "sector": "crafts",
            "title": "Bakery",
            "financing_kind": "grant",
            "requested_amount": "1000",
            "investments": [{"label": "Oven", "unit_cost": "100.0001"}],
            "financing": [{"source": "grant", "amount": "1000"}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"investments.1.unit_cost"}
    unknown = desk.post(
        f"{API}/applications/",
        {"call": w.call.pk, "colour": "blue", "investments": [{"label": "x", "price": "1"}]},
        format="json",
    )
    assert unknown.status_code == 400
    assert "colour" in unknown.json()
    assert unknown.json()["investments.1.price"] == ["This field cannot be set here."]
    assert unknown.json()["investments.1.unit_cost"] == ["This field is required."]
    assert Application.objects.unscoped().count() == before


def test_a_committee_member_only_writes_their_own_scores(pw, api_for):
    w = pw
    application = submit(w)
    from tadamun.projects import services as s

    s.application_precheck(user=w.desk_a, application=application)
    session = s.session_create(
        user=w.coordinator,
        call=w.call,
        held_on=TODAY,
        language="en",
        members=[w.coordinator],
        chair=w.coordinator,
    )
    url = f"{API}/committee-sessions/{session.pk}/scores/"
    payload = {"application": application.pk, "scores": {"viability": 5, "impact": 5}}
    # coordinator_2 sees the session (same network) but does not sit on it.
    assert api_for(w.coordinator_2).post(url, payload, format="json").status_code == 403
    assert api_for(w.outsider).post(url, payload, format="json").status_code == 404
    assert Score.objects.count() == 0
    ok(api_for(w.coordinator).post(url, payload, format="json"))
    assert set(Score.objects.values_list("member_id", flat=True)) == {w.coordinator.pk}


@pytest.mark.django_db(transaction=True)
def test_two_members_score_at_the_same_time(pw, api_for):
    """Two members send their scores at the same moment, each in its own connection: both
    are kept (each member writes only their own rows)."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises every write)")
    w = pw
    application = submit(w)
    from tadamun.projects import services as s

    s.application_precheck(user=w.desk_a, application=application)
    session = s.session_create(
        user=w.coordinator,
        call=w.call,
        held_on=TODAY,
        language="en",
        members=[w.coordinator, w.coordinator_2],
        chair=w.coordinator,
    )
    url = f"{API}/committee-sessions/{session.pk}/scores/"
    barrier = threading.Barrier(2)
    answers = {}

    def score(user, values):
        from django.db import connections

        try:
            api = api_for(user)
            barrier.wait(timeout=10)
            answers[user.username] = api.post(
                url, {"application": application.pk, "scores": values}, format="json"
            ).status_code
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=score, args=(w.coordinator, {"viability": 9, "impact": 3})),
        threading.Thread(target=score, args=(w.coordinator_2, {"viability": 4, "impact": 8})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert answers == {"coordinator": 200, "coordinator_2": 200}
    kept = {
        (member, code, value)
        for member, code, value in Score.objects.values_list(
            "member__username", "criterion__code", "value"
        )
    }
    assert kept == {
        ("coordinator", "viability", 9),
        ("coordinator", "impact", 3),
        ("coordinator_2", "viability", 4),
        ("coordinator_2", "impact", 8),
    }
    assert Application.objects.unscoped().get(pk=application.pk).status == (
        ApplicationStatus.ELIGIBLE
    )
