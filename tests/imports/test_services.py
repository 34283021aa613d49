"""Importing people through the services: upload, preview, run; all rows or none, every change
audited, access scoped like the rest of the registry."""

import datetime

import pytest

from tadamun.core.errors import AccessDenied, DomainError
from tadamun.imports import services
from tadamun.imports.models import ImportJob, ImportPhase, ImportStatus
from tadamun.registry.models import Person, PersonNameKey, PersonShare

from ..helpers import snapshot
from .conftest import csv_bytes, upload, xlsx_bytes

HEADER = ["given_name", "family_name", "sex", "birth_date", "residence", "phone"]


def _people(world, rows, *, name="people.csv", user=None, organisation=None, **options):
    data = csv_bytes([HEADER, *rows], **options)
    job = services.import_upload(
        user=user or world.desk_a,
        organisation=organisation or world.org_a,
        file=upload(name, data),
    )
    return services.import_preview(user=user or world.desk_a, job=job)


def _imported(world, family_name):
    return Person.objects.visible_to(world.operator).filter(family_name=family_name)


def test_a_clean_file_is_previewed_then_imported_with_audit_shares_and_keys(world):
    rows = [
        ["Sami", "Gharbi", "M", "05/03/1990", "TN-32", "+216 55 123 456"],
        ["Leila", "Gharbi", "F", "1985", "TN-32", ""],
        ["Nour", "Gharbi", "", "1999-12-31", "Jendouba", ""],
    ]
    before = Person.objects.unscoped().count()
    job = _people(world, rows)

    assert job.status == ImportStatus.PREVIEWED
    assert job.rows_total == 3
    assert job.error_count == 0
    assert job.can_run
    assert Person.objects.unscoped().count() == before  # the preview writes nothing

    job = services.import_run(user=world.desk_a, job=job)

    assert job.status == ImportStatus.DONE
    assert job.report["written"] == 3
    assert job.rows_processed == 3
    assert job.finished_at and job.started_at and job.run_by == world.desk_a
    people = {p.given_name: p for p in _imported(world, "Gharbi")}
    assert people["Sami"].birth_date == datetime.date(1990, 3, 5)
    assert people["Sami"].phone == "+216 55 123 456"
    assert people["Leila"].birth_date is None and people["Leila"].birth_year == 1985
    assert people["Nour"].residence == world.jendouba  # by name
    assert people["Nour"].sex == "U"
    pks = [p.pk for p in people.values()]
    assert PersonShare.objects.filter(person_id__in=pks, organisation=world.org_a).count() == 3
    assert PersonNameKey.objects.filter(person_id__in=pks, key="gharbi").count() == 3
    entries = Person.history.filter(id__in=pks)
    assert {(e.history_user_id, e.history_type) for e in entries} == {(world.desk_a.pk, "+")}
    assert all("people.csv" in e.history_change_reason for e in entries)
    # The import itself is audited at each step, naming the user.
    reasons = list(
        job.history.order_by("history_id").values_list("history_change_reason", flat=True)
    )
    assert reasons == ["uploaded", "previewed", "started", "imported"]
    assert set(job.history.values_list("history_user_id", flat=True)) == {world.desk_a.pk}
    # The file, personal data, is gone once imported.
    assert not job.file


def test_one_bad_row_among_good_ones_writes_nothing_and_names_row_and_column(world):
    rows = [
        ["Sami", "Gharbi", "M", "05/03/1990", "TN-32", ""],
        ["Leila", "Gharbi", "F", "31/02/1990", "TN-32", ""],  # row 3: no 31 February
        ["Nour", "Gharbi", "Q", "1999-12-31", "TN-99", ""],  # row 4: sex and territory
        ["", "Gharbi", "F", "", "TN-32", ""],  # row 5: no given name
        ["Aziz", "Gharbi", "M", "2999-01-01", "TN-32", ""],  # row 6: born in the future
    ]
    before = snapshot()
    job = _people(world, rows)

    errors = {(e["row"], e["letter"], e["field"]) for e in job.report["errors"]}
    assert errors == {
        (3, "D", "birth_date"),
        (4, "C", "sex"),
        (4, "E", "residence"),
        (5, "A", "given_name"),
        (6, "D", "birth_date"),
    }
    by_row = {e["row"]: e for e in job.report["errors"]}
    assert by_row[3]["column"] == "birth_date"
    assert "31/02/1990" in by_row[3]["messages"][0]
    assert job.report["error_rows"] == 4
    assert not job.can_run
    with pytest.raises(DomainError):
        services.import_run(user=world.desk_a, job=job)
    assert snapshot() == before


def test_a_row_failing_when_the_run_checks_again_writes_nothing(world, monkeypatch):
    """Between the preview and the run the registry may change: the run checks every row
    again, and one refused row stops them all."""
    rows = [["Sami", "Gharbi", "M", "", "TN-32", ""], ["Leila", "Gharbi", "F", "", "TN-33", ""]]
    job = _people(world, rows, user=world.coordinator)
    assert job.can_run
    # The territory of row 3 changes its code after the preview.
    before = snapshot()
    world.kef.code = "TN-33-OLD"
    world.kef.save()

    job = services.import_run(user=world.coordinator, job=job)

    assert job.status == ImportStatus.FAILED
    assert [(e["row"], e["field"]) for e in job.report["errors"]] == [(3, "residence")]
    assert snapshot() == before


def test_a_failure_while_writing_rolls_back_every_row(world, monkeypatch):
    from tadamun.registry import services as registry

    written = []
    original = registry.person_bulk_write

    def write_then_fail(**kwargs):
        people = original(**kwargs)
        written.extend(p.pk for p in people)
        if len(written) > 1000:
            raise RuntimeError("disk full")
        return people

    monkeypatch.setattr(registry, "person_bulk_write", write_then_fail)
    rows = [[f"Person{i}", "Rollback", "", "", "TN-32", ""] for i in range(1500)]
    job = _people(world, rows)
    before = snapshot()

    job = services.import_run(user=world.desk_a, job=job)

    job.refresh_from_db()
    assert len(written) == 1500  # two chunks were written, then the failure
    assert job.status == ImportStatus.FAILED
    assert job.report["errors"][0]["row"] is None
    assert snapshot() == before


def test_a_territory_desk_imports_only_people_living_in_its_territory(world):
    rows = [["Sami", "Gharbi", "M", "", "TN-32-TBK", ""], ["Leila", "Gharbi", "F", "", "TN-33", ""]]
    job = _people(world, rows, user=world.desk_tabarka)

    assert [(e["row"], e["letter"], e["field"]) for e in job.report["errors"]] == [
        (3, "E", "residence")
    ]
    assert "Your role" in job.report["errors"][0]["messages"][0]


@pytest.mark.parametrize("persona", ["viewer_a", "trainer_a", "controller_a", "outsider", "nobody"])
def test_only_roles_registering_people_may_upload_for_the_organisation(world, persona):
    with pytest.raises(AccessDenied) as refused:
        services.import_upload(
            user=getattr(world, persona),
            organisation=world.org_a,
            file=upload("p.csv", csv_bytes([HEADER, ["Sami"]])),
        )
    assert "organisation" in refused.value.message_dict
    assert not ImportJob.objects.unscoped().exists()


def test_an_import_is_seen_by_its_uploader_and_the_coordinators_only(world):
    job = _people(world, [["Sami", "Gharbi", "", "", "TN-32", ""]])
    seen_by = {
        name
        for name in ("desk_a", "desk_tabarka", "coordinator", "viewer_a", "outsider", "operator")
        if ImportJob.objects.visible_to(getattr(world, name)).filter(pk=job.pk).exists()
    }
    assert seen_by == {"desk_a", "coordinator", "operator"}
    with pytest.raises(AccessDenied):
        services.import_run(user=world.outsider, job=job)
    with pytest.raises(AccessDenied):
        services.import_preview(user=world.desk_tabarka, job=job)


def test_likely_duplicates_are_listed_and_disclosed_only_as_far_as_the_user_may_see(world):
    # p_jendouba: Salma Trabelsi (org_a), p_kef: Karim Mejri (org_b), p_empoli: Giulia Rossi
    # (org_c); all born 17/05/1990 (factories).
    rows = [
        ["Salma", "Trabelsi", "F", "1990", "TN-32", ""],
        ["salma", "TRABELSI", "F", "17/05/1990", "TN-32", ""],
        ["Giulia", "Rossi", "F", "1990-01-01", "TN-32", ""],
        ["Karim", "Mejri", "M", "1991", "TN-32", ""],  # another year: not a duplicate
        ["محمد", "بن علي", "M", "1990", "TN-32-TBK", ""],  # p_tabarka, in Arabic script
    ]
    job = _people(world, rows)

    assert job.report["duplicate_count"] == 4
    found = {entry["row"]: entry["matches"] for entry in job.report["duplicates"]}
    assert found[2] == [{"person": world.p_jendouba.pk, "organisation": world.org_a.pk}]
    assert {"row": 2} in found[3]
    assert found[4] == [{"person": world.p_empoli.pk, "organisation": world.org_c.pk}]
    assert found[6] == [{"person": world.p_tabarka.pk, "organisation": world.org_a.pk}]
    assert job.can_run  # duplicates warn, they do not block

    shown = {e["row"]: e["matches"] for e in services.report_duplicates(world.desk_a, job)}
    assert shown[2][0]["person"] == world.p_jendouba.pk
    assert shown[2][0]["name"] == "Salma Trabelsi"
    hidden = shown[4][0]
    assert hidden["person"] is None and hidden["name"] == ""
    assert "Giulia" not in hidden["message"]
    assert "Organisation org-c" in hidden["message"]


def test_a_large_file_is_checked_in_the_background(world, monkeypatch):
    monkeypatch.setattr(services, "INLINE_PREVIEW_BYTES", 10)
    job = services.import_upload(
        user=world.desk_a,
        organisation=world.org_a,
        file=upload("p.csv", csv_bytes([HEADER, ["Sami", "Gharbi"], ["Leila", "Gharbi"]])),
    )
    job = services.import_preview_start(user=world.desk_a, job=job)
    # Tests run tasks inline: the task has checked the file already.
    assert job.status == ImportStatus.PREVIEWED
    assert job.rows_total == 2
    assert job.phase == ImportPhase.NONE


def test_cancelling_and_replacing_with_a_corrected_file(world):
    job = _people(world, [["", "Gharbi", "", "", "TN-32", ""]])
    assert job.error_count == 1
    corrected = services.import_upload(
        user=world.desk_a,
        organisation=world.org_a,
        file=upload("p.csv", csv_bytes([HEADER, ["Sami", "Gharbi", "", "", "TN-32", ""]])),
        replaces=job,
    )
    job.refresh_from_db()
    assert job.status == ImportStatus.CANCELLED and not job.file
    corrected = services.import_preview(user=world.desk_a, job=corrected)
    services.import_cancel(user=world.desk_a, job=corrected)
    corrected.refresh_from_db()
    assert corrected.status == ImportStatus.CANCELLED
    with pytest.raises(DomainError):
        services.import_run(user=world.desk_a, job=corrected)


def test_an_unreadable_file_is_refused_at_upload_and_nothing_is_kept(world):
    for name, data in [
        ("p.csv", b""),
        ("p.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 100),
        ("p.xlsx", b"not a workbook"),
        ("p.pdf", b"%PDF-1.4"),
        ("p.csv", b"colour,shoe size\nred,42\n"),
        ("p.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 50),
    ]:
        with pytest.raises(DomainError) as refused:
            services.import_upload(
                user=world.desk_a, organisation=world.org_a, file=upload(name, data)
            )
        assert "file" in refused.value.message_dict, name
    assert not ImportJob.objects.unscoped().exists()


def test_an_xlsx_with_formulas_and_dates_in_several_forms(world):
    header = ["Prénom", "Nom", "Date de naissance", "Territoire"]
    rows = [
        header,
        ["Sami", "Gharbi", datetime.date(1990, 3, 5), "TN-32"],  # a real date cell
        ["Leila", "Gharbi", 32936, "TN-32"],  # an Excel serial number: 1990-03-04
        ["Nour", "Gharbi", "5.3.1990", "TN-32"],
        ["Aziz", "=B2&B3", 1988, "TN-32"],  # row 5: a formula
        ["Hedi", "Gharbi", "=TODAY()", "TN-32"],  # row 6: a formula
        ["Ines", "Gharbi", "@SUM(1)", "TN-32"],  # row 7: written as text, still a formula
    ]
    data = xlsx_bytes(rows, formats={"C2": "DD/MM/YYYY"})
    job = services.import_upload(
        user=world.desk_a, organisation=world.org_a, file=upload("p.xlsx", data)
    )
    job = services.import_preview(user=world.desk_a, job=job)

    assert job.file_type == "xlsx"
    assert [(e["row"], e["letter"], e["column"]) for e in job.report["errors"]] == [
        (5, "B", "Nom"),
        (6, "C", "Date de naissance"),
        (7, "C", "Date de naissance"),
    ]
    assert all("formula" in e["messages"][0] for e in job.report["errors"])
    # Without the formulas, the same dates import.
    data = xlsx_bytes(rows[:4], formats={"C2": "DD/MM/YYYY"})
    job = services.import_upload(
        user=world.desk_a, organisation=world.org_a, file=upload("p.xlsx", data)
    )
    job = services.import_run(
        user=world.desk_a, job=services.import_preview(user=world.desk_a, job=job)
    )
    assert job.status == ImportStatus.DONE
    born = dict(_imported(world, "Gharbi").values_list("given_name", "birth_date"))
    assert born == {
        "Sami": datetime.date(1990, 3, 5),
        "Leila": datetime.date(1990, 3, 4),
        "Nour": datetime.date(1990, 3, 5),
    }


def test_an_import_cancelled_while_it_is_checked_stays_cancelled(world, monkeypatch):
    job = services.import_upload(
        user=world.desk_a,
        organisation=world.org_a,
        file=upload("p.csv", csv_bytes([HEADER, ["Sami", "Gharbi"]])),
    )
    original = services.engine.process

    def cancel_meanwhile(*args, **kwargs):
        outcome = original(*args, **kwargs)
        services.import_cancel(user=world.desk_a, job=job)
        return outcome

    monkeypatch.setattr(services.engine, "process", cancel_meanwhile)
    job = services.import_preview(user=world.desk_a, job=job)
    job.refresh_from_db()
    assert job.status == ImportStatus.CANCELLED
