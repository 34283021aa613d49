"""100,000 rows, the largest file accepted: checked, then written in full, or not at all.

Marked ``slow`` (``pytest -m "not slow"`` leaves it out); it prints the time of each step.
"""

import time

import pytest

from tadamun.core.errors import DomainError
from tadamun.imports import parsing, services
from tadamun.imports.models import ImportJob, ImportStatus
from tadamun.registry.models import Person, PersonNameKey, PersonShare

from .conftest import csv_bytes, upload

ROWS = 100_000
FIRST = ["Amina", "Sami", "Leila", "Nour", "Aziz", "Hedi", "Ines", "Karim", "Salma", "Yassine"]
DATES = ["05/03/{y}", "{y}-03-05", "5.3.{y}", "{y}"]


def _file(rows: int, bad_row: int | None = None) -> bytes:
    lines = [["Prénom", "Nom", "Sexe", "Date de naissance", "Territoire", "Téléphone"]]
    for i in range(rows):
        year = 1940 + i % 60
        lines.append(
            [
                FIRST[i % 10],
                f"Famille{i}",
                "FM"[i % 2],
                DATES[i % 4].format(y=year),
                "TN-32",
                f"+216 {i:08d}",
            ]
        )
    if bad_row is not None:
        lines[bad_row - 1][3] = "31/02/1990"
    return csv_bytes(lines, encoding="utf-8-sig", separator=";")


@pytest.mark.slow
def test_100000_rows_are_previewed_then_all_imported(world):
    assert parsing.MAX_ROWS == ROWS
    data = _file(ROWS)
    started = time.monotonic()
    job = services.import_upload(
        user=world.desk_a, organisation=world.org_a, file=upload("big.csv", data)
    )
    uploaded = time.monotonic()
    job = services.import_preview_start(user=world.desk_a, job=job)  # in the background
    previewed = time.monotonic()
    assert job.status == ImportStatus.PREVIEWED
    assert job.rows_total == ROWS
    assert job.error_count == 0, job.report["errors"][:3]

    job = services.import_run(user=world.desk_a, job=job)
    done = time.monotonic()
    print(
        f"\n{ROWS} rows, {len(data) / 1e6:.1f} MB: upload {uploaded - started:.1f}s, "
        f"preview {previewed - uploaded:.1f}s, run {done - previewed:.1f}s"
    )
    assert job.status == ImportStatus.DONE, job.report.get("errors", [])[:3]
    assert job.report["written"] == ROWS
    people = Person.objects.visible_to(world.desk_a).filter(family_name__startswith="Famille")
    assert people.count() == ROWS
    assert PersonShare.objects.filter(person__in=people.values("pk")).count() == ROWS
    assert PersonNameKey.objects.filter(key="famille99999").count() == 1
    assert Person.history.filter(family_name__startswith="Famille").count() == ROWS


@pytest.mark.slow
def test_100001_rows_are_refused_before_anything_is_written(world):
    before = Person.objects.unscoped().count()
    with pytest.raises(DomainError) as refused:
        services.import_upload(
            user=world.desk_a, organisation=world.org_a, file=upload("big.csv", _file(ROWS + 1))
        )
    assert "100" in refused.value.message_dict["file"][0]
    assert not ImportJob.objects.unscoped().exists()
    assert Person.objects.unscoped().count() == before
