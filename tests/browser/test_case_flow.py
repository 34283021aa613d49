"""A case from the desk to the partner and back, in a real browser.

desk_a (a desk operator of org_a) finds p_tabarka, registered in Arabic as "محمد بن علي", by
typing the Latin spelling, and records the visit; caseworker_a opens the case, records a
diagnosis, plans an internship, records the person's consent to referrals and refers them
to org_b; caseworker_b (org_b) accepts and returns the outcome, which caseworker_a then
reads on the case page. The world is tests/conftest.py's with tests/cases/conftest.py's
additions, without the case.
"""

import datetime
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tadamun.cases.models import (
    ActionFamily,
    Case,
    CaseStatus,
    Intake,
    PathwayAction,
    Referral,
    ReferralStatus,
)
from tadamun.cases.services import add_months
from tadamun.organisations.models import Organisation
from tadamun.registry.models import ConsentPurpose, PersonShare, ShareReason

from ..cases.conftest import add_cases

TODAY = datetime.date.today()


@pytest.fixture
def cases_world(live_world):
    return add_cases(live_world, case=False)


def _name(organisation) -> str:
    """The organisation as pages show it (its translated name)."""
    return str(Organisation.objects.get(pk=organisation.pk))


def _switch_user(page, sign_in, user):
    page.context.clear_cookies()
    return sign_in(user)


def test_a_case_goes_from_the_desk_to_the_partner_and_back(cases_world, page, sign_in, live_server):
    w = cases_world
    person = w.p_tabarka
    url = live_server.url

    # --- the desk: look the person up in another script, record the visit ---------------
    sign_in(w.desk_a)
    page.goto(f"{url}/cases/intake/")
    candidates = page.get_by_test_id("intake-candidates")
    with page.expect_response(
        lambda r: (
            urlsplit(r.url).path == "/cases/intake/"
            and parse_qs(urlsplit(r.url).query).get("family_name") == ["ben ali"]
            and r.request.headers.get("hx-request") == "true"
        )
    ):
        page.locator("#intake-given").fill("mohamed")
        page.locator("#intake-family").press_sequentially("ben ali", delay=20)
    expect(candidates.locator("li")).to_have_count(1)
    expect(candidates).to_contain_text("محمد بن علي")
    expect(candidates).to_contain_text("1990")
    with page.expect_navigation():
        candidates.get_by_role("link", name="This is the person").click()
    expect(page.get_by_test_id("intake-person")).to_have_text("محمد بن علي")
    page.get_by_label("Desk").select_option(label="Jendouba job desk")
    page.get_by_label("Reason for coming").fill("Looking for work in hotels")
    with page.expect_navigation():
        page.get_by_role("button", name="Record the visit").click()
    assert page.url == f"{url}/people/{person.pk}/"
    expect(page.get_by_role("alert")).to_contain_text("The visit was recorded.")
    expect(page.get_by_test_id("timeline")).to_contain_text("Came to Jendouba job desk")
    visit = Intake.objects.get(person=person)
    assert (visit.desk, visit.recorded_by, visit.case) == (w.desk, w.desk_a, None)
    # A desk operator is not offered to open a case from the person page.
    expect(page.get_by_role("link", name="Open a case")).to_have_count(0)

    # --- the case worker opens the case, diagnoses, plans --------------------------------
    _switch_user(page, sign_in, w.caseworker_a)
    page.goto(f"{url}/people/{person.pk}/")
    with page.expect_navigation():
        page.get_by_role("link", name="Open a case").click()
    page.get_by_label("Lead organisation").select_option(label=_name(w.org_a))
    page.get_by_label("Desk").select_option(label="Jendouba job desk")
    expect(page.get_by_label("Tutor")).to_have_value(str(w.caseworker_a.pk))
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    case = Case.objects.unscoped().get(person=person)
    assert page.url == f"{url}/cases/{case.pk}/"
    expect(page.get_by_test_id("case-status")).to_have_text("Open")
    assert (case.organisation, case.desk, case.tutor) == (w.org_a, w.desk, w.caseworker_a)

    diagnosis = page.locator("#diagnosis")
    diagnosis.get_by_text("Record a diagnosis").click()
    diagnosis.get_by_label("Work").select_option(label="Critical")
    diagnosis.get_by_label("Mental health").select_option(label="Some difficulty")
    diagnosis.get_by_label("Summary").fill("Motivated; no driving licence.")
    with page.expect_navigation():
        diagnosis.get_by_role("button", name="Record").click()
    expect(page.get_by_role("alert")).to_contain_text("The diagnosis was recorded.")
    expect(diagnosis.locator(".card")).to_contain_text("Work: Critical")
    expect(diagnosis.locator(".card")).to_contain_text("Mental health: Some difficulty")

    plan = page.locator("#plan")
    plan.get_by_text("Add an action to the plan").click()
    start = TODAY
    plan.get_by_label("Kind").select_option(label="Internship (net)")
    plan.get_by_label("Start").fill(start.isoformat())
    plan.get_by_label("Responsible organisation").select_option(label=_name(w.org_a))
    with page.expect_navigation():
        plan.get_by_role("button", name="Add").click()
    expect(page.get_by_role("alert")).to_contain_text("The action was added to the plan.")
    action = PathwayAction.objects.get(case=case)
    assert action.action_type == w.types[ActionFamily.INTERNSHIP]
    assert action.end == add_months(start, 3)  # an internship's usual three months
    expect(page.get_by_test_id("plan")).to_contain_text("Internship (net)")

    # --- no consent yet: the page says so; record it on the person's page -----------------
    referrals = page.locator("#referrals")
    referrals.get_by_text("Refer to a partner").click()
    expect(referrals.locator(".alert-warning")).to_contain_text("has not consented")
    with page.expect_navigation():
        page.locator("h1 a").click()
    assert page.url == f"{url}/people/{person.pk}/"
    page.get_by_text("Record a consent").click()
    page.get_by_label("Purpose").select_option(ConsentPurpose.REFERRAL.value)
    page.get_by_label("Given on").fill(TODAY.isoformat())
    with page.expect_navigation():
        page.get_by_role("button", name="Record", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("The consent was recorded.")
    expect(page.get_by_test_id("consents")).to_contain_text("Referral to a partner organisation")

    # --- the referral ----------------------------------------------------------------------
    page.goto(f"{url}/cases/{case.pk}/")
    referrals = page.locator("#referrals")
    referrals.get_by_text("Refer to a partner").click()
    expect(referrals.locator(".alert-warning")).to_have_count(0)
    referrals.get_by_label("Partner organisation").select_option(label=_name(w.org_b))
    referrals.get_by_label("Pathway action").select_option(value=str(action.pk))
    referrals.get_by_label("What the partner needs to know").fill(
        "Wants an internship in a hotel kitchen."
    )
    deadline = TODAY + datetime.timedelta(days=10)
    referrals.get_by_label("Answer expected by").fill(deadline.isoformat())
    with page.expect_navigation():
        referrals.get_by_role("button", name="Send the referral").click()
    expect(page.get_by_role("alert")).to_contain_text("The referral was sent.")
    expect(page.get_by_test_id("referrals")).to_contain_text("Awaiting an answer")
    referral = Referral.objects.unscoped().get(case=case)
    assert (referral.to_organisation, referral.action, referral.deadline) == (
        w.org_b,
        action,
        deadline,
    )

    # --- the partner: incoming list, referral page, accept, outcome ----------------------
    _switch_user(page, sign_in, w.caseworker_b)
    page.goto(f"{url}/cases/referrals/")
    incoming = page.get_by_test_id("referral-list")
    expect(incoming.locator("tbody tr")).to_have_count(1)
    expect(incoming).to_contain_text("محمد بن علي")
    with page.expect_navigation():
        incoming.get_by_role("link", name="محمد بن علي").click()
    assert page.url == f"{url}/cases/referrals/{referral.pk}/"
    main = page.locator("main")
    expect(page.locator("h1")).to_contain_text("محمد بن علي (1990)")
    expect(main).to_contain_text("Wants an internship in a hotel kitchen.")
    expect(main).to_contain_text("Internship (net)")
    expect(main).not_to_contain_text("no driving licence")  # the diagnosis stays with the case
    expect(page.locator(f'a[href="/cases/{case.pk}/"]')).to_have_count(0)
    with page.expect_navigation():
        page.get_by_role("button", name="Accept").click()
    expect(page.get_by_test_id("referral-status")).to_have_text("Accepted")
    assert PersonShare.objects.get(person=person, organisation=w.org_b).reason == (
        ShareReason.REFERRAL
    )
    page.get_by_label("Outcome").fill("Started the internship at Hotel Dar Ismail.")
    with page.expect_navigation():
        page.get_by_role("button", name="Send the outcome back").click()
    expect(page.get_by_test_id("referral-status")).to_have_text("Outcome returned")
    expect(page.get_by_test_id("referral-outcome")).to_have_text(
        "Started the internship at Hotel Dar Ismail."
    )
    # The partner now sees the person, never the case.
    response = page.goto(f"{url}/people/{person.pk}/")
    assert response.status == 200
    response = page.goto(f"{url}/cases/{case.pk}/")
    assert response.status == 404

    # --- back at the referring case worker: the loop is closed ---------------------------
    _switch_user(page, sign_in, w.caseworker_a)
    page.goto(f"{url}/cases/{case.pk}/")
    listed = page.get_by_test_id("referrals")
    expect(listed).to_contain_text("Outcome returned")
    expect(listed).to_contain_text("Started the internship at Hotel Dar Ismail.")
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.COMPLETED
    assert Case.objects.unscoped().get(pk=case.pk).status == CaseStatus.OPEN
    page.goto(f"{url}/people/{person.pk}/")
    timeline = page.get_by_test_id("timeline")
    for text in ("Came to Jendouba job desk", "Case opened by", "Referred to", "Internship (net)"):
        expect(timeline).to_contain_text(text)
    expect(timeline.get_by_role("link", name=re.compile("Referred to"))).to_have_count(1)
