"""A collective micro-project from the desk to its financing, in a real browser.

desk_a records the application of the "Tabarka weavers" collective at the desk (adding a row
to the business plan with HTMX) and runs the pre-check; the coordinator sets up a committee
with coordinator_2; both score on the session page (saved with HTMX, each seeing only their
own scores); the coordinator, who chairs, follows the progress, decides, reads the minutes in
French, and finances the project with a grant in two tranches and a loan, landing on the
project page. There the first tranche cannot be released until desk_a records the evidence of
its milestone; the coordinator releases it, records a repayment of the loan (receipt printed)
and a follow-up visit whose jobs show on the project. The world is tests/conftest.py's with
tests/projects/conftest.py's additions.
"""

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tadamun.projects.models import (
    Application,
    ApplicationStatus,
    CommitteeSession,
    Project,
    Score,
    SessionStatus,
)

from ..projects.conftest import pw  # noqa: F401  (the projects world, as a fixture)

TODAY = datetime.date.today()


@pytest.fixture
def projects_world(live_world, pw):  # noqa: F811
    return pw


def _switch_user(page, sign_in, user):
    page.context.clear_cookies()
    return sign_in(user)


def _score(page, url, session, application, viability: str, impact: str):
    page.goto(f"{url}/projects/sessions/{session.pk}/")
    card = page.locator(f"#a{application.pk}")
    card.get_by_label("Viability").fill(viability)
    card.get_by_label("Social impact").fill(impact)
    with page.expect_response(lambda r: r.request.method == "POST" and "/score/" in r.url):
        card.get_by_role("button", name="Save my scores").click()
    card = page.locator(f"#a{application.pk}")  # swapped in place by HTMX
    expect(card.get_by_role("status")).to_have_text("Your scores were saved.")
    expect(card.get_by_test_id("scored")).to_be_visible()


def test_a_collective_project_from_the_desk_to_its_financing_repayment_and_visit(
    projects_world, page, sign_in, live_server
):
    w = projects_world
    url = live_server.url

    # --- the desk records the collective's application -----------------------------------
    sign_in(w.desk_a)
    page.goto(f"{url}/projects/calls/{w.call.pk}/")
    with page.expect_navigation():
        page.get_by_role("link", name="Record an application").click()
    form = page.get_by_test_id("application-form")
    form.get_by_role("radio", name="Collective").check()
    form.locator("#id_group").select_option(label="Tabarka weavers")
    form.get_by_label("Territory").select_option(label="Tabarka")
    form.get_by_label("Sector").select_option(label="Crafts")
    form.get_by_label("Project title").fill("Tabarka carpets")
    form.get_by_label("Financing asked").select_option(label="Grant")
    form.get_by_label("Amount requested (TND)").fill("4500")
    form.get_by_label("Expected jobs (women)").fill("3")
    form.locator('[name="inv-0-label"]').fill("Looms")
    form.locator('[name="inv-0-quantity"]').fill("2")
    form.locator('[name="inv-0-unit_cost"]').fill("2000")
    # One more row than the form offers, added by HTMX.
    rows = page.locator("#rows-inv tr")
    expect(rows).to_have_count(3)
    form.get_by_role("button", name="Add a row").first.click()
    expect(rows).to_have_count(4)
    expect(page.locator("#id_inv-TOTAL_FORMS")).to_have_value("4")
    form.locator('[name="inv-3-label"]').fill("Wool stock")
    form.locator('[name="inv-3-unit_cost"]').fill("1000")
    form.locator('[name="fin-0-source"]').select_option(label="Own contribution")
    form.locator('[name="fin-0-amount"]').fill("500")
    form.locator('[name="fin-1-source"]').select_option(label="Grant requested")
    form.locator('[name="fin-1-amount"]').fill("4000")
    # The plan does not add up (4,500 for 5,000): told next to the plan, nothing written.
    with page.expect_navigation():
        form.get_by_role("button", name="Record the application").click()
    expect(page.locator('[data-field-error="financing"]')).to_contain_text(
        "The financing plan adds up to 4500.000 but the investment is 5000.000."
    )
    assert Application.objects.unscoped().count() == 0
    expect(page.locator('[name="inv-3-label"]')).to_have_value("Wool stock")
    page.locator('[name="fin-1-amount"]').fill("4500")
    with page.expect_navigation():
        page.get_by_role("button", name="Record the application").click()
    application = Application.objects.unscoped().get()
    assert page.url == f"{url}/projects/applications/{application.pk}/"
    assert (application.kind, application.group, application.promoter) == (
        "collective",
        w.group,
        w.p_tabarka,  # the collective's president, since nobody else was named
    )
    assert application.investments.count() == 2
    expect(page.get_by_test_id("application-status")).to_have_text("Submitted")
    expect(page.get_by_test_id("next-step")).to_contain_text("Waiting for the eligibility check")
    expect(page.get_by_test_id("investment-total")).to_contain_text("5,000.000")

    # --- pre-check ---------------------------------------------------------------------------
    with page.expect_navigation():
        page.get_by_role("button", name="Check eligibility").click()
    expect(page.get_by_test_id("application-status")).to_have_text("Eligible")

    # --- the coordinator sets up the committee -----------------------------------------------
    _switch_user(page, sign_in, w.coordinator)
    page.goto(f"{url}/projects/calls/{w.call.pk}/")
    with page.expect_navigation():
        page.get_by_role("link", name="New committee session").click()
    page.get_by_label("Held on").fill(TODAY.isoformat())
    page.get_by_label("Place").fill("Tabarka")
    page.get_by_label("Language of the minutes").select_option("fr")
    page.get_by_label("Members").select_option(value=str(w.coordinator_2.pk))
    page.get_by_label("Chair").select_option(value=str(w.coordinator.pk))
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    session = CommitteeSession.objects.get()
    assert page.url == f"{url}/projects/sessions/{session.pk}/"
    assert set(session.members.all()) == {w.coordinator, w.coordinator_2}

    # --- two members score ---------------------------------------------------------------------
    _score(page, url, session, application, "8", "7")
    page.reload()
    progress = page.get_by_test_id("progress")
    expect(progress.locator("tbody tr")).to_have_count(1)
    expect(progress.locator("tbody tr td .text-success")).to_have_count(1)  # one member of two
    _switch_user(page, sign_in, w.coordinator_2)
    page.goto(f"{url}/projects/sessions/{session.pk}/")
    card = page.locator(f"#a{application.pk}")
    expect(card.get_by_label("Viability")).to_have_value("")  # the chair's 8 is not shown
    _score(page, url, session, application, "6", "9")
    expect(page.get_by_test_id("ranking")).to_have_count(0)  # members do not see the ranking
    assert Score.objects.filter(session=session).count() == 4

    # --- the chair decides ---------------------------------------------------------------------
    _switch_user(page, sign_in, w.coordinator)
    page.goto(f"{url}/projects/sessions/{session.pk}/")
    expect(page.get_by_test_id("progress").locator("td .text-success")).to_have_count(2)
    # (8+6)/2 of 10 weighed 2, (7+9)/2 of 10 weighed 1: (2×0.7 + 0.8) / 3 = 73.333
    expect(page.get_by_test_id("ranking")).to_contain_text("73.333")
    remarks = page.locator("#remarks")
    remarks.get_by_label("Remarks for the minutes").fill("Quorum atteint.")
    with page.expect_navigation():
        remarks.get_by_role("button", name="Save the remarks").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Decide").click()
    expect(page.get_by_role("alert")).to_contain_text("The committee has decided.")
    expect(page.get_by_test_id("outcome")).to_contain_text("Selected")
    session.refresh_from_db()
    assert session.status == SessionStatus.DECIDED

    # --- the minutes, in French, printable --------------------------------------------------
    with page.expect_navigation():
        page.get_by_role("link", name="Minutes").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    minutes = page.get_by_test_id("minutes")
    expect(minutes).to_contain_text(application.reference)
    expect(minutes).to_contain_text("Quorum atteint.")
    expect(minutes.get_by_test_id("minutes-members").locator("li")).to_have_count(2)
    expect(minutes.get_by_test_id("minutes-members")).to_contain_text("coordinator_2")
    page.emulate_media(media="print")
    expect(page.locator(".no-print").first).to_be_hidden()
    page.emulate_media(media="screen")

    # --- the award: a grant in two tranches and a loan ---------------------------------------
    page.goto(f"{url}/projects/applications/{application.pk}/")
    expect(page.get_by_test_id("next-step")).to_contain_text(
        "Selected: waiting for the financing agreement"
    )
    with page.expect_navigation():
        page.get_by_role("link", name="Finance").click()
    award = page.get_by_test_id("award-form")
    expect(award.get_by_label("Grant", exact=True)).to_have_value("4500.000")
    award.get_by_label("Grant", exact=True).fill("1500")
    award.get_by_label("Loan", exact=True).fill("3000")
    award.get_by_label("Monthly instalments").fill("12")
    award.get_by_label("Grace period (months)").fill("3")
    award.locator('[name="tr-0-component"]').select_option(label="Grant")
    award.locator('[name="tr-0-amount"]').fill("1000")
    award.locator('[name="tr-0-milestone"]').fill("Workshop rented")
    award.locator('[name="tr-1-component"]').select_option(label="Grant")
    award.locator('[name="tr-1-amount"]').fill("500")
    award.locator('[name="tr-1-milestone"]').fill("Looms installed")
    with page.expect_navigation():
        award.get_by_role("button", name="Finance the project").click()
    project = Project.objects.unscoped().get()
    assert page.url == f"{url}/projects/{project.pk}/"
    expect(page.locator("h1")).to_contain_text("Tabarka carpets")
    grant, loan = project.financings.order_by("pk")
    assert [(t.amount, t.milestone) for t in grant.tranches.all()] == [
        (Decimal("1000.000"), "Workshop rented"),
        (Decimal("500.000"), "Looms installed"),
    ]
    assert (loan.amount, loan.instalments, loan.grace_months, loan.schedule.count()) == (
        Decimal("3000.000"),
        12,
        3,
        12,
    )
    assert (project.group, project.amount_financed) == (w.group, Decimal("4500.000"))
    application.refresh_from_db()
    assert application.status == ApplicationStatus.AWARDED

    # --- the first tranche: refused before its milestone is evidenced, then released --------
    first = grant.tranches.get(number=1)
    expect(page.get_by_test_id("release-not-yet").first).to_be_visible()
    _switch_user(page, sign_in, w.desk_a)
    page.goto(f"{url}/projects/{project.pk}/")
    row = page.locator(f'tr[data-tranche="{first.pk}"]')
    row.locator("xpath=following-sibling::tr[1]").locator("summary").click()
    page.locator(f'[name="e{first.pk}-note"]').fill("Lease of the workshop signed, copy on file")
    with page.expect_navigation():
        page.locator(f'[name="e{first.pk}-note"]').locator("xpath=ancestor::form").get_by_role(
            "button", name="Record the evidence"
        ).click()
    expect(
        page.locator(f'tr[data-tranche="{first.pk}"]').get_by_test_id("tranche-status")
    ).to_have_text("Milestone evidenced")
    _switch_user(page, sign_in, w.coordinator)
    page.goto(f"{url}/projects/{project.pk}/")
    with page.expect_navigation():
        page.get_by_test_id("release-form").first.get_by_role("button", name="Release").click()
    expect(
        page.locator(f'tr[data-tranche="{first.pk}"]').get_by_test_id("tranche-status")
    ).to_have_text("Released")
    first.refresh_from_db()
    assert (first.status, first.released_by) == ("released", w.coordinator)

    # --- a repayment of the loan, with its receipt --------------------------------------------
    page.get_by_test_id("loan").locator("summary", has_text="Record a repayment").click()
    repayment_form = page.get_by_test_id("repayment-form")
    repayment_form.locator(f'[name="p{loan.pk}-amount"]').fill("250.000")
    with page.expect_navigation():
        repayment_form.get_by_role("button", name="Record and print the receipt").click()
    loan.refresh_from_db()
    repayment = loan.repayments.get()
    expect(page.locator("body")).to_contain_text(repayment.receipt)
    assert (repayment.amount, loan.outstanding) == (Decimal("250.000"), Decimal("2750.000"))

    # --- a follow-up visit --------------------------------------------------------------------
    page.goto(f"{url}/projects/{project.pk}/")
    page.locator("summary", has_text="Record a visit").click()
    visit_form = page.get_by_test_id("visit-form")
    visit_form.locator('[name$="visited_on"]').fill(datetime.date.today().isoformat())
    visit_form.locator('[name$="project_status"]').select_option("active")
    visit_form.locator('[name$="jobs_women"]').fill("3")
    visit_form.locator('[name$="jobs_men"]').fill("1")
    with page.expect_navigation():
        visit_form.get_by_role("button", name="Record").click()
    expect(page.get_by_test_id("jobs")).to_have_text("3 / 1")
    expect(page.get_by_test_id("visits")).to_contain_text("Active")
    project.refresh_from_db()
    assert (project.jobs_women, project.jobs_men, project.last_visit_on) == (
        3,
        1,
        datetime.date.today(),
    )
