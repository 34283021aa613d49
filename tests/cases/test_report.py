"""The network report over the WIN demo: the 2016 figures WIN published, computed from the
records the demo loader writes.

The demo (3,000 people) is loaded once for this module, inside a transaction rolled back at
the end, so that other modules start from an empty database; each test runs in a savepoint
of it, so a test may change records.
"""

import datetime
import io
import time

import pytest
from django.db import transaction
from django.db.models import Count
from django.utils import translation
from openpyxl import load_workbook

from tadamun.accounts.models import Membership, User
from tadamun.cases import selectors
from tadamun.cases.models import (
    ActionFamily,
    ActionType,
    Case,
    CaseNote,
    Desk,
    Diagnosis,
    DiagnosisDimension,
    FollowUp,
    Intake,
    PathwayAction,
    Referral,
)
from tadamun.demo.loader import load_demo
from tadamun.organisations.models import Organisation
from tadamun.programmes.models import Programme
from tadamun.registry.models import Consent, Group, GroupMember, Person, PersonShare
from tadamun.territories.models import Territory

# "In 2016 the network diagnosed 367 people; 70 started a job-placement accompaniment, 2 a
# business creation, 30 returned to training or education, 63 had a job-placement project,
# 1 was hired on a fixed-term contract and 10 entered a care pathway with ASL 11."
PUBLISHED_2016 = {
    "diagnoses": 367,
    "job_accompaniment": 70,
    "business_creation": 2,
    "return_to_training": 30,
    "job_placement": 63,
    "hire": 1,
    "hire:fixed_term": 1,
    "care_pathway": 10,
}
YEAR_2016 = (datetime.date(2016, 1, 1), datetime.date(2016, 12, 31))


class Demo:
    def __init__(self, counts: dict, seconds: float):
        self.counts = counts
        self.seconds = seconds

    @staticmethod
    def user(username: str) -> User:
        return User.objects.get(username=username)  # a fresh object: no cached scope

    @property
    def vnp(self) -> Organisation:
        return Organisation.objects.get(slug="vnp-empoli")


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            started = time.monotonic()
            counts = load_demo(people=3000, progress=lambda _message: None)
            yield Demo(counts, time.monotonic() - started)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def win(demo, db):
    return demo


def _report(user, start, end) -> dict:
    result = selectors.case_report(user=user, start=start, end=end)
    return {line.key: line for line in result["lines"]}


def _counts(lines: dict) -> dict:
    return {key: line.count for key, line in lines.items()}


def _people_starting(family: str, start, end, organisation) -> set[int]:
    """The oracle read straight from the records: who started an action of the family."""
    return set(
        PathwayAction.objects.filter(
            case__organisation=organisation,
            action_type__family=family,
            start__range=(start, end),
        ).values_list("case__person_id", flat=True)
    )


def _people_diagnosed(start, end, organisation) -> set[int]:
    return set(
        Diagnosis.objects.filter(
            case__organisation=organisation, diagnosed_on__range=(start, end)
        ).values_list("case__person_id", flat=True)
    )


# --- the published figures ------------------------------------------------------------------


def test_the_demo_holds_win_cases(win):
    assert win.counts["cases"] > PUBLISHED_2016["diagnoses"]
    assert Case.objects.unscoped().filter(organisation=win.vnp).count() == win.counts["cases"]
    print(f"demo loaded in {win.seconds:.1f} s")


def test_the_2016_report_of_the_win_coordinator_equals_the_published_figures(win, client):
    user = win.user("win-coordinator")
    client.force_login(user)
    response = client.get("/cases/report/?start=2016-01-01&end=2016-12-31")
    assert response.status_code == 200
    lines = {line.key: line for line in response.context["result"]["lines"]}
    assert {key: lines[key].count for key in PUBLISHED_2016} == PUBLISHED_2016
    html = response.content.decode()
    for key, figure in PUBLISHED_2016.items():
        assert f'data-key="{key}"' in html
        row = html.split(f'data-key="{key}"', 1)[1].split("</tr>", 1)[0]
        assert f">{figure}<" in row, key


def test_the_report_counts_what_the_records_hold(win):
    """The same figures read straight from the records: the report is computed, not kept."""
    lines = _report(win.user("win-coordinator"), *YEAR_2016)
    assert lines["diagnoses"].people == _people_diagnosed(*YEAR_2016, win.vnp)
    for family in ActionFamily.values:
        assert lines[family].people == _people_starting(family, *YEAR_2016, win.vnp), family


def test_a_record_moved_out_of_the_year_changes_the_figure(win):
    business = PathwayAction.objects.filter(
        action_type__family=ActionFamily.BUSINESS_CREATION, start__year=2016
    ).first()
    PathwayAction.objects.filter(pk=business.pk).update(start=datetime.date(2015, 12, 31))
    lines = _report(win.user("win-coordinator"), *YEAR_2016)
    assert lines["business_creation"].count == PUBLISHED_2016["business_creation"] - 1


def test_the_period_includes_its_first_and_last_days(win):
    """Single placements moved to 1 January and 31 December 2016 still count; one moved to
    1 January 2017 no longer does."""
    rows = (
        PathwayAction.objects.filter(
            action_type__family=ActionFamily.JOB_PLACEMENT, start__year=2016
        )
        .values("case__person_id")
        .annotate(n=Count("pk"))
        .filter(n=1)
    )
    single = [row["case__person_id"] for row in rows[:3]]
    actions = [
        PathwayAction.objects.get(
            case__person_id=person, action_type__family="job_placement", start__year=2016
        )
        for person in single
    ]
    days = [datetime.date(2016, 1, 1), datetime.date(2016, 12, 31), datetime.date(2017, 1, 1)]
    for action, day in zip(actions, days, strict=True):
        PathwayAction.objects.filter(pk=action.pk).update(start=day)
    lines = _report(win.user("win-coordinator"), *YEAR_2016)
    assert lines["job_placement"].count == PUBLISHED_2016["job_placement"] - 1
    assert single[2] not in lines["job_placement"].people
    assert {single[0], single[1]} <= lines["job_placement"].people


def test_records_of_2015_and_2017_are_left_out(win):
    coordinator = win.user("win-coordinator")
    before = _people_diagnosed(datetime.date(2015, 1, 1), datetime.date(2015, 12, 31), win.vnp)
    after = _people_diagnosed(datetime.date(2017, 1, 1), datetime.date(2017, 12, 31), win.vnp)
    assert before and after, "the demo has diagnoses in the years around 2016"
    lines = _report(coordinator, *YEAR_2016)
    assert not lines["diagnoses"].people & (before | after)
    # The internships planned for February 2017 are not 2016 starts ...
    internships = _people_starting(
        ActionFamily.INTERNSHIP, datetime.date(2017, 1, 1), datetime.date(2017, 12, 31), win.vnp
    )
    assert internships
    assert lines["internship"].count == 0
    # ... and the years around count their own records.
    for start, end, people in [
        (datetime.date(2015, 1, 1), datetime.date(2015, 12, 31), before),
        (datetime.date(2017, 1, 1), datetime.date(2017, 12, 31), after),
    ]:
        other = _report(coordinator, start, end)
        assert other["diagnoses"].people == people
    assert (
        _report(coordinator, datetime.date(2017, 1, 1), datetime.date(2017, 12, 31))[
            "internship"
        ].people
        == internships
    )
    whole = _report(coordinator, datetime.date(2015, 1, 1), datetime.date(2017, 12, 31))
    assert whole["diagnoses"].count == len(lines["diagnoses"].people | before | after)


def test_a_person_with_two_placement_projects_counts_once(win):
    rows = (
        PathwayAction.objects.filter(
            case__organisation=win.vnp,
            action_type__family=ActionFamily.JOB_PLACEMENT,
            start__range=YEAR_2016,
        )
        .values("case__person_id")
        .annotate(n=Count("pk"))
    )
    twice = {row["case__person_id"] for row in rows if row["n"] == 2}
    actions = sum(row["n"] for row in rows)
    assert len(twice) == 4  # the demo gives four people a second project that year
    assert actions == PUBLISHED_2016["job_placement"] + len(twice)
    line = _report(win.user("win-coordinator"), *YEAR_2016)["job_placement"]
    assert line.count == PUBLISHED_2016["job_placement"]
    assert twice <= line.people


def test_the_breakdowns_count_each_person_once(win):
    lines = _report(win.user("win-coordinator"), *YEAR_2016)
    for key in PUBLISHED_2016:
        line = lines[key]
        for dimension in ("sex", "age", "territory"):  # one value per person
            assert sum(len(people) for people in line.by[dimension].values()) == line.count
        assert set().union(*line.by["desk"].values()) == line.people
    assert lines["diagnoses"].women + lines["diagnoses"].men <= lines["diagnoses"].count


def test_the_desk_operators_report_has_no_care_pathway_line(win, client):
    desk, coordinator = win.user("win-desk"), win.user("win-coordinator")
    client.force_login(desk)
    response = client.get("/cases/report/?start=2016-01-01&end=2016-12-31")
    result = response.context["result"]
    lines = {line.key: line.count for line in result["lines"]}
    assert "care_pathway" not in lines
    assert 'data-key="care_pathway"' not in response.content.decode()
    assert result["health"] is False
    # Everything else is the same as the coordinator's.
    expected = _counts(_report(coordinator, *YEAR_2016))
    expected.pop("care_pathway")
    assert lines == expected
    assert {k: lines[k] for k in PUBLISHED_2016 if k != "care_pathway"} == {
        k: v for k, v in PUBLISHED_2016.items() if k != "care_pathway"
    }


def test_another_networks_coordinator_sees_none_of_wins_figures(win):
    lines = _report(win.user("utss-coordinator"), *YEAR_2016)
    assert all(line.count == 0 for line in lines.values())


# --- the spreadsheet ------------------------------------------------------------------------


def _export(client, user) -> object:
    client.force_login(user)
    response = client.get("/cases/report/?start=2016-01-01&end=2016-12-31&format=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "cases-20160101-20161231.xlsx" in response["Content-Disposition"]
    return load_workbook(io.BytesIO(response.content))


def _totals(book) -> dict:
    """The first sheet: the period, a blank row, a header, then one row per indicator."""
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    totals = {}
    for row in rows[3:]:
        if row[0] is None:
            break
        totals[row[0]] = row[1]
    return totals


def test_the_spreadsheet_holds_the_same_totals(win, client):
    user = win.user("win-coordinator")
    book = _export(client, user)
    totals = _totals(book)
    with translation.override(user.language):  # the labels are in the user's language
        lines = _report(user, *YEAR_2016)
        expected = {str(line.label): line.count for line in lines.values()}
        published = {str(lines[key].label): figure for key, figure in PUBLISHED_2016.items()}
    assert totals == expected
    assert {label: totals[label] for label in published} == published
    first = list(book.worksheets[0].iter_rows(values_only=True))[0]
    assert [cell.date() if hasattr(cell, "date") else cell for cell in first[1::2]] == list(
        YEAR_2016
    )
    # One sheet per breakdown, each with a row per indicator.
    assert len(book.worksheets) == 5
    for sheet in book.worksheets[1:]:
        rows = list(sheet.iter_rows(values_only=True))
        assert [row[0] for row in rows[1:]] == list(expected)


def test_the_desk_operators_spreadsheet_has_no_care_pathway(win, client):
    user = win.user("win-desk")
    totals = _totals(_export(client, user))
    with translation.override(user.language):
        label = str(ActionFamily.CARE_PATHWAY.label)
        job = str(ActionFamily.JOB_PLACEMENT.label)
    assert label not in totals
    assert totals[job] == PUBLISHED_2016["job_placement"]


def test_text_that_looks_like_a_formula_is_written_as_text(win, client):
    desk = Desk.objects.filter(network__slug="win-empoli", cases__isnull=False).first()
    desk.name = {"en": '=HYPERLINK("http://evil.invalid","click")', "it": "@SUM(1+1)"}
    desk.save()
    book = _export(client, win.user("win-coordinator"))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    texts = {cell.value for cell in cells if isinstance(cell.value, str)}
    assert "'@SUM(1+1)" in texts  # the user reads Italian
    assert not any(t[:1] in "=+-@" for t in texts if t)


# --- loading again --------------------------------------------------------------------------

MODELS = [
    Territory,
    Organisation,
    User,
    Membership,
    Programme,
    Person,
    PersonShare,
    Consent,
    Group,
    GroupMember,
    Desk,
    DiagnosisDimension,
    ActionType,
    Intake,
    Case,
    Diagnosis,
    PathwayAction,
    Referral,
    CaseNote,
    FollowUp,
]


def _rows() -> dict:
    return {
        model.__name__: getattr(model.objects, "unscoped", model.objects.all)().count()
        for model in MODELS
    }


def test_loading_the_demo_again_adds_nothing(win):
    before = _rows()
    counts = load_demo(people=3000, progress=lambda _message: None)
    assert set(counts.values()) == {0}
    assert _rows() == before
    lines = _report(win.user("win-coordinator"), *YEAR_2016)
    assert {key: lines[key].count for key in PUBLISHED_2016} == PUBLISHED_2016
