"""Duplicates in a real browser: the network's coordinator starts a search over a small
registry holding one person registered twice, watches it finish by polling, reviews the pair
side by side, merges it, finds the kept person with the other record's different values,
and undoes the merge.

The search runs on the database task backend, as in production: the page polls while the
search waits; the test then runs the worker (``db_worker --batch``).
"""

import datetime

from django.core.management import call_command
from playwright.sync_api import expect

from tadamun.cases.models import Case
from tadamun.matching.models import Decision, DuplicatePair, PersonMerge
from tadamun.registry.models import Person

from .. import factories as f


def _people():
    return Person.objects.unscoped("tests")


def test_search_review_merge_see_other_values_and_undo(live_world, sign_in, live_server, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    w = live_world
    keep = w.p_jendouba
    keep.phone = "+216 98 123 456"
    keep.address = "12 rue de Tunis"
    keep.birth_year = 1990
    keep.save()
    dup = f.person(
        w.org_b,
        w.jendouba,
        given_name="Salma",
        family_name="Trabelsi",
        birth_date=datetime.date(1990, 5, 17),
        birth_year=1990,
        phone="+216 98 123 456",
        email="salma@example.org",
        address="Cité Ennour",
    )
    case = Case.objects.create(person=dup, organisation=w.org_b)

    page = sign_in(w.coordinator)
    with page.expect_navigation():
        page.get_by_role("link", name="Duplicates").click()
    assert page.url == f"{live_server.url}/duplicates/"
    with page.expect_navigation():
        page.get_by_test_id("run-start").click()

    # The search waits for the worker; the page polls, then shows the pair without a reload.
    results = page.get_by_test_id("run-results")
    expect(results).to_have_attribute("data-status", "queued")
    expect(results).to_have_attribute("hx-trigger", "every 2s")
    page.evaluate("window.stillTheSamePage = true")
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    expect(results).to_have_attribute("data-status", "done", timeout=15_000)
    assert page.evaluate("window.stillTheSamePage") is True
    expect(page.get_by_test_id("run-done")).to_contain_text("1 pair to review")

    pair = page.get_by_test_id("pair")
    expect(pair).to_have_count(1)
    expect(pair.get_by_test_id("pair-person")).to_have_text(["Salma Trabelsi", "Salma Trabelsi"])
    address = pair.locator('tr[data-field="address"]')
    expect(address).to_have_attribute("data-differs", "true")
    expect(address).to_have_class("table-warning")
    expect(address).to_contain_text("12 rue de Tunis")
    expect(address).to_contain_text("Cité Ennour")
    expect(pair.locator('tr[data-field="email"]')).to_have_attribute("data-one-side", "true")
    expect(pair.locator('tr[data-field="phone"]')).not_to_have_attribute("data-differs", "true")

    # Same person: keep the first record (the default), with a reason.
    expect(page.get_by_label(f"Record {keep.pk}")).to_be_checked()
    page.get_by_label("Reason (optional)").fill("Same phone and date of birth")
    with page.expect_navigation():
        pair.get_by_test_id("merge").click()
    assert page.url == f"{live_server.url}/people/{keep.pk}/"
    expect(page.get_by_role("alert").first).to_contain_text("The two records are now one")
    values = page.get_by_test_id("merge-values")
    expect(values).to_contain_text("Other values recorded at merge")
    expect(values.locator('tr[data-field="address"]')).to_contain_text("Cité Ennour")
    expect(page.locator(".record-meta")).to_contain_text("salma@example.org")  # filled in
    expect(page.locator(".record-meta")).to_contain_text("12 rue de Tunis")  # kept
    assert Case.objects.unscoped().get(pk=case.pk).person_id == keep.pk
    assert _people().get(pk=dup.pk).is_archived

    # Undo from the merge page.
    with page.expect_navigation():
        values.get_by_test_id("merge-link").click()
    expect(page.get_by_test_id("merge-recorded")).to_contain_text("Cité Ennour")
    with page.expect_navigation():
        page.get_by_test_id("merge-undo").click()
    expect(page.get_by_role("alert").first).to_contain_text("The merge was undone")
    expect(page.get_by_test_id("merge-undone")).to_be_visible()
    assert Case.objects.unscoped().get(pk=case.pk).person_id == dup.pk
    assert not _people().get(pk=dup.pk).is_archived
    assert _people().get(pk=keep.pk).email == ""
    assert PersonMerge.objects.unscoped().get().undone_by == w.coordinator
    assert DuplicatePair.objects.unscoped().get().decision == Decision.PENDING

    # The kept person's page no longer lists the merge's values.
    with page.expect_navigation():
        page.get_by_test_id("merge-keep").click()
    expect(page.get_by_test_id("merge-values")).to_have_count(0)
