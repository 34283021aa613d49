"""The log of lookups of the whole registry (``person_lookup_record``): who, when, for which
organisation and how many candidates; one row per user and minute; reviewed by coordinators."""

import datetime

import pytest
from django.utils import timezone

from tadamun.registry import selectors, services
from tadamun.registry.models import PersonLookupLog


def test_a_lookup_records_who_when_and_how_many_and_nothing_else(world):
    before = timezone.now()
    log = services.person_lookup_record(user=world.desk_a, shown=2, hidden=1)
    assert (log.user, log.organisation, log.lookups, log.shown, log.hidden) == (
        world.desk_a,
        world.org_a,
        1,
        2,
        1,
    )
    assert before <= log.at <= timezone.now()
    # Nothing personal can be stored: no field for a name, a date or a person.
    assert {field.name for field in PersonLookupLog._meta.get_fields()} == {
        "id",
        "user",
        "organisation",
        "at",
        "lookups",
        "shown",
        "hidden",
    }


def test_lookups_within_a_minute_add_to_one_row_keeping_the_most_candidates(world):
    first = services.person_lookup_record(user=world.desk_a, shown=3, hidden=0)
    services.person_lookup_record(user=world.desk_a, shown=1, hidden=2)
    last = services.person_lookup_record(user=world.desk_a, shown=0, hidden=1)
    assert last.pk == first.pk
    assert (last.lookups, last.shown, last.hidden) == (3, 3, 2)
    assert PersonLookupLog.objects.count() == 1
    # Another user has their own row.
    other = services.person_lookup_record(user=world.coordinator, shown=0, hidden=0)
    assert other.pk != first.pk


def test_after_a_minute_a_new_row_begins(world):
    first = services.person_lookup_record(user=world.desk_a, shown=1, hidden=0)
    PersonLookupLog.objects.filter(pk=first.pk).update(
        at=timezone.now() - services.LOOKUP_LOG_WINDOW - datetime.timedelta(seconds=1)
    )
    second = services.person_lookup_record(user=world.desk_a, shown=0, hidden=0)
    assert second.pk != first.pk
    assert PersonLookupLog.objects.get(pk=first.pk).lookups == 1


def test_the_organisation_is_the_one_given_else_the_users_only_one(world):
    log = services.person_lookup_record(
        user=world.coordinator, shown=0, hidden=0, organisation=world.org_b
    )
    assert log.organisation == world.org_b
    # The operator registers for no organisation in particular.
    assert (
        services.person_lookup_record(user=world.operator, shown=0, hidden=0).organisation is None
    )


def test_a_negative_count_is_refused(world):
    with pytest.raises(services.RegistryError):
        services.person_lookup_record(user=world.desk_a, shown=-1, hidden=0)
    assert not PersonLookupLog.objects.exists()


def test_coordinators_review_the_lookups_of_their_networks_people(world):
    mine = services.person_lookup_record(user=world.desk_a, shown=1, hidden=0)
    theirs = services.person_lookup_record(user=world.caseworker_b, shown=0, hidden=1)
    outside = services.person_lookup_record(user=world.outsider, shown=0, hidden=1)
    assert set(selectors.person_lookup_log(user=world.coordinator)) == {mine, theirs}
    assert set(selectors.person_lookup_log(user=world.operator)) == {mine, theirs, outside}
    for persona in ("desk_a", "caseworker_b", "viewer_a", "outsider", "nobody"):
        assert not selectors.person_lookup_log(user=getattr(world, persona)).exists()


def test_the_page_of_lookups_is_for_coordinators(client_for, world):
    services.person_lookup_record(user=world.desk_a, shown=1, hidden=2)
    services.person_lookup_record(user=world.outsider, shown=0, hidden=1)
    response = client_for(world.coordinator).get("/people/lookups/")
    assert response.status_code == 200
    assert [log.user for log in response.context["page"].items] == [world.desk_a]
    html = response.content.decode()
    assert "Organisation org-a" in html and "Organisation org-c" not in html
    assert (
        '<td class="text-end">1</td><td class="text-end">1</td><td class="text-end">2</td>' in html
    )
    assert "What was typed is not kept." in html
    for persona in ("desk_a", "viewer_a", "outsider"):
        assert client_for(getattr(world, persona)).get("/people/lookups/").status_code == 404
