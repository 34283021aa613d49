"""Every change to cases goes through these functions: pages, API, imports and tasks alike.

Each re-reads what it changes through the access layer, checks the caller's role, validates,
writes in one transaction and leaves an audit entry naming the user.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tadamun.access.scope import scope_for
from tadamun.accounts.models import Membership
from tadamun.core.dates import add_months
from tadamun.core.errors import AccessDenied, Conflict, DomainError
from tadamun.organisations.models import networks_of
from tadamun.registry.models import (
    Consent,
    ConsentPurpose,
    Person,
    PersonShare,
    ShareReason,
)

from .models import (
    ROLES_AT_DESK,
    ROLES_READING_HEALTH,
    ROLES_WORKING_CASES,
    ActionStatus,
    Case,
    CaseNote,
    CaseStatus,
    Confidentiality,
    Desk,
    Diagnosis,
    DiagnosisLevel,
    FollowUp,
    Intake,
    PathwayAction,
    Referral,
    ReferralStatus,
)

FOLLOW_UP_MONTHS = (6, 12)
SHARING_PURPOSES = (ConsentPurpose.REFERRAL, ConsentPurpose.NETWORK_SHARING)


class CaseError(DomainError):
    pass


def _clean(instance, exclude=None) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise CaseError(error.message_dict) from error


def _visible_person(user, person: Person) -> Person:
    try:
        return Person.objects.visible_to(user).get(pk=person.pk)
    except Person.DoesNotExist:
        raise AccessDenied({"person": _("This person is not in your scope.")}) from None


def _case_for_change(user, case: Case, version: int | None = None, roles=ROLES_WORKING_CASES):
    """The case re-read through the access layer and locked; refused if the user's role may
    not change it, or if someone saved it since the user loaded ``version``."""
    try:
        locked = Case.objects.visible_to(user).select_for_update().get(pk=case.pk)
    except Case.DoesNotExist:
        raise AccessDenied(_("This case is not in your scope.")) from None
    residence = (
        Person.objects.unscoped()
        .filter(pk=locked.person_id)
        .values_list("residence_id", flat=True)[0]
    )
    if not scope_for(user).can_act_for(locked.organisation_id, roles, residence):
        raise AccessDenied(_("Your role does not allow changing this case."))
    if version is not None and version != locked.version:
        raise Conflict(
            _(
                "Someone else changed this case since you opened it. Reload the page: your "
                "changes were not saved."
            )
        )
    if locked.is_archived:
        raise CaseError(_("An archived record cannot be changed; restore it first."))
    return locked


def _touch(case: Case, user, reason: str) -> None:
    case.version += 1
    case._history_user = user
    case._change_reason = reason
    case.save(
        update_fields=[
            "version",
            "updated_at",
            "status",
            "closed_on",
            "outcome",
            "closure_reason",
            "tutor",
        ]
    )


def case_networks(case: Case) -> set[int]:
    """The lead organisation and the networks it belongs to: whose desks, diagnosis
    dimensions and kinds of action the case uses."""
    return networks_of(case.organisation_id)


def _refuse_second_open_case(person_id: int, organisation_id: int, case_id=None) -> None:
    if (
        Case.objects.unscoped()
        .filter(
            person_id=person_id,
            organisation_id=organisation_id,
            status=CaseStatus.OPEN,
            archived_at=None,
        )
        .exclude(pk=case_id)
        .exists()
    ):
        raise CaseError(
            {"person": _("This person already has an open case with this organisation.")}
        )


def _share_with(user, person: Person, organisation_id: int, reason: str) -> None:
    """Let the organisation hold the person's record, with an audit entry naming the user."""
    if not PersonShare.objects.filter(person=person, organisation_id=organisation_id).exists():
        share = PersonShare(person=person, organisation_id=organisation_id, reason=reason)
        share._history_user = user
        share.save()


def can_read_health(user, case: Case) -> bool:
    return scope_for(user).can_act_for(case.organisation_id, ROLES_READING_HEALTH)


@transaction.atomic
def intake_record(
    *,
    user,
    person: Person,
    desk: Desk,
    reason: str = "",
    occurred_at: datetime.datetime | None = None,
) -> Intake:
    """Record that a person came to a desk (or called, or was sent by a territorial table)."""
    person = _visible_person(user, person)
    if not scope_for(user).can_act_for(desk.organisation_id, ROLES_AT_DESK):
        raise AccessDenied({"desk": _("You do not work at this desk.")})
    if occurred_at and occurred_at > timezone.now() + datetime.timedelta(minutes=5):
        raise CaseError({"occurred_at": _("A visit cannot be in the future.")})
    intake = Intake(
        person=person,
        desk=desk,
        organisation_id=desk.organisation_id,
        reason=reason,
        occurred_at=occurred_at or timezone.now(),
        recorded_by=user,
    )
    _clean(intake, exclude=["person", "desk", "organisation", "case", "recorded_by"])
    intake._history_user = user
    intake.save()
    return intake


@transaction.atomic
def case_open(
    *,
    user,
    person: Person,
    organisation,
    desk: Desk | None = None,
    tutor=None,
    opened_on: datetime.date | None = None,
    intake: Intake | None = None,
) -> Case:
    person = _visible_person(user, person)
    scope = scope_for(user)
    if not scope.can_act_for(organisation.pk, ROLES_WORKING_CASES, person.residence_id):
        raise AccessDenied(
            {"organisation": _("Your role does not allow opening cases for this organisation.")}
        )
    opened_on = opened_on or timezone.localdate()
    if opened_on > timezone.localdate():
        raise CaseError({"opened_on": _("A case cannot be opened in the future.")})
    if (
        tutor is not None
        and not Membership.objects.filter(
            user=tutor, organisation=organisation, is_active=True
        ).exists()
    ):
        raise CaseError({"tutor": _("The tutor must work for the lead organisation.")})
    if desk is not None and desk.network_id not in networks_of(organisation.pk):
        raise CaseError({"desk": _("This desk belongs to another network.")})
    _refuse_second_open_case(person.pk, organisation.pk)
    case = Case(
        person=person, organisation=organisation, desk=desk, tutor=tutor, opened_on=opened_on
    )
    case._history_user = user
    case._change_reason = "opened"
    case.save()
    _share_with(user, person, organisation.pk, ShareReason.SHARED)
    if intake is not None:
        Intake.objects.filter(pk=intake.pk, person=person).update(case=case)
    return case


@transaction.atomic
def case_assign_tutor(*, user, case: Case, tutor, version: int | None = None) -> Case:
    case = _case_for_change(user, case, version)
    if (
        tutor is not None
        and not Membership.objects.filter(
            user=tutor, organisation_id=case.organisation_id, is_active=True
        ).exists()
    ):
        raise CaseError({"tutor": _("The tutor must work for the lead organisation.")})
    case.tutor = tutor
    _touch(case, user, "tutor")
    return case


@transaction.atomic
def diagnosis_record(
    *,
    user,
    case: Case,
    diagnosed_on: datetime.date,
    levels: dict,
    summary: str = "",
    version: int | None = None,
) -> Diagnosis:
    """``levels`` maps a DiagnosisDimension to ``(level, note)``."""
    case = _case_for_change(user, case, version)
    if diagnosed_on > timezone.localdate():
        raise CaseError({"diagnosed_on": _("A diagnosis cannot be dated in the future.")})
    if diagnosed_on < case.opened_on:
        raise CaseError({"diagnosed_on": _("A diagnosis cannot come before the case was opened.")})
    if not levels:
        raise CaseError({"levels": _("Give a level for at least one dimension.")})
    health = can_read_health(user, case)
    networks = case_networks(case)
    for dimension in levels:
        if dimension.network_id not in networks:
            raise CaseError({"levels": _("This dimension belongs to another network.")})
        if dimension.is_health and not health:
            raise AccessDenied(
                {"levels": _("Your role does not allow recording health information.")}
            )
    diagnosis = Diagnosis(case=case, diagnosed_on=diagnosed_on, diagnosed_by=user, summary=summary)
    _clean(diagnosis, exclude=["case", "diagnosed_by"])
    diagnosis._history_user = user
    diagnosis.save()
    for dimension, (level, note) in levels.items():
        row = DiagnosisLevel(diagnosis=diagnosis, dimension=dimension, level=level, note=note)
        _clean(row, exclude=["diagnosis", "dimension"])
        row.save()
    _touch(case, user, "diagnosed")
    return diagnosis


ACTION_FIELDS = frozenset(
    {
        "status",
        "start",
        "end",
        "extended_until",
        "responsible",
        "host",
        "monthly_stipend",
        "currency",
        "contract_type",
        "outcome",
    }
)


def _validate_action(action: PathwayAction) -> None:
    errors = {}
    if action.start and action.end and action.end < action.start:
        errors["end"] = _("The end comes before the start.")
    if action.extended_until and action.end and action.extended_until <= action.end:
        errors["extended_until"] = _("An extension must end after the planned end.")
    if action.monthly_stipend is not None and action.monthly_stipend < 0:
        errors["monthly_stipend"] = _("A stipend cannot be negative.")
    if action.status in (ActionStatus.ONGOING, ActionStatus.COMPLETED) and not action.start:
        errors["start"] = _("An action that has started needs its start date.")
    if action.start and action.start < action.case.opened_on:
        errors["start"] = _("An action cannot start before the case was opened.")
    if errors:
        raise CaseError(errors)


@transaction.atomic
def action_add(
    *, user, case: Case, action_type, responsible, version: int | None = None, **fields
) -> PathwayAction:
    unknown = set(fields) - ACTION_FIELDS
    if unknown:
        raise CaseError({f: _("This field cannot be set here.") for f in sorted(unknown)})
    case = _case_for_change(user, case, version)
    if case.status != CaseStatus.OPEN:
        raise CaseError(_("The case is closed; reopen it to plan new actions."))
    if action_type.is_health and not can_read_health(user, case):
        raise AccessDenied({"action_type": _("Your role does not allow planning care pathways.")})
    if action_type.network_id not in case_networks(case):
        raise CaseError({"action_type": _("This kind of action belongs to another network.")})
    action = PathwayAction(case=case, action_type=action_type, responsible=responsible, **fields)
    if action.start and not action.end and action_type.default_months:
        action.end = add_months(action.start, action_type.default_months)
    _clean(action, exclude=["case", "action_type", "responsible", "host"])
    _validate_action(action)
    action._history_user = user
    action.save()
    _touch(case, user, "action planned")
    return action


@transaction.atomic
def action_update(
    *, user, action: PathwayAction, version: int | None = None, **fields
) -> PathwayAction:
    unknown = set(fields) - ACTION_FIELDS
    if unknown:
        raise CaseError({f: _("This field cannot be set here.") for f in sorted(unknown)})
    case = _case_for_change(user, action.case, version)
    action = PathwayAction.objects.select_for_update().get(pk=action.pk, case=case)
    if action.action_type.is_health and not can_read_health(user, case):
        raise AccessDenied(_("Your role does not allow changing care pathways."))
    for name, value in fields.items():
        setattr(action, name, value)
    _clean(action, exclude=["case", "action_type", "responsible", "host"])
    _validate_action(action)
    action._history_user = user
    action.save()
    _touch(case, user, "action changed")
    return action


@transaction.atomic
def note_add(
    *, user, case: Case, body: str, confidentiality: str = Confidentiality.STANDARD
) -> CaseNote:
    case = _case_for_change(user, case, roles=ROLES_AT_DESK)
    if confidentiality != Confidentiality.STANDARD and not can_read_health(user, case):
        raise AccessDenied(
            {"confidentiality": _("Your role does not allow writing notes at this level.")}
        )
    note = CaseNote(case=case, body=body, confidentiality=confidentiality, author=user)
    _clean(note, exclude=["case", "author"])
    note._history_user = user
    note.save()
    return note


def sharing_consent(person: Person) -> Consent | None:
    """The person's active consent to share their record with partners, if any."""
    return (
        person.consents.filter(purpose__in=SHARING_PURPOSES, withdrawn_on__isnull=True)
        .order_by("-given_on")
        .first()
    )


@transaction.atomic
def referral_send(
    *,
    user,
    case: Case,
    to_organisation,
    message: str,
    deadline: datetime.date,
    action: PathwayAction | None = None,
) -> Referral:
    """Send a case, or one of its actions, to a partner organisation.

    Refused without an active consent to share: the partner would otherwise learn about a
    person who did not agree to it."""
    case = _case_for_change(user, case)
    if case.status != CaseStatus.OPEN:
        raise CaseError(_("The case is closed."))
    if to_organisation.pk == case.organisation_id:
        raise CaseError(
            {"to_organisation": _("Choose another organisation than the one leading the case.")}
        )
    if deadline < timezone.localdate():
        raise CaseError({"deadline": _("The answer cannot be expected in the past.")})
    if action is not None and action.case_id != case.pk:
        raise CaseError({"action": _("This action belongs to another case.")})
    if action is not None and action.action_type.is_health and not can_read_health(user, case):
        raise AccessDenied({"action": _("Your role does not allow referring care pathways.")})
    consent = sharing_consent(case.person)
    if consent is None:
        raise CaseError(
            {
                "to_organisation": _(
                    "The person has not consented to their record being shared with partners. "
                    "Record their consent (purpose: referral) before referring them."
                )
            }
        )
    if (
        Referral.objects.unscoped()
        .filter(
            case=case, to_organisation=to_organisation, action=action, status=ReferralStatus.SENT
        )
        .exists()
    ):
        raise CaseError(
            {"to_organisation": _("A referral to this organisation is already awaiting an answer.")}
        )
    referral = Referral(
        case=case,
        action=action,
        from_organisation_id=case.organisation_id,
        to_organisation=to_organisation,
        consent=consent,
        message=message,
        deadline=deadline,
        sent_by=user,
    )
    _clean(
        referral,
        exclude=["case", "action", "from_organisation", "to_organisation", "consent", "sent_by"],
    )
    referral._history_user = user
    referral.save()
    _touch(case, user, "referred")
    return referral


_REFERRAL_RELATIONS = [
    "case",
    "action",
    "from_organisation",
    "to_organisation",
    "consent",
    "sent_by",
    "answered_by",
]


def _referral_for_partner(user, referral: Referral) -> Referral:
    try:
        referral = Referral.objects.visible_to(user).select_for_update().get(pk=referral.pk)
    except Referral.DoesNotExist:
        raise AccessDenied(_("This referral is not in your scope.")) from None
    if not scope_for(user).can_act_for(referral.to_organisation_id, ROLES_AT_DESK):
        raise AccessDenied(_("Only the partner receiving the referral can answer it."))
    return referral


@transaction.atomic
def referral_answer(*, user, referral: Referral, accept: bool, reason: str = "") -> Referral:
    referral = _referral_for_partner(user, referral)
    if referral.status != ReferralStatus.SENT:
        raise CaseError(_("This referral has already been answered."))
    if not accept and not reason.strip():
        raise CaseError({"decline_reason": _("Say why the referral is declined.")})
    if accept and referral.consent.withdrawn_on:
        raise CaseError(
            _("The person withdrew their consent to share: the referral can no longer be accepted.")
        )
    referral.status = ReferralStatus.ACCEPTED if accept else ReferralStatus.DECLINED
    referral.decline_reason = "" if accept else reason.strip()
    referral.answered_by = user
    referral.answered_at = timezone.now()
    _clean(referral, exclude=_REFERRAL_RELATIONS)
    referral._history_user = user
    referral._change_reason = "accepted" if accept else "declined"
    referral.save()
    if accept:
        _share_with(user, referral.case.person, referral.to_organisation_id, ShareReason.REFERRAL)
    return referral


@transaction.atomic
def referral_return_outcome(*, user, referral: Referral, outcome: str) -> Referral:
    """The partner says what came of it; the referring case worker sees it: the loop closes."""
    referral = _referral_for_partner(user, referral)
    if referral.status != ReferralStatus.ACCEPTED:
        raise CaseError(_("Only an accepted referral can have its outcome returned."))
    if not outcome.strip():
        raise CaseError({"outcome": _("Describe the outcome.")})
    referral.status = ReferralStatus.COMPLETED
    referral.outcome = outcome.strip()
    referral.outcome_at = timezone.now()
    referral._history_user = user
    referral._change_reason = "outcome returned"
    _clean(referral, exclude=_REFERRAL_RELATIONS)
    referral.save()
    return referral


@transaction.atomic
def referral_cancel(*, user, referral: Referral) -> Referral:
    _case_for_change(user, referral.case)
    referral = Referral.objects.unscoped().select_for_update().get(pk=referral.pk)
    if referral.status != ReferralStatus.SENT:
        raise CaseError(_("Only a referral awaiting an answer can be cancelled."))
    referral.status = ReferralStatus.CANCELLED
    referral._history_user = user
    referral._change_reason = "cancelled"
    referral.save()
    return referral


@transaction.atomic
def case_close(
    *,
    user,
    case: Case,
    outcome: str,
    reason: str = "",
    closed_on: datetime.date | None = None,
    version: int | None = None,
) -> Case:
    """Close a case with its outcome; follow-ups are scheduled 6 and 12 months later."""
    case = _case_for_change(user, case, version)
    if case.status == CaseStatus.CLOSED:
        raise CaseError(_("The case is already closed."))
    closed_on = closed_on or timezone.localdate()
    if closed_on > timezone.localdate():
        raise CaseError({"closed_on": _("A case cannot be closed in the future.")})
    if closed_on < case.opened_on:
        raise CaseError({"closed_on": _("A case cannot be closed before it was opened.")})
    if not outcome:
        raise CaseError({"outcome": _("Say what came of the case.")})
    case.status = CaseStatus.CLOSED
    case.closed_on = closed_on
    case.outcome = outcome
    case.closure_reason = reason
    _clean(case, exclude=["person", "organisation", "desk", "tutor"])
    _touch(case, user, "closed")
    for months in FOLLOW_UP_MONTHS:
        follow_up = FollowUp.objects.filter(case=case, months_after=months).first() or FollowUp(
            case=case, months_after=months
        )
        follow_up.due_on = add_months(closed_on, months)
        follow_up._history_user = user
        follow_up.save()
    return case


@transaction.atomic
def case_reopen(*, user, case: Case, version: int | None = None) -> Case:
    case = _case_for_change(user, case, version)
    if case.status != CaseStatus.CLOSED:
        raise CaseError(_("The case is open."))
    _refuse_second_open_case(case.person_id, case.organisation_id, case.pk)
    case.status = CaseStatus.OPEN
    case.closed_on = None
    case.outcome = ""
    case.closure_reason = ""
    _touch(case, user, "reopened")
    for follow_up in case.follow_ups.filter(done_on__isnull=True):
        follow_up._history_user = user
        follow_up.delete()
    return case


@transaction.atomic
def follow_up_record(
    *,
    user,
    follow_up: FollowUp,
    situation: str,
    note: str = "",
    done_on: datetime.date | None = None,
) -> FollowUp:
    _case_for_change(user, follow_up.case)
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    done_on = done_on or timezone.localdate()
    if done_on > timezone.localdate():
        raise CaseError({"done_on": _("A follow-up cannot be dated in the future.")})
    follow_up.situation = situation
    follow_up.note = note
    follow_up.done_on = done_on
    follow_up.recorded_by = user
    _clean(follow_up, exclude=["case", "recorded_by"])
    follow_up._history_user = user
    follow_up.save()
    return follow_up
