"""The registry's match keys (``PersonMatchKey``): written by the services with the name keys,
filled by a migration for the people registered before, indexed for prefixes."""

import datetime
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.loader import MigrationLoader

from tadamun.matching.keys import PersonRecord, match_keys
from tadamun.registry import services
from tadamun.registry.models import Person, PersonMatchKey

from .. import factories as f


def _stored(person) -> set[str]:
    return set(PersonMatchKey.objects.filter(person=person).values_list("key", flat=True))


def _expected(person) -> set[str]:
    person = Person.objects.unscoped().get(pk=person.pk)
    return match_keys(PersonRecord.from_person(person))


def test_registering_writes_the_keys_of_the_names_and_birth(world):
    person = services.person_register(
        user=world.desk_a,
        organisation=world.org_a,
        given_name="Salma",
        family_name="Trabelsi",
        birth_date=datetime.date(1985, 3, 9),
        residence=world.jendouba,
    )
    stored = _stored(person)
    assert stored == _expected(person)
    assert {k for k in stored if k.startswith("d:")} and {k for k in stored if "|1985" in k}


def test_changing_the_names_or_the_birth_writes_them_again(world):
    person = services.person_register(
        user=world.desk_a, organisation=world.org_a, given_name="Salma", family_name="Trabelsi"
    )
    before = _stored(person)
    assert not any(k.startswith("d:") for k in before)
    services.person_update(
        user=world.desk_a,
        person=person,
        family_name="الغربي",
        birth_date=datetime.date(1985, 3, 9),
    )
    after = _stored(person)
    assert after == _expected(person)
    assert after != before
    assert any(k.endswith("|19850309") for k in after)


def test_a_bulk_registration_writes_everyones_keys(world):
    people = services.person_bulk_register(
        user=world.desk_a,
        rows=[
            {"organisation": world.org_a, "given_name": "Sami", "family_name": "Gharbi"},
            {"organisation": world.org_a, "given_name": "Μοχάμεντ", "family_name": "Μπεν Αλί"},
        ],
    )
    for person in people:
        assert _stored(person) == _expected(person)
    # The Greek spelling holds the key of محمد بن علي's names.
    assert _stored(people[1]) & _stored(world.p_tabarka)


def test_the_migration_fills_the_keys_of_people_already_registered(world):
    from importlib import import_module

    fill = import_module("tadamun.registry.migrations.0004_fill_match_keys").fill_match_keys
    # The models as the migration sees them (historical models, plain managers).
    state = MigrationLoader(connection).project_state(("registry", "0004_fill_match_keys"))
    expected = {p.pk: _expected(p) for p in Person.objects.unscoped()}
    PersonMatchKey.objects.all().delete()
    fill(state.apps, SimpleNamespace(connection=connection))
    stored: dict[int, set[str]] = {}
    for pk, key in PersonMatchKey.objects.values_list("person_id", "key"):
        stored.setdefault(pk, set()).add(key)
    assert stored == expected


def test_a_person_holds_a_key_once(world):
    key = sorted(_stored(world.p_kef))[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        PersonMatchKey.objects.create(person=world.p_kef, key=key)


def test_the_key_index_serves_prefixes_on_each_engine(world):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'match_key_prefix'")
            (definition,) = cursor.fetchone()
            assert "varchar_pattern_ops" in definition and "UNIQUE" in definition
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'match_key_prefix'")
            (definition,) = cursor.fetchone()
            # SQLite has no operator classes: a plain unique index, read as a range.
            assert "UNIQUE" in definition and "pattern" not in definition
    prefix = "n:" + sorted(k for k in _stored(world.p_kef) if k.startswith("n:"))[0][2:4]
    holders = PersonMatchKey.objects.filter(key__prefix=prefix).values_list("person_id", flat=True)
    assert world.p_kef.pk in set(holders)


def test_keys_go_with_the_person(world):
    person = f.person(world.org_c, world.empoli, given_name="Giulia", family_name="Bianchi")
    assert _stored(person)
    pk = person.pk
    Person.objects.unscoped().filter(pk=pk).delete()
    assert not PersonMatchKey.objects.filter(person_id=pk).exists()
