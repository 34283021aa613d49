"""Importing cases: one row per case, for a registered person named by number or for a person
registered with the case; diagnosis by dimension, pathway actions, closure. Every row goes
through the cases' services, the file is written whole or not at all, and a user sees in the
report nothing of another network.
"""

import datetime
import json

import pytest
from django.utils import timezone, translation

from tadamun.accounts.models import Role
from tadamun.cases.models import (
    ActionFamily,
    ActionStatus,
    Case,
    CaseOutcome,
    CaseStatus,
    Diagnosis,
    DiagnosisLevel,
    FollowUp,
    NeedLevel,
    PathwayAction,
)
from tadamun.core.errors import AccessDenied, DomainError
from tadamun.imports import services
from tadamun.imports.kinds import get
from tadamun.imports.models import ImportJob, ImportKind, ImportStatus
from tadamun.registry.models import Person, PersonShare

from .. import factories as f
from ..cases.conftest import add_cases, case_snapshot
from ..helpers import snapshot
from .conftest import csv_bytes, upload, xlsx_bytes

TODAY = timezone.localdate()


@pytest.fixture
def world(world):
    """The world of tests/conftest.py with the network's desk, dimensions (work, housing,
    health) and kinds of action of tests/cases/conftest.py, and a case worker of org_a."""
    return add_cases(world, case=False)


def _preview(world, rows, *, user=None, organisation=None, name="cases.csv", data=None, **options):
    user = user or world.caseworker_a
    if data is None:
        data = csv_bytes(rows, **options)
    job = services.import_upload(
        user=user,
        organisation=organisation or world.org_a,
        file=upload(name, data),
        kind=ImportKind.CASES,
    )
    return services.import_preview(user=user, job=job)


def _run(world, job, user=None):
    return services.import_run(user=user or world.caseworker_a, job=job)


def _errors(job) -> set:
    return {(e["row"], e["letter"], e["field"]) for e in job.report["errors"]}


def _everything() -> tuple:
    return snapshot(), case_snapshot()


# --- a whole file ---------------------------------------------------------------------------

HEADER = [
    "person",
    "given_name",
    "family_name",
    "sex",
    "birth_date",
    "residence",
    "organisation",
    "desk",
    "opened_on",
    "tutor",
    "diagnosis_work",
    "diagnosis_housing",
    "diagnosis_health",
    "action_1_type",
    "action_1_status",
    "action_1_start",
    "action_2_type",
    "action_2_start",
    "action_2_organisation",
    "closed_on",
    "outcome",
    "closure_reason",
]


def _row(**cells) -> list:
    return [cells.get(name, "") for name in HEADER]


def _twenty(world) -> list[list]:
    """18 people registered with their case and two registered people named by number; 12
    cases with a diagnosis, 10 with two actions, 4 closed."""
    rows = [HEADER]
    for i in range(18):
        cells = {
            "given_name": f"Imed{chr(65 + i)}",
            "family_name": "Ouertani",
            "sex": "M" if i % 2 else "F",
            "birth_date": f"{1 + i:02d}/03/1995",
            "residence": "TN-32",
            "desk": "jendouba-job-desk",
            "opened_on": "2024-01-10",
            "tutor": "caseworker_a",
        }
        if i < 12:
            cells.update(diagnosis_work=str(i % 4), diagnosis_housing="Critical")
        if i < 10:
            cells.update(
                action_1_type="internship",
                action_1_status="Ongoing",
                action_1_start="01/02/2024",
                action_2_type="training-voucher",
                action_2_start="2024-03-01",
                action_2_organisation="org-b",
            )
        if i >= 14:
            cells.update(closed_on="30/06/2024", outcome="employed", closure_reason="Hired")
        rows.append(_row(**cells))
    rows.append(
        _row(
            person=str(world.p_tabarka.pk),
            opened_on="2024-02-01",
            diagnosis_health="2",
            action_1_type="care-pathway",
            action_1_start="2024-02-05",
        )
    )
    rows.append(
        _row(
            person=f"#{world.p_jendouba.pk}",
            family_name="Trabelsi",  # a check of the number: the person's own name
            organisation="org-a",
            opened_on="2023-11-20",
        )
    )
    return rows


def test_a_file_of_twenty_cases_is_previewed_then_written_through_the_services(world):
    before = _everything()
    people_before = Person.objects.unscoped().count()
    job = _preview(world, _twenty(world))

    assert job.report["errors"] == []
    assert job.rows_total == 20
    assert job.can_run
    assert _everything() == before  # the preview rehearsed every row, and kept nothing

    job = _run(world, job)

    assert job.status == ImportStatus.DONE, job.report
    assert job.report["written"] == 20
    cases = Case.objects.unscoped().filter(organisation=world.org_a)
    assert cases.count() == 20
    assert Person.objects.unscoped().count() == people_before + 18
    assert Diagnosis.objects.filter(case__in=cases).count() == 13
    assert DiagnosisLevel.objects.filter(diagnosis__case__in=cases).count() == 12 * 2 + 1
    assert PathwayAction.objects.filter(case__in=cases).count() == 10 * 2 + 1
    assert cases.filter(status=CaseStatus.CLOSED).count() == 4
    assert FollowUp.objects.filter(case__in=cases).count() == 4 * 2

    first = cases.get(person__given_name="ImedA")
    assert first.desk == world.desk
    assert first.tutor == world.caseworker_a
    assert first.opened_on == datetime.date(2024, 1, 10)
    levels = {
        (row.dimension.code, row.level)
        for row in DiagnosisLevel.objects.filter(diagnosis__case=first)
    }
    assert levels == {("work", NeedLevel.NONE), ("housing", NeedLevel.HIGH)}
    internship, voucher = first.actions.order_by("start")
    assert internship.action_type == world.types[ActionFamily.INTERNSHIP]
    assert internship.status == ActionStatus.ONGOING
    assert internship.responsible == world.org_a
    assert internship.end == datetime.date(2024, 5, 1)  # its kind lasts 3 months
    assert voucher.responsible == world.org_b
    assert voucher.status == ActionStatus.PLANNED
    closed = cases.get(person__given_name="ImedO")
    assert (closed.closed_on, closed.outcome, closed.closure_reason) == (
        datetime.date(2024, 6, 30),
        CaseOutcome.EMPLOYED,
        "Hired",
    )
    tabarka = cases.get(person=world.p_tabarka)
    assert tabarka.actions.get().action_type.is_health
    assert cases.get(person=world.p_jendouba).opened_on == datetime.date(2023, 11, 20)

    # The people registered with their cases are held by the lead organisation.
    new = Person.objects.unscoped().filter(family_name="Ouertani")
    assert PersonShare.objects.filter(person__in=new, organisation=world.org_a).count() == 18
    assert {p.birth_date.year for p in new} == {1995}
    # Every record names the user in its audit entry.
    assert set(Case.history.filter(id__in=cases).values_list("history_user", flat=True)) == {
        world.caseworker_a.pk
    }
    assert set(
        PathwayAction.history.filter(case_id__in=cases).values_list("history_user", flat=True)
    ) == {world.caseworker_a.pk}
    assert all("cases.csv" in p.history.first().history_change_reason for p in new)


def test_one_bad_row_writes_nothing_and_is_named_by_row_and_column(world):
    rows = _twenty(world)
    rows[7][HEADER.index("desk")] = "kef-desk"  # row 8: no such desk in the network
    before = _everything()

    job = _preview(world, rows)

    assert _errors(job) == {(8, "H", "desk")}
    [error] = job.report["errors"]
    assert error["column"] == "desk"
    assert "kef-desk" in error["messages"][0]
    assert not job.can_run
    with pytest.raises(DomainError):
        _run(world, job)
    assert _everything() == before


def test_each_rule_is_a_row_error_on_its_own_column(world):
    good = {"given_name": "Sami", "family_name": "Gharbi", "birth_date": "05/03/1990"}
    good.update(residence="TN-32", opened_on="2024-01-10")
    rows = [
        HEADER,
        _row(**good),  # row 2: fine
        _row(**{**good, "opened_on": "2024-01-10", "birth_date": "2024-02-01"}),  # 3
        _row(**{**good, "closed_on": "2023-12-31", "outcome": "employed"}),  # 4
        _row(**{**good, "desk": "nowhere"}),  # 5
        _row(**{**good, "diagnosis_work": "7"}),  # 6
        _row(**{**good, "action_1_type": "cooking"}),  # 7
        _row(**{**good, "organisation": "org-b"}),  # 8: caseworker_a does not work there
        _row(**{**good, "organisation": "no-such-org"}),  # 9
        _row(person=str(world.p_kef.pk), opened_on="2024-01-10"),  # 10: not in scope
        _row(**{**good, "action_1_type": "internship", "action_1_start": "2023-12-01"}),  # 11
        _row(**{**good, "outcome": "employed"}),  # 12: closed when?
        _row(**{**good, "tutor": "caseworker_b"}),  # 13: works for org_b
        _row(**{**good, "opened_on": ""}),  # 14
        _row(person=str(world.p_jendouba.pk), sex="F", opened_on="2024-01-10"),  # 15
        _row(**{**good, "action_1_status": "ongoing", "action_1_type": "internship"}),  # 16
        _row(**{**good, "opened_on": (TODAY + datetime.timedelta(days=3)).isoformat()}),  # 17
    ]
    before = _everything()
    job = _preview(world, rows)

    assert _errors(job) == {
        (3, "I", "opened_on"),  # before the person was born
        (4, "T", "closed_on"),  # closed before opened
        (5, "H", "desk"),
        (6, "K", "diagnosis_work"),
        (7, "N", "action_1_type"),
        (8, "G", "organisation"),
        (9, "G", "organisation"),
        (10, "A", "person"),
        (11, "P", "action_1_start"),  # before the case opened
        (12, "T", "closed_on"),
        (13, "J", "tutor"),
        (14, "I", "opened_on"),
        (15, "D", "sex"),
        (16, "P", "action_1_start"),  # an ongoing action has started
        (17, "I", "opened_on"),
    }
    messages = {e["row"]: " ".join(e["messages"]) for e in job.report["errors"]}
    assert "before the person was born" in messages[3]
    assert "before it was opened" in messages[4]
    assert "does not allow" in messages[8]
    assert world.p_kef.family_name not in json.dumps(job.report)
    assert _everything() == before


def test_a_row_refused_when_the_run_checks_again_writes_nothing(world):
    """Between the preview and the run, someone opens a case for a person of the file: the
    run finds the second open case and writes none of the rows."""
    from tadamun.cases import services as cases

    rows = _twenty(world)
    job = _preview(world, rows)
    assert job.can_run
    cases.case_open(
        user=world.caseworker_a,
        person=world.p_jendouba,
        organisation=world.org_a,
        opened_on=TODAY,
    )
    before = _everything()

    job = _run(world, job)

    assert job.status == ImportStatus.FAILED
    assert [(e["row"], e["field"]) for e in job.report["errors"]] == [(21, "person")]
    assert _everything() == before


def test_the_names_given_with_a_number_must_be_the_persons(world):
    rows = [
        ["person", "given_name", "family_name", "opened_on"],
        [world.p_jendouba.pk, "Salma", "Trabelsi", "2024-01-10"],
        [world.p_tabarka.pk, "Salma", "", "2024-01-10"],  # the number of someone else
    ]
    job = _preview(world, rows)
    assert _errors(job) == {(3, "B", "given_name")}


# --- files as people send them --------------------------------------------------------------


def test_an_arabic_file_in_windows_1256(world):
    rows = [
        ["الاسم", "اللقب", "الجنس", "تاريخ الولادة", "مكان الإقامة", "الشباك", "تاريخ الفتح"]
        + ["التشخيص: work", "التشخيص: housing"],
        ["فاطمة", "الزهراء", "أنثى", "12/04/1988", "TN-32", "jendouba-job-desk", "03/01/2024"]
        + ["3", "1"],
        ["محمود", "بن صالح", "ذكر", "1975", "TN-32", "Jendouba job desk", "2024-01-04"] + ["0", ""],
    ]
    data = csv_bytes(rows, encoding="cp1256")
    with translation.override("ar"):
        job = _preview(world, None, data=data)
    assert job.encoding == "cp1256"
    assert job.report["errors"] == [], job.report["errors"]
    assert job.report["ignored"] == []
    job = _run(world, job)
    assert job.status == ImportStatus.DONE, job.report
    case = Case.objects.unscoped().get(person__given_name="فاطمة")
    assert case.desk == world.desk
    assert case.opened_on == datetime.date(2024, 1, 3)
    assert case.person.family_name == "الزهراء"
    assert {(lv.dimension.code, lv.level) for lv in case.diagnoses.get().levels.all()} == {
        ("work", NeedLevel.HIGH),
        ("housing", NeedLevel.LOW),
    }
    other = Case.objects.unscoped().get(person__family_name="بن صالح")
    assert other.person.birth_year == 1975 and other.person.birth_date is None


def test_a_french_file_with_semicolons(world):
    rows = [
        ["Prénom", "Nom", "Date de naissance", "Organisation cheffe de file", "Guichet"]
        + ["Ouvert le", "Diagnostic : work", "Action 1 type", "Action 1 début", "Clôturé le"]
        + ["Résultat"],
        ["Amélie", "Dubois", "17.5.1990", "org-a", "jendouba-job-desk", "05.03.2024", "2"]
        + ["internship", "", "", ""],
        ["Zoé", "Martin", "1988", "org-a", "", "06/03/2024", ""]
        + ["", "", "30/04/2024", "En formation ou en études"],
    ]
    data = csv_bytes(rows, separator=";", encoding="cp1252")
    job = _preview(world, None, data=data)
    assert job.separator == ";"
    assert job.report["errors"] == [], job.report["errors"]
    assert {c["field"] for c in job.report["columns"]} >= {"organisation", "desk", "opened_on"}
    # "Action 1 début" is the French header of the first action's start: recognised, not
    # ignored (an empty cell there leaves the start to the action's own default).
    assert job.report["ignored"] == [], job.report["ignored"]
    assert "Action 1 début" in {c["column"] for c in job.report["columns"]}
    job = _run(world, job)
    assert job.status == ImportStatus.DONE, job.report
    amelie = Case.objects.unscoped().get(person__given_name="Amélie")
    assert amelie.opened_on == datetime.date(2024, 3, 5)
    assert amelie.actions.get().status == ActionStatus.PLANNED
    zoe = Case.objects.unscoped().get(person__given_name="Zoé")
    assert (zoe.status, zoe.outcome) == (CaseStatus.CLOSED, CaseOutcome.TRAINING)


def test_an_excel_file_with_dates_and_numbers_as_cells(world):
    rows = [
        ["person", "opened_on", "diagnosis_work", "action_1_type", "action_1_start"],
        [
            world.p_jendouba.pk,
            datetime.date(2024, 1, 10),
            3,
            "internship",
            datetime.date(2024, 1, 11),
        ],
    ]
    job = _preview(world, None, data=xlsx_bytes(rows), name="cases.xlsx")
    assert job.report["errors"] == [], job.report["errors"]
    assert _run(world, job).status == ImportStatus.DONE
    case = Case.objects.unscoped().get(person=world.p_jendouba)
    assert case.diagnoses.get().levels.get().level == NeedLevel.HIGH


# --- who may import what --------------------------------------------------------------------


@pytest.fixture
def caseworker_c(world):
    """A case worker of org_c, outside the network."""
    user = f.UserFactory(username="caseworker_c")
    f.membership(user, world.org_c, Role.CASE_WORKER)
    return user


def test_another_network_cannot_reach_the_desks_dimensions_or_people_of_this_one(
    world, caseworker_c
):
    rows = [
        ["person", "given_name", "family_name", "organisation", "desk", "opened_on"]
        + ["diagnosis_work", "action_1_type"],
        [world.p_tabarka.pk, "", "", "org-c", "", "2024-01-10", "", ""],
        ["", "Marco", "Bianchi", "org-c", "jendouba-job-desk", "2024-01-10", "", ""],
        ["", "Marco", "Neri", "org-c", "", "2024-01-10", "2", ""],
        ["", "Marco", "Verdi", "org-c", "", "2024-01-10", "", "internship"],
        ["", "Marco", "Rossi", "org-a", "", "2024-01-10", "", ""],
        ["", "Marco", "Gialli", "org-c", "", "2024-01-10", "", ""],
    ]
    before = _everything()
    job = _preview(world, rows, user=caseworker_c, organisation=world.org_c)

    assert _errors(job) == {
        (2, "A", "person"),
        (3, "E", "desk"),
        (4, "G", "diagnosis_work"),
        (5, "H", "action_1_type"),
        (6, "D", "organisation"),
    }
    report = json.dumps(job.report, ensure_ascii=False)
    for secret in ("بن علي", "Ben Ali", "Mohamed", "Jendouba job desk", "Work"):
        assert secret not in report
    # The same message for a person who exists elsewhere as for one who does not exist.
    missing = _preview(
        world,
        [["person", "opened_on"], [999999, "2024-01-10"]],
        user=caseworker_c,
        organisation=world.org_c,
    )
    [hidden] = [e for e in job.report["errors"] if e["row"] == 2]
    [absent] = missing.report["errors"]
    assert hidden["messages"][0].replace(str(world.p_tabarka.pk), "N") == absent["messages"][
        0
    ].replace("999999", "N")
    assert _everything()[1] == before[1]


def test_a_desk_operator_may_not_import_cases(world):
    with pytest.raises(AccessDenied):
        services.import_upload(
            user=world.desk_a,
            organisation=world.org_a,
            file=upload("cases.csv", csv_bytes([["person", "opened_on"], [1, "2024-01-01"]])),
            kind=ImportKind.CASES,
        )
    assert not ImportJob.objects.unscoped().exists()


def test_the_coordinator_imports_for_a_member_and_a_territory_desk_sees_only_its_own(world):
    rows = [
        ["given_name", "family_name", "residence", "organisation", "opened_on"],
        ["Hedi", "Kefi", "TN-33", "org-b", "2024-01-10"],
        ["Rim", "Kefi", "TN-32-TBK", "org-a", "2024-01-10"],
    ]
    job = _preview(world, rows, user=world.coordinator, organisation=world.net)
    assert job.report["errors"] == [], job.report["errors"]
    assert _run(world, job, user=world.coordinator).status == ImportStatus.DONE
    assert set(
        Case.objects.visible_to(world.caseworker_b).values_list("person__given_name", flat=True)
    ) == {"Hedi"}
    assert set(
        Case.objects.visible_to(world.desk_tabarka).values_list("person__given_name", flat=True)
    ) == {"Rim"}


# --- likely duplicates ----------------------------------------------------------------------


def test_the_preview_lists_likely_duplicates_of_the_people_it_registers_only(world):
    rows = [
        ["person", "given_name", "family_name", "birth_date", "opened_on"],
        [world.p_jendouba.pk, "", "", "", "2024-01-10"],  # named by number: not a duplicate
        ["", "Salma", "Trabelsi", "17/05/1990", "2024-01-10"],  # p_jendouba again
        ["", "Nizar", "Hammami", "1980", "2024-01-10"],
        ["", "Nizar", "Hammami", "1980", "2024-01-11"],  # the row above
    ]
    job = _preview(world, rows)
    found = {entry["row"]: entry["matches"] for entry in job.report["duplicates"]}
    assert set(found) == {3, 5}
    assert found[3][0]["person"] == world.p_jendouba.pk
    assert found[5][0]["row"] == 4
    shown = services.report_duplicates(world.caseworker_a, job)
    assert shown[0]["matches"][0]["name"] == world.p_jendouba.full_name


# --- the API --------------------------------------------------------------------------------


def test_upload_and_run_through_the_api(world, api_for):
    api = api_for(world.caseworker_a)
    data = csv_bytes(
        [
            ["person", "opened_on", "diagnosis_work", "action_1_type", "action_1_start"],
            [world.p_tabarka.pk, "2024-01-10", "2", "internship", "2024-01-15"],
            [world.p_jendouba.pk, "2024-01-12", "", "", ""],
        ]
    )
    response = api.post(
        "/api/v1/imports/",
        {"file": upload("cases.csv", data), "organisation": "org-a", "kind": "cases"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["status"], body["rows_total"]) == ("cases", "previewed", 2)
    assert body["report"]["error_count"] == 0

    response = api.post(f"/api/v1/imports/{body['id']}/run/")
    assert response.status_code == 202
    assert response.json()["status"] == "done"
    assert response.json()["report"]["written"] == 2
    listed = api.get("/api/v1/cases/").json()["results"]
    assert {row["person"] for row in listed} == {world.p_tabarka.pk, world.p_jendouba.pk}
    # Another network's case worker finds neither the import nor the cases.
    assert api_for(world.caseworker_b).get(f"/api/v1/imports/{body['id']}/").status_code == 404
    assert api_for(world.caseworker_b).get("/api/v1/cases/").json()["results"] == []


def test_a_bad_row_through_the_api_names_row_and_column(world, api_for):
    data = csv_bytes([["person", "opened_on"], [world.p_kef.pk, "2024-01-10"]])
    response = api_for(world.caseworker_a).post(
        "/api/v1/imports/",
        {"file": upload("cases.csv", data), "organisation": "org-a", "kind": "cases"},
        format="multipart",
    )
    errors = response.json()["report"]["errors"]
    assert [(e["row"], e["letter"], e["column"], e["field"]) for e in errors] == [
        (2, "A", "person", "person")
    ]
    run = api_for(world.caseworker_a).post(f"/api/v1/imports/{response.json()['id']}/run/")
    assert run.status_code == 400
    assert not Case.objects.unscoped().exists()


# --- the pages ------------------------------------------------------------------------------


def test_the_pages_upload_show_errors_by_row_and_column_and_import_cases(world, client_for):
    client = client_for(world.caseworker_a)
    page = client.get("/imports/new/?kind=cases").content.decode()
    assert 'href="/imports/template/cases.xlsx"' in page
    bad = csv_bytes([["person", "opened_on"], [world.p_jendouba.pk, "31/02/2024"]])
    response = client.post(
        "/imports/new/",
        {"organisation": world.org_a.pk, "kind": "cases", "file": upload("bad.csv", bad)},
    )
    job = ImportJob.objects.visible_to(world.caseworker_a).get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/"
    html = client.get(response["Location"]).content.decode()
    assert 'data-row="2" data-field="opened_on"' in html
    assert 'data-testid="import-run"' not in html

    good = csv_bytes([["person", "opened_on"], [world.p_jendouba.pk, "28/02/2024"]])
    response = client.post(
        "/imports/new/",
        {
            "organisation": world.org_a.pk,
            "kind": "cases",
            "file": upload("good.csv", good),
            "replaces": job.pk,
        },
    )
    corrected = ImportJob.objects.visible_to(world.caseworker_a).get(original_name="good.csv")
    assert corrected.kind == ImportKind.CASES
    assert "Import 1 case" in client.get(f"/imports/{corrected.pk}/").content.decode()
    client.post(f"/imports/{corrected.pk}/run/")
    html = client.get(f"/imports/{corrected.pk}/").content.decode()
    assert 'data-testid="import-done"' in html
    assert Case.objects.visible_to(world.caseworker_a).get().person == world.p_jendouba


# --- the template ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ar", "fr", "it", "el", "en"])
@pytest.mark.parametrize("extension", ["xlsx", "csv"])
def test_the_cases_template_in_each_language_imports_its_example_row(
    world, client_for, language, extension
):
    world.caseworker_a.language = language
    world.caseworker_a.save()
    response = client_for(world.caseworker_a).get(f"/imports/template/cases.{extension}")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    with translation.override(language):
        job = _preview(world, None, data=response.content, name=f"template.{extension}")
    assert job.rows_total == 1
    assert job.report["errors"] == [], job.report["errors"]
    assert job.report["ignored"] == []
    # Every column of the kind, and one per diagnosis dimension of the network.
    assert len(job.report["columns"]) == len(get("cases").columns) + 3
    job = _run(world, job)
    assert job.status == ImportStatus.DONE, job.report
    case = Case.objects.unscoped().get(person__given_name="Amina", person__family_name="Ben Salah")
    assert case.organisation == world.org_a
    assert case.desk == world.desk
    levels = case.diagnoses.get().levels
    assert levels.count() == 2  # the health dimension is left empty in the example
    assert case.actions.get().status == ActionStatus.ONGOING


def test_the_workbook_template_explains_the_columns_of_cases(world, client_for):
    import io

    import openpyxl

    content = client_for(world.caseworker_a).get("/imports/template/cases.xlsx").content
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    headers = [cell.value for cell in workbook.worksheets[0][1]]
    assert "Diagnosis: Work" in headers and "Diagnosis: Mental health" in headers
    assert headers[-3:] == ["Closed on", "Outcome", "Reason for closing"]
    notes = " ".join(str(c.value) for row in workbook.worksheets[1].iter_rows() for c in row)
    assert "Level of difficulty for Housing" in notes
    assert "Up to 3 pathway actions" in notes
