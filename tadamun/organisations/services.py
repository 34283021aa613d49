"""Organisations and their networks."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tadamun.access.scope import scope_for
from tadamun.accounts.models import Role
from tadamun.core.errors import AccessDenied, DomainError

from .models import NetworkMembership, Organisation

ORGANISATION_FIELDS = frozenset(
    {"slug", "name", "short_name", "kind", "country", "territory", "time_zone"}
)


class OrganisationError(DomainError):
    pass


def _clean(instance, **kwargs) -> None:
    try:
        instance.full_clean(**kwargs)
    except ValidationError as error:
        raise OrganisationError(error.message_dict) from error


def _require_coordinator(user, organisation_id: int) -> None:
    if not scope_for(user).can_act_for(organisation_id, {Role.COORDINATOR}):
        raise AccessDenied(_("Only a coordinator of the network can do this."))


@transaction.atomic
def organisation_create(
    *,
    user,
    network: Organisation | None = None,
    role: str = "member",
    joined_on: datetime.date | None = None,
    **fields,
) -> Organisation:
    """Create an organisation; a coordinator creates it as a member of their network."""
    unknown = set(fields) - ORGANISATION_FIELDS
    if unknown:
        raise OrganisationError({f: _("This field cannot be set here.") for f in sorted(unknown)})
    scope = scope_for(user)
    if network is None and not scope.is_operator:
        raise AccessDenied({"network": _("Choose the network the organisation joins.")})
    if network is not None:
        _require_coordinator(user, network.pk)
    organisation = Organisation(**fields)
    if organisation.country:
        organisation.country = organisation.country.upper()
    _clean(organisation)
    organisation._history_user = user
    organisation.save()
    if network is not None:
        membership_add(
            user=user, network=network, member=organisation, joined_on=timezone.localdate()
        )
    return organisation


@transaction.atomic
def organisation_update(*, user, organisation: Organisation, **fields) -> Organisation:
    unknown = set(fields) - ORGANISATION_FIELDS - {"slug"}
    if unknown:
        raise OrganisationError({f: _("This field cannot be set here.") for f in sorted(unknown)})
    _require_coordinator(user, organisation.pk)
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    for name, value in fields.items():
        setattr(organisation, name, value)
    _clean(organisation)
    organisation._history_user = user
    organisation.save()
    return organisation


@transaction.atomic
def membership_add(
    *,
    user,
    network: Organisation,
    member: Organisation,
    role: str = "member",
    joined_on: datetime.date | None = None,
) -> NetworkMembership:
    _require_coordinator(user, network.pk)
    if network.pk == member.pk:
        raise OrganisationError({"member": _("A network cannot be a member of itself.")})
    if NetworkMembership.objects.filter(network=network, member=member).exists():
        raise OrganisationError({"member": _("This organisation is already a member.")})
    link = NetworkMembership(network=network, member=member, role=role, joined_on=joined_on)
    _clean(link, validate_constraints=False)
    link._history_user = user
    link.save()
    return link


@transaction.atomic
def membership_end(*, user, link: NetworkMembership, left_on: datetime.date | None = None):
    _require_coordinator(user, link.network_id)
    left_on = left_on or timezone.localdate()
    if link.joined_on and left_on < link.joined_on:
        raise OrganisationError({"left_on": _("An organisation cannot leave before joining.")})
    link.left_on = left_on
    link._history_user = user
    link.save()
    return link
