"""Every change to calls, applications, committees, projects, financing and follow-up goes
through these functions: pages, API, imports, the demo loader and tasks alike.

Each re-reads what it changes through the access layer, checks the caller's role, validates,
writes in one transaction and leaves an audit entry naming the user. Amounts are ``Decimal``
and never carry more decimals than the currency has.
"""

from __future__ import annotations

import datetime
import secrets
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from tadamun.access.scope import scope_for
from tadamun.accounts.models import Membership
from tadamun.core.dates import add_months
from tadamun.core.errors import AccessDenied, Conflict, DomainError
from tadamun.core.money import currency_decimals, is_known_currency
from tadamun.organisations.models import network_family, networks_of
from tadamun.registry.models import Group, Person
from tadamun.territories.models import Territory

from . import uploads
from .models import (
    ROLES_MANAGING_CALLS,
    ROLES_WORKING_PROJECTS,
    ApplicantKinds,
    Application,
    ApplicationKind,
    ApplicationStatus,
    Attachment,
    Call,
    CallStatus,
    Channel,
    CoachingSession,
    CommitteeSession,
    Criterion,
    Envelope,
    Exhibition,
    Financing,
    FinancingKind,
    FinancingLine,
    FundingSource,
    Instalment,
    InvestmentItem,
    Product,
    Project,
    ProjectStatus,
    PublicSubmission,
    Repayment,
    RequiredDocument,
    Score,
    SessionStatus,
    Stand,
    SubmissionStatus,
    Tranche,
    TrancheStatus,
    Visit,
    VisitStatus,
)

# Applications still in the running (a promoter may hold one of these per call).
LIVE_STATUSES = (
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.ELIGIBLE,
    ApplicationStatus.SELECTED,
    ApplicationStatus.WAITLISTED,
    ApplicationStatus.AWARDED,
)
# Applications whose amount counts against the envelope.
COMMITTED_STATUSES = (ApplicationStatus.SELECTED, ApplicationStatus.AWARDED)
VISIT_EVERY_DAYS = 120  # a project not visited for longer is flagged
ARREARS_DAYS = 30  # the "30" of PAR30


class ProjectError(DomainError):
    pass


# --- Small helpers --------------------------------------------------------------------------


def months_between(start: datetime.date, end: datetime.date) -> int:
    """Whole months from ``start`` to ``end`` (0 if ``end`` comes first)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day and add_months(start, months) > end:
        months -= 1
    return max(months, 0)


def money(value, currency: str, field: str, *, positive: bool = False) -> Decimal:
    """``value`` as a Decimal of at most the currency's decimals, not negative (nor zero
    with ``positive``); else a ProjectError on ``field``."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ProjectError({field: _("Enter an amount, such as 1250.500.")}) from None
    if not amount.is_finite():
        raise ProjectError({field: _("Enter an amount, such as 1250.500.")})
    if amount < 0 or (positive and amount == 0):
        raise ProjectError(
            {
                field: _("The amount must be more than zero.")
                if positive
                else _("The amount cannot be negative.")
            }
        )
    decimals = currency_decimals(currency)
    if -amount.as_tuple().exponent > decimals and amount != amount.quantize(
        Decimal(1).scaleb(-decimals)
    ):
        raise ProjectError(
            {
                field: _("%(currency)s amounts have at most %(decimals)d decimals.")
                % {"currency": currency, "decimals": decimals}
            }
        )
    if amount >= Decimal(10) ** 11:
        raise ProjectError({field: _("This amount is too large.")})
    return amount.quantize(Decimal(1).scaleb(-decimals))


def _upload(check, upload, field: str):
    """``upload`` checked by ``check`` (``uploads``), or a ProjectError on ``field``."""
    try:
        return check(upload)
    except ValidationError as error:
        raise ProjectError({field: error.messages}) from None


def _attachments(attachments, field: str = "attachments") -> list:
    checked = list(attachments)
    for _document, upload in checked:
        _upload(uploads.validate_attachment, upload, field)
    return checked


def _not_future(day: datetime.date | None, field: str) -> None:
    if day is not None and day > timezone.localdate():
        raise ProjectError({field: _("This date is in the future.")})


def _reference(prefix: str) -> str:
    return f"{prefix}-{timezone.localdate():%y}-{secrets.token_hex(3).upper()}"


def _save(instance, user, reason: str) -> None:
    instance._history_user = user
    instance._change_reason = reason
    instance.save()


def _clean(instance, exclude=None) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise ProjectError(error.message_dict) from error


def _handling_organisation(user, call: Call, territory):
    """The organisation on whose behalf ``user`` records an application to ``call``: the
    first of theirs taking part in the call whose role covers the territory."""
    from tadamun.organisations.models import Organisation

    scope = scope_for(user)
    family = network_family(call.organisation_id)
    candidates = [g.organisation_id for g in scope.grants_with(ROLES_WORKING_PROJECTS)]
    if scope.is_operator:
        candidates = [call.organisation_id]
    for organisation_id in candidates:
        if organisation_id in family and scope.can_act_for(
            organisation_id, ROLES_WORKING_PROJECTS, territory.pk
        ):
            return Organisation.objects.get(pk=organisation_id)
    raise AccessDenied({"territory": _("Your role does not allow recording applications here.")})


def _require(user, organisation_id: int, roles, territory_id: int | None = None, field=None):
    if not scope_for(user).can_act_for(organisation_id, roles, territory_id):
        message = _("Your role does not allow this for this organisation or territory.")
        raise AccessDenied({field: message} if field else message)


def _locked(model, user, instance, message: str):
    try:
        return model.objects.visible_to(user).select_for_update().get(pk=instance.pk)
    except model.DoesNotExist:
        raise AccessDenied(message) from None


# --- Calls --------------------------------------------------------------------------------


CALL_FIELDS = frozenset(
    {
        "code",
        "title",
        "description",
        "programme",
        "opens_on",
        "closes_on",
        "applicants",
        "eligibility",
        "min_age",
        "max_age",
        "currency",
        "max_amount",
    }
)


def _check_call(call: Call) -> None:
    if not is_known_currency(call.currency or ""):
        raise ProjectError({"currency": _("Unknown currency code.")})
    call.currency = call.currency.upper()
    _clean(call, exclude=["organisation", "programme", "sectors"])
    if call.closes_on < call.opens_on:
        raise ProjectError({"closes_on": _("The call cannot close before it opens.")})
    if call.max_amount is not None:
        call.max_amount = money(call.max_amount, call.currency, "max_amount", positive=True)
    if call.min_age and call.max_age and call.max_age < call.min_age:
        raise ProjectError({"max_age": _("The maximum age is below the minimum age.")})


@transaction.atomic
def call_create(*, user, organisation, sectors=(), **fields) -> Call:
    unknown = set(fields) - CALL_FIELDS
    if unknown:
        raise ProjectError({name: _("Unknown field.") for name in sorted(unknown)})
    _require(user, organisation.pk, ROLES_MANAGING_CALLS, field="organisation")
    call = Call(organisation=organisation, **fields)
    _check_call(call)
    if Call.objects.unscoped("code uniqueness").filter(code=call.code).exists():
        raise ProjectError({"code": _("A call with this code already exists.")})
    _save(call, user, "created")
    call.sectors.set(sectors)
    return call


@transaction.atomic
def call_update(*, user, call: Call, sectors=None, **fields) -> Call:
    unknown = set(fields) - CALL_FIELDS
    if unknown:
        raise ProjectError({name: _("Unknown field.") for name in sorted(unknown)})
    call = _locked(Call, user, call, _("This call is not in your scope."))
    _require(user, call.organisation_id, ROLES_MANAGING_CALLS)
    if (
        "currency" in fields
        and fields["currency"] != call.currency
        and _applications_of(call).exists()
    ):
        raise ProjectError({"currency": _("The currency cannot change once applications exist.")})
    for name, value in fields.items():
        setattr(call, name, value)
    _check_call(call)
    if Call.objects.unscoped("code uniqueness").filter(code=call.code).exclude(pk=call.pk).exists():
        raise ProjectError({"code": _("A call with this code already exists.")})
    _save(call, user, "updated")
    if sectors is not None:
        call.sectors.set(sectors)
    return call


@transaction.atomic
def call_set_status(*, user, call: Call, status: str) -> Call:
    call = _locked(Call, user, call, _("This call is not in your scope."))
    _require(user, call.organisation_id, ROLES_MANAGING_CALLS)
    if status not in CallStatus.values:
        raise ProjectError({"status": _("Unknown status.")})
    if status == CallStatus.OPEN:
        problems = {}
        if not call.envelopes.exists():
            problems["envelopes"] = _("Give at least one territory an envelope before publishing.")
        if not call.criteria.exists():
            problems["criteria"] = _("Add the scoring grid before publishing.")
        if problems:
            raise ProjectError(problems)
    call.status = status
    _save(call, user, f"status {status}")
    return call


def _editable_call(user, call: Call) -> Call:
    call = _locked(Call, user, call, _("This call is not in your scope."))
    _require(user, call.organisation_id, ROLES_MANAGING_CALLS)
    return call


@transaction.atomic
def envelope_set(*, user, call: Call, territory: Territory, amount) -> Envelope:
    call = _editable_call(user, call)
    amount = money(amount, call.currency, "amount")
    committed = _committed(call, territory)
    if amount < committed:
        raise ProjectError(
            {"amount": _("Applications already selected in this territory need more than that.")}
        )
    envelope = call.envelopes.filter(territory=territory).first() or Envelope(
        call=call, territory=territory
    )
    envelope.amount = amount
    _save(envelope, user, "envelope")
    return envelope


@transaction.atomic
def criterion_add(*, user, call: Call, code: str, label, weight, max_score: int = 10) -> Criterion:
    call = _editable_call(user, call)
    if call.sessions.exists():
        raise ProjectError({"code": _("The grid cannot change once a committee has met.")})
    try:
        weight = Decimal(str(weight))
    except InvalidOperation:
        raise ProjectError({"weight": _("Enter a number.")}) from None
    criterion = Criterion(
        call=call,
        code=code,
        label=label,
        weight=weight,
        max_score=max_score,
        order=call.criteria.count(),
    )
    _clean(criterion, exclude=["call"])
    if call.criteria.filter(code=code).exists():
        raise ProjectError({"code": _("This grid already has a criterion with this code.")})
    _save(criterion, user, "criterion")
    return criterion


@transaction.atomic
def document_require(*, user, call: Call, code: str, label, mandatory: bool = True):
    call = _editable_call(user, call)
    document = RequiredDocument(call=call, code=code, label=label, mandatory=mandatory)
    _clean(document, exclude=["call"])
    if call.documents.filter(code=code).exists():
        raise ProjectError({"code": _("This call already asks for a document with this code.")})
    document.save()
    return document


# --- Applications -------------------------------------------------------------------------


def _applications_of(call: Call):
    """Every application of a call: the rules (envelopes, one application per promoter, the
    committee's list) hold over the whole call, whoever applies them."""
    return Application.objects.unscoped("rules of the call").filter(call=call)


def _committed(call: Call, territory) -> Decimal:
    """What selected and financed applications take from the envelope of ``territory``:
    those in it or below it, except those below a nearer envelope of their own."""
    inside = Q(territory__path__startswith=territory.path)
    for other in call.envelopes.select_related("territory").exclude(territory=territory):
        if other.territory.path.startswith(territory.path):
            inside &= ~Q(territory__path__startswith=other.territory.path)
    return _applications_of(call).filter(inside, status__in=COMMITTED_STATUSES).aggregate(
        total=Sum("awarded_amount")
    )["total"] or Decimal(0)


def envelopes_used(call: Call) -> list[tuple[Envelope, Decimal, Decimal]]:
    """Each envelope of the call with the amount committed against it and what remains."""
    rows = []
    for envelope in call.envelopes.select_related("territory"):
        committed = _committed(call, envelope.territory)
        rows.append((envelope, committed, envelope.amount - committed))
    return rows


def _envelope_of(call: Call, territory: Territory) -> Envelope | None:
    """The envelope covering ``territory``: its own, or the nearest one above it."""
    envelopes = {e.territory_id: e for e in call.envelopes.select_related("territory")}
    current = territory
    while current is not None:
        if current.pk in envelopes:
            return envelopes[current.pk]
        current = current.parent
    return None


@dataclass
class BusinessPlan:
    """What an application states: investment items and how they are paid for."""

    investments: list[dict]  # label, quantity, unit_cost
    financing: list[dict]  # source, amount


def _plan_rows(call: Call, plan: BusinessPlan, requested: Decimal, financing_kind: str):
    errors: dict[str, list] = defaultdict(list)
    items, lines = [], []
    for index, row in enumerate(plan.investments, start=1):
        try:
            quantity = Decimal(str(row.get("quantity", 1)))
            if quantity <= 0 or not quantity.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors[f"investments.{index}.quantity"].append(_("Enter a quantity above zero."))
            continue
        try:
            unit = money(row.get("unit_cost"), call.currency, f"investments.{index}.unit_cost")
        except ProjectError as error:
            for key, messages in error.message_dict.items():
                errors[key].extend(messages)
            continue
        label = str(row.get("label") or "").strip()
        if not label:
            errors[f"investments.{index}.label"].append(_("Name the item."))
        for name, value in (("label", label), ("quantity", quantity)):
            try:
                InvestmentItem._meta.get_field(name).clean(value, None)
            except ValidationError as error:
                errors[f"investments.{index}.{name}"].extend(error.messages)
        amount = (quantity * unit).quantize(Decimal(1).scaleb(-currency_decimals(call.currency)))
        if amount >= Decimal(10) ** 11:
            errors[f"investments.{index}.unit_cost"].append(
                _("The quantity times the unit cost is too large.")
            )
        items.append(InvestmentItem(label=label, quantity=quantity, unit_cost=unit, amount=amount))
    for index, row in enumerate(plan.financing, start=1):
        try:
            amount = money(row.get("amount"), call.currency, f"financing.{index}.amount")
        except ProjectError as error:
            for key, messages in error.message_dict.items():
                errors[key].extend(messages)
            continue
        if row.get("source") not in FundingSource.values:
            errors[f"financing.{index}.source"].append(_("Choose where this money comes from."))
            continue
        lines.append(FinancingLine(source=row.get("source"), amount=amount))
    if errors:
        raise ProjectError(dict(errors))
    if not items:
        raise ProjectError({"investments": _("List at least one investment item.")})
    total = sum((i.amount for i in items), Decimal(0))
    funded = sum((line.amount for line in lines), Decimal(0))
    if lines and funded != total:
        raise ProjectError(
            {
                "financing": _(
                    "The financing plan adds up to %(funded)s but the investment is %(total)s."
                )
                % {"funded": funded, "total": total}
            }
        )
    if requested > total:
        raise ProjectError(
            {"requested_amount": _("The amount requested is more than the whole investment.")}
        )
    return items, lines


def _check_eligibility(
    call: Call, *, kind, promoter, territory, sector, requested, today, exclude=None
):
    """Hard rules (errors on the named field): window, kind, territory, sector, amount, the
    promoter's other applications in the same call."""
    if call.status != CallStatus.OPEN:
        raise ProjectError({"call": _("This call is not open for applications.")})
    if not (call.opens_on <= today <= call.closes_on):
        raise ProjectError(
            {
                "submitted_on": _("Applications are accepted from %(opens)s to %(closes)s.")
                % {"opens": call.opens_on, "closes": call.closes_on}
            }
        )
    if call.applicants != ApplicantKinds.BOTH and call.applicants != kind:
        raise ProjectError({"kind": _("This call does not accept this kind of application.")})
    if call.sectors.exists() and not call.sectors.filter(pk=sector.pk).exists():
        raise ProjectError({"sector": _("This call does not cover this sector.")})
    envelope = _envelope_of(call, territory)
    if envelope is None:
        raise ProjectError({"territory": _("This call does not cover this territory.")})
    if call.max_amount is not None and requested > call.max_amount:
        raise ProjectError(
            {
                "requested_amount": _("This call gives at most %(amount)s per application.")
                % {"amount": call.max_amount}
            }
        )
    if requested > envelope.amount - _committed(call, envelope.territory):
        raise ProjectError(
            {
                "requested_amount": _(
                    "The amount requested is more than what remains in the territory's envelope."
                )
            }
        )
    others = _applications_of(call).filter(promoter=promoter, status__in=LIVE_STATUSES)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    other = others.first()
    if other is not None:
        if other.status == ApplicationStatus.AWARDED:
            message = _("This promoter has already been financed in this call.")
        else:
            message = _("This promoter already has an application in this call (%(ref)s).") % {
                "ref": other.reference
            }
        raise ProjectError({"promoter": message})
    return envelope


@transaction.atomic
def application_submit(
    *,
    user,
    call: Call,
    kind: str,
    promoter: Person,
    territory: Territory,
    sector,
    title: str,
    financing_kind: str,
    requested_amount,
    plan: BusinessPlan,
    group: Group | None = None,
    summary: str = "",
    expected_monthly_revenue=None,
    expected_jobs_women: int = 0,
    expected_jobs_men: int = 0,
    submitted_on: datetime.date | None = None,
    channel: str = Channel.DESK,
    attachments=(),
    organisation=None,
) -> Application:
    """Record an application at a desk (or from a registered public submission). The promoter
    (and the collective) must be in the user's scope."""
    call = Call.objects.visible_to(user).filter(pk=call.pk).first()
    if call is None:
        raise AccessDenied({"call": _("This call is not in your scope.")})
    organisation = organisation or _handling_organisation(user, call, territory)
    if organisation.pk not in network_family(call.organisation_id):
        raise ProjectError({"organisation": _("This organisation does not take part in the call.")})
    _require(user, organisation.pk, ROLES_WORKING_PROJECTS, territory.pk, field="territory")
    if not Person.objects.visible_to(user).filter(pk=promoter.pk).exists():
        raise AccessDenied({"promoter": _("This person is not in your scope.")})
    if kind not in ApplicationKind.values:
        raise ProjectError({"kind": _("Choose individual or collective.")})
    if kind == ApplicationKind.COLLECTIVE:
        if group is None:
            raise ProjectError({"group": _("A collective application names the collective.")})
        if not Group.objects.visible_to(user).filter(pk=group.pk).exists():
            raise AccessDenied({"group": _("This collective is not in your scope.")})
        if not group.members.filter(person=promoter, left_on__isnull=True).exists():
            raise ProjectError({"promoter": _("The promoter must be a member of the collective.")})
    elif group is not None:
        raise ProjectError({"group": _("An individual application names no collective.")})
    if financing_kind not in FinancingKind.values:
        raise ProjectError({"financing_kind": _("Choose a grant, a loan or support in kind.")})
    submitted_on = submitted_on or timezone.localdate()
    _not_future(submitted_on, "submitted_on")
    requested = money(requested_amount, call.currency, "requested_amount", positive=True)
    attachments = _attachments(attachments)
    _check_eligibility(
        call,
        kind=kind,
        promoter=promoter,
        territory=territory,
        sector=sector,
        requested=requested,
        today=submitted_on,
    )
    items, lines = _plan_rows(call, plan, requested, financing_kind)
    revenue = None
    if expected_monthly_revenue not in (None, ""):
        revenue = money(expected_monthly_revenue, call.currency, "expected_monthly_revenue")
    application = Application(
        call=call,
        organisation=organisation,
        reference=_reference("APP"),
        kind=kind,
        promoter=promoter,
        group=group,
        territory=territory,
        sector=sector,
        title=title,
        summary=summary,
        financing_kind=financing_kind,
        requested_amount=requested,
        expected_monthly_revenue=revenue,
        expected_jobs_women=expected_jobs_women,
        expected_jobs_men=expected_jobs_men,
        channel=channel,
        submitted_on=submitted_on,
        submitted_by=user,
        tracking_secret=secrets.token_urlsafe(24),
    )
    _clean(
        application,
        exclude=["call", "organisation", "promoter", "group", "territory", "sector", "reference"],
    )
    _save(application, user, "submitted")
    for item in items:
        item.application = application
        item._history_user = user
    InvestmentItem.objects.bulk_create(items)
    for line in lines:
        line.application = application
    FinancingLine.objects.bulk_create(lines)
    for document, upload in attachments:
        Attachment.objects.create(
            application=application, document=document, file=upload, name=upload.name[:200]
        )
    return application


def eligibility_problems(application: Application) -> list[str]:
    """What the pre-check finds: missing mandatory documents, the promoter's age, jobs."""
    problems = []
    call = application.call
    have = set(application.attachments.values_list("document_id", flat=True))
    for document in call.documents.filter(mandatory=True):
        if document.pk not in have:
            problems.append(_("Missing document: %(doc)s") % {"doc": document})
    born = application.promoter.birth_year or (
        application.promoter.birth_date and application.promoter.birth_date.year
    )
    if born and (call.min_age or call.max_age):
        age = application.submitted_on.year - born
        if call.min_age and age < call.min_age:
            problems.append(_("The promoter is younger than %(age)d.") % {"age": call.min_age})
        if call.max_age and age > call.max_age:
            problems.append(_("The promoter is older than %(age)d.") % {"age": call.max_age})
    if (
        application.kind == ApplicationKind.COLLECTIVE
        and application.group
        and application.group.members.filter(left_on__isnull=True).count() < 2
    ):
        problems.append(_("A collective needs at least two members."))
    return problems


def _application_for_change(user, application: Application, version: int | None, roles):
    application = _locked(
        Application, user, application, _("This application is not in your scope.")
    )
    _require(user, application.organisation_id, roles, application.territory_id)
    if version is not None and int(version) != application.version:
        raise Conflict(
            _("Someone else changed this application since you opened it. Reload and try again.")
        )
    return application


@transaction.atomic
def application_precheck(
    *, user, application: Application, version: int | None = None, override_reason: str = ""
) -> Application:
    """The eligibility pre-check: eligible when nothing is missing, else not eligible with the
    reasons; a coordinator may declare it eligible anyway, giving a reason."""
    application = _application_for_change(user, application, version, ROLES_WORKING_PROJECTS)
    if application.status not in (
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.ELIGIBLE,
        ApplicationStatus.INELIGIBLE,
    ):
        raise ProjectError({"status": _("This application has already gone before the committee.")})
    problems = eligibility_problems(application)
    if problems and override_reason:
        _require(user, application.organisation_id, ROLES_MANAGING_CALLS)
        problems = [*problems, _("Declared eligible: %(reason)s") % {"reason": override_reason}]
        application.status = ApplicationStatus.ELIGIBLE
    else:
        application.status = (
            ApplicationStatus.INELIGIBLE if problems else ApplicationStatus.ELIGIBLE
        )
    application.eligibility_notes = [str(p) for p in problems]
    application.version += 1
    _save(application, user, "pre-check")
    return application


@transaction.atomic
def application_withdraw(*, user, application: Application, version: int | None = None):
    application = _application_for_change(user, application, version, ROLES_WORKING_PROJECTS)
    if application.status == ApplicationStatus.AWARDED:
        raise ProjectError({"status": _("A financed application cannot be withdrawn.")})
    application.status = ApplicationStatus.WITHDRAWN
    application.version += 1
    _save(application, user, "withdrawn")
    return application


# --- Public submissions -------------------------------------------------------------------


PUBLIC_PERSON_FIELDS = ("given_name", "family_name", "sex", "birth_year", "phone", "email")


def submission_create(
    *,
    call: Call,
    data: dict,
    territory: Territory,
    kind: str,
    language: str,
    consent: bool,
    attachments=(),
    today: datetime.date | None = None,
) -> PublicSubmission:
    """An application from the public page. It is kept apart from the registry until a field
    officer registers it; only the call's window, territory and amounts are checked now."""
    today = today or timezone.localdate()
    if not consent:
        raise ProjectError({"consent": _("Please read the privacy notice and agree to it.")})
    if call.status != CallStatus.OPEN or not (call.opens_on <= today <= call.closes_on):
        raise ProjectError({"call": _("This call is not open for applications.")})
    if call.applicants != ApplicantKinds.BOTH and call.applicants != kind:
        raise ProjectError({"kind": _("This call does not accept this kind of application.")})
    if _envelope_of(call, territory) is None:
        raise ProjectError({"territory": _("This call does not cover this territory.")})
    requested = money(
        data.get("requested_amount"), call.currency, "requested_amount", positive=True
    )
    attachments = _attachments(attachments)
    if call.max_amount is not None and requested > call.max_amount:
        raise ProjectError(
            {
                "requested_amount": _("This call gives at most %(amount)s per application.")
                % {"amount": call.max_amount}
            }
        )
    plan = BusinessPlan(data.get("investments") or [], data.get("financing") or [])
    _plan_rows(call, plan, requested, data.get("financing_kind"))
    with transaction.atomic():
        submission = PublicSubmission.objects.create(
            call=call,
            reference=_reference("WEB"),
            tracking_secret=secrets.token_urlsafe(24),
            kind=kind,
            territory=territory,
            data={**data, "requested_amount": str(requested)},
            language=language,
            consent_given=True,
        )
        for document, upload in attachments:
            Attachment.objects.create(
                submission=submission, document=document, file=upload, name=upload.name[:200]
            )
    return submission


@transaction.atomic
def submission_register(
    *, user, submission: PublicSubmission, promoter: Person, group: Group | None = None, sector
) -> Application:
    """A field officer turns a public submission into an application, once the promoter (and
    the collective) are registered or found in the registry."""
    submission = _locked(
        PublicSubmission, user, submission, _("This application is not in your scope.")
    )
    if submission.status != SubmissionStatus.RECEIVED:
        raise ProjectError({"status": _("This submission has already been handled.")})
    data = submission.data
    application = application_submit(
        user=user,
        call=submission.call,
        kind=submission.kind,
        promoter=promoter,
        group=group,
        territory=submission.territory,
        sector=sector,
        title=data.get("title", ""),
        summary=data.get("summary", ""),
        financing_kind=data.get("financing_kind"),
        requested_amount=data.get("requested_amount"),
        plan=BusinessPlan(data.get("investments") or [], data.get("financing") or []),
        expected_monthly_revenue=data.get("expected_monthly_revenue"),
        expected_jobs_women=int(data.get("expected_jobs_women") or 0),
        expected_jobs_men=int(data.get("expected_jobs_men") or 0),
        submitted_on=timezone.localdate(submission.submitted_at),
        channel=Channel.PUBLIC,
    )
    submission.attachments.update(application=application)
    submission.status = SubmissionStatus.REGISTERED
    submission.application = application
    submission.handled_by = user
    _save(submission, user, "registered")
    return application


@transaction.atomic
def submission_decline(*, user, submission: PublicSubmission, reason: str) -> PublicSubmission:
    submission = _locked(
        PublicSubmission, user, submission, _("This application is not in your scope.")
    )
    # Whoever may register it may decline it: staff of an organisation of the call's network.
    _handling_organisation(user, submission.call, submission.territory)
    if submission.status != SubmissionStatus.RECEIVED:
        raise ProjectError({"status": _("This submission has already been handled.")})
    if not reason.strip():
        raise ProjectError({"reason": _("Give the reason, which the applicant will read.")})
    submission.status = SubmissionStatus.DECLINED
    submission.decline_reason = reason.strip()
    submission.handled_by = user
    _save(submission, user, "declined")
    return submission


# --- Committee ------------------------------------------------------------------------------


@transaction.atomic
def session_create(
    *, user, call: Call, held_on, language: str, members, chair, place: str = ""
) -> CommitteeSession:
    call = _editable_call(user, call)
    members = list(members)
    if chair not in members:
        members.append(chair)
    networks = networks_of(call.organisation_id)
    allowed = set(
        Membership.objects.filter(user__in=members, is_active=True)
        .filter(
            Q(organisation_id__in=networks)
            | Q(organisation__network_links__network_id__in=networks)
        )
        .values_list("user_id", flat=True)
    )
    strangers = [m for m in members if m.pk not in allowed]
    if strangers:
        raise ProjectError(
            {
                "members": _(
                    "Committee members must work for the call's organisation or its network."
                )
            }
        )
    if not call.criteria.exists():
        raise ProjectError({"call": _("The call has no scoring grid.")})
    session = CommitteeSession(
        call=call, held_on=held_on, language=language, chair=chair, place=place
    )
    _clean(session, exclude=["call", "chair"])
    _save(session, user, "created")
    session.members.set(members)
    return session


@transaction.atomic
def session_note_set(*, user, session: CommitteeSession, note: str) -> CommitteeSession:
    """The chair's remarks for the minutes, written by the chair or a coordinator of the call."""
    session = CommitteeSession.objects.select_for_update().select_related("call").get(pk=session.pk)
    if not Call.objects.visible_to(user).filter(pk=session.call_id).exists():
        raise AccessDenied(_("This call is not in your scope."))
    if user.pk != session.chair_id:
        _require(user, session.call.organisation_id, ROLES_MANAGING_CALLS)
    session.minutes_note = (note or "").strip()
    _clean(session, exclude=["call", "chair"])
    _save(session, user, "remarks")
    return session


def _session_applications(session: CommitteeSession):
    return _applications_of(session.call).filter(status=ApplicationStatus.ELIGIBLE)


@transaction.atomic
def score_record(
    *, user, session: CommitteeSession, application: Application, scores: dict, comment: str = ""
) -> list[Score]:
    """A member's scores of one application: ``{criterion code: value}``. Only the member's own
    rows are written, so members scoring at the same time never overwrite each other."""
    session = CommitteeSession.objects.select_for_update().get(pk=session.pk)
    if not session.members.filter(pk=user.pk).exists():
        raise AccessDenied(_("Only members of this committee score its applications."))
    if session.status != SessionStatus.SCORING:
        raise ProjectError({"session": _("This committee has already decided.")})
    if not _session_applications(session).filter(pk=application.pk).exists():
        raise ProjectError({"application": _("This application is not before this committee.")})
    criteria = {c.code: c for c in session.call.criteria.all()}
    errors = {}
    values = {}
    for code, value in scores.items():
        criterion = criteria.get(code)
        if criterion is None:
            errors[code] = [_("Unknown criterion.")]
            continue
        try:
            number = int(str(value).strip())
            if str(number) != str(value).strip():
                raise ValueError
        except (TypeError, ValueError):
            errors[code] = [_("Enter a whole number.")]
            continue
        if not 0 <= number <= criterion.max_score:
            errors[code] = [_("Enter a score from 0 to %(max)d.") % {"max": criterion.max_score}]
            continue
        values[criterion] = number
    missing = [code for code in criteria if code not in scores]
    for code in missing:
        errors[code] = [_("Score every criterion.")]
    if errors:
        raise ProjectError(errors)
    written = []
    for criterion, number in values.items():
        score, _created = Score.objects.select_for_update().get_or_create(
            session=session,
            application=application,
            member=user,
            criterion=criterion,
            defaults={"value": number, "comment": comment},
        )
        if score.value != number or score.comment != comment:
            score.value = number
            score.comment = comment
            _save(score, user, "scored")
        written.append(score)
    return written


@dataclass
class Ranked:
    application: Application
    score: Decimal  # 0 to 100
    scorers: int


def session_ranking(session: CommitteeSession) -> list[Ranked]:
    """The applications before the committee with their weighted score out of 100: each
    criterion's average over the members, as a share of its highest score, weighed."""
    criteria = list(session.call.criteria.all())
    total_weight = sum((c.weight for c in criteria), Decimal(0)) or Decimal(1)
    applications = list(_session_applications(session).select_related("territory", "promoter"))
    if session.status == SessionStatus.DECIDED:
        applications = list(
            _applications_of(session.call)
            .filter(pk__in=session.scores.values("application_id"))
            .select_related("territory", "promoter")
        )
    sums: dict[tuple[int, int], list[int]] = defaultdict(list)
    scorers: dict[int, set[int]] = defaultdict(set)
    for application_id, criterion_id, member_id, value in session.scores.values_list(
        "application_id", "criterion_id", "member_id", "value"
    ):
        sums[(application_id, criterion_id)].append(value)
        scorers[application_id].add(member_id)
    ranked = []
    for application in applications:
        total = Decimal(0)
        for criterion in criteria:
            values = sums.get((application.pk, criterion.pk))
            if values:
                mean = Decimal(sum(values)) / len(values)
                total += criterion.weight * mean / criterion.max_score
        score = (total * 100 / total_weight).quantize(Decimal("0.001"))
        ranked.append(Ranked(application, score, len(scorers.get(application.pk, ()))))
    ranked.sort(key=lambda r: (-r.score, r.application.submitted_on, r.application.pk))
    return ranked


@transaction.atomic
def session_decide(
    *, user, session: CommitteeSession, pass_mark: Decimal = Decimal(50)
) -> list[Ranked]:
    """Rank, then select within each territory's envelope in rank order: an application is
    selected when it reaches the pass mark and its amount fits what remains of its envelope;
    it goes on the waiting list when it passes but does not fit, and is not selected when it
    scores below the mark. Every member must have scored every application first."""
    session = CommitteeSession.objects.select_for_update().get(pk=session.pk)
    call = _editable_call(user, session.call)
    if session.status != SessionStatus.SCORING:
        raise ProjectError({"session": _("This committee has already decided.")})
    ranking = session_ranking(session)
    if not ranking:
        raise ProjectError({"session": _("No eligible application is before this committee.")})
    members = session.members.count()
    unscored = [r.application.reference for r in ranking if r.scorers < members]
    if unscored:
        raise ProjectError(
            {
                "scores": _("Every member must score every application first. Missing: %(refs)s")
                % {"refs": ", ".join(unscored[:10])}
            }
        )
    remaining: dict[int, Decimal] = {}
    for rank, row in enumerate(ranking, start=1):
        application = _applications_of(call).select_for_update().get(pk=row.application.pk)
        envelope = _envelope_of(call, application.territory)
        if envelope.pk not in remaining:
            remaining[envelope.pk] = envelope.amount - _committed(call, envelope.territory)
        application.score = row.score
        application.rank = rank
        if row.score < pass_mark:
            application.status = ApplicationStatus.REJECTED
            application.decision_note = _("Below the pass mark.")
        elif application.requested_amount <= remaining[envelope.pk]:
            application.status = ApplicationStatus.SELECTED
            application.awarded_amount = application.requested_amount
            remaining[envelope.pk] -= application.requested_amount
            application.decision_note = ""
        else:
            application.status = ApplicationStatus.WAITLISTED
            application.decision_note = _("The envelope of the territory is spent.")
        application.version += 1
        _save(application, user, f"committee {session.pk}")
        row.application = application
    session.status = SessionStatus.DECIDED
    session.decided_at = timezone.now()
    _save(session, user, "decided")
    return ranking


# --- Award and financing ----------------------------------------------------------------------


def loan_schedule(
    amount: Decimal, currency: str, instalments: int, first_due_on: datetime.date
) -> list[tuple[int, datetime.date, Decimal]]:
    """Equal monthly instalments summing exactly to ``amount``.

    Rounding rule: each instalment is the amount divided by their number, rounded *down* to
    the currency's minor unit; the last instalment carries what rounding left over, so it is
    equal to the others or larger by less than one minor unit per instalment."""
    if instalments < 1:
        raise ProjectError({"instalments": _("A loan is repaid in at least one instalment.")})
    unit = Decimal(1).scaleb(-currency_decimals(currency))
    each = (amount / instalments).quantize(unit, rounding=ROUND_DOWN)
    rows = []
    for number in range(1, instalments + 1):
        due = add_months(first_due_on, number - 1)
        value = each if number < instalments else amount - each * (instalments - 1)
        rows.append((number, due, value))
    return rows


@dataclass
class FinancingSpec:
    kind: str
    amount: object
    tranches: list[dict] | None = None  # amount, milestone, planned_on
    description: str = ""
    grace_months: int = 0
    instalments: int | None = None


def _region_of(territory: Territory) -> Territory:
    """The governorate or region above ``territory`` (or the territory itself)."""
    current = territory
    while current.parent is not None and current.parent.parent is not None:
        current = current.parent
    return current


@transaction.atomic
def project_award(
    *,
    user,
    application: Application,
    financed_on: datetime.date,
    financings: list[FinancingSpec],
    mentor=None,
    code: str | None = None,
    version: int | None = None,
) -> Project:
    """Finance a selected application: the project, its financing components with their
    tranches (each released against a milestone) and, for loans, the repayment schedule."""
    application = _application_for_change(user, application, version, ROLES_MANAGING_CALLS)
    if application.status != ApplicationStatus.SELECTED:
        raise ProjectError(
            {"status": _("Only an application selected by the committee is financed.")}
        )
    _not_future(financed_on, "financed_on")
    if financed_on < application.submitted_on:
        raise ProjectError({"financed_on": _("A project cannot be financed before it applied.")})
    currency = application.call.currency
    if not financings:
        raise ProjectError({"financings": _("Give at least one financing component.")})
    total = Decimal(0)
    built = []
    for index, spec in enumerate(financings, start=1):
        prefix = f"financings.{index}"
        if spec.kind not in FinancingKind.values:
            raise ProjectError({f"{prefix}.kind": _("Choose a grant, a loan or support in kind.")})
        amount = money(spec.amount, currency, f"{prefix}.amount", positive=True)
        total += amount
        tranche_rows = spec.tranches or [
            {
                "amount": amount,
                "milestone": _("Financing agreement signed"),
                "planned_on": financed_on,
            }
        ]
        tranches = []
        for number, row in enumerate(tranche_rows, start=1):
            value = money(
                row.get("amount"), currency, f"{prefix}.tranches.{number}.amount", positive=True
            )
            milestone = str(row.get("milestone") or "").strip()
            if not milestone:
                raise ProjectError(
                    {f"{prefix}.tranches.{number}.milestone": _("Name the milestone.")}
                )
            planned = row.get("planned_on")
            if planned and planned < financed_on:
                raise ProjectError(
                    {
                        f"{prefix}.tranches.{number}.planned_on": _(
                            "A tranche cannot come before the award."
                        )
                    }
                )
            tranches.append(
                Tranche(number=number, amount=value, milestone=milestone, planned_on=planned)
            )
        if sum((t.amount for t in tranches), Decimal(0)) != amount:
            raise ProjectError({f"{prefix}.tranches": _("The tranches must add up to the amount.")})
        financing = Financing(
            kind=spec.kind,
            amount=amount,
            description=spec.description,
            awarded_on=financed_on,
        )
        schedule = []
        if spec.kind == FinancingKind.LOAN:
            if not spec.instalments or spec.instalments < 1 or spec.instalments > 240:
                raise ProjectError(
                    {f"{prefix}.instalments": _("Give the number of instalments (1 to 240).")}
                )
            if spec.grace_months < 0 or spec.grace_months > 60:
                raise ProjectError(
                    {f"{prefix}.grace_months": _("The grace period is 0 to 60 months.")}
                )
            financing.grace_months = spec.grace_months
            financing.instalments = spec.instalments
            financing.first_due_on = add_months(financed_on, spec.grace_months + 1)
            financing.outstanding = amount
            schedule = loan_schedule(amount, currency, spec.instalments, financing.first_due_on)
            financing.oldest_unpaid_due_on = schedule[0][1]
        built.append((financing, tranches, schedule))
    if total != application.awarded_amount:
        raise ProjectError(
            {
                "financings": _(
                    "The financing adds up to %(total)s; the committee awarded %(awarded)s."
                )
                % {"total": total, "awarded": application.awarded_amount}
            }
        )
    if (
        mentor is not None
        and not Membership.objects.filter(
            user=mentor,
            organisation_id__in=networks_of(application.call.organisation_id)
            | {application.call.organisation_id},
            is_active=True,
        ).exists()
    ):
        raise ProjectError({"mentor": _("The mentor must work for the network.")})
    if code:
        code = str(code).strip()
        try:
            Project._meta.get_field("code").clean(code, None)
        except ValidationError as error:
            raise ProjectError({"code": error.messages}) from None
        if Project.objects.unscoped("project codes are unique").filter(code=code).exists():
            raise ProjectError({"code": _("A project with this code exists already.")})
    territory = application.territory
    project = Project(
        application=application,
        code=code or _reference("PRJ"),
        organisation=application.organisation,
        programme=application.call.programme,
        kind=application.kind,
        promoter=application.promoter,
        group=application.group,
        territory=territory,
        region=_region_of(territory),
        sector=application.sector,
        title=application.title,
        currency=currency,
        financed_on=financed_on,
        amount_financed=total,
        mentor=mentor,
    )
    _save(project, user, "financed")
    for financing, tranches, schedule in built:
        financing.project = project
        _save(financing, user, "awarded")
        for tranche in tranches:
            tranche.financing = financing
            _save(tranche, user, "planned")
        Instalment.objects.bulk_create(
            Instalment(financing=financing, number=n, due_on=due, amount=value)
            for n, due, value in schedule
        )
    application.status = ApplicationStatus.AWARDED
    application.version += 1
    _save(application, user, "financed")
    return project


def _project_for_change(user, project: Project, roles, version: int | None = None) -> Project:
    project = _locked(Project, user, project, _("This project is not in your scope."))
    _require(user, project.organisation_id, roles, project.territory_id)
    if version is not None and int(version) != project.version:
        raise Conflict(
            _("Someone else changed this project since you opened it. Reload and try again.")
        )
    return project


def _touch(project: Project, user, reason: str) -> None:
    project.version += 1
    _save(project, user, reason)


@transaction.atomic
def tranche_evidence(*, user, tranche: Tranche, note: str, evidenced_on=None, file=None) -> Tranche:
    """Record the evidence that a tranche's milestone is reached."""
    tranche = Tranche.objects.select_for_update().select_related("financing").get(pk=tranche.pk)
    project = _project_for_change(
        user, Project(pk=tranche.financing.project_id), ROLES_WORKING_PROJECTS
    )
    evidenced_on = evidenced_on or timezone.localdate()
    _not_future(evidenced_on, "evidenced_on")
    if evidenced_on < project.financed_on:
        raise ProjectError({"evidenced_on": _("This date is before the award.")})
    if tranche.status == TrancheStatus.RELEASED:
        raise ProjectError({"status": _("This tranche has already been released.")})
    file = _upload(uploads.checked_evidence, file, "file")
    if not (note or "").strip() and not file:
        raise ProjectError({"note": _("Describe the evidence or attach a document.")})
    tranche.evidence_note = (note or "").strip()
    if file:
        tranche.evidence_file = file
    tranche.evidenced_on = evidenced_on
    tranche.evidenced_by = user
    tranche.status = TrancheStatus.EVIDENCED
    _clean(tranche, exclude=["financing", "evidence_file"])
    _save(tranche, user, "evidenced")
    _touch(project, user, "tranche evidenced")
    return tranche


@transaction.atomic
def tranche_release(*, user, tranche: Tranche, released_on=None) -> Tranche:
    """Release a tranche: only once its milestone is evidenced, and after the ones before it."""
    tranche = Tranche.objects.select_for_update().select_related("financing").get(pk=tranche.pk)
    project = _project_for_change(
        user, Project(pk=tranche.financing.project_id), ROLES_MANAGING_CALLS
    )
    released_on = released_on or timezone.localdate()
    _not_future(released_on, "released_on")
    if tranche.status == TrancheStatus.RELEASED:
        raise ProjectError({"status": _("This tranche has already been released.")})
    if tranche.status != TrancheStatus.EVIDENCED or tranche.evidenced_on is None:
        raise ProjectError(
            {
                "status": _(
                    "This tranche's milestone has not been evidenced: record the evidence first."
                )
            }
        )
    if released_on < tranche.evidenced_on:
        raise ProjectError({"released_on": _("A tranche cannot be released before its evidence.")})
    if (
        tranche.financing.tranches.filter(number__lt=tranche.number)
        .exclude(status=TrancheStatus.RELEASED)
        .exists()
    ):
        raise ProjectError({"status": _("Release the earlier tranches first.")})
    tranche.status = TrancheStatus.RELEASED
    tranche.released_on = released_on
    tranche.released_by = user
    _save(tranche, user, "released")
    _touch(project, user, "tranche released")
    return tranche


def _refresh_loan(financing: Financing) -> None:
    """Recompute what the loan still owes and its oldest unpaid instalment, in Decimal (SQLite
    would add the amounts up as floating-point numbers)."""
    rows = list(financing.schedule.order_by("number").values_list("due_on", "amount", "paid"))
    unpaid = [due for due, amount, paid in rows if paid < amount]
    financing.oldest_unpaid_due_on = unpaid[0] if unpaid else None
    financing.outstanding = financing.amount - sum((paid for _d, _a, paid in rows), Decimal(0))


def _check_repayment(
    financing: Financing, currency: str, amount, paid_on: datetime.date, owed: Decimal
) -> Decimal:
    """The rules of a repayment: of a loan, more than zero in the currency's decimals, not more
    than the loan still owes (``owed``), paid neither before the award nor in the future."""
    if financing.kind != FinancingKind.LOAN:
        raise ProjectError({"financing": _("Only loans are repaid.")})
    amount = money(amount, currency, "amount", positive=True)
    _not_future(paid_on, "paid_on")
    if paid_on < financing.awarded_on:
        raise ProjectError({"paid_on": _("This date is before the award.")})
    if amount > owed:
        raise ProjectError(
            {"amount": _("This is more than the loan still owes (%(owed)s).") % {"owed": owed}}
        )
    return amount


@transaction.atomic
def repayment_record(*, user, financing: Financing, amount, paid_on=None) -> Repayment:
    """Record a repayment of a loan and allocate it to the oldest instalments first. A
    repayment may pay ahead, never more than the loan still owes."""
    financing = Financing.objects.select_for_update().get(pk=financing.pk)
    project = _project_for_change(user, Project(pk=financing.project_id), ROLES_WORKING_PROJECTS)
    paid_on = paid_on or timezone.localdate()
    amount = _check_repayment(financing, project.currency, amount, paid_on, financing.outstanding)
    left = amount
    for instalment in (
        financing.schedule.select_for_update().filter(paid__lt=F("amount")).order_by("number")
    ):
        if left <= 0:
            break
        part = min(left, instalment.amount - instalment.paid)
        instalment.paid += part
        instalment.save(update_fields=["paid"])
        left -= part
    sequence = financing.repayments.count() + 1
    repayment = Repayment(
        financing=financing,
        paid_on=paid_on,
        amount=amount,
        receipt=f"R{financing.pk}-{sequence:03d}-{secrets.token_hex(2).upper()}",
        recorded_by=user,
    )
    _save(repayment, user, "repaid")
    _refresh_loan(financing)
    _save(financing, user, "repayment")
    return repayment


def arrears_of(financing: Financing, today: datetime.date | None = None) -> Decimal:
    """What is due and unpaid on a loan today (added up in Decimal)."""
    today = today or timezone.localdate()
    rows = financing.schedule.filter(due_on__lte=today).values_list("amount", "paid")
    return sum((amount - paid for amount, paid in rows), Decimal(0))


# --- Accompaniment and follow-up --------------------------------------------------------------


@transaction.atomic
def mentor_assign(*, user, project: Project, mentor, version: int | None = None) -> Project:
    project = _project_for_change(user, project, ROLES_MANAGING_CALLS, version)
    if (
        mentor is not None
        and not Membership.objects.filter(
            user=mentor, organisation_id__in=networks_of(project.organisation_id), is_active=True
        ).exists()
    ):
        raise ProjectError({"mentor": _("The mentor must work for the network.")})
    project.mentor = mentor
    _touch(project, user, "mentor")
    return project


@transaction.atomic
def coaching_record(
    *, user, project: Project, kind: str, held_on, topic: str, hours, attendees=()
) -> CoachingSession:
    project = _project_for_change(user, project, ROLES_WORKING_PROJECTS)
    _not_future(held_on, "held_on")
    if held_on < project.financed_on and kind != "business_plan":
        raise ProjectError({"held_on": _("This date is before the award.")})
    session = CoachingSession(
        project=project, kind=kind, held_on=held_on, topic=topic, hours=hours, recorded_by=user
    )
    _clean(session, exclude=["project", "recorded_by"])
    attendees = list(attendees)
    members = {project.promoter_id}
    if project.group_id:
        members |= set(project.group.members.values_list("person_id", flat=True))
    strangers = [p for p in attendees if p.pk not in members]
    if strangers:
        raise ProjectError(
            {"attendees": _("Only the promoter and the collective's members attend.")}
        )
    _save(session, user, "recorded")
    # add(), not set(): set() first reads the current attendees through Person's guarded
    # manager; a new session has none.
    session.attendees.add(*attendees)
    return session


@transaction.atomic
def visit_plan(*, user, project: Project, planned_on) -> Visit:
    project = _project_for_change(user, project, ROLES_WORKING_PROJECTS)
    if planned_on < project.financed_on:
        raise ProjectError({"planned_on": _("This date is before the award.")})
    visit = Visit(project=project, planned_on=planned_on, state=VisitStatus.SCHEDULED)
    _save(visit, user, "planned")
    return visit


@transaction.atomic
def visit_record(
    *,
    user,
    project: Project,
    visited_on,
    project_status: str,
    jobs_women: int | None = None,
    jobs_men: int | None = None,
    monthly_revenue=None,
    latitude=None,
    longitude=None,
    photo=None,
    notes: str = "",
    visit: Visit | None = None,
) -> Visit:
    """Record a follow-up visit (a planned one, or a new one). The project takes its status,
    jobs and revenue from its latest visit; a stopped project remembers when it stopped."""
    project = _project_for_change(user, project, ROLES_WORKING_PROJECTS)
    photo = _upload(uploads.checked_photo, photo, "photo")
    _not_future(visited_on, "visited_on")
    if visited_on < project.financed_on:
        raise ProjectError({"visited_on": _("This date is before the award.")})
    if project_status not in ProjectStatus.values:
        raise ProjectError({"project_status": _("Choose active, struggling or stopped.")})
    revenue = None
    if monthly_revenue not in (None, ""):
        revenue = money(monthly_revenue, project.currency, "monthly_revenue")
    if visit is not None:
        visit = project.visits.select_for_update().filter(pk=visit.pk).first()
        if visit is None or visit.state == VisitStatus.DONE:
            raise ProjectError({"visit": _("This visit is not planned for this project.")})
    else:
        visit = Visit(project=project)
    visit.visited_on = visited_on
    visit.state = VisitStatus.DONE
    visit.project_status = project_status
    visit.jobs_women = jobs_women
    visit.jobs_men = jobs_men
    visit.monthly_revenue = revenue
    visit.latitude = latitude
    visit.longitude = longitude
    visit.notes = notes
    visit.visited_by = user
    if photo:
        visit.photo = photo
    _clean(visit, exclude=["project", "visited_by", "photo"])
    _save(visit, user, "visited")
    if project.last_visit_on is None or visited_on >= project.last_visit_on:
        project.last_visit_on = visited_on
        project.status = project_status
        if jobs_women is not None:
            project.jobs_women = jobs_women
        if jobs_men is not None:
            project.jobs_men = jobs_men
        if revenue is not None:
            project.monthly_revenue = revenue
        if project_status == ProjectStatus.STOPPED:
            project.stopped_on = project.stopped_on or visited_on
            project.months_alive = months_between(project.financed_on, project.stopped_on)
        else:
            project.stopped_on = None
            project.months_alive = None
    _touch(project, user, "visit")
    return visit


# --- Catalogue and exhibitions -------------------------------------------------------------


@transaction.atomic
def product_save(
    *,
    user,
    project: Project,
    name,
    price_min,
    price_max,
    description=None,
    photo=None,
    published: bool = False,
    product: Product | None = None,
) -> Product:
    project = _project_for_change(user, project, ROLES_WORKING_PROJECTS)
    photo = _upload(uploads.checked_photo, photo, "photo")
    low = money(price_min, project.currency, "price_min")
    high = money(price_max, project.currency, "price_max")
    if high < low:
        raise ProjectError({"price_max": _("The highest price is below the lowest.")})
    if product is not None:
        product = project.products.select_for_update().get(pk=product.pk)
    else:
        product = Product(project=project)
    product.name = name
    product.description = description or product.description or ""
    product.price_min, product.price_max, product.published = low, high, published
    if photo:
        product.photo = photo
    _clean(product, exclude=["project", "photo"])
    _save(product, user, "product")
    return product


@transaction.atomic
def exhibition_create(
    *, user, organisation, name, starts_on, ends_on, territory, venue="", description=None
) -> Exhibition:
    _require(user, organisation.pk, ROLES_MANAGING_CALLS, field="organisation")
    exhibition = Exhibition(
        organisation=organisation,
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        territory=territory,
        venue=venue,
        description=description or "",
    )
    _clean(exhibition, exclude=["organisation", "territory"])
    if ends_on < starts_on:
        raise ProjectError({"ends_on": _("The exhibition cannot end before it starts.")})
    _save(exhibition, user, "created")
    return exhibition


@transaction.atomic
def stand_add(*, user, exhibition: Exhibition, project: Project, label: str = "") -> Stand:
    _require(user, exhibition.organisation_id, ROLES_MANAGING_CALLS)
    if not Project.objects.visible_to(user).filter(pk=project.pk).exists():
        raise AccessDenied({"project": _("This project is not in your scope.")})
    if exhibition.stands.filter(project=project).exists():
        raise ProjectError({"project": _("This project already has a stand here.")})
    stand = Stand(exhibition=exhibition, project=project, label=label)
    _save(stand, user, "stand")
    return stand


# --- Records brought in from earlier spreadsheets (imports) -----------------------------------
#
# Projects financed before the platform are imported without an application: the rows are
# checked first, all of them, without writing (``*_import_check``, errors keyed
# "<row>:<field>"), then written in bulk (``*_import_write``) with their audit entries. The
# import (tadamun/imports/projects.py) holds the transaction around the whole file.

IMPORTED_FINANCINGS = (
    ("grant_amount", FinancingKind.GRANT),
    ("loan_amount", FinancingKind.LOAN),
    ("in_kind_amount", FinancingKind.IN_KIND),
)


@dataclass
class ImportedProject:
    """A financed project checked by ``project_import_check``. The promoter and the group
    may be unsaved (registered with the project): save them before ``project_import_write``."""

    organisation: object
    code: str
    kind: str
    promoter: Person
    group: Group | None
    territory: Territory
    sector: object
    title: str
    financed_on: datetime.date
    currency: str
    financings: list[FinancingSpec]
    amounts: list[Decimal]
    status: str
    last_visit_on: datetime.date | None
    jobs_women: int
    jobs_men: int
    monthly_revenue: Decimal | None


def _imported_project(scope, organisation, row: dict, taken: set[str]) -> ImportedProject:
    problems: dict[str, list] = {}

    def fail(name: str, message) -> None:
        problems.setdefault(name, []).append(message)

    def amount_of(name: str, currency: str, positive: bool = False) -> Decimal | None:
        if row.get(name) in (None, ""):
            return None
        try:
            return money(row[name], currency, name, positive=positive)
        except ProjectError as error:
            for key, messages in error.message_dict.items():
                problems.setdefault(key, []).extend(messages)
        return None

    code = str(row.get("code") or "").strip()
    if not code:
        fail("code", _("Give the project's code."))
    elif len(code) > Project._meta.get_field("code").max_length:
        fail("code", _("A code has at most 30 characters."))
    elif code in taken:
        fail("code", _("A project with this code exists already."))
    territory, promoter, group = row.get("territory"), row.get("promoter"), row.get("group")
    if territory is None:
        fail("territory", _("This field is required."))
    elif not scope.can_act_for(organisation.pk, ROLES_MANAGING_CALLS, territory.pk):
        fail("territory", _("Your role does not allow recording projects here."))
    if promoter is None:
        fail("promoter", _("Give the promoter."))
    kind = row.get("kind") or (
        ApplicationKind.COLLECTIVE if group is not None else ApplicationKind.INDIVIDUAL
    )
    if kind == ApplicationKind.COLLECTIVE and group is None:
        fail("group", _("Name the collective of a collective project."))
    if kind == ApplicationKind.INDIVIDUAL and group is not None:
        fail("group", _("An individual project has no collective."))
    if row.get("sector") is None:
        fail("sector", _("This field is required."))
    title = str(row.get("title") or "").strip()
    try:
        Project._meta.get_field("title").clean(title, None)
    except ValidationError as error:
        problems.setdefault("title", []).extend(error.messages)
    financed_on = row.get("financed_on")
    if financed_on is None:
        fail("financed_on", _("This field is required."))
    elif financed_on > timezone.localdate():
        fail("financed_on", _("This date is in the future."))
    currency = str(row.get("currency") or "").strip().upper()
    if not is_known_currency(currency):
        fail("currency", _("Give the currency's code, such as TND, MAD or EUR."))
        currency = ""
    specs, amounts = [], []
    for name, financing_kind in IMPORTED_FINANCINGS:
        value = amount_of(name, currency) if currency else None
        if value:
            spec = FinancingSpec(kind=financing_kind, amount=value)
            if financing_kind == FinancingKind.LOAN:
                spec.instalments = row.get("loan_instalments")
                spec.grace_months = row.get("grace_months") or 0
                if not spec.instalments or not 1 <= spec.instalments <= 240:
                    fail("loan_instalments", _("Give the number of instalments (1 to 240)."))
                if not 0 <= spec.grace_months <= 60:
                    fail("grace_months", _("The grace period is 0 to 60 months."))
            specs.append(spec)
            amounts.append(value)
    if currency and not specs and not problems.keys() & {n for n, _k in IMPORTED_FINANCINGS}:
        fail(
            "grant_amount",
            _("Give the amount of the grant, of the loan or of the support in kind."),
        )
    if not row.get("loan_amount"):
        for name in ("loan_instalments", "grace_months"):
            if row.get(name):
                fail(name, _("Only a loan has instalments and a grace period."))
    status = row.get("status") or ProjectStatus.ACTIVE
    if status not in ProjectStatus.values:
        fail("status", _("Choose active, struggling or stopped."))
    visited = row.get("last_visit_on")
    if visited is not None:
        if visited > timezone.localdate():
            fail("last_visit_on", _("This date is in the future."))
        elif financed_on is not None and visited < financed_on:
            fail("last_visit_on", _("This date is before the award."))
    if status == ProjectStatus.STOPPED and visited is None:
        fail("last_visit_on", _("Give the date of the visit that found the project stopped."))
    jobs = {}
    for name in ("jobs_women", "jobs_men"):
        jobs[name] = row.get(name) or 0
        if not 0 <= jobs[name] <= 100_000:
            fail(name, _("Give a number of jobs, 0 or more."))
    revenue = amount_of("monthly_revenue", currency) if currency else None
    if problems:
        raise ProjectError(problems)
    return ImportedProject(
        organisation=organisation,
        code=code,
        kind=kind,
        promoter=promoter,
        group=group,
        territory=territory,
        sector=row["sector"],
        title=title,
        financed_on=financed_on,
        currency=currency,
        financings=specs,
        amounts=amounts,
        status=status,
        last_visit_on=visited,
        monthly_revenue=revenue,
        **jobs,
    )


def project_import_check(
    *, user, organisation, rows: list[dict], numbers=None
) -> list[ImportedProject]:
    """Check financed projects brought in from another record, without an application and
    without writing: the rules of ``project_award`` (amounts in the currency's decimals, loans
    of 1 to 240 instalments after 0 to 60 months of grace, no date in the future) and of
    ``visit_record`` (status, jobs and revenue of the last visit, not before the award), and the
    right to record projects of ``organisation`` in each territory (a coordinator's).

    ``rows``: mappings with code, kind, promoter (a Person), group (a Group or None),
    territory, sector, title, financed_on, currency, grant_amount, loan_amount,
    loan_instalments, grace_months, in_kind_amount, status, last_visit_on, jobs_women, jobs_men,
    monthly_revenue. Returns the projects for ``project_import_write``, or a ProjectError keyed
    "<row>:<field>" naming every problem of every row."""
    scope = scope_for(user)
    labelled = enumerate(rows, start=1) if numbers is None else zip(numbers, rows, strict=True)
    codes = {str(row.get("code") or "").strip() for row in rows} - {""}
    taken = set(
        Project.objects.unscoped("project codes are unique across organisations")
        .filter(code__in=codes)
        .values_list("code", flat=True)
    )
    seen: set[str] = set()
    checked: list[ImportedProject] = []
    errors: dict[str, list] = {}
    for number, row in labelled:
        try:
            project = _imported_project(scope, organisation, row, taken | seen)
        except DomainError as error:
            for name, messages in error.message_dict.items():
                errors.setdefault(f"{number}:{name}", []).extend(messages)
            code = str(row.get("code") or "").strip()
            if code:
                seen.add(code)
            continue
        seen.add(project.code)
        checked.append(project)
    if errors:
        raise ProjectError(errors)
    return checked


@transaction.atomic
def project_import_write(
    *, user, projects: list[ImportedProject], reason: str = "imported"
) -> list[Project]:
    """Write projects returned by ``project_import_check`` (their promoters and groups saved):
    each with its financing and, for a loan, its repayment schedule (``loan_schedule``) and the
    loan's ``outstanding`` and ``oldest_unpaid_due_on``, as ``project_award`` writes them. No
    tranche: the financing was paid out before the platform knew it."""
    regions: dict[int, Territory] = {}
    built = []
    for item in projects:
        if item.territory.pk not in regions:
            regions[item.territory.pk] = _region_of(item.territory)
        stopped_on = item.last_visit_on if item.status == ProjectStatus.STOPPED else None
        built.append(
            Project(
                application=None,
                code=item.code,
                organisation=item.organisation,
                kind=item.kind,
                promoter=item.promoter,
                group=item.group,
                territory=item.territory,
                region=regions[item.territory.pk],
                sector=item.sector,
                title=item.title,
                currency=item.currency,
                financed_on=item.financed_on,
                amount_financed=sum(item.amounts, Decimal(0)),
                status=item.status,
                stopped_on=stopped_on,
                months_alive=months_between(item.financed_on, stopped_on) if stopped_on else None,
                last_visit_on=item.last_visit_on,
                jobs_women=item.jobs_women,
                jobs_men=item.jobs_men,
                monthly_revenue=item.monthly_revenue,
            )
        )
    saved = bulk_create_with_history(
        built, Project, batch_size=500, default_user=user, default_change_reason=reason
    )
    financings, schedules = [], []
    for project, item in zip(saved, projects, strict=True):
        for spec in item.financings:
            financing = Financing(
                project=project, kind=spec.kind, amount=spec.amount, awarded_on=item.financed_on
            )
            schedule = []
            if spec.kind == FinancingKind.LOAN:
                financing.grace_months = spec.grace_months
                financing.instalments = spec.instalments
                financing.first_due_on = add_months(item.financed_on, spec.grace_months + 1)
                financing.outstanding = spec.amount
                schedule = loan_schedule(
                    spec.amount, item.currency, spec.instalments, financing.first_due_on
                )
                financing.oldest_unpaid_due_on = schedule[0][1]
            financings.append(financing)
            schedules.append(schedule)
    financings = bulk_create_with_history(
        financings, Financing, batch_size=500, default_user=user, default_change_reason=reason
    )
    Instalment.objects.bulk_create(
        (
            Instalment(financing=financing, number=n, due_on=due, amount=value)
            for financing, schedule in zip(financings, schedules, strict=True)
            for n, due, value in schedule
        ),
        batch_size=2000,
    )
    return saved


@dataclass
class ImportedRepayment:
    financing: Financing
    paid_on: datetime.date
    amount: Decimal


def repayment_import_check(
    *, user, organisation, rows: list[dict], numbers=None, owed: dict | None = None
) -> list[ImportedRepayment]:
    """Check repayments brought in from another record, without writing, each with the rules
    of ``repayment_record`` (a loan of a project of ``organisation`` in the user's scope, whose
    role records repayments there; more than zero; not more than the loan still owes; not before
    the award nor in the future).

    ``rows``: mappings with project (its code), loan (which of the project's loans, from 1 in
    the order awarded; may be left out when it has one), financing_kind (when given: only loans
    are repaid), paid_on and amount. ``owed`` carries what each loan still owes from one batch
    of rows to the next (a file is checked in batches); a loan not in it starts from its
    outstanding amount. Returns the repayments for ``repayment_import_write``, or a
    ProjectError keyed "<row>:<field>"."""
    scope = scope_for(user)
    owed = {} if owed is None else owed
    labelled = enumerate(rows, start=1) if numbers is None else zip(numbers, rows, strict=True)
    codes = {str(row.get("project") or "").strip() for row in rows} - {""}
    projects = {
        p.code: p
        for p in Project.objects.visible_to(user)
        .filter(organisation=organisation, code__in=codes)
        .only("pk", "code", "organisation_id", "territory_id", "currency")
    }
    loans: dict[int, list[Financing]] = defaultdict(list)
    for financing in Financing.objects.filter(
        project__in=[p.pk for p in projects.values()], kind=FinancingKind.LOAN
    ).order_by("pk"):
        loans[financing.project_id].append(financing)
    checked: list[ImportedRepayment] = []
    errors: dict[str, list] = {}
    for number, row in labelled:
        try:
            code = str(row.get("project") or "").strip()
            project = projects.get(code)
            if project is None:
                raise ProjectError(
                    {
                        "project": _(
                            "No project of %(organisation)s in your scope has the code %(code)s."
                        )
                        % {"organisation": organisation, "code": code}
                        if code
                        else _("Give the project's code.")
                    }
                )
            if not scope.can_act_for(
                project.organisation_id, ROLES_WORKING_PROJECTS, project.territory_id
            ):
                raise AccessDenied(
                    {"project": _("Your role does not allow recording repayments here.")}
                )
            if row.get("financing_kind") not in (None, "", FinancingKind.LOAN):
                raise ProjectError({"financing": _("Only loans are repaid.")})
            found = loans.get(project.pk, [])
            which = row.get("loan")
            if not found:
                raise ProjectError({"financing": _("This project has no loan.")})
            if which is None and len(found) > 1:
                raise ProjectError(
                    {
                        "financing": _(
                            "This project has %(count)d loans: say which one, such as loan 2."
                        )
                        % {"count": len(found)}
                    }
                )
            if which is not None and not 1 <= which <= len(found):
                raise ProjectError(
                    {
                        "financing": _("This project has %(count)d loans only.")
                        % {"count": len(found)}
                    }
                )
            financing = found[(which or 1) - 1]
            paid_on = row.get("paid_on")
            if paid_on is None:
                raise ProjectError({"paid_on": _("This field is required.")})
            left = owed.setdefault(financing.pk, financing.outstanding)
            amount = _check_repayment(financing, project.currency, row.get("amount"), paid_on, left)
        except DomainError as error:
            for name, messages in error.message_dict.items():
                errors.setdefault(f"{number}:{name}", []).extend(messages)
            continue
        owed[financing.pk] = left - amount
        checked.append(ImportedRepayment(financing=financing, paid_on=paid_on, amount=amount))
    if errors:
        raise ProjectError(errors)
    return checked


@transaction.atomic
def repayment_import_write(
    *, user, repayments: list[ImportedRepayment], reason: str = "imported"
) -> list[Repayment]:
    """Write repayments returned by ``repayment_import_check`` as ``repayment_record`` does,
    in bulk: each allocated to the loan's oldest unpaid instalments first, the loan's
    ``outstanding`` and ``oldest_unpaid_due_on`` brought up to date, a receipt each."""
    ids = sorted({item.financing.pk for item in repayments})
    loans = {f.pk: f for f in Financing.objects.select_for_update().filter(pk__in=ids)}
    unpaid: dict[int, list[Instalment]] = defaultdict(list)
    for instalment in (
        Instalment.objects.select_for_update()
        .filter(financing_id__in=ids, paid__lt=F("amount"))
        .order_by("financing_id", "-number")
    ):
        unpaid[instalment.financing_id].append(instalment)  # the oldest last: popped first
    sequence = dict(
        Repayment.objects.filter(financing_id__in=ids)
        .values("financing_id")
        .annotate(n=Count("pk"))
        .values_list("financing_id", "n")
    )
    changed: dict[int, Instalment] = {}
    made = []
    for item in repayments:
        loan = loans[item.financing.pk]
        if item.amount > loan.outstanding:  # checked against an older state of the loan
            raise ProjectError(
                {
                    "amount": _("This is more than the loan still owes (%(owed)s).")
                    % {"owed": loan.outstanding}
                }
            )
        left, queue = item.amount, unpaid[loan.pk]
        while left > 0 and queue:
            instalment = queue[-1]
            part = min(left, instalment.amount - instalment.paid)
            instalment.paid += part
            left -= part
            changed[instalment.pk] = instalment
            if instalment.paid == instalment.amount:
                queue.pop()
        loan.outstanding -= item.amount
        loan.oldest_unpaid_due_on = queue[-1].due_on if queue else None
        sequence[loan.pk] = sequence.get(loan.pk, 0) + 1
        made.append(
            Repayment(
                financing=loan,
                paid_on=item.paid_on,
                amount=item.amount,
                receipt=f"R{loan.pk}-{sequence[loan.pk]:03d}-{secrets.token_hex(2).upper()}",
                recorded_by=user,
            )
        )
    Instalment.objects.bulk_update(list(changed.values()), ["paid"], batch_size=1000)
    made = bulk_create_with_history(
        made, Repayment, batch_size=1000, default_user=user, default_change_reason=reason
    )
    bulk_update_with_history(
        list(loans.values()),
        Financing,
        ["outstanding", "oldest_unpaid_due_on"],
        batch_size=1000,
        default_user=user,
        default_change_reason="repayment",
    )
    return made
