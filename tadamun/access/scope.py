"""Who may see what: a user's scope, computed once per request from their roles.

A user works for one or more organisations, each time with a role and optionally a territory.
Each such role becomes a *grant*: the organisations whose records it opens and, when the role
is limited to a territory, the territories (the one named and everything below it) it opens.
A network coordinator's grant opens the network and every current member of it.
"""

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from tadamun.accounts.models import ROLES_EDITING_PEOPLE, ROLES_EDITING_PROGRAMMES, Role
from tadamun.organisations.models import NetworkMembership
from tadamun.territories.models import Territory


@dataclass(frozen=True)
class Grant:
    role: str
    organisation_id: int
    organisation_ids: frozenset[int]
    territory_ids: frozenset[int] | None  # None: not limited to a territory

    def territory_q(self, field: str) -> Q:
        """The condition that ``field`` (a territory id) lies inside this grant's territory;
        no condition when the grant is not limited to one."""
        if self.territory_ids is None:
            return Q()
        return Q(**{f"{field}__in": self.territory_ids})

    def covers_territory(self, territory_id: int | None) -> bool:
        if self.territory_ids is None:
            return True
        return territory_id is not None and territory_id in self.territory_ids


@dataclass(frozen=True)
class Scope:
    user_id: int | None
    is_operator: bool = False  # the platform operator (superuser) sees everything
    grants: tuple[Grant, ...] = field(default_factory=tuple)

    @property
    def organisation_ids(self) -> frozenset[int]:
        ids: set[int] = set()
        for grant in self.grants:
            ids |= grant.organisation_ids
        return frozenset(ids)

    def grants_with(self, roles: Iterable[str]) -> list[Grant]:
        roles = set(roles)
        return [g for g in self.grants if g.role in roles]

    def can_act_for(
        self, organisation_id: int, roles: Iterable[str], territory_id: int | None = None
    ) -> bool:
        """Whether a grant with one of ``roles`` opens this organisation (and territory)."""
        if self.is_operator:
            return True
        return any(
            organisation_id in g.organisation_ids and g.covers_territory(territory_id)
            for g in self.grants_with(roles)
        )

    def can_edit_people_for(self, organisation_id: int, territory_id: int | None = None) -> bool:
        return self.can_act_for(organisation_id, ROLES_EDITING_PEOPLE, territory_id)

    def can_edit_programmes_for(self, organisation_id: int) -> bool:
        return self.can_act_for(organisation_id, ROLES_EDITING_PROGRAMMES)

    def editing_organisation_ids(self) -> frozenset[int]:
        ids: set[int] = set()
        for grant in self.grants_with(ROLES_EDITING_PEOPLE):
            ids |= grant.organisation_ids
        return frozenset(ids)

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(g.role for g in self.grants)


def _network_members(network_id: int, seen: set[int]) -> set[int]:
    """Current members of a network, and of networks that are members of it."""
    members = set(
        NetworkMembership.objects.filter(network_id=network_id, left_on__isnull=True).values_list(
            "member_id", flat=True
        )
    )
    for member_id in members - seen:
        seen.add(member_id)
        members |= _network_members(member_id, seen)
    return members


def compute_scope(user) -> Scope:
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return Scope(user_id=None)
    if user.is_superuser:
        return Scope(user_id=user.pk, is_operator=True)
    grants = []
    for membership in user.memberships.filter(is_active=True).select_related("territory"):
        org_ids = {membership.organisation_id}
        if membership.role == Role.COORDINATOR:
            org_ids |= _network_members(membership.organisation_id, {membership.organisation_id})
        territory_ids = None
        if membership.territory_id:
            territory_ids = frozenset(
                Territory.objects.within(membership.territory).values_list("pk", flat=True)
            )
        grants.append(
            Grant(
                role=membership.role,
                organisation_id=membership.organisation_id,
                organisation_ids=frozenset(org_ids),
                territory_ids=territory_ids,
            )
        )
    return Scope(user_id=user.pk, grants=tuple(grants))


def scope_for(user) -> Scope:
    """The user's scope, computed once and kept on the user object for the request."""
    if user is None:
        return Scope(user_id=None)
    cached = getattr(user, "_tadamun_scope", None)
    if cached is None:
        cached = compute_scope(user)
        with contextlib.suppress(AttributeError):  # objects that refuse new attributes
            user._tadamun_scope = cached
    return cached


def forget_scope(user) -> None:
    """Drop the cached scope after the user's roles changed."""
    if hasattr(user, "_tadamun_scope"):
        del user._tadamun_scope
