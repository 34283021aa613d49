"""Reads of the registry, always through the access layer."""

from django.db.models import QuerySet

from tadamun.access.scope import scope_for
from tadamun.organisations.models import Organisation
from tadamun.territories.models import Territory

from .models import Group, Person, PersonNameKey
from .names import search_tokens


def person_search(queryset: QuerySet, text: str) -> QuerySet:
    """People with a name token starting with each word typed, in any script or spelling."""
    for token in search_tokens(text):
        queryset = queryset.filter(
            pk__in=PersonNameKey.objects.filter(key__prefix=token).values("person_id")
        )
    return queryset


def person_list(
    *,
    user,
    search: str = "",
    sex: str = "",
    territory: Territory | None = None,
    organisation: Organisation | None = None,
    archived: bool = False,
) -> QuerySet:
    people = Person.objects.visible_to(user)
    people = people.exclude(archived_at=None) if archived else people.filter(archived_at=None)
    if search:
        people = person_search(people, search)
    if sex:
        people = people.filter(sex=sex)
    if territory is not None:
        people = people.filter(residence__path__startswith=territory.path)
    if organisation is not None:
        people = people.filter(shares__organisation=organisation)
    return people.select_related("residence").order_by("-pk")


def group_list(*, user, search: str = "", kind: str = "", archived: bool = False) -> QuerySet:
    groups = Group.objects.visible_to(user)
    groups = groups.exclude(archived_at=None) if archived else groups.filter(archived_at=None)
    if search:
        groups = groups.filter(name__icontains=search.strip()[:100])
    if kind:
        groups = groups.filter(kind=kind)
    return groups.select_related("territory", "organisation").order_by("-pk")


def editing_organisations(user) -> QuerySet:
    """Organisations on whose behalf the user may register people."""
    scope = scope_for(user)
    if scope.is_operator:
        return Organisation.objects.active()
    return Organisation.objects.active().filter(pk__in=scope.editing_organisation_ids())
