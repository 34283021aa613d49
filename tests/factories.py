"""Factories for tests. Records are built through the services where a rule lives there."""

import datetime

import factory

from tadamun.accounts.models import Membership, Role, User
from tadamun.matching.keys import PersonRecord, match_keys
from tadamun.organisations.models import NetworkMembership, Organisation, OrganisationKind
from tadamun.registry.models import Person, PersonMatchKey, PersonNameKey, PersonShare, ShareReason
from tadamun.registry.names import name_keys
from tadamun.territories.models import Territory, TerritoryLevel
from tadamun.territories.services import territory_save


def territory(code: str, name: str, parent: Territory | None = None, level=None) -> Territory:
    level = level or (TerritoryLevel.COUNTRY if parent is None else TerritoryLevel.REGION)
    return territory_save(
        territory=Territory(code=code, name={"en": name}, parent=parent, level=level)
    )


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.LazyAttribute(lambda o: {"en": f"Organisation {o.slug}"})
    kind = OrganisationKind.ASSOCIATION
    country = "TN"
    time_zone = "Africa/Tunis"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    language = "en"
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-only")

    @factory.post_generation
    def persist(self, create, extracted, **kwargs):
        if create:
            self.save()


def membership(user: User, organisation: Organisation, role: str, territory=None) -> Membership:
    return Membership.objects.create(
        user=user, organisation=organisation, role=role, territory=territory
    )


def person(organisation: Organisation, residence=None, **fields) -> Person:
    """A person written straight to the database (no rights check), holding keys (name and
    match keys) and share."""
    fields.setdefault("given_name", "Amina")
    fields.setdefault("family_name", "Ben Ali")
    fields.setdefault("birth_date", datetime.date(1990, 5, 17))
    record = Person(organisation=organisation, residence=residence, **fields)
    record.save()
    PersonShare.objects.create(
        person=record, organisation=organisation, reason=ShareReason.REGISTERED
    )
    PersonNameKey.objects.bulk_create(
        PersonNameKey(person=record, key=k)
        for k in name_keys(
            record.given_name,
            record.family_name,
            record.given_name_latin,
            record.family_name_latin,
        )
    )
    PersonMatchKey.objects.bulk_create(
        PersonMatchKey(person=record, key=k) for k in match_keys(PersonRecord.from_person(record))
    )
    return record


def network(slug: str, members: list[Organisation]) -> Organisation:
    net = OrganisationFactory(slug=slug, kind=OrganisationKind.NETWORK)
    for member in members:
        NetworkMembership.objects.create(network=net, member=member)
    return net


__all__ = [
    "OrganisationFactory",
    "Role",
    "UserFactory",
    "membership",
    "network",
    "person",
    "territory",
]
