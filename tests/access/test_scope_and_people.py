import pytest

from tadamun.access.querysets import UnscopedQuery
from tadamun.registry.models import Person

from ..conftest import PERSONAS


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_sees_exactly_the_people_it_is_entitled_to(world, persona):
    user = getattr(world, persona)
    assert set(Person.objects.visible_to(user)) == world.visible_people(persona)


def test_a_query_that_forgets_the_access_layer_fails_loudly(world):
    with pytest.raises(UnscopedQuery):
        list(Person.objects.all())
    with pytest.raises(UnscopedQuery):
        Person.objects.filter(given_name="Salma").count()
    with pytest.raises(UnscopedQuery):
        Person.objects.exists()


def test_leaving_a_network_closes_its_coordinator_view(world):
    from django.utils import timezone

    from tadamun.access.scope import forget_scope

    world.net.member_links.filter(member=world.org_b).update(left_on=timezone.localdate())
    forget_scope(world.coordinator)
    assert world.p_kef not in set(Person.objects.visible_to(world.coordinator))
