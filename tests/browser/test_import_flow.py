"""Importing people in a real browser: upload a file with an error, see the error by row and
column, upload the corrected file, import, watch the progress bar poll to the end, and find the
people in the list.

The import runs on the database task backend here, as in production: the page shows the job
waiting and polls; the test then runs the worker (``db_worker --batch``), and the polling page
reaches "done" by itself, without a reload.
"""

from django.core.management import call_command
from playwright.sync_api import expect

from tadamun.imports.models import ImportJob, ImportStatus
from tadamun.registry.models import Person

from ..imports.conftest import csv_bytes

HEADER = ["Prénom", "Nom", "Date de naissance", "Territoire"]
BAD = csv_bytes(
    [
        HEADER,
        ["Yosra", "Importée", "05/03/1991", "TN-32"],
        ["Walid", "Importé", "31/02/1990", "TN-32"],
    ],
    encoding="cp1252",
    separator=";",
)
GOOD = csv_bytes(
    [
        HEADER,
        ["Yosra", "Importée", "05/03/1991", "TN-32"],
        ["Walid", "Importé", "28/02/1990", "TN-32"],
    ],
    encoding="cp1252",
    separator=";",
)


def _choose(page, name: str, data: bytes) -> None:
    page.set_input_files("#id_file", files=[{"name": name, "mimeType": "text/csv", "buffer": data}])


def test_upload_error_corrected_file_import_with_progress_then_people_listed(
    live_world, sign_in, live_server, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    page = sign_in(live_world.desk_a)
    page.goto(f"{live_server.url}/people/")
    with page.expect_navigation():
        page.get_by_role("link", name="Import from a file").click()
    assert page.url == f"{live_server.url}/imports/new/"
    links = page.get_by_test_id("template-links")
    for extension in ("xlsx", "csv"):
        expect(links.locator(f'a[href="/imports/template/people.{extension}"]')).to_have_count(1)

    # A file with a bad date in row 3, column C.
    _choose(page, "people.csv", BAD)
    with page.expect_navigation():
        page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_test_id("import-has-errors")).to_contain_text("1 row of 2 has errors")
    expect(page.get_by_test_id("import-file-info")).to_contain_text("semicolons")
    error = page.get_by_test_id("import-errors").locator("tbody tr")
    expect(error).to_have_count(1)
    expect(error.locator("td").nth(0)).to_have_text("3")
    expect(error.locator("td").nth(1)).to_have_text("C · Date de naissance")
    expect(error.locator("td").nth(2)).to_contain_text("31/02/1990")
    expect(page.get_by_test_id("import-run")).to_have_count(0)
    assert not Person.objects.unscoped().filter(given_name="Yosra").exists()

    # The corrected file replaces it.
    with page.expect_navigation():
        page.get_by_test_id("import-upload-corrected").click()
    _choose(page, "people-corrected.csv", GOOD)
    with page.expect_navigation():
        page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_test_id("import-name")).to_have_text("people-corrected.csv")
    expect(page.get_by_test_id("import-ready")).to_contain_text("2 rows were checked")
    job = ImportJob.objects.unscoped().get(original_name="people-corrected.csv")
    assert ImportJob.objects.unscoped().get(original_name="people.csv").status == "cancelled"

    # Import: the job waits for the worker, and the page polls.
    with page.expect_navigation():
        page.get_by_test_id("import-run").click()
    assert page.url == f"{live_server.url}/imports/{job.pk}/"
    status = page.get_by_test_id("import-status")
    expect(status).to_have_attribute("data-status", "running")
    expect(status).to_have_attribute("hx-trigger", "every 1s")
    expect(page.get_by_test_id("import-progress")).to_be_visible()
    page.evaluate("window.stillTheSamePage = true")
    with page.expect_response(lambda r: r.url.endswith(f"/imports/{job.pk}/status/")):
        pass  # at least one poll
    assert not Person.objects.unscoped().filter(given_name="Yosra").exists()

    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)

    expect(page.get_by_test_id("import-done")).to_contain_text("2 people")
    expect(status).not_to_have_attribute("hx-trigger", "every 1s")
    assert page.evaluate("window.stillTheSamePage") is True  # reached by polling, not a reload
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE

    with page.expect_navigation():
        page.get_by_test_id("import-result-link").click()
    table = page.get_by_test_id("people-table")
    expect(table).to_contain_text("Yosra Importée")
    expect(table).to_contain_text("Walid Importé")
