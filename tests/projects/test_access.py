"""Who sees which calls, applications, projects and public submissions through the API.

The ten personas of tests/conftest.py, plus the coordinator of another network, list and open
every record: a list holds exactly what the persona may see, a record outside the scope is
"not found" (404) on its page, its history and its actions, never "forbidden". Read-only roles
(viewer, controller, trainer) see their records but change nothing (403, nothing written).
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest

from tadamun.accounts.models import Role
from tadamun.projects import services as s
from tadamun.projects.models import (
    Application,
    Financing,
    Project,
    PublicSubmission,
    Tranche,
    Visit,
)

from .. import factories as f
from ..conftest import PERSONAS
from .conftest import TODAY, plan

pytestmark = pytest.mark.django_db

API = "/api/v1"
OTHER_NETWORK = "coordinator_net2"
ALL_PERSONAS = [*PERSONAS, OTHER_NETWORK]
READ_ONLY = ["viewer_a", "controller_a", "trainer_a"]

_NET_A = {"net", "a"}
VISIBLE_CALLS = {
    "coordinator": _NET_A,
    "desk_a": _NET_A,
    "desk_tabarka": _NET_A,  # a call is not limited to a territory
    "caseworker_b": {"net"},  # its network's call, not org_a's own
    "viewer_a": _NET_A,
    "controller_a": _NET_A,
    "trainer_a": _NET_A,
    "outsider": {"c"},
    "operator": {"net", "a", "c"},
    "nobody": set(),
    OTHER_NETWORK: set(),
}
_ORG_A = {"jendouba", "tabarka"}
# Applications and projects: the handling organisation's staff within their territory.
VISIBLE_APPLICATIONS = {
    "coordinator": _ORG_A | {"kef"},
    "desk_a": _ORG_A,
    "desk_tabarka": {"tabarka"},
    "caseworker_b": {"kef"},
    "viewer_a": _ORG_A,
    "controller_a": _ORG_A,
    "trainer_a": _ORG_A,
    "outsider": {"empoli"},
    "operator": _ORG_A | {"kef", "empoli"},
    "nobody": set(),
    OTHER_NETWORK: set(),
}
_NET_SUBMISSIONS = {"jendouba", "tabarka", "kef"}
# Public submissions: staff of the call's network, whoever may register them, within their
# territory.
VISIBLE_SUBMISSIONS = {
    "coordinator": _NET_SUBMISSIONS,
    "desk_a": _NET_SUBMISSIONS,
    "desk_tabarka": {"tabarka"},
    "caseworker_b": _NET_SUBMISSIONS,
    "viewer_a": _NET_SUBMISSIONS,
    "controller_a": _NET_SUBMISSIONS,
    "trainer_a": _NET_SUBMISSIONS,
    "outsider": {"empoli"},
    "operator": _NET_SUBMISSIONS | {"empoli"},
    "nobody": set(),
    OTHER_NETWORK: set(),
}


@dataclass
class Records:
    w: object
    users: dict
    calls: dict
    applications: dict
    projects: dict
    submissions: dict
    loans: dict  # application key -> its project's loan
    tranches: dict


def _submission(call, territory, name):
    return s.submission_create(
        call=call,
        territory=territory,
        kind="individual",
        language="fr",
        consent=True,
        data={
            "given_name": name,
            "family_name": "Applicant",
            "title": f"{name}'s bakery",
            "financing_kind": "grant",
            "requested_amount": "1000",
            "investments": [{"label": "Oven", "quantity": 1, "unit_cost": "1000"}],
            "financing": [{"source": "grant", "amount": "1000"}],
        },
    )


def _project(application, code):
    region = application.territory
    while region.parent is not None and region.parent.parent is not None:
        region = region.parent
    project = Project.objects.create(
        application=application,
        code=code,
        organisation=application.organisation,
        kind=application.kind,
        promoter=application.promoter,
        group=application.group,
        territory=application.territory,
        region=region,
        sector=application.sector,
        title=application.title,
        currency=application.call.currency,
        financed_on=TODAY,
        amount_financed=Decimal("1000"),
    )
    loan = Financing.objects.create(
        project=project,
        kind="loan",
        amount=Decimal("1000"),
        awarded_on=TODAY,
        instalments=1,
        first_due_on=TODAY + datetime.timedelta(days=30),
        outstanding=Decimal("1000"),
    )
    tranche = Tranche.objects.create(
        financing=loan, number=1, amount=Decimal("1000"), milestone="Agreement signed"
    )
    return project, loan, tranche


@pytest.fixture
def records(pw) -> Records:
    w = pw
    w.call.refresh_from_db()  # published
    net2_member = f.OrganisationFactory(slug="org-d")
    net2 = f.network("net2", [net2_member])
    other = f.UserFactory(username=OTHER_NETWORK)
    f.membership(other, net2, Role.COORDINATOR)

    call_a = s.call_create(
        user=w.coordinator,
        organisation=w.org_a,
        code="call-a",
        title={"en": "Org A's own call"},
        opens_on=TODAY,
        closes_on=TODAY,
        currency="TND",
    )
    call_c = s.call_create(
        user=w.operator,
        organisation=w.org_c,
        code="call-c",
        title={"it": "Bando Empoli"},
        opens_on=TODAY - datetime.timedelta(days=5),
        closes_on=TODAY + datetime.timedelta(days=5),
        currency="EUR",
    )
    s.envelope_set(user=w.operator, call=call_c, territory=w.empoli, amount="20000")
    s.criterion_add(user=w.operator, call=call_c, code="v", label={"it": "V"}, weight=1)
    call_c = s.call_set_status(user=w.operator, call=call_c, status="open")

    def apply(user, call, promoter, territory, **extra):
        return s.application_submit(
            user=user,
            call=call,
            promoter=promoter,
            territory=territory,
            sector=w.crafts,
            title="Workshop",
            financing_kind="grant",
            requested_amount="1000",
            plan=plan("1000", "0"),
            **{"kind": "individual", **extra},
        )

    applications = {
        "jendouba": apply(w.desk_a, w.call, w.p_jendouba, w.jendouba),
        "tabarka": apply(
            w.desk_tabarka, w.call, w.p_tabarka, w.tabarka, kind="collective", group=w.group
        ),
        "kef": apply(w.caseworker_b, w.call, w.p_kef, w.kef),
        "empoli": apply(w.outsider, call_c, w.p_empoli, w.empoli),
    }
    projects, loans, tranches = {}, {}, {}
    for key, application in applications.items():
        projects[key], loans[key], tranches[key] = _project(application, f"PRJ-{key}")
    submissions = {
        "jendouba": _submission(w.call, w.jendouba, "Amel"),
        "tabarka": _submission(w.call, w.tabarka, "Sami"),
        "kef": _submission(w.call, w.kef, "Rim"),
        "empoli": _submission(call_c, w.empoli, "Luca"),
    }
    users = {name: getattr(w, name) for name in PERSONAS}
    users[OTHER_NETWORK] = other
    return Records(
        w=w,
        users=users,
        calls={"net": w.call, "a": call_a, "c": call_c},
        applications=applications,
        projects=projects,
        submissions=submissions,
        loans=loans,
        tranches=tranches,
    )


def _listed(api, path) -> set[int]:
    response = api.get(f"{API}/{path}/", {"page_size": 500})
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


RESOURCES = {
    # endpoint: (records attribute, oracle, detail actions answered 404 outside the scope)
    "calls": ("calls", VISIBLE_CALLS, ["history/", "envelopes/", "criteria/"]),
    "applications": ("applications", VISIBLE_APPLICATIONS, ["history/"]),
    "projects": ("projects", VISIBLE_APPLICATIONS, ["history/", "visits/", "coaching/"]),
    "submissions": ("submissions", VISIBLE_SUBMISSIONS, []),
}


@pytest.mark.parametrize("persona", ALL_PERSONAS)
@pytest.mark.parametrize("endpoint", list(RESOURCES))
def test_who_sees_what(records, api_for, persona, endpoint):
    attribute, oracle, actions = RESOURCES[endpoint]
    rows = getattr(records, attribute)
    api = api_for(records.users[persona])
    expected = oracle[persona]
    assert _listed(api, endpoint) == {rows[key].pk for key in expected}
    for key, record in rows.items():
        code = 200 if key in expected else 404
        for suffix in ["", *actions]:
            response = api.get(f"{API}/{endpoint}/{record.pk}/{suffix}")
            assert response.status_code == code, (key, suffix, response.status_code)


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_financing_records_follow_their_project(records, api_for, persona):
    api = api_for(records.users[persona])
    expected = VISIBLE_APPLICATIONS[persona]
    for key in records.projects:
        code = 200 if key in expected else 404
        loan, tranche = records.loans[key], records.tranches[key]
        for path in (
            f"financings/{loan.pk}/",
            f"financings/{loan.pk}/repayments/",
            f"tranches/{tranche.pk}/",
        ):
            assert api.get(f"{API}/{path}").status_code == code, (key, path)
    board = api.get(f"{API}/projects-dashboard/").json()
    assert board["total"]["projects"] == len(expected)
    par = api.get(f"{API}/portfolio-at-risk/").json()
    assert sum(line["loans"] for line in par["lines"]) == len(expected)


def test_anonymous_callers_get_nothing_but_the_catalogue(records, api_for):
    api = api_for(None)
    for endpoint in [*RESOURCES, "projects-dashboard", "portfolio-at-risk", "products"]:
        assert api.get(f"{API}/{endpoint}/").status_code == 401, endpoint
    assert api.get(f"{API}/catalogue/").status_code == 200


def _counts():
    return {
        model.__name__: model.objects.unscoped().count()
        if hasattr(model.objects, "unscoped")
        else model.objects.count()
        for model in (Application, Project, PublicSubmission, Visit, Tranche, Financing)
    }


@pytest.mark.parametrize("persona", READ_ONLY)
def test_read_only_roles_change_nothing(records, api_for, persona):
    w = records.w
    api = api_for(records.users[persona])
    before = _counts()
    jendouba = records.applications["jendouba"]
    project = records.projects["jendouba"]
    attempts = [
        (
            "applications/",
            {
                "call": w.call.pk,
                "kind": "individual",
                "promoter": w.p_tabarka.pk,
                "territory": "TN-32",
                "sector": "crafts",
                "title": "Bakery",
                "financing_kind": "grant",
                "requested_amount": "1000",
                "investments": [{"label": "Oven", "unit_cost": "1000"}],
            },
        ),
        (f"applications/{jendouba.pk}/precheck/", {}),
        (f"applications/{jendouba.pk}/withdraw/", {}),
        (f"projects/{project.pk}/visits/", {"visited_on": str(TODAY), "project_status": "active"}),
        (f"tranches/{records.tranches['jendouba'].pk}/evidence/", {"note": "Lease"}),
        (f"financings/{records.loans['jendouba'].pk}/repayments/", {"amount": "10"}),
        (f"submissions/{records.submissions['jendouba'].pk}/decline/", {"reason": "No"}),
        (
            "calls/",
            {
                "code": "call-x",
                "organisation": "org-a",
                "title": {"en": "X"},
                "opens_on": str(TODAY),
                "closes_on": str(TODAY),
                "currency": "TND",
            },
        ),
        (
            "products/",
            {"project": project.pk, "name": {"en": "Jam"}, "price_min": "1", "price_max": "2"},
        ),
    ]
    for path, payload in attempts:
        response = api.post(f"{API}/{path}", payload, format="json")
        assert response.status_code == 403, (path, response.status_code, response.content)
    assert _counts() == before
    assert Application.objects.unscoped().get(pk=jendouba.pk).status == "submitted"


@pytest.mark.parametrize("persona", ["outsider", "nobody", OTHER_NETWORK])
def test_outsiders_cannot_act_on_records_they_cannot_see(records, api_for, persona):
    api = api_for(records.users[persona])
    before = _counts()
    jendouba = records.applications["jendouba"]
    for path, payload in [
        (f"applications/{jendouba.pk}/precheck/", {}),
        (f"applications/{jendouba.pk}/award/", {"financed_on": str(TODAY), "financings": []}),
        (f"projects/{records.projects['jendouba'].pk}/visits/", {}),
        (f"tranches/{records.tranches['jendouba'].pk}/release/", {}),
        (f"financings/{records.loans['jendouba'].pk}/repayments/", {"amount": "10"}),
        (f"submissions/{records.submissions['jendouba'].pk}/register/", {}),
        (f"calls/{records.calls['net'].pk}/publish/", {}),
    ]:
        assert api.post(f"{API}/{path}", payload, format="json").status_code == 404, path
    assert _counts() == before
