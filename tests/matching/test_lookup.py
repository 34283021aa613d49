"""The typing-time lookup: it searches the whole registry and discloses only what the user may
know (its id and name for a record the user may see; otherwise only who holds it)."""

import dataclasses
import datetime

import pytest
from django.db import connection, models

from tadamun.matching import lookup
from tadamun.matching.keys import PersonRecord, match_keys
from tadamun.registry.models import Person

from .. import factories as f

BORN = datetime.date(1990, 5, 17)  # the factories' date of birth


class MatchKeyForTests(models.Model):  # noqa: DJ008
    """The proposed PersonMatchKey, as a table that lives only inside a test's transaction."""

    id = models.IntegerField(primary_key=True)
    person_id = models.BigIntegerField()
    key = models.CharField(max_length=60)

    class Meta:
        app_label = "matching_tests"
        managed = False
        db_table = "matching_test_match_key"


@pytest.fixture(params=["name keys", "match keys"])
def index(request, monkeypatch):
    """Each test runs against the registry's PersonNameKey and against the proposed table."""
    if request.param == "name keys":
        monkeypatch.setattr(lookup, "_match_key_model", lambda: None)
        yield request.param
        return
    request.getfixturevalue("db")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE matching_test_match_key"
            ' (id integer PRIMARY KEY, person_id bigint NOT NULL, "key" varchar(60) NOT NULL)'
        )
    monkeypatch.setattr(lookup, "_match_key_model", lambda: MatchKeyForTests)
    yield request.param


def _index_people():
    """Fill the proposed table the way its service would (keys.match_keys)."""
    if lookup._match_key_model() is None:
        return
    MatchKeyForTests.objects.all().delete()
    rows = []
    for person in Person.objects.unscoped("tests").filter(archived_at__isnull=True):
        for key in sorted(match_keys(PersonRecord.from_person(person))):
            rows.append(MatchKeyForTests(id=len(rows) + 1, person_id=person.pk, key=key))
    MatchKeyForTests.objects.bulk_create(rows)


def holder(organisation) -> str:
    """An organisation's name as the lookup reads it from the database."""
    return str(type(organisation).objects.get(pk=organisation.pk))


def candidates(user, given, family, **typed):
    _index_people()
    return lookup.person_candidates(user=user, given_name=given, family_name=family, **typed)


def test_a_person_the_user_may_see_comes_with_id_and_name(world, index):
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
def test_any_script_or_spelling_finds_the_person(world, index, given, family):
    found = candidates(world.coordinator, given, family, birth_date=BORN)
    assert [c.person_id for c in found][:1] == [world.p_tabarka.pk]


def test_a_person_the_user_may_not_see_comes_with_the_organisations_to_contact(world, index):
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


def test_a_record_outside_the_users_territory_is_hidden_too(world, index):
    # desk_tabarka works for org_a but only in Tabarka; Salma lives in Jendouba.
    found = candidates(world.desk_tabarka, "Salma", "Trabelsi", birth_date=BORN)
    assert [(c.visible, c.organisations) for c in found] == [(False, (holder(world.org_a),))]


def test_every_organisation_holding_the_record_is_named(world, index):
    from tadamun.registry.models import PersonShare, ShareReason

    PersonShare.objects.create(
        person=world.p_kef, organisation=world.org_c, reason=ShareReason.REFERRAL
    )
    found = candidates(world.desk_tabarka, "Karim", "Mejri", birth_date=BORN)
    assert found[0].organisations == tuple(sorted((holder(world.org_b), holder(world.org_c))))


def test_an_unlikely_match_the_user_may_not_see_is_not_mentioned(world, index):
    # Same names, but another sex, another date: not likely the same person.
    found = candidates(world.outsider, "Mohamed", "Ben Ali", birth_date=datetime.date(1950, 2, 3))
    assert found == []


@pytest.mark.parametrize("persona", ["viewer_a", "trainer_a", "controller_a", "nobody"])
def test_users_who_do_not_register_people_get_nothing(world, index, persona):
    assert candidates(getattr(world, persona), "Mohamed", "Ben Ali", birth_date=BORN) == []


def test_the_platform_operator_sees_every_candidate(world, index):
    found = candidates(world.operator, "Giulia", "Rossi", birth_date=BORN)
    assert [(c.visible, c.person_id) for c in found] == [(True, world.p_empoli.pk)]


def test_archived_people_are_not_candidates(world, index):
    world.p_empoli.archived_at = world.p_empoli.created_at
    world.p_empoli.save()
    assert candidates(world.operator, "Giulia", "Rossi", birth_date=BORN) == []


def test_a_name_still_being_typed(world, index):
    found = candidates(world.desk_a, "Salma", "Trab", birth_date=BORN)
    assert [c.person_id for c in found] == [world.p_jendouba.pk]


def test_a_typo_and_a_placeholder_date(world, index):
    found = candidates(world.desk_a, "Salma", "Trabelsy", birth_date=datetime.date(1990, 1, 1))
    assert [c.person_id for c in found] == [world.p_jendouba.pk]


def test_nothing_typed_finds_nothing(world, index):
    assert candidates(world.desk_a, "", "  ") == []


def test_names_nobody_has(world, index):
    assert candidates(world.desk_a, "Zacharias", "Oxley", birth_date=BORN) == []


def test_the_lookup_sees_people_registered_after_it_started(world, index):
    assert candidates(world.coordinator, "Hédi", "Chebbi", birth_date=BORN) == []
    person = f.person(world.org_b, world.kef, given_name="الهادي", family_name="الشابي")
    found = candidates(world.coordinator, "Hédi", "Chebbi", birth_date=BORN)
    assert [c.person_id for c in found] == [person.pk]


def test_the_limit(world, index):
    for _ in range(4):
        f.person(world.org_a, world.jendouba, given_name="Salma", family_name="Trabelsi")
    found = candidates(world.desk_a, "Salma", "Trabelsi", birth_date=BORN, limit=3)
    assert len(found) == 3
