"""The import pages: upload, preview with errors by row and column, run, progress, and access."""

import pytest
from django.utils import translation

from tadamun.imports import services
from tadamun.imports.models import ImportJob, ImportPhase, ImportStatus
from tadamun.registry.models import Person

from ..helpers import error_messages
from .conftest import csv_bytes, upload

GOOD = csv_bytes(
    [["Prénom", "Nom", "Territoire"], ["Sami", "Gharbi", "TN-32"], ["Leila", "Gharbi", "TN-32"]]
)
BAD = csv_bytes(
    [["Prénom", "Nom", "Territoire"], ["Sami", "Gharbi", "TN-32"], ["", "=1+1", "TN-32"]]
)


def _post(client, data, name="people.csv", **extra):
    return client.post(
        "/imports/new/", {"organisation": "", "kind": "people", "file": upload(name, data), **extra}
    )


def _job(world, data=GOOD, user=None) -> ImportJob:
    user = user or world.desk_a
    job = services.import_upload(user=user, organisation=world.org_a, file=upload("p.csv", data))
    return services.import_preview(user=user, job=job)


def test_the_people_list_links_to_the_import(world, client_for):
    html = client_for(world.desk_a).get("/people/").content.decode()
    assert 'href="/imports/new/"' in html
    html = client_for(world.viewer_a).get("/people/").content.decode()
    assert 'href="/imports/new/"' not in html


def test_upload_preview_errors_then_corrected_file_then_import(world, client_for):
    client = client_for(world.desk_a)
    page = client.get("/imports/new/")
    assert page.status_code == 200
    assert 'href="/imports/template/people.xlsx"' in page.content.decode()

    response = client.post(
        "/imports/new/",
        {"organisation": world.org_a.pk, "kind": "people", "file": upload("bad.csv", BAD)},
    )
    job = ImportJob.objects.visible_to(world.desk_a).get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/"
    html = client.get(response["Location"]).content.decode()
    assert 'data-testid="import-has-errors"' in html
    assert 'data-row="3" data-field="given_name"' in html
    assert 'data-row="3" data-field="family_name"' in html
    assert "B · <bdi>Nom</bdi>" in html
    assert 'data-testid="import-run"' not in html
    assert f"replaces={job.pk}" in html

    response = client.post(
        "/imports/new/",
        {
            "organisation": world.org_a.pk,
            "kind": "people",
            "file": upload("good.csv", GOOD),
            "replaces": job.pk,
        },
    )
    corrected = ImportJob.objects.visible_to(world.desk_a).get(original_name="good.csv")
    job.refresh_from_db()
    assert job.status == ImportStatus.CANCELLED
    html = client.get(f"/imports/{corrected.pk}/").content.decode()
    assert "Import 2 people" in html
    assert 'data-testid="import-sample"' in html and "<bdi>Leila</bdi>" in html
    assert Person.objects.visible_to(world.desk_a).filter(family_name="Gharbi").count() == 0

    response = client.post(f"/imports/{corrected.pk}/run/")
    assert response.status_code == 302
    html = client.get(f"/imports/{corrected.pk}/").content.decode()
    assert 'data-testid="import-done"' in html
    assert "/people/?organisation=org-a" in html
    assert Person.objects.visible_to(world.desk_a).filter(family_name="Gharbi").count() == 2
    listing = client.get("/imports/").content.decode()
    assert "good.csv" in listing and "bad.csv" in listing


def test_a_file_refused_as_a_whole_shows_next_to_the_file_field(world, client_for):
    client = client_for(world.desk_a)
    response = client.post(
        "/imports/new/",
        {
            "organisation": world.org_a.pk,
            "kind": "people",
            "file": upload("p.xls", b"\xd0\xcf\x11\xe0"),
        },
    )
    assert response.status_code == 200
    assert 'data-field-error="file"' in response.content.decode()
    assert not ImportJob.objects.unscoped().exists()


def test_the_organisation_must_be_one_the_user_registers_people_for(world, client_for):
    response = client_for(world.desk_a).post(
        "/imports/new/",
        {"organisation": world.org_c.pk, "kind": "people", "file": upload("p.csv", GOOD)},
    )
    assert response.status_code == 200
    assert 'data-field-error="organisation"' in response.content.decode()
    assert not ImportJob.objects.unscoped().exists()


def test_roles_that_do_not_register_people_cannot_import(world, client_for):
    response = client_for(world.viewer_a).get("/imports/new/")
    assert response.status_code == 302
    response = client_for(world.viewer_a).get("/imports/", follow=True)
    assert 'href="/imports/new/"' not in response.content.decode()


@pytest.mark.parametrize("persona", ["outsider", "desk_tabarka", "viewer_a", "caseworker_b"])
def test_another_users_import_answers_404(world, client_for, persona):
    job = _job(world)
    client = client_for(getattr(world, persona))
    for url in (f"/imports/{job.pk}/", f"/imports/{job.pk}/status/"):
        assert client.get(url).status_code == 404
    for url in (f"/imports/{job.pk}/run/", f"/imports/{job.pk}/cancel/"):
        assert client.post(url).status_code == 404
    job.refresh_from_db()
    assert job.status == ImportStatus.PREVIEWED
    assert "p.csv" not in client.get("/imports/").content.decode()


def test_the_coordinator_of_the_network_sees_and_may_run_a_members_import(world, client_for):
    job = _job(world)
    client = client_for(world.coordinator)
    assert "p.csv" in client.get("/imports/").content.decode()
    assert client.get(f"/imports/{job.pk}/").status_code == 200
    client.post(f"/imports/{job.pk}/run/")
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert job.run_by == world.coordinator


def test_the_status_panel_polls_every_second_while_running(world, client_for):
    job = _job(world)
    ImportJob.objects.unscoped().filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, phase=ImportPhase.CHECKING, rows_processed=1
    )
    client = client_for(world.desk_a)
    html = client.get(f"/imports/{job.pk}/status/", HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert f'hx-get="/imports/{job.pk}/status/"' in html
    assert 'aria-valuenow="50"' in html
    assert "1 of 2 rows" in html
    # While writing, the count comes from the progress file the task keeps.
    ImportJob.objects.unscoped().filter(pk=job.pk).update(phase=ImportPhase.WRITING)
    job.refresh_from_db()
    services._write_progress(job, 2)
    html = client.get(f"/imports/{job.pk}/status/").content.decode()
    assert 'aria-valuenow="100"' in html
    # Once finished, the panel stops polling.
    ImportJob.objects.unscoped().filter(pk=job.pk).update(status=ImportStatus.DONE, phase="")
    html = client.get(f"/imports/{job.pk}/status/").content.decode()
    assert "hx-trigger" not in html


def test_the_pages_speak_the_users_language(world, client_for):
    world.desk_a.language = "fr"
    world.desk_a.save()
    job = _job(world, BAD)
    client = client_for(world.desk_a)
    with translation.override("fr"):
        html = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'lang="fr"' in html
    response = client.get("/imports/template/people.csv")
    assert response.content.decode("utf-8-sig").startswith("Prénom;Nom de famille;")


def test_unknown_kinds_and_formats_of_template_are_not_found(world, client_for):
    client = client_for(world.desk_a)
    assert client.get("/imports/template/cars.csv").status_code == 404
    assert client.get("/imports/template/people.pdf").status_code == 404
    assert client.get("/imports/new/?kind=cars").status_code == 404


def test_cancel_through_the_page(world, client_for):
    job = _job(world)
    response = client_for(world.desk_a).post(f"/imports/{job.pk}/cancel/", follow=True)
    assert not error_messages(response)
    job.refresh_from_db()
    assert job.status == ImportStatus.CANCELLED
    response = client_for(world.desk_a).post(f"/imports/{job.pk}/run/", follow=True)
    assert error_messages(response)
