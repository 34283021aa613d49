"""Reads of the registry, always through the access layer."""

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from tadamun.access.scope import scope_for
from tadamun.accounts.models import Membership, Role
from tadamun.organisations.models import Organisation
from tadamun.territories.models import Territory

from .models import Group, Person, PersonLookupLog, PersonNameKey
from .names import search_tokens

# A word typed in the search box matches the people holding a name key that starts with it.
# Most words typed are whole names, and the keys starting with them are then a single one
# ("trabelsi"). Such a word is searched as that key, and the rarest one drives the query: the
# people holding it are read from the (key, person) index newest first, each checked for the
# other words on the same index, and reading stops once a page is full. The cost follows the
# rarest word and the page, not the size of the registry (a plain "id IN (people holding
# 'mohamed')" reads every one of them first). Words covering several keys ("tra") are checked
# per person by prefix; when no word is a single key, the plain semi-joins remain.
#
# The driving word is joined, not semi-joined: a person holds each key once (the services write
# a person's keys as a set), so the join yields each person once.
RARE_KEY = 1000  # holders counted to find the rarest word; beyond this, the longest drives


def _key_for(token: str) -> tuple[str | None, bool]:
    """A key starting with ``token`` (None if no key does), and whether it is the only one.
    Both queries seek in the (key, person) index."""
    keys = PersonNameKey.objects
    found = list(keys.filter(key__prefix=token).values_list("key", flat=True)[:1])
    if not found:
        return None, False
    key = found[0]
    # Words and keys are folded to lower-case ASCII letters and digits, so the keys starting
    # with a word sort from it to the word with its last letter moved one up.
    end = token[:-1] + chr(ord(token[-1]) + 1)
    others = keys.filter(
        Q(key__sorts_from=token, key__sorts_before=key)
        | Q(key__sorts_after=key, key__sorts_before=end)
    )
    return key, not others.exists()


def _driver(keys: list[str]) -> str:
    """The key to read people from: the one fewest people hold, then the longest.

    PostgreSQL keeps statistics per value and orders the join itself; SQLite's statistics
    hold averages only, so there the holders are counted (up to ``RARE_KEY``)."""
    if len(keys) == 1 or connection.vendor != "sqlite":
        return max(keys, key=len)
    holders = {key: PersonNameKey.objects.filter(key=key)[:RARE_KEY].count() for key in keys}
    return min(keys, key=lambda key: (holders[key], -len(key)))


def person_search(queryset: QuerySet, text: str) -> QuerySet:
    """People with a name token starting with each word typed, in any script or spelling,
    newest first."""
    tokens = list(dict.fromkeys(search_tokens(text)))
    exact: list[str] = []
    prefixes: list[str] = []
    for token in tokens:
        key, only = _key_for(token)
        if key is None:
            return queryset.none()
        if only:
            exact.append(key)
        else:
            prefixes.append(token)
    if not exact:
        for token in prefixes:
            queryset = queryset.filter(
                pk__in=PersonNameKey.objects.filter(key__prefix=token).values("person_id")
            )
        return queryset.order_by("-pk")
    driver = _driver(exact)
    # Checked against the driving key's row, so that they run before the person is read.
    person = OuterRef("name_keys__person_id")
    others = [
        Exists(PersonNameKey.objects.filter(person_id=person, key=key))
        for key in exact
        if key != driver
    ] + [
        Exists(PersonNameKey.objects.filter(person_id=person, key__prefix=token))
        for token in prefixes
    ]
    # One filter() call, so that the checks refer to the driving key's join; ordering by its
    # person column (equal to the id) lets the index give the order.
    return queryset.filter(Q(name_keys__key=driver), *others).order_by("-name_keys__person_id")


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
    if sex:
        people = people.filter(sex=sex)
    if territory is not None:
        people = people.filter(residence__path__startswith=territory.path)
    if organisation is not None:
        people = people.filter(shares__organisation=organisation)
    people = people.select_related("residence").order_by("-pk")
    # Newest first either way: a search orders by a column equal to the id.
    return person_search(people, search) if search else people


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


def person_lookup_log(*, user) -> QuerySet:
    """The registry lookups a coordinator may review: those made for an organisation of their
    network, or by someone working for one (the platform operator reviews all); newest first.
    Nobody else reviews any."""
    scope = scope_for(user)
    logs = PersonLookupLog.objects.select_related("user", "organisation").order_by("-at", "-pk")
    if scope.is_operator:
        return logs
    ids: set[int] = set()
    for grant in scope.grants_with({Role.COORDINATOR}):
        ids |= grant.organisation_ids
    if not ids:
        return logs.none()
    staff = Membership.objects.filter(organisation_id__in=ids).values("user_id")
    return logs.filter(Q(organisation_id__in=ids) | Q(user_id__in=staff))


def may_review_lookups(user) -> bool:
    scope = scope_for(user)
    return scope.is_operator or bool(scope.grants_with({Role.COORDINATOR}))
