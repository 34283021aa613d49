"""The desk's lookup: candidates from the whole registry, shown as far as the user may see
them, the person chosen carried into the visit, and every lookup recorded (who, when, how
many), once a minute per user."""

import datetime
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from tadamun.cases.models import Intake
from tadamun.registry.models import Person, PersonLookupLog

URL = "/cases/intake/"


def _look_up(client, **typed):
    return client.get(f"{URL}?{urlencode(typed)}", HTTP_HX_REQUEST="true")


def test_a_person_the_desk_may_see_comes_with_name_score_and_a_button(client_for, world):
    response = _look_up(
        client_for(world.desk_a),
        given_name="Mohammed",
        family_name="Benali",
        birth_date="1990-05-17",
    )
    assert response.status_code == 200
    html = response.content.decode()
    (row,) = response.context["candidates"]
    assert row["person"] == world.p_tabarka
    assert row["candidate"].visible
    assert "محمد بن علي" in html
    assert f"{row['percent']}% likely" in html
    assert row["percent"] >= 50
    assert "This is the person" in html
    assert f"?person={world.p_tabarka.pk}&amp;given_name=Mohammed" in html


def test_choosing_a_candidate_records_the_visit_against_that_person(client_for, world):
    client = client_for(world.desk_a)
    typed = {"given_name": "Μοχάμεντ", "family_name": "Μπεν Αλί", "birth_year": "1990"}
    page = client.get(f"{URL}?{urlencode({'person': world.p_tabarka.pk, **typed})}")
    assert page.status_code == 200
    assert page.context["person"] == world.p_tabarka
    # The lookup stays on the page, with what was typed.
    assert page.context["typed"]["family_name"] == "Μπεν Αλί"
    assert [r["person"] for r in page.context["candidates"]] == [world.p_tabarka]
    people = Person.objects.unscoped().count()
    response = client.post(
        f"{URL}?{urlencode({'person': world.p_tabarka.pk, **typed})}",
        {"desk": world.desk.pk, "reason": "Looking for work"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/people/{world.p_tabarka.pk}/"
    visit = Intake.objects.get(person=world.p_tabarka, reason="Looking for work")
    assert (visit.desk, visit.recorded_by) == (world.desk, world.desk_a)
    assert Person.objects.unscoped().count() == people  # nobody registered twice


def test_a_record_the_user_may_not_see_only_names_the_organisations_to_contact(client_for, world):
    response = _look_up(
        client_for(world.outsider),
        given_name="Mohamed",
        family_name="Ben Ali",
        birth_date="1990-05-17",
    )
    html = response.content.decode()
    (row,) = response.context["candidates"]
    assert not row["candidate"].visible and row["person"] is None
    assert "A likely match is already registered by Organisation org-a; contact them." in html
    # No link, no id, no details.
    assert "person=" not in html
    assert "This is the person" not in html
    assert str(world.p_tabarka.pk) not in html.replace("Organisation org-a", "")
    for detail in ("محمد", "1990", "Tabarka", "% likely"):
        assert detail not in html


def test_an_unlikely_hidden_record_is_not_mentioned(client_for, world):
    # Same names, another birth: not likely the same person.
    response = _look_up(
        client_for(world.outsider),
        given_name="Mohamed",
        family_name="Ben Ali",
        birth_date="1950-02-03",
    )
    assert response.context["candidates"] == []
    assert "Nobody known under this name." in response.content.decode()


def test_the_page_says_what_the_check_searches_and_that_it_is_recorded(client_for, world):
    response = client_for(world.desk_a).get(URL)
    notice = response.content.decode()
    assert 'data-testid="intake-privacy"' in notice
    assert "searches the records of every organisation" in notice
    assert "Each lookup is recorded" in notice
    for name in ("given_name", "family_name", "birth_date", "birth_year", "phone"):
        assert f'name="{name}"' in notice


@pytest.mark.parametrize("persona", ["viewer_a", "trainer_a", "controller_a", "nobody"])
def test_who_does_not_register_people_gets_no_candidates_and_no_lookup_is_recorded(
    client_for, world, persona
):
    response = _look_up(
        client_for(getattr(world, persona)),
        given_name="Salma",
        family_name="Trabelsi",
        birth_date="1990-05-17",
    )
    assert response.status_code == 200
    assert response.context["candidates"] == []
    assert not PersonLookupLog.objects.exists()


@pytest.mark.parametrize(
    "typed",
    [
        {"birth_date": "1990-02-31", "birth_year": "²"},
        {"birth_date": "3000-01-01", "birth_year": "1850"},
        {"birth_date": "17/05/1990", "birth_year": "nineteen"},
    ],
)
def test_a_date_or_year_that_makes_none_is_left_out(client_for, world, typed):
    response = _look_up(
        client_for(world.desk_a), given_name="Salma", family_name="Trabelsi", **typed
    )
    assert response.status_code == 200
    assert [r["person"] for r in response.context["candidates"]] == [world.p_jendouba]


def test_typing_is_recorded_once_a_minute_with_counts_and_nothing_typed(client_for, world):
    client = client_for(world.desk_a)
    for family in ("T", "Trab", "Trabelsi"):
        _look_up(client, given_name="Salma", family_name=family, birth_date="1990-05-17")
    _look_up(client, given_name="", family_name="")  # nothing typed: no lookup
    (log,) = PersonLookupLog.objects.all()
    assert (log.user, log.organisation, log.lookups) == (world.desk_a, world.org_a, 3)
    assert (log.shown, log.hidden) == (1, 0)
    stored = " ".join(str(v) for v in PersonLookupLog.objects.values().get().values())
    assert "Salma" not in stored and "Trab" not in stored and "1990" not in stored

    # A minute later, a new row.
    PersonLookupLog.objects.update(at=timezone.now() - datetime.timedelta(seconds=61))
    _look_up(client, given_name="Salma", family_name="Trabelsi")
    assert PersonLookupLog.objects.count() == 2


def test_a_hidden_candidate_is_counted_as_such(client_for, world):
    _look_up(
        client_for(world.outsider),
        given_name="Karim",
        family_name="Mejri",
        birth_date="1990-05-17",
    )
    log = PersonLookupLog.objects.get(user=world.outsider)
    assert (log.organisation, log.shown, log.hidden) == (world.org_c, 0, 1)
