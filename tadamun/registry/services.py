"""Registering and changing people, groups and consents.

Every page, API call, import and task changes the registry through these functions: they
check the caller's rights through the access layer, validate, write in one transaction and
leave an audit entry naming the user.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from tadamun.access.scope import scope_for
from tadamun.accounts.models import ROLES_EDITING_PEOPLE
from tadamun.core.errors import AccessDenied, DomainError
from tadamun.core.validators import validate_name
from tadamun.matching.keys import PersonRecord, match_keys
from tadamun.organisations.models import Organisation

from .models import (
    Consent,
    Group,
    GroupMember,
    Person,
    PersonLookupLog,
    PersonMatchKey,
    PersonNameKey,
    PersonShare,
    ShareReason,
)
from .names import name_keys, transliterate


class RegistryError(DomainError):
    pass


PERSON_FIELDS = frozenset(
    {
        "given_name",
        "family_name",
        "given_name_latin",
        "family_name_latin",
        "sex",
        "birth_date",
        "birth_year",
        "phone",
        "email",
        "address",
        "document_type",
        "document_number",
        "residence",
        "languages",
    }
)
_NULLABLE = frozenset({"birth_date", "birth_year", "residence"})
GROUP_FIELDS = frozenset({"name", "kind", "territory"})


def _check_fields(fields: dict, allowed: frozenset) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise RegistryError({name: _("This field cannot be set here.") for name in sorted(unknown)})


def validate_birth(person: Person) -> None:
    """The dates of birth are plausible and agree; fills the year from the date."""
    today = timezone.localdate()
    errors = {}
    if person.birth_date and person.birth_date > today:
        errors["birth_date"] = _("The date of birth cannot be in the future.")
    elif person.birth_date and person.birth_date.year < 1900:
        errors["birth_date"] = _("The date of birth must be after 1900.")
    if person.birth_year and not (1900 <= person.birth_year <= today.year):
        errors["birth_year"] = _("The year of birth must be between 1900 and this year.")
    if (
        person.birth_date
        and person.birth_year
        and person.birth_year != person.birth_date.year
        and "birth_date" not in errors
    ):
        errors["birth_year"] = _("The year of birth does not match the date of birth.")
    if errors:
        raise RegistryError(errors)
    if person.birth_date:
        person.birth_year = person.birth_date.year


def _validate_languages(person: Person) -> None:
    value = person.languages
    if not isinstance(value, list) or not all(
        isinstance(v, str) and 2 <= len(v) <= 8 and v.replace("-", "").isalpha() for v in value
    ):
        raise RegistryError({"languages": _("Give languages as a list of codes such as ar, fr.")})
    person.languages = sorted({v.lower() for v in value})


def _full_clean(instance, exclude=None) -> None:
    # Related records arrive as instances already fetched (through the access layer where it
    # matters), so they are not looked up again one query per field.
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise RegistryError(error.message_dict) from error


def _refresh_name_keys(person: Person) -> None:
    PersonNameKey.objects.filter(person=person).delete()
    PersonNameKey.objects.bulk_create(
        PersonNameKey(person=person, key=key)
        for key in sorted(
            name_keys(
                person.given_name,
                person.family_name,
                person.given_name_latin,
                person.family_name_latin,
            )
        )
    )


def _match_key_rows(person: Person) -> list[PersonMatchKey]:
    return [
        PersonMatchKey(person=person, key=key)
        for key in sorted(match_keys(PersonRecord.from_person(person)))
    ]


def _refresh_match_keys(person: Person) -> None:
    """The keys of the duplicate check (names in any script, birth), written again: they
    depend on the names and on the date and year of birth."""
    PersonMatchKey.objects.filter(person=person).delete()
    PersonMatchKey.objects.bulk_create(_match_key_rows(person))


def _require_edit_rights(user, organisation_id: int, territory_id: int | None) -> None:
    scope = scope_for(user)
    if scope.can_edit_people_for(organisation_id, territory_id):
        return
    if any(organisation_id in g.organisation_ids for g in scope.grants_with(ROLES_EDITING_PEOPLE)):
        # The role covers the organisation, only not where the person lives.
        raise AccessDenied(
            {
                "residence": _(
                    "Your role is limited to a territory: choose a place of residence inside it."
                )
            }
        )
    raise AccessDenied(_("Your role does not allow registering or changing people here."))


def _visible_person(user, person: Person) -> Person:
    """The person re-read through the access layer, locked for the change."""
    try:
        return Person.objects.visible_to(user).select_for_update().get(pk=person.pk)
    except Person.DoesNotExist:
        raise AccessDenied(_("This person is not in your scope.")) from None


def _editing_organisation(user, person: Person) -> int:
    """The organisation on whose behalf the user may change this person, or refuse."""
    scope = scope_for(user)
    holders = list(person.shares.values_list("organisation_id", flat=True))
    for organisation_id in [person.organisation_id, *holders]:
        if scope.can_edit_people_for(organisation_id, person.residence_id):
            return organisation_id
    raise AccessDenied(_("Your role does not allow changing this person."))


def _apply(person: Person, fields: dict) -> None:
    for name, value in fields.items():
        if value is None and name not in _NULLABLE:
            value = [] if name == "languages" else ""
        setattr(person, name, value)
    if not person.given_name_latin:
        person.given_name_latin = _machine_latin(person.given_name, "given_name_latin")
    if not person.family_name_latin:
        person.family_name_latin = _machine_latin(person.family_name, "family_name_latin")


def _machine_latin(name: str, field: str) -> str:
    """The name spelt in Latin letters by machine, when that makes a valid value; otherwise
    nothing (a person types it): a valid name is never refused for its spelling."""
    value = transliterate(name)[: Person._meta.get_field(field).max_length].strip()
    try:
        validate_name(value)
    except ValidationError:
        return ""
    return value


@transaction.atomic
def person_register(*, user, organisation: Organisation, **fields) -> Person:
    """Register a person on behalf of ``organisation``, which then holds the record."""
    _check_fields(fields, PERSON_FIELDS)
    person = Person(organisation=organisation)
    _apply(person, fields)
    _full_clean(person, exclude=["organisation", "residence"])
    validate_birth(person)
    _validate_languages(person)
    _require_edit_rights(user, organisation.pk, person.residence_id)
    person._history_user = user
    person._change_reason = "registered"
    person.save()
    PersonShare.objects.create(
        person=person, organisation=organisation, reason=ShareReason.REGISTERED
    )
    _refresh_name_keys(person)
    _refresh_match_keys(person)
    return person


@transaction.atomic
def person_bulk_register(*, user, rows: list[dict], reason: str = "imported") -> list[Person]:
    """Register many people at once, all or none: every row is checked first, and the
    error names the row (counting from 1) and the field.

    Each row holds the person's fields and the ``organisation`` registering them.
    """
    people = person_bulk_validate(user=user, rows=rows)
    return person_bulk_write(user=user, people=people, reason=reason)


def person_bulk_validate(*, user, rows: list[dict], numbers=None) -> list[Person]:
    """Check rows as ``person_bulk_register`` does, without writing: the people to write, or
    a RegistryError keyed "<row>:<field>" for every bad row. ``numbers`` labels the rows (an
    import names the file's own row numbers); by default they count from 1."""
    scope = scope_for(user)
    people: list[Person] = []
    errors: dict[str, list] = {}
    labelled = enumerate(rows, start=1) if numbers is None else zip(numbers, rows, strict=True)
    for number, row in labelled:
        row = dict(row)
        organisation = row.pop("organisation", None)
        try:
            _check_fields(row, PERSON_FIELDS)
            if organisation is None:
                raise RegistryError({"organisation": _("This field is required.")})
            person = Person(organisation=organisation)
            _apply(person, row)
            _full_clean(person, exclude=["organisation", "residence"])
            validate_birth(person)
            _validate_languages(person)
            if not scope.can_edit_people_for(organisation.pk, person.residence_id):
                raise AccessDenied(
                    {"organisation": _("Your role does not allow registering people here.")}
                )
        except DomainError as error:
            for field, messages in error.message_dict.items():
                errors.setdefault(f"{number}:{field}", []).extend(messages)
            continue
        people.append(person)
    if errors:
        raise RegistryError(errors)
    return people


@transaction.atomic
def person_bulk_write(*, user, people: list[Person], reason: str = "imported") -> list[Person]:
    """Write people returned by ``person_bulk_validate``, with the organisation holding each
    record, their name and match keys and an audit entry naming the user."""
    people = bulk_create_with_history(
        people, Person, batch_size=500, default_user=user, default_change_reason=reason
    )
    PersonShare.objects.bulk_create(
        (
            PersonShare(person=p, organisation_id=p.organisation_id, reason=ShareReason.REGISTERED)
            for p in people
        ),
        batch_size=1000,
    )
    PersonNameKey.objects.bulk_create(
        (
            PersonNameKey(person=p, key=key)
            for p in people
            for key in sorted(
                name_keys(p.given_name, p.family_name, p.given_name_latin, p.family_name_latin)
            )
        ),
        batch_size=2000,
    )
    PersonMatchKey.objects.bulk_create(
        (key for p in people for key in _match_key_rows(p)), batch_size=2000
    )
    return people


@transaction.atomic
def person_update(*, user, person: Person, **fields) -> Person:
    _check_fields(fields, PERSON_FIELDS)
    person = _visible_person(user, person)
    if person.is_archived:
        raise RegistryError(_("An archived record cannot be changed; restore it first."))
    _editing_organisation(user, person)
    _apply(person, fields)
    _full_clean(person)
    validate_birth(person)
    _validate_languages(person)
    # The new residence must stay inside the user's territory, or the record would vanish.
    _editing_organisation(user, person)
    person._history_user = user
    person._change_reason = "updated"
    person.save()
    _refresh_name_keys(person)
    _refresh_match_keys(person)
    return person


# One log row per user and minute: the desk's lookup runs at every pause in typing, and a row
# per keystroke would say no more about who searched the registry, only more often.
LOOKUP_LOG_WINDOW = datetime.timedelta(minutes=1)


def _home_organisation(user) -> int | None:
    """The organisation a user registers people for, when there is one only."""
    scope = scope_for(user)
    own = {g.organisation_id for g in scope.grants_with(ROLES_EDITING_PEOPLE)}
    return own.pop() if len(own) == 1 else None


@transaction.atomic
def person_lookup_record(
    *, user, shown: int, hidden: int, organisation: Organisation | None = None
) -> PersonLookupLog:
    """Note that ``user`` looked the whole registry up for possible duplicates
    (``tadamun.matching.lookup.person_candidates``): who, when, for which organisation, and
    how many candidates were shown and how many only mentioned (other organisations' records).
    Nothing typed and nobody found is kept. Lookups by the same user within
    ``LOOKUP_LOG_WINDOW`` of the row's first one add to that row: its count of lookups grows
    and it keeps the most candidates one lookup answered."""
    if shown < 0 or hidden < 0:
        raise RegistryError(_("A count of candidates cannot be negative."))
    now = timezone.now()
    organisation_id = organisation.pk if organisation is not None else _home_organisation(user)
    latest = (
        PersonLookupLog.objects.select_for_update()
        .filter(user=user, organisation_id=organisation_id, at__gt=now - LOOKUP_LOG_WINDOW)
        .order_by("-at", "-pk")
        .first()
    )
    if latest is None:
        return PersonLookupLog.objects.create(
            user=user, organisation_id=organisation_id, at=now, shown=shown, hidden=hidden
        )
    PersonLookupLog.objects.filter(pk=latest.pk).update(
        lookups=F("lookups") + 1,
        shown=Greatest(F("shown"), shown),
        hidden=Greatest(F("hidden"), hidden),
    )
    latest.refresh_from_db()
    return latest


@transaction.atomic
def person_archive(*, user, person: Person) -> Person:
    person = _visible_person(user, person)
    _editing_organisation(user, person)
    if person.is_archived:
        return person
    person.archived_at = timezone.now()
    person.archived_by = user
    person._history_user = user
    person._change_reason = "archived"
    person.save(update_fields=["archived_at", "archived_by", "updated_at"])
    return person


@transaction.atomic
def person_restore(*, user, person: Person) -> Person:
    person = _visible_person(user, person)
    _editing_organisation(user, person)
    if not person.is_archived:
        return person
    person.archived_at = None
    person.archived_by = None
    person._history_user = user
    person._change_reason = "restored"
    person.save(update_fields=["archived_at", "archived_by", "updated_at"])
    return person


@transaction.atomic
def consent_record(
    *,
    user,
    person: Person,
    purpose: str,
    lawful_basis: str,
    given_on: datetime.date,
    note: str = "",
) -> Consent:
    person = _visible_person(user, person)
    organisation_id = _editing_organisation(user, person)
    if given_on > timezone.localdate():
        raise RegistryError({"given_on": _("A consent cannot be dated in the future.")})
    consent = Consent(
        person=person,
        purpose=purpose,
        lawful_basis=lawful_basis,
        given_on=given_on,
        note=note,
        organisation_id=organisation_id,
        recorded_by=user,
    )
    _full_clean(consent)
    consent._history_user = user
    consent._change_reason = "recorded"
    consent.save()
    return consent


@transaction.atomic
def consent_withdraw(
    *, user, consent: Consent, withdrawn_on: datetime.date | None = None
) -> Consent:
    person = _visible_person(user, consent.person)
    _editing_organisation(user, person)
    consent = Consent.objects.select_for_update().get(pk=consent.pk, person=person)
    if consent.withdrawn_on:
        raise RegistryError(_("This consent has already been withdrawn."))
    withdrawn_on = withdrawn_on or timezone.localdate()
    if withdrawn_on < consent.given_on:
        raise RegistryError(
            {"withdrawn_on": _("A consent cannot be withdrawn before it was given.")}
        )
    consent.withdrawn_on = withdrawn_on
    consent.withdrawn_by = user
    consent._history_user = user
    consent._change_reason = "withdrawn"
    consent.save()
    return consent


def _require_group_rights(user, group: Group) -> None:
    if not scope_for(user).can_edit_people_for(group.organisation_id, group.territory_id):
        raise AccessDenied(_("Your role does not allow changing this group."))


def _visible_group(user, group: Group) -> Group:
    try:
        return Group.objects.visible_to(user).select_for_update().get(pk=group.pk)
    except Group.DoesNotExist:
        raise AccessDenied(_("This group is not in your scope.")) from None


@transaction.atomic
def group_create(*, user, organisation: Organisation, **fields) -> Group:
    _check_fields(fields, GROUP_FIELDS)
    group = Group(organisation=organisation, **fields)
    _full_clean(group)
    _require_group_rights(user, group)
    group._history_user = user
    group._change_reason = "created"
    group.save()
    return group


@transaction.atomic
def group_update(*, user, group: Group, **fields) -> Group:
    _check_fields(fields, GROUP_FIELDS)
    group = _visible_group(user, group)
    _require_group_rights(user, group)
    for name, value in fields.items():
        setattr(group, name, value)
    _full_clean(group)
    _require_group_rights(user, group)
    group._history_user = user
    group._change_reason = "updated"
    group.save()
    return group


@transaction.atomic
def group_archive(*, user, group: Group, restore: bool = False) -> Group:
    group = _visible_group(user, group)
    _require_group_rights(user, group)
    group.archived_at = None if restore else timezone.now()
    group.archived_by = None if restore else user
    group._history_user = user
    group._change_reason = "restored" if restore else "archived"
    group.save()
    return group


@transaction.atomic
def group_member_add(
    *,
    user,
    group: Group,
    person: Person,
    role: str,
    share: Decimal | None = None,
    joined_on: datetime.date | None = None,
) -> GroupMember:
    group = _visible_group(user, group)
    _require_group_rights(user, group)
    if not Person.objects.visible_to(user).filter(pk=person.pk).exists():
        raise AccessDenied({"person": _("This person is not in your scope.")})
    if group.members.filter(person=person, left_on__isnull=True).exists():
        raise RegistryError({"person": _("This person is already a member of the group.")})
    member = GroupMember(group=group, person=person, role=role, share=share, joined_on=joined_on)
    _full_clean(member)
    if share is not None:
        # The database's check would refuse it too, but as an error, not as a message.
        try:
            MinValueValidator(0)(share)
            MaxValueValidator(100)(share)
        except ValidationError as error:
            raise RegistryError({"share": error.messages}) from None
        current = sum((m.share or Decimal(0)) for m in group.members.filter(left_on__isnull=True))
        if current + share > 100:
            raise RegistryError({"share": _("The members' shares would add up to more than 100%.")})
    member._history_user = user
    member._change_reason = "joined"
    member.save()
    return member


@transaction.atomic
def group_member_remove(
    *, user, member: GroupMember, left_on: datetime.date | None = None
) -> GroupMember:
    group = _visible_group(user, member.group)
    _require_group_rights(user, group)
    member = GroupMember.objects.select_for_update().get(pk=member.pk, group=group)
    if not Person.objects.visible_to(user).filter(pk=member.person_id).exists():
        raise AccessDenied({"person": _("This person is not in your scope.")})
    left_on = left_on or timezone.localdate()
    if member.joined_on and left_on < member.joined_on:
        raise RegistryError({"left_on": _("A member cannot leave before joining.")})
    member.left_on = left_on
    member._history_user = user
    member._change_reason = "left"
    member.save()
    return member
