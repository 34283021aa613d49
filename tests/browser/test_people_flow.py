"""A desk operator's day in a real browser: sign in, Arabic, register, history, search, archive.

The personas come from tests/conftest.py (``desk_a`` is a desk operator of org_a, who holds
p_tabarka "محمد بن علي" (Latin "Mohamed Ben Ali") and p_jendouba "Salma Trabelsi").
"""

import datetime
import re
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from tadamun.registry import services
from tadamun.registry.models import Person

from .conftest import ARTIFACTS


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not laid out"
    return found


def test_sign_in_lands_on_home_with_styles(live_world, sign_in, live_server):
    page = sign_in(live_world.desk_a)

    assert page.url == f"{live_server.url}/"
    expect(page.locator("h1")).to_have_text("Welcome, Test")
    expect(page.get_by_test_id("user-menu")).to_have_text("Test")  # the user's full name
    expect(page.get_by_test_id("roles")).to_contain_text("Organisation org-a")
    # The static files are served: Bootstrap styles the primary button, not the browser.
    button = page.get_by_role("link", name="Register a person").first
    expect(button).to_have_css("background-color", "rgb(13, 110, 253)")
    expect(button).to_have_css("border-top-left-radius", re.compile(r"^[1-9]"))
    expect(page.locator("nav.navbar")).to_have_css("display", "flex")


def test_wrong_password_stays_on_sign_in(live_world, sign_in, live_server):
    page = sign_in(live_world.desk_a, password="not-the-password")

    assert page.url.startswith(f"{live_server.url}/accounts/login/")
    expect(page.get_by_test_id("form-errors")).to_be_visible()
    expect(page.get_by_test_id("user-menu")).to_have_count(0)


def test_arabic_is_laid_out_right_to_left_and_sticks(live_world, sign_in, live_server):
    page = sign_in(live_world.desk_a)
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "ltr")

    with page.expect_navigation():
        page.select_option("#language-select", "ar")

    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")
    expect(page.locator("#language-select")).to_have_value("ar")
    expect(page.locator('link[rel=stylesheet][href*="bootstrap.rtl"]')).to_have_count(1)
    brand = box(page.locator(".navbar-brand"))
    links = box(page.locator("#nav .navbar-nav").first)
    assert brand["x"] >= links["x"] + links["width"], (brand, links)
    language = box(page.locator("#language-select"))
    assert language["x"] + language["width"] <= links["x"], (language, links)

    # Another page, reached through the navigation: still Arabic, still right to left.
    with page.expect_navigation():
        page.locator('#nav a[href="/people/"]').click()
    assert page.url == f"{live_server.url}/people/"
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")
    table = page.get_by_test_id("people-table")
    expect(table).to_contain_text("محمد بن علي")
    headers = table.locator("thead th")
    name_header, latin_header = box(headers.nth(0)), box(headers.nth(1))
    assert name_header["x"] > latin_header["x"], "the first column must be on the right"
    # The table's text starts on the right of its cells.
    expect(headers.nth(0)).to_have_css("text-align", re.compile(r"^(start|right)$"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "people-list-ar.png"), full_page=True)


def test_register_a_person_shows_errors_next_to_fields_then_saves(live_world, sign_in, live_server):
    page = sign_in(live_world.desk_a)
    page.goto(f"{live_server.url}/people/new/")
    future = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    page.fill("#id_family_name", "Gharbi")
    page.fill("#id_birth_date", future)
    page.fill("#id_phone", "+216 20 123 456")
    with page.expect_navigation():
        page.get_by_role("button", name="Register").click()

    # Still the form, with each error next to its own field and nothing typed lost.
    assert page.url == f"{live_server.url}/people/new/"
    for field in ("given_name", "birth_date"):
        error = page.locator(f'[data-field-error="{field}"]')
        expect(error).to_be_visible()
        expect(page.locator(f"#id_{field}")).to_have_attribute("aria-invalid", "true")
        # Next to the field: in the same block, just below the input.
        field_box, error_box = box(page.locator(f"#id_{field}")), box(error)
        assert 0 <= error_box["y"] - (field_box["y"] + field_box["height"]) < 40
    expect(page.locator('[data-field-error="given_name"]')).to_contain_text("required")
    expect(page.locator('[data-field-error="birth_date"]')).to_contain_text("future")
    expect(page.locator("[data-field-error]")).to_have_count(2)
    expect(page.locator("#id_family_name")).to_have_value("Gharbi")
    expect(page.locator("#id_birth_date")).to_have_value(future)
    expect(page.locator("#id_phone")).to_have_value("+216 20 123 456")
    assert not Person.objects.unscoped().filter(family_name="Gharbi").exists()

    page.fill("#id_given_name", "Leila")
    page.fill("#id_birth_date", "1988-03-04")
    with page.expect_navigation():
        page.get_by_role("button", name="Register").click()

    person = Person.objects.unscoped().get(family_name="Gharbi")
    assert page.url == f"{live_server.url}/people/{person.pk}/"
    expect(page.get_by_test_id("person-name")).to_have_text("Leila Gharbi")
    expect(page.get_by_role("alert")).to_contain_text("Leila Gharbi was registered.")
    assert person.organisation == live_world.org_a
    assert person.birth_date == datetime.date(1988, 3, 4)


def test_history_names_the_user_and_the_changed_phone(live_world, sign_in, live_server):
    desk_a = live_world.desk_a
    desk_a.first_name, desk_a.last_name = "Amal", "Haddad"  # a name to look for
    desk_a.save(update_fields=["first_name", "last_name"])
    person = services.person_register(
        user=desk_a,
        organisation=live_world.org_a,
        given_name="Leila",
        family_name="Gharbi",
        phone="+216 20 123 456",
        residence=live_world.tabarka,
    )
    page = sign_in(desk_a)
    page.goto(f"{live_server.url}/people/{person.pk}/")
    with page.expect_navigation():
        page.get_by_role("link", name="Change", exact=True).click()
    assert page.url == f"{live_server.url}/people/{person.pk}/edit/"
    expect(page.locator("#id_phone")).to_have_value("+216 20 123 456")
    page.fill("#id_phone", "+216 98 765 432")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    assert page.url == f"{live_server.url}/people/{person.pk}/"
    expect(page.locator(".record-meta")).to_contain_text("+216 98 765 432")

    with page.expect_navigation():
        page.get_by_role("link", name="History", exact=True).click()
    assert page.url == f"{live_server.url}/people/{person.pk}/history/"
    entries = page.get_by_test_id("history").locator("li.history-change")
    expect(entries).to_have_count(2)
    changed, created = entries.nth(0), entries.nth(1)
    expect(changed.locator("strong")).to_have_text("Changed")
    expect(changed).to_contain_text("Amal Haddad")
    expect(changed.locator("ul li")).to_have_count(1)
    expect(changed.locator("ul li")).to_have_text("Phone: +216 20 123 456 → +216 98 765 432")
    expect(created.locator("strong")).to_have_text("Created")
    expect(created).to_contain_text("Amal Haddad")


def test_search_updates_results_in_place_across_scripts(live_world, sign_in, live_server):
    page = sign_in(live_world.desk_a)
    page.goto(f"{live_server.url}/people/")
    table = page.get_by_test_id("people-table")
    expect(table).to_contain_text("محمد بن علي")
    expect(table).to_contain_text("Salma Trabelsi")
    expect(table).not_to_contain_text("Karim")  # org_b's person is out of desk_a's scope
    # The filters fit on one line beside the search box.
    search, archived = box(page.locator("#people-q")), box(page.locator("#people-archived"))
    assert search["y"] <= archived["y"] + archived["height"] / 2 <= search["y"] + search["height"]
    # A full page load would drop this.
    page.evaluate("window.stillTheSamePage = true")

    with page.expect_response(
        lambda r: (
            urlsplit(r.url).path == "/people/"
            and parse_qs(urlsplit(r.url).query).get("q") == ["mohamed ben"]
            and r.request.headers.get("hx-request") == "true"
        )
    ) as response:
        page.locator("#people-q").press_sequentially("mohamed ben", delay=20)
    assert response.value.ok

    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("محمد بن علي")
    expect(table).to_contain_text("Mohamed Ben Ali")
    expect(table).not_to_contain_text("Salma")
    assert page.evaluate("window.stillTheSamePage") is True
    assert parse_qs(urlsplit(page.url).query)["q"] == ["mohamed ben"]  # pushed: a link to share

    page.locator("#people-q").fill("nobody by that name")
    expect(table).to_contain_text("No person matches.")
    assert page.evaluate("window.stillTheSamePage") is True


def test_archive_and_restore_from_the_person_page(live_world, sign_in, live_server):
    person = live_world.p_jendouba
    page = sign_in(live_world.desk_a)
    page.goto(f"{live_server.url}/people/{person.pk}/")
    heading = page.locator("h1")
    expect(heading.locator(".badge")).to_have_count(0)

    with page.expect_navigation():
        page.get_by_role("button", name="Archive").click()
    expect(page.get_by_role("alert")).to_contain_text("archived")
    expect(heading.locator(".badge")).to_have_text("Archived")
    expect(page.get_by_role("link", name="Change", exact=True)).to_have_count(0)
    person.refresh_from_db()
    assert person.is_archived

    with page.expect_navigation():
        page.get_by_role("button", name="Restore").click()
    expect(page.get_by_role("alert")).to_contain_text("restored")
    expect(heading.locator(".badge")).to_have_count(0)
    expect(page.get_by_role("button", name="Archive")).to_be_visible()
    person.refresh_from_db()
    assert not person.is_archived
