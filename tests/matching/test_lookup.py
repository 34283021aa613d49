"""The typing-time lookup: it searches the whole registry and discloses only what the user may
know (its id and name for a record the user may see; otherwise only who holds it); and the
same search for many people at once (the import's preview)."""

import dataclasses
import datetime

import pytest

from tadamun.matching import lookup
from tadamun.matching.keys import PersonRecord, match_keys
from tadamun.registry import services
from tadamun.registry.models import PersonMatchKey

from .. import factories as f

BORN = datetime.date(1990, 5, 17)  # the factories' date of birth


def holder(organisation) -> str:
    """An organisation's name as the lookup reads it from the database."""
    return str(type(organisation).objects.get(pk=organisation.pk))


def candidates(user, given, family, **typed):
    return lookup.person_candidates(user=user, given_name=given, family_name=family, **typed)


def test_a_person_the_user_may_see_comes_with_id_and_name(world):
    found = candidates(world.desk_a, "Mohamed", "Ben Ali", birth_date=BORN)
    assert found[0].visible
    assert found[0].person_id == world.p_tabarka.pk
    assert found[0].name == "محمد بن علي"
    assert found[0].organisations == ()
    assert found[0].score >= lookup.LIKELY


@pytest.mark.parametrize(
    ("given", "family"),
    [("Μοχάμεντ", "Μπεν Αλί"), ("Mohammed", "Benali"), ("Ben Ali", "Mohamed"), ("محمد", "بن علي")],
)
def test_any_script_or_spelling_finds_the_person(world, given, family):
    found = candidates(world.coordinator, given, family, birth_date=BORN)
    assert [c.person_id for c in found][:1] == [world.p_tabarka.pk]


def test_a_person_the_user_may_not_see_comes_with_the_organisations_to_contact(world):
    found = candidates(world.outsider, "Μοχάμεντ", "Μπεν Αλί", birth_date=BORN)
    assert len(found) == 1
    hidden = found[0]
    assert not hidden.visible
    assert hidden.organisations == (holder(world.org_a),)
    assert hidden.score >= lookup.LIKELY
    # ... and nothing else.
    assert hidden.person_id is None
    assert hidden.name == ""
    assert {field.name for field in dataclasses.fields(hidden)} == {
        "score",
        "visible",
        "person_id",
        "name",
        "organisations",
    }


def test_a_record_outside_the_users_territory_is_hidden_too(world):
    # desk_tabarka works for org_a but only in Tabarka; Salma lives in Jendouba.
    found = candidates(world.desk_tabarka, "Salma", "Trabelsi", birth_date=BORN)
    assert [(c.visible, c.organisations) for c in found] == [(False, (holder(world.org_a),))]


def test_every_organisation_holding_the_record_is_named(world):
    from tadamun.registry.models import PersonShare, ShareReason

    PersonShare.objects.create(
        person=world.p_kef, organisation=world.org_c, reason=ShareReason.REFERRAL
    )
    found = candidates(world.desk_tabarka, "Karim", "Mejri", birth_date=BORN)
    assert found[0].organisations == tuple(sorted((holder(world.org_b), holder(world.org_c))))


def test_an_unlikely_match_the_user_may_not_see_is_not_mentioned(world):
    # Same names, but another sex, another date: not likely the same person.
    found = candidates(world.outsider, "Mohamed", "Ben Ali", birth_date=datetime.date(1950, 2, 3))
    assert found == []


@pytest.mark.parametrize("persona", ["viewer_a", "trainer_a", "controller_a", "nobody"])
def test_users_who_do_not_register_people_get_nothing(world, persona):
    assert candidates(getattr(world, persona), "Mohamed", "Ben Ali", birth_date=BORN) == []


def test_the_platform_operator_sees_every_candidate(world):
    found = candidates(world.operator, "Giulia", "Rossi", birth_date=BORN)
    assert [(c.visible, c.person_id) for c in found] == [(True, world.p_empoli.pk)]


def test_archived_people_are_not_candidates(world):
    world.p_empoli.archived_at = world.p_empoli.created_at
    world.p_empoli.save()
    assert candidates(world.operator, "Giulia", "Rossi", birth_date=BORN) == []


def test_a_name_still_being_typed(world):
    found = candidates(world.desk_a, "Salma", "Trab", birth_date=BORN)
    assert [c.person_id for c in found] == [world.p_jendouba.pk]


def test_a_typo_and_a_placeholder_date(world):
    found = candidates(world.desk_a, "Salma", "Trabelsy", birth_date=datetime.date(1990, 1, 1))
    assert [c.person_id for c in found] == [world.p_jendouba.pk]


def test_nothing_typed_finds_nothing(world):
    assert candidates(world.desk_a, "", "  ") == []


def test_names_nobody_has(world):
    assert candidates(world.desk_a, "Zacharias", "Oxley", birth_date=BORN) == []


def test_the_lookup_sees_people_registered_after_it_started(world):
    assert candidates(world.coordinator, "Hédi", "Chebbi", birth_date=BORN) == []
    person = f.person(world.org_b, world.kef, given_name="الهادي", family_name="الشابي")
    found = candidates(world.coordinator, "Hédi", "Chebbi", birth_date=BORN)
    assert [c.person_id for c in found] == [person.pk]


def test_the_limit(world):
    for _ in range(4):
        f.person(world.org_a, world.jendouba, given_name="Salma", family_name="Trabelsi")
    found = candidates(world.desk_a, "Salma", "Trabelsi", birth_date=BORN, limit=3)
    assert len(found) == 3


def test_people_registered_and_changed_through_the_services_are_found(world):
    person = services.person_register(
        user=world.desk_a,
        organisation=world.org_a,
        given_name="سعاد",
        family_name="الماجري",
        birth_date=datetime.date(1979, 8, 3),
        residence=world.jendouba,
    )
    found = candidates(world.desk_a, "Souad", "Mejri", birth_year=1979)
    assert [c.person_id for c in found][:1] == [person.pk]
    services.person_update(user=world.desk_a, person=person, family_name="الغربي")
    assert candidates(world.desk_a, "Souad", "Mejri", birth_year=1979) == []
    assert [c.person_id for c in candidates(world.desk_a, "Souad", "Gharbi")][:1] == [person.pk]


def test_the_keys_a_person_holds_are_those_of_match_keys(world):
    stored = set(
        PersonMatchKey.objects.filter(person=world.p_tabarka).values_list("key", flat=True)
    )
    assert stored == match_keys(PersonRecord.from_person(world.p_tabarka))
    assert any(key.startswith("d:") and key.endswith("|19900517") for key in stored)


# --- many people at once ------------------------------------------------------------------


def test_registered_matches_across_scripts_swaps_typos_and_placeholder_dates(world):
    records = [
        PersonRecord(given_name="Mohamed", family_name="Ben Ali", birth_year=1990),
        PersonRecord(given_name="Μοχάμεντ", family_name="Μπεν Αλί", birth_date=BORN),
        PersonRecord(
            given_name="Trabelsy", family_name="Salma", birth_date=datetime.date(1990, 1, 1)
        ),
        PersonRecord(given_name="Karim", family_name="Mejri", birth_date=datetime.date(1950, 2, 3)),
        PersonRecord(given_name="Zacharias", family_name="Oxley", birth_year=1990),
        PersonRecord(given_name="", family_name=""),
    ]
    found = lookup.registered_matches(records)
    assert [[(pk, org) for _p, pk, org in matches] for matches in found] == [
        [(world.p_tabarka.pk, world.org_a.pk)],
        [(world.p_tabarka.pk, world.org_a.pk)],
        [(world.p_jendouba.pk, world.org_a.pk)],
        [],  # same names, another birth: not likely
        [],
        [],
    ]
    assert all(p >= lookup.LIKELY for matches in found for p, _pk, _org in matches)


def test_registered_matches_leave_archived_people_out(world):
    world.p_empoli.archived_at = world.p_empoli.created_at
    world.p_empoli.save()
    record = PersonRecord(given_name="Giulia", family_name="Rossi", birth_date=BORN)
    assert lookup.registered_matches([record]) == [[]]


def test_registered_matches_narrow_a_common_name_to_the_years_around(world, monkeypatch):
    monkeypatch.setattr(lookup, "CANDIDATES", 2)
    for year in (1960, 1970, 1989):
        f.person(
            world.org_b,
            world.kef,
            given_name="Salma",
            family_name="Trabelsi",
            birth_date=datetime.date(year, 3, 9),
        )
    record = PersonRecord(given_name="Salma", family_name="Trabelsi", birth_date=BORN)
    (matches,) = lookup.registered_matches([record], threshold=0.0, limit=10)
    # Three people hold the names, more than CANDIDATES: only those born within two years.
    assert {pk for _p, pk, _org in matches} >= {world.p_jendouba.pk}
    years = set(
        type(world.p_jendouba)
        .objects.unscoped()
        .filter(pk__in=[pk for _p, pk, _org in matches])
        .values_list("birth_date__year", flat=True)
    )
    assert years <= {1989, 1990}
