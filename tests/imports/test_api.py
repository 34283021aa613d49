"""The imports API: upload (multipart), status and report, run; scoped like the pages."""

import pytest

from tadamun.imports.models import ImportJob
from tadamun.registry.models import Person

from .conftest import csv_bytes, upload, xlsx_bytes

GOOD = csv_bytes([["given_name", "family_name", "residence"], ["Sami", "Api", "TN-32"]])


def _upload(api, organisation="org-a", data=GOOD, name="p.csv", **extra):
    return api.post(
        "/api/v1/imports/",
        {"file": upload(name, data), "organisation": organisation, "kind": "people", **extra},
        format="multipart",
    )


def test_upload_preview_and_run_through_the_api(world, api_for):
    api = api_for(world.desk_a)
    response = _upload(api)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "previewed"
    assert body["organisation"] == "org-a"
    assert body["rows_total"] == 1
    assert body["report"]["error_count"] == 0
    assert body["report"]["columns"][0] == {
        "letter": "A",
        "column": "given_name",
        "field": "given_name",
    }

    response = api.post(f"/api/v1/imports/{body['id']}/run/")
    assert response.status_code == 202
    assert response.json()["status"] == "done"
    assert response.json()["report"]["written"] == 1

    body = api.get(f"/api/v1/imports/{body['id']}/").json()
    assert body["status"] == "done"
    assert body["progress"]["processed"] == 1
    assert Person.objects.visible_to(world.desk_a).filter(family_name="Api").count() == 1
    assert [j["id"] for j in api.get("/api/v1/imports/").json()["results"]] == [body["id"]]


def test_row_errors_are_reported_by_row_and_column(world, api_for):
    data = xlsx_bytes([["Prénom", "Date de naissance"], ["Sami", "31/02/1990"], ["", "1990"]])
    body = _upload(api_for(world.desk_a), data=data, name="p.xlsx").json()
    assert [(e["row"], e["letter"], e["column"], e["field"]) for e in body["report"]["errors"]] == [
        (2, "B", "Date de naissance", "birth_date"),
        (3, "A", "Prénom", "given_name"),
    ]
    response = api_for(world.desk_a).post(f"/api/v1/imports/{body['id']}/run/")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


@pytest.mark.parametrize(
    ("changes", "status", "key"),
    [
        ({"organisation": "org-c"}, 403, "organisation"),
        ({"organisation": "no-such-org"}, 400, "organisation"),
        ({"data": b"", "name": "p.csv"}, 400, "file"),
        ({"data": b"%PDF-1.4", "name": "p.pdf"}, 400, "file"),
        ({"kind": "cars"}, 400, "kind"),
        ({"encoding": "ebcdic"}, 400, "encoding"),
    ],
)
def test_bad_uploads_answer_4xx_naming_the_field(world, api_for, changes, status, key):
    response = _upload(api_for(world.desk_a), **changes)
    assert response.status_code == status, response.content
    assert key in response.json()
    assert not ImportJob.objects.unscoped().exists()


def test_another_organisations_import_is_not_found(world, api_for):
    body = _upload(api_for(world.desk_a)).json()
    for persona in ("outsider", "desk_tabarka", "viewer_a"):
        api = api_for(getattr(world, persona))
        assert api.get(f"/api/v1/imports/{body['id']}/").status_code == 404
        assert api.post(f"/api/v1/imports/{body['id']}/run/").status_code == 404
        assert api.get("/api/v1/imports/").json()["results"] == []
    assert api_for(world.coordinator).get(f"/api/v1/imports/{body['id']}/").status_code == 200
    assert api_for(None).get(f"/api/v1/imports/{body['id']}/").status_code == 401


def test_duplicates_in_the_api_name_only_people_the_caller_may_see(world, api_for):
    data = csv_bytes(
        [
            ["given_name", "family_name", "birth_date"],
            ["Giulia", "Rossi", "1990"],
            ["Salma", "Trabelsi", "1990"],
        ]
    )
    body = _upload(api_for(world.desk_a), data=data).json()
    matches = {d["row"]: d["matches"][0] for d in body["report"]["duplicates"]}
    assert matches[2]["person"] is None and matches[2]["name"] == ""
    assert matches[3]["person"] == world.p_jendouba.pk


def test_the_schema_describes_the_imports_api(client):
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]
    assert "multipart/form-data" in paths["/api/v1/imports/"]["post"]["requestBody"]["content"]
    assert "post" in paths["/api/v1/imports/{id}/run/"]
    assert "get" in paths["/api/v1/imports/{id}/"]
