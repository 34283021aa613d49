"""Setting up programmes: who funds and runs them, where, when, with what budget."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tadamun.access.scope import scope_for
from tadamun.core.errors import AccessDenied, DomainError
from tadamun.core.money import currency_decimals, is_known_currency, quantize

from .models import Component, ParticipantRole, Programme, ProgrammeParticipant


class ProgrammeError(DomainError):
    pass


PROGRAMME_FIELDS = frozenset(
    {"code", "title", "description", "status", "start", "end", "budget", "currency"}
)


def _clean(programme: Programme) -> None:
    errors = {}
    try:
        programme.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        errors.update(error.message_dict)
    if programme.start and programme.end and programme.end < programme.start:
        errors.setdefault("end", []).append(_("The end comes before the start."))
    if programme.budget is not None and programme.budget < 0:
        errors.setdefault("budget", []).append(_("A budget cannot be negative."))
    if programme.currency:
        if is_known_currency(programme.currency):
            programme.currency = programme.currency.upper()
        else:
            errors.setdefault("currency", []).append(_("Unknown currency code."))
        if (
            programme.budget is not None
            and "currency" not in errors
            and quantize(programme.budget, programme.currency) != programme.budget
        ):
            errors.setdefault("budget", []).append(
                _("%(currency)s amounts have %(decimals)s decimals.")
                % {
                    "currency": programme.currency,
                    "decimals": currency_decimals(programme.currency),
                }
            )
    if errors:
        raise ProgrammeError(errors)


def _set_participants(programme: Programme, participants: dict[str, list]) -> None:
    for role, organisations in participants.items():
        programme.participants.filter(role=role).exclude(organisation__in=organisations).delete()
        for organisation in organisations:
            ProgrammeParticipant.objects.get_or_create(
                programme=programme, organisation=organisation, role=role
            )


@transaction.atomic
def programme_create(
    *,
    user,
    lead,
    funders=(),
    implementers=(),
    partners=(),
    territories=(),
    **fields,
) -> Programme:
    unknown = set(fields) - PROGRAMME_FIELDS
    if unknown:
        raise ProgrammeError({f: _("This field cannot be set here.") for f in sorted(unknown)})
    if not scope_for(user).can_edit_programmes_for(lead.pk):
        raise AccessDenied({"lead": _("Only a coordinator of the lead organisation can do this.")})
    programme = Programme(**fields)
    _clean(programme)
    if Programme.objects.unscoped().filter(code=programme.code).exists():
        raise ProgrammeError({"code": _("A programme with this code already exists.")})
    programme._history_user = user
    try:
        with transaction.atomic():
            programme.save()
    except IntegrityError:
        raise ProgrammeError({"code": _("A programme with this code already exists.")}) from None
    programme.territories.set(territories)
    _set_participants(
        programme,
        {
            ParticipantRole.LEAD: [lead],
            ParticipantRole.FUNDER: list(funders),
            ParticipantRole.IMPLEMENTER: list(implementers),
            ParticipantRole.PARTNER: list(partners),
        },
    )
    return programme


def _require_programme_rights(user, programme: Programme) -> Programme:
    try:
        programme = Programme.objects.visible_to(user).select_for_update().get(pk=programme.pk)
    except Programme.DoesNotExist:
        raise AccessDenied(_("This programme is not in your scope.")) from None
    scope = scope_for(user)
    leads = programme.participants.filter(role=ParticipantRole.LEAD).values_list(
        "organisation_id", flat=True
    )
    if not any(scope.can_edit_programmes_for(org_id) for org_id in leads):
        raise AccessDenied(_("Only a coordinator of the lead organisation can do this."))
    return programme


@transaction.atomic
def programme_update(
    *,
    user,
    programme: Programme,
    territories=None,
    funders=None,
    implementers=None,
    partners=None,
    **fields,
) -> Programme:
    unknown = set(fields) - PROGRAMME_FIELDS
    if unknown:
        raise ProgrammeError({f: _("This field cannot be set here.") for f in sorted(unknown)})
    programme = _require_programme_rights(user, programme)
    for name, value in fields.items():
        setattr(programme, name, value)
    _clean(programme)
    if Programme.objects.unscoped().filter(code=programme.code).exclude(pk=programme.pk).exists():
        raise ProgrammeError({"code": _("A programme with this code already exists.")})
    programme._history_user = user
    programme.save()
    if territories is not None:
        programme.territories.set(territories)
    changes = {
        role: list(orgs)
        for role, orgs in (
            (ParticipantRole.FUNDER, funders),
            (ParticipantRole.IMPLEMENTER, implementers),
            (ParticipantRole.PARTNER, partners),
        )
        if orgs is not None
    }
    _set_participants(programme, changes)
    return programme


@transaction.atomic
def programme_archive(*, user, programme: Programme, restore: bool = False) -> Programme:
    programme = _require_programme_rights(user, programme)
    programme.archived_at = None if restore else timezone.now()
    programme.archived_by = None if restore else user
    programme._history_user = user
    programme._change_reason = "restored" if restore else "archived"
    programme.save()
    return programme


@transaction.atomic
def component_add(*, user, programme: Programme, code: str, title, order: int = 0) -> Component:
    programme = _require_programme_rights(user, programme)
    if programme.components.filter(code=code).exists():
        raise ProgrammeError({"code": _("This programme already has a component with this code.")})
    component = Component(programme=programme, code=code, title=title, order=order)
    try:
        component.full_clean(exclude=["programme"], validate_constraints=False)
    except ValidationError as error:
        raise ProgrammeError(error.message_dict) from error
    component._history_user = user
    component.save()
    return component
