"""Pages of calls for proposals, applications (at a desk and from the public page), the inbox
of public submissions, committee sessions and their minutes.

Views are thin: each reads through the access layer (a record outside the scope answers 404)
and calls one service function; a domain error is shown next to the field it names.
"""

from __future__ import annotations

import contextlib
import secrets
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.forms.formsets import BaseFormSet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tadamun.access.scope import scope_for
from tadamun.accounts.models import User
from tadamun.core.errors import DomainError
from tadamun.core.i18n import base_language, language_for
from tadamun.core.views_helpers import (
    get_visible_or_404,
    history_rows,
    paginate,
    say_errors,
    text_param,
)
from tadamun.matching.lookup import person_candidates
from tadamun.organisations.models import Organisation, network_family, networks_of
from tadamun.registry import services as registry_services
from tadamun.registry.models import Group, MemberRole, Person
from tadamun.registry.selectors import person_list

from . import services
from .forms import (
    NEW,
    ROW_FORMSETS,
    SKIP,
    AwardForm,
    CallForm,
    CriterionForm,
    DecideForm,
    DeclineForm,
    DeskApplicationForm,
    DocumentForm,
    EnvelopeForm,
    FinancingFormSet,
    InvestmentFormSet,
    MemberFormSet,
    PrecheckForm,
    PublicApplicationForm,
    RegisterForm,
    RemarksForm,
    SessionForm,
    TrancheFormSet,
    VersionForm,
    call_sectors,
    envelope_territories,
    filled_rows,
    programmes_for,
    user_label,
)
from .models import (
    ROLES_MANAGING_CALLS,
    ROLES_WORKING_PROJECTS,
    Application,
    ApplicationKind,
    ApplicationStatus,
    Call,
    CallStatus,
    CommitteeSession,
    FinancingKind,
    FundingSource,
    PublicSubmission,
    Score,
    Sector,
    SessionStatus,
    SubmissionStatus,
)

# --- Helpers ---------------------------------------------------------------------------------


def _route(error: ValidationError, form, targets: dict | None = None) -> None:
    """Put each message of a domain error where it belongs: ``targets`` maps the service's
    keys (``investments.2.unit_cost``) to a form and field, or to a formset (its own errors);
    other keys go to the field of ``form`` with that name, else above the form."""
    targets = targets or {}
    items = error.error_dict.items() if hasattr(error, "error_dict") else [(None, error.error_list)]
    for key, errors in items:
        target = targets.get(key)
        if target is None:
            target = (form, key if key in form.fields else None)
        where, field = target if isinstance(target, tuple) else (target, None)
        for item in errors:
            if isinstance(where, BaseFormSet):
                where._non_form_errors.extend(item.messages)
            else:
                where.add_error(field, item)


def _plan_targets(investments: list, financing: list, inv, fin) -> dict:
    targets = {"investments": inv, "financing": fin}
    for index, row in enumerate(investments, start=1):
        for name in ("label", "quantity", "unit_cost"):
            targets[f"investments.{index}.{name}"] = (row, name)
    for index, row in enumerate(financing, start=1):
        for name in ("source", "amount"):
            targets[f"financing.{index}.{name}"] = (row, name)
    return targets


def _call(request, pk) -> Call:
    return get_visible_or_404(
        Call.objects.visible_to(request.user).select_related("organisation", "programme"), pk=pk
    )


def _application(request, pk) -> Application:
    return get_visible_or_404(
        Application.objects.visible_to(request.user).select_related(
            "call", "organisation", "promoter", "group", "territory", "sector", "submitted_by"
        ),
        pk=pk,
    )


def _can_manage(user, call: Call) -> bool:
    return scope_for(user).can_act_for(call.organisation_id, ROLES_MANAGING_CALLS)


def _can_record(user, call: Call) -> bool:
    """Whether the user works for an organisation taking part in the call."""
    scope = scope_for(user)
    if scope.is_operator:
        return True
    family = network_family(call.organisation_id)
    return any(g.organisation_id in family for g in scope.grants_with(ROLES_WORKING_PROJECTS))


def _managing_organisations(user):
    scope = scope_for(user)
    if scope.is_operator:
        return Organisation.objects.active().order_by("slug")
    ids = set()
    for grant in scope.grants_with(ROLES_MANAGING_CALLS):
        ids |= grant.organisation_ids
    return Organisation.objects.active().filter(pk__in=ids).order_by("slug")


def _network_users(call: Call):
    """Users working for the call's organisation, its networks or their members: who may
    sit on its committees or mentor its projects."""
    networks = networks_of(call.organisation_id)
    return (
        User.objects.filter(
            Q(memberships__organisation_id__in=networks)
            | Q(memberships__organisation__network_links__network_id__in=networks),
            memberships__is_active=True,
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def _with_extra_row(data, prefix: str):
    """The posted data with one more (empty) row in formset ``prefix`` (the "add a row" button
    of pages used without JavaScript)."""
    data = data.copy()
    key = f"{prefix}-TOTAL_FORMS"
    with contextlib.suppress(ValueError):
        data[key] = str(min(int(data.get(key, 0)) + 1, 30))
    return data


def _visible_person_ids(user, ids) -> set[int]:
    return set(Person.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))


def next_step(application: Application) -> str:
    """What comes next for an application, in words."""
    status = application.status
    if status == ApplicationStatus.SUBMITTED:
        return _("Waiting for the eligibility check")
    if status == ApplicationStatus.INELIGIBLE:
        return _("Not eligible: see the reasons given")
    if status == ApplicationStatus.ELIGIBLE:
        session = (
            application.call.sessions.filter(status=SessionStatus.SCORING)
            .order_by("held_on")
            .first()
        )
        if session is not None:
            return _("Before the committee on %(date)s") % {
                "date": _date(session.held_on),
            }
        return _("Eligible: waiting for the selection committee")
    if status == ApplicationStatus.SELECTED:
        return _("Selected: waiting for the financing agreement")
    if status == ApplicationStatus.WAITLISTED:
        return _("On the waiting list: the territory's envelope is spent for now")
    if status == ApplicationStatus.REJECTED:
        return _("Not selected by the committee")
    if status == ApplicationStatus.AWARDED:
        return _("Financed: see the project")
    return _("Withdrawn")


def _date(day) -> str:
    from django.utils.formats import date_format

    return date_format(day, "DATE_FORMAT")


# --- Calls -----------------------------------------------------------------------------------


@login_required
def call_list(request):
    calls = Call.objects.visible_to(request.user).filter(archived_at__isnull=True)
    status = request.GET.get("status", "")
    if status in CallStatus.values:
        calls = calls.filter(status=status)
    return render(
        request,
        "projects/calls/list.html",
        {
            "page": paginate(calls.select_related("organisation"), request),
            "status": status,
            "Status": CallStatus,
            "can_create": _managing_organisations(request.user).exists(),
            "can_see_submissions": bool(scope_for(request.user).grants)
            or scope_for(request.user).is_operator,
        },
    )


@login_required
def call_create(request):
    organisations = _managing_organisations(request.user)
    if not organisations.exists():
        messages.error(request, _("Only a network coordinator can publish a call."))
        return redirect("projects:call_list")
    form = CallForm(
        request.POST or None,
        organisations=organisations,
        programmes=programmes_for(request.user),
        initial={"currency": "TND", "organisation": organisations.first()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            call = services.call_create(
                user=request.user,
                organisation=form.cleaned_data["organisation"],
                sectors=form.cleaned_data["sectors"],
                **form.service_fields(),
            )
        except DomainError as error:
            _route(error, form)
        else:
            messages.success(request, _("The call was created as a draft."))
            return redirect("projects:call", pk=call.pk)
    return render(
        request,
        "core/form_page.html",
        {
            "form": form,
            "title": _("New call for proposals"),
            "breadcrumbs": [(_("Calls for proposals"), reverse("projects:call_list"))],
            "cancel_url": reverse("projects:call_list"),
        },
    )


@login_required
def call_edit(request, pk):
    call = _call(request, pk)
    if not _can_manage(request.user, call):
        raise Http404
    form = CallForm(
        request.POST or None,
        instance=call,
        programmes=programmes_for(request.user),
        initial={"sectors": list(call.sectors.all())},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.call_update(
                user=request.user,
                call=Call(pk=call.pk),
                sectors=form.cleaned_data["sectors"],
                **form.service_fields(),
            )
        except DomainError as error:
            _route(error, form)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect("projects:call", pk=call.pk)
    return render(
        request,
        "core/form_page.html",
        {
            "form": form,
            "title": _("Change %(name)s") % {"name": call.code},
            "breadcrumbs": [
                (_("Calls for proposals"), reverse("projects:call_list")),
                (call.code, reverse("projects:call", args=[call.pk])),
            ],
            "cancel_url": reverse("projects:call", args=[call.pk]),
        },
    )


@login_required
def call_detail(request, pk):
    call = _call(request, pk)
    can_manage = _can_manage(request.user, call)
    applications = Application.objects.visible_to(request.user).filter(call=call)
    status = request.GET.get("status", "")
    if status in ApplicationStatus.values:
        applications = applications.filter(status=status)
    context = {
        "call": call,
        "can_manage": can_manage,
        "can_record": call.status == CallStatus.OPEN and _can_record(request.user, call),
        "envelopes": services.envelopes_used(call),
        "criteria": list(call.criteria.all()),
        "documents": list(call.documents.all()),
        "sectors": list(call.sectors.all()),
        "sessions": list(call.sessions.select_related("chair")),
        "page": paginate(
            applications.select_related("promoter", "group", "territory", "sector"), request
        ),
        "status": status,
        "Status": ApplicationStatus,
        "history": history_rows(call, limit=5),
        "envelope_form": EnvelopeForm(auto_id="envelope_%s"),
        "criterion_form": CriterionForm(auto_id="criterion_%s"),
        "document_form": DocumentForm(auto_id="document_%s"),
        "today": timezone.localdate(),
    }
    return render(request, "projects/calls/detail.html", context)


@login_required
def call_history(request, pk):
    call = _call(request, pk)
    return render(
        request,
        "core/history.html",
        {
            "record": call,
            "history": history_rows(call),
            "back_url": reverse("projects:call", args=[call.pk]),
        },
    )


def _call_post(request, pk, form_class, run, success, anchor=""):
    call = _call(request, pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            run(call, form.cleaned_data)
        except DomainError as error:
            say_errors(request, form, error)
        else:
            messages.success(request, success)
    else:
        say_errors(request, form)
    return redirect(reverse("projects:call", args=[call.pk]) + anchor)


@login_required
@require_POST
def call_status(request, pk):
    call = _call(request, pk)
    status = request.POST.get("status", "")
    try:
        services.call_set_status(user=request.user, call=call, status=status)
    except DomainError as error:
        say_errors(request, None, error)
    else:
        messages.success(
            request,
            {
                CallStatus.OPEN: _("The call is published."),
                CallStatus.CLOSED: _("The call is closed."),
            }.get(status, _("The call is back to draft.")),
        )
    return redirect("projects:call", pk=call.pk)


@login_required
@require_POST
def envelope_set(request, pk):
    def run(call, data):
        services.envelope_set(
            user=request.user, call=call, territory=data["territory"], amount=data["amount"]
        )

    return _call_post(request, pk, EnvelopeForm, run, _("The envelope was saved."), "#envelopes")


@login_required
@require_POST
def criterion_add(request, pk):
    def run(call, data):
        services.criterion_add(
            user=request.user,
            call=call,
            code=data["code"],
            label=data["label"],
            weight=data["weight"],
            max_score=data["max_score"],
        )

    return _call_post(request, pk, CriterionForm, run, _("The criterion was added."), "#grid")


@login_required
@require_POST
def document_add(request, pk):
    def run(call, data):
        services.document_require(
            user=request.user,
            call=call,
            code=data["code"],
            label=data["label"],
            mandatory=data["mandatory"],
        )

    return _call_post(request, pk, DocumentForm, run, _("The document was added."), "#documents")


# --- Applications at a desk ------------------------------------------------------------------


@login_required
def promoter_pick(request):
    """HTMX: people matching a search, to pick the promoter."""
    query = text_param(request, "promoter_q")
    people = []
    if len(query.strip()) >= 2:
        people = list(person_list(user=request.user, search=query)[:10])
    return render(
        request, "projects/calls/fragment_promoter_pick.html", {"people": people, "q": query}
    )


def plan_row(request, prefix):
    """HTMX: one more empty row of a formset ("add a row"), and its new total."""
    formset_class = ROW_FORMSETS.get(prefix)
    if formset_class is None:
        raise Http404
    try:
        index = max(0, int(request.GET.get(f"{prefix}-TOTAL_FORMS", 0)))
    except ValueError:
        index = 0
    if index >= 30:
        return HttpResponse(status=204)
    form = formset_class(prefix=prefix).empty_form
    form.prefix = f"{prefix}-{index}"
    return render(
        request,
        "projects/calls/fragment_row.html",
        {"form": form, "prefix": prefix, "total": index + 1, "oob": True},
    )


@login_required
def application_create(request, pk):
    call = _call(request, pk)
    if not _can_record(request.user, call):
        raise Http404
    data = request.POST or None
    if data is not None and request.POST.get("add_row") in ROW_FORMSETS:
        data = _with_extra_row(request.POST, request.POST["add_row"])
    initial = {}
    if request.GET.get("person"):
        initial["promoter"] = get_visible_or_404(
            Person.objects.visible_to(request.user), pk=request.GET["person"]
        )
        initial["kind"] = ApplicationKind.INDIVIDUAL
    form = DeskApplicationForm(
        data, request.FILES or None, call=call, user=request.user, initial=initial
    )
    inv = InvestmentFormSet(data, prefix="inv")
    fin = FinancingFormSet(data, prefix="fin")
    adding_row = request.method == "POST" and request.POST.get("add_row") in ROW_FORMSETS
    if request.method == "POST" and not adding_row:
        valid = all([form.is_valid(), inv.is_valid(), fin.is_valid()])
        if valid:
            investments, financing = filled_rows(inv), filled_rows(fin)
            d = form.cleaned_data
            try:
                application = services.application_submit(
                    user=request.user,
                    call=call,
                    kind=d["kind"],
                    promoter=d["promoter"],
                    group=d["group"],
                    territory=d["territory"],
                    sector=d["sector"],
                    submitted_on=d["submitted_on"],
                    plan=services.BusinessPlan(
                        [f.row() for f in investments], [f.row() for f in financing]
                    ),
                    attachments=form.attachments(),
                    **form.plan_fields(),
                )
            except DomainError as error:
                _route(error, form, _plan_targets(investments, financing, inv, fin))
            else:
                messages.success(
                    request,
                    _("The application %(ref)s was recorded.") % {"ref": application.reference},
                )
                return redirect("projects:application", pk=application.pk)
    # The promoter picked so far, shown again when the form comes back with errors.
    promoter = initial.get("promoter")
    if form.is_bound and str(form.data.get("promoter", "")).isdigit():
        promoter = Person.objects.visible_to(request.user).filter(pk=form.data["promoter"]).first()
    return render(
        request,
        "projects/calls/application_form.html",
        {"call": call, "form": form, "inv": inv, "fin": fin, "promoter": promoter},
    )


@login_required
def application_detail(request, pk):
    application = _application(request, pk)
    call = application.call
    can_manage = _can_manage(request.user, call)
    scope = scope_for(request.user)
    can_work = scope.can_act_for(
        application.organisation_id, ROLES_WORKING_PROJECTS, application.territory_id
    )
    investments = list(application.investments.all())
    financing = list(application.financing_plan.all())
    decided = application.status in (
        ApplicationStatus.SELECTED,
        ApplicationStatus.WAITLISTED,
        ApplicationStatus.REJECTED,
        ApplicationStatus.AWARDED,
    )
    scores = []
    if decided:
        for criterion in call.criteria.all():
            values = list(
                Score.objects.filter(
                    application=application,
                    criterion=criterion,
                    session__status=SessionStatus.DECIDED,
                ).values_list("value", flat=True)
            )
            mean = Decimal(sum(values)) / len(values) if values else None
            scores.append((criterion, mean))
    project = getattr(application, "project", None) if hasattr(application, "project") else None
    try:
        project_url = reverse("projects:project", args=[project.pk]) if project else ""
    except NoReverseMatch:
        project_url = ""
    version = {"version": application.version}
    context = {
        "application": application,
        "call": call,
        "next_step": next_step(application),
        "promoter_visible": Person.objects.visible_to(request.user)
        .filter(pk=application.promoter_id)
        .exists(),
        "group_visible": application.group_id is not None
        and Group.objects.visible_to(request.user).filter(pk=application.group_id).exists(),
        "investments": investments,
        "investment_total": sum((i.amount for i in investments), Decimal(0)),
        "financing": financing,
        "financing_total": sum((line.amount for line in financing), Decimal(0)),
        "attachments": list(application.attachments.select_related("document")),
        "scores": scores,
        "decided": decided,
        "can_work": can_work,
        "can_manage": can_manage,
        "precheck_form": PrecheckForm(initial=version, auto_id="precheck_%s"),
        "withdraw_form": VersionForm(initial=version, auto_id="withdraw_%s"),
        "can_precheck": can_work
        and application.status
        in (ApplicationStatus.SUBMITTED, ApplicationStatus.ELIGIBLE, ApplicationStatus.INELIGIBLE),
        "can_withdraw": can_work
        and application.status not in (ApplicationStatus.AWARDED, ApplicationStatus.WITHDRAWN),
        "can_award": can_manage and application.status == ApplicationStatus.SELECTED,
        "project": project,
        "project_url": project_url,
        "history": history_rows(application, limit=5),
    }
    return render(request, "projects/calls/application.html", context)


@login_required
def application_history(request, pk):
    application = _application(request, pk)
    return render(
        request,
        "core/history.html",
        {
            "record": application,
            "history": history_rows(application),
            "back_url": reverse("projects:application", args=[application.pk]),
        },
    )


@login_required
@require_POST
def application_precheck(request, pk):
    application = _application(request, pk)
    form = PrecheckForm(request.POST)
    if form.is_valid():
        try:
            application = services.application_precheck(
                user=request.user,
                application=application,
                version=form.cleaned_data["version"],
                override_reason=form.cleaned_data["override_reason"],
            )
        except DomainError as error:
            say_errors(request, form, error)
        else:
            if application.status == ApplicationStatus.ELIGIBLE:
                messages.success(request, _("The application is eligible."))
            else:
                messages.warning(request, _("The application is not eligible: see the reasons."))
    else:
        say_errors(request, form)
    return redirect("projects:application", pk=pk)


@login_required
@require_POST
def application_withdraw(request, pk):
    application = _application(request, pk)
    form = VersionForm(request.POST)
    if form.is_valid():
        try:
            services.application_withdraw(
                user=request.user, application=application, version=form.cleaned_data["version"]
            )
        except DomainError as error:
            say_errors(request, form, error)
        else:
            messages.success(request, _("The application was withdrawn."))
    return redirect("projects:application", pk=pk)


@login_required
def application_award(request, pk):
    """Finance a selected application: its financing components and their tranches."""
    application = _application(request, pk)
    call = application.call
    if not _can_manage(request.user, call):
        raise Http404
    if application.status != ApplicationStatus.SELECTED:
        messages.error(request, _("Only an application selected by the committee is financed."))
        return redirect("projects:application", pk=pk)
    data = request.POST or None
    adding_row = request.method == "POST" and request.POST.get("add_row") == "tr"
    if adding_row:
        data = _with_extra_row(request.POST, "tr")
    form = AwardForm(
        data,
        mentors=_network_users(call),
        initial={"version": application.version, "grant_amount": application.awarded_amount},
    )
    tranches = TrancheFormSet(data, prefix="tr")
    if request.method == "POST" and not adding_row and all([form.is_valid(), tranches.is_valid()]):
        components = form.components()
        rows = filled_rows(tranches)
        given = {kind for kind, _fields in components}
        for row in rows:
            if row.cleaned_data["component"] not in given:
                row.add_error("component", _("Give this financing an amount above first."))
        if not any(row.errors for row in rows):
            specs, targets = [], {"financings": (form, None)}
            field_of = {
                FinancingKind.GRANT: "grant_amount",
                FinancingKind.LOAN: "loan_amount",
                FinancingKind.IN_KIND: "in_kind_amount",
            }
            for index, (kind, fields) in enumerate(components, start=1):
                own = [r for r in rows if r.cleaned_data["component"] == kind]
                specs.append(
                    services.FinancingSpec(
                        kind=kind,
                        amount=fields["amount"],
                        description=fields.get("description", ""),
                        instalments=fields.get("instalments"),
                        grace_months=fields.get("grace_months", 0),
                        tranches=[
                            {
                                "amount": r.cleaned_data["amount"],
                                "milestone": r.cleaned_data["milestone"],
                                "planned_on": r.cleaned_data["planned_on"],
                            }
                            for r in own
                        ]
                        or None,
                    )
                )
                key = f"financings.{index}"
                targets[f"{key}.amount"] = (form, field_of[kind])
                targets[f"{key}.kind"] = (form, None)
                targets[f"{key}.instalments"] = (form, "loan_instalments")
                targets[f"{key}.grace_months"] = (form, "loan_grace_months")
                targets[f"{key}.tranches"] = (form, field_of[kind])
                for number, row in enumerate(own, start=1):
                    for name in ("amount", "milestone", "planned_on"):
                        targets[f"{key}.tranches.{number}.{name}"] = (row, name)
            try:
                project = services.project_award(
                    user=request.user,
                    application=application,
                    financed_on=form.cleaned_data["financed_on"],
                    financings=specs,
                    mentor=form.cleaned_data["mentor"],
                    version=form.cleaned_data["version"],
                )
            except DomainError as error:
                _route(error, form, targets)
            else:
                messages.success(
                    request, _("The project %(code)s is financed.") % {"code": project.code}
                )
                try:
                    return redirect("projects:project", pk=project.pk)
                except NoReverseMatch:
                    return redirect("projects:application", pk=application.pk)
    return render(
        request,
        "projects/calls/award.html",
        {"application": application, "call": call, "form": form, "tranches": tranches},
    )


# --- Public pages (no sign-in) ---------------------------------------------------------------


def _open_calls():
    today = timezone.localdate()
    return (
        Call.objects.unscoped("public page: published calls")
        .published()
        .filter(status=CallStatus.OPEN, opens_on__lte=today, closes_on__gte=today)
        .select_related("organisation")
        .order_by("closes_on", "pk")
    )


def public_calls(request):
    return render(request, "projects/public/calls.html", {"calls": list(_open_calls()[:100])})


def public_apply(request, code):
    call = get_visible_or_404(_open_calls().prefetch_related("sectors", "documents"), code=code)
    data = request.POST or None
    adding_row = request.method == "POST" and request.POST.get("add_row") in ROW_FORMSETS
    if adding_row:
        data = _with_extra_row(request.POST, request.POST["add_row"])
    form = PublicApplicationForm(data, request.FILES or None, call=call)
    inv = InvestmentFormSet(data, prefix="inv")
    fin = FinancingFormSet(data, prefix="fin")
    mem = MemberFormSet(data, prefix="mem")
    if (
        request.method == "POST"
        and not adding_row
        and all([form.is_valid(), inv.is_valid(), fin.is_valid(), mem.is_valid()])
    ):
        investments, financing = filled_rows(inv), filled_rows(fin)
        members = [m.row() for m in filled_rows(mem)]
        try:
            submission = services.submission_create(
                call=call,
                data=form.submission_data(
                    members if form.cleaned_data["kind"] == ApplicationKind.COLLECTIVE else [],
                    [f.row() for f in investments],
                    [f.row() for f in financing],
                ),
                territory=form.cleaned_data["territory"],
                kind=form.cleaned_data["kind"],
                language=base_language(),
                consent=form.cleaned_data["consent"],
                attachments=form.attachments(),
            )
        except DomainError as error:
            _route(error, form, _plan_targets(investments, financing, inv, fin))
        else:
            request.session["projects_sent"] = submission.reference
            return redirect(
                "projects:track",
                reference=submission.reference,
                secret=submission.tracking_secret,
            )
    return render(
        request,
        "projects/public/apply.html",
        {"call": call, "form": form, "inv": inv, "fin": fin, "mem": mem},
    )


def _tracked(reference: str, secret: str):
    """The submission or application with this reference, if the secret is its own."""
    submission = (
        PublicSubmission.objects.unscoped("tracking page: reference and secret")
        .select_related("call", "application", "application__call")
        .filter(reference=reference[:30])
        .first()
    )
    if submission is not None:
        if secrets.compare_digest(submission.tracking_secret, secret):
            return submission, submission.application
        raise Http404
    application = (
        Application.objects.unscoped("tracking page: reference and secret")
        .select_related("call")
        .filter(reference=reference[:30])
        .first()
    )
    if application is not None and secrets.compare_digest(application.tracking_secret, secret):
        return None, application
    raise Http404


def public_track(request, reference, secret):
    submission, application = _tracked(reference, secret)
    steps = [
        ("received", _("Application received")),
        ("registered", _("Registered by a field officer")),
        ("decided", _("Examined and decided")),
        ("financed", _("Financed")),
    ]
    reached = {"received"}
    message = ""
    if submission is not None and submission.status == SubmissionStatus.DECLINED:
        message = _("Your application was not taken forward: %(reason)s") % {
            "reason": submission.decline_reason
        }
    elif submission is not None and application is None:
        message = _("Your application was received. A field officer will contact you.")
    if application is not None:
        reached.add("registered")
        if application.status in (
            ApplicationStatus.SELECTED,
            ApplicationStatus.WAITLISTED,
            ApplicationStatus.REJECTED,
            ApplicationStatus.AWARDED,
        ):
            reached.add("decided")
        if application.status == ApplicationStatus.AWARDED:
            reached.add("financed")
        message = next_step(application)
    call = submission.call if submission is not None else application.call
    just_sent = request.session.pop("projects_sent", None) == reference
    title = submission.data.get("title", "") if submission is not None else application.title
    response = render(
        request,
        "projects/public/track.html",
        {
            "call": call,
            "submission": submission,
            "application": application,
            "reference": reference,
            "title": title,
            "steps": [(key, label, key in reached) for key, label in steps],
            "message": message,
            "just_sent": just_sent,
            "tracking_url": request.build_absolute_uri(),
        },
    )
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


# --- Public submissions: the inbox of field officers ------------------------------------------


@login_required
def submission_list(request):
    submissions = PublicSubmission.objects.visible_to(request.user).select_related(
        "call", "territory"
    )
    status = request.GET.get("status", SubmissionStatus.RECEIVED)
    if status in SubmissionStatus.values:
        submissions = submissions.filter(status=status)
    return render(
        request,
        "projects/calls/submissions.html",
        {"page": paginate(submissions, request), "status": status, "Status": SubmissionStatus},
    )


def _submission(request, pk) -> PublicSubmission:
    return get_visible_or_404(
        PublicSubmission.objects.visible_to(request.user).select_related(
            "call", "territory", "application", "handled_by"
        ),
        pk=pk,
    )


def _typed_promoter(data: dict) -> dict:
    """What the applicant typed about themselves."""
    return {name: data.get(name) or "" for name in services.PUBLIC_PERSON_FIELDS}


def _candidate_choices(user, person: dict) -> tuple[list, list]:
    """Choices to register someone typed on the public page: people already known (those the
    user may see), else organisations holding a likely match, to contact."""
    try:
        birth_year = int(person.get("birth_year")) if person.get("birth_year") else None
    except (TypeError, ValueError):
        birth_year = None
    found = person_candidates(
        user=user,
        given_name=person.get("given_name", ""),
        family_name=person.get("family_name", ""),
        birth_year=birth_year,
        phone=person.get("phone", ""),
    )
    visible = [c for c in found if c.visible]
    hidden = [c for c in found if not c.visible]
    if found:
        registry_services.person_lookup_record(user=user, shown=len(visible), hidden=len(hidden))
    choices = [
        (
            f"p{c.person_id}",
            _("Use %(name)s (likeness %(score)d%%)") % {"name": c.name, "score": c.score * 100},
        )
        for c in visible
    ]
    return choices, hidden


def _register_form(request, submission, data=None):
    user = request.user
    scope = scope_for(user)
    editing = scope.editing_organisation_ids()
    family = network_family(submission.call.organisation_id)
    organisations = (
        Organisation.objects.active()
        if scope.is_operator
        else Organisation.objects.active().filter(pk__in=editing & family)
    ).order_by("slug")
    promoter = _typed_promoter(submission.data)
    choices, hidden = _candidate_choices(user, promoter)
    new_label = _("Register %(name)s as a new person") % {
        "name": f"{promoter.get('given_name', '')} {promoter.get('family_name', '')}".strip()
    }
    collective = submission.kind == ApplicationKind.COLLECTIVE
    members = (submission.data.get("collective") or {}).get("members") or []
    member_choices, member_hidden = [], []
    for member in members:
        found, others = _candidate_choices(user, member)
        name = f"{member.get('given_name', '')} {member.get('family_name', '')}".strip()
        member_choices.append(
            (
                name,
                [(NEW, _("Register as a new person")), (SKIP, _("Do not add")), *found],
            )
        )
        member_hidden.append(others)
    sector = Sector.objects.filter(code=submission.data.get("sector", "")).first()
    form = RegisterForm(
        data,
        organisations=organisations,
        territories=envelope_territories(submission.call),
        sectors=call_sectors(submission.call),
        promoter_choices=[*choices, (NEW, new_label)],
        member_choices=member_choices,
        groups=Group.objects.visible_to(user).filter(archived_at__isnull=True),
        collective=collective,
        initial={
            "organisation": organisations.first(),
            "residence": submission.territory,
            "sector": sector,
            "promoter": choices[0][0] if choices else NEW,
        },
        auto_id="register_%s",
    )
    return form, hidden, member_hidden


@login_required
def submission_detail(request, pk):
    submission = _submission(request, pk)
    can_work = scope_for(request.user).can_act_for(
        submission.call.organisation_id, ROLES_WORKING_PROJECTS, submission.territory_id
    ) or any(
        scope_for(request.user).can_act_for(o, ROLES_WORKING_PROJECTS, submission.territory_id)
        for o in network_family(submission.call.organisation_id)
    )
    context = {
        "submission": submission,
        "data": submission.data,
        "promoter": _typed_promoter(submission.data),
        "collective": submission.data.get("collective") or {},
        "attachments": list(submission.attachments.select_related("document")),
        "can_work": can_work and submission.status == SubmissionStatus.RECEIVED,
        "decline_form": DeclineForm(auto_id="decline_%s"),
        "sector": Sector.objects.filter(code=submission.data.get("sector", "")).first(),
        "financing_kind": dict(FinancingKind.choices).get(
            submission.data.get("financing_kind"), ""
        ),
        "financing_lines": [
            (dict(FundingSource.choices).get(line.get("source"), ""), line.get("amount"))
            for line in submission.data.get("financing") or []
        ],
    }
    if context["can_work"]:
        form, hidden, member_hidden = _register_form(request, submission)
        context.update(
            {
                "register_form": form,
                "hidden": hidden,
                "members": list(
                    zip(
                        [form[name] for name in form.member_names],
                        member_hidden,
                        strict=True,
                    )
                ),
            }
        )
    return render(request, "projects/calls/submission.html", context)


@login_required
@require_POST
def submission_decline(request, pk):
    submission = _submission(request, pk)
    form = DeclineForm(request.POST)
    if form.is_valid():
        try:
            services.submission_decline(
                user=request.user, submission=submission, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            say_errors(request, form, error)
        else:
            messages.success(request, _("The submission was declined."))
    else:
        say_errors(request, form)
    return redirect("projects:submission", pk=pk)


def _person_from_public(user, typed: dict, organisation, residence) -> Person:
    fields = {
        "given_name": typed.get("given_name", ""),
        "family_name": typed.get("family_name", ""),
        "sex": typed.get("sex") or "U",
        "residence": residence,
    }
    if typed.get("birth_year"):
        fields["birth_year"] = int(typed["birth_year"])
    if typed.get("phone"):
        fields["phone"] = typed["phone"]
    if typed.get("email"):
        fields["email"] = typed["email"]
    return registry_services.person_register(user=user, organisation=organisation, **fields)


def _chosen_person(user, choice: str, typed: dict, organisation, residence) -> Person | None:
    if choice == SKIP:
        return None
    if choice == NEW:
        return _person_from_public(user, typed, organisation, residence)
    person = Person.objects.visible_to(user).filter(pk=choice[1:]).first()
    if person is None:
        raise services.ProjectError({"promoter": _("This person is not in your scope.")})
    return person


@login_required
@require_POST
def submission_register(request, pk):
    submission = _submission(request, pk)
    form, _hidden, _member_hidden = _register_form(request, submission, request.POST)
    if not form.is_valid():
        say_errors(request, form)
        return redirect("projects:submission", pk=pk)
    d = form.cleaned_data
    data = submission.data
    try:
        with transaction.atomic():
            organisation, residence = d["organisation"], d["residence"]
            promoter = _chosen_person(
                request.user, d["promoter"], _typed_promoter(data), organisation, residence
            )
            group = None
            if submission.kind == ApplicationKind.COLLECTIVE:
                collective = data.get("collective") or {}
                group = d.get("group")
                if group is None:
                    group = registry_services.group_create(
                        user=request.user,
                        organisation=organisation,
                        name=collective.get("name", ""),
                        kind=d["group_kind"],
                        territory=residence,
                    )
                people = [
                    (
                        promoter,
                        collective.get("role") or MemberRole.PRESIDENT,
                        collective.get("share"),
                    )
                ]
                for name, member in zip(
                    form.member_names, collective.get("members") or [], strict=False
                ):
                    person = _chosen_person(request.user, d[name], member, organisation, residence)
                    if person is not None:
                        people.append((person, member.get("role"), member.get("share")))
                current = set(
                    group.members.filter(left_on__isnull=True).values_list("person_id", flat=True)
                )
                for person, role, share in people:
                    if person.pk in current:
                        continue
                    registry_services.group_member_add(
                        user=request.user,
                        group=group,
                        person=person,
                        role=role or MemberRole.MEMBER,
                        share=Decimal(share) if share not in (None, "") else None,
                    )
                    current.add(person.pk)
            application = services.submission_register(
                user=request.user,
                submission=submission,
                promoter=promoter,
                group=group,
                sector=d["sector"],
            )
    except DomainError as error:
        say_errors(request, form, error)
        return redirect("projects:submission", pk=pk)
    messages.success(
        request,
        _("The application %(ref)s was registered.") % {"ref": application.reference},
    )
    return redirect("projects:application", pk=application.pk)


# --- Committee ----------------------------------------------------------------------------


@login_required
def session_create(request, pk):
    call = _call(request, pk)
    if not _can_manage(request.user, call):
        raise Http404
    users = _network_users(call)
    form = SessionForm(
        request.POST or None,
        users=users,
        initial={"language": base_language(), "chair": request.user},
    )
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_create(user=request.user, call=call, **form.cleaned_data)
        except DomainError as error:
            _route(error, form)
        else:
            messages.success(request, _("The committee session was created."))
            return redirect("projects:session", pk=session.pk)
    return render(
        request,
        "core/form_page.html",
        {
            "form": form,
            "title": _("New committee session"),
            "breadcrumbs": [
                (_("Calls for proposals"), reverse("projects:call_list")),
                (call.code, reverse("projects:call", args=[call.pk])),
            ],
            "cancel_url": reverse("projects:call", args=[call.pk]),
        },
    )


def _session(request, pk) -> CommitteeSession:
    session = get_object_or_404(
        CommitteeSession.objects.select_related("call", "call__organisation", "chair"), pk=pk
    )
    visible = Call.objects.visible_to(request.user).filter(pk=session.call_id).exists()
    if not visible and not session.members.filter(pk=request.user.pk).exists():
        raise Http404
    return session


def _labelled(session: CommitteeSession) -> list:
    """The members, each with the label that tells namesakes apart; the chair's too."""
    members = list(session.members.order_by("last_name", "first_name", "username"))
    for member in members:
        member.label = user_label(member)
    session.chair.label = user_label(session.chair)
    return members


def _before_committee(session: CommitteeSession):
    return (
        Application.objects.unscoped("applications before the committee")
        .filter(call=session.call, status=ApplicationStatus.ELIGIBLE)
        .select_related("territory", "sector")
        .order_by("submitted_on", "pk")
    )


def _score_cards(session, user, applications, errors=None, saved=None):
    """Each application with the member's own scores (and the errors of the one just sent)."""
    criteria = list(session.call.criteria.all())
    own = {}
    comments = {}
    for score in Score.objects.filter(session=session, member=user):
        own[(score.application_id, score.criterion_id)] = score.value
        comments[score.application_id] = score.comment
    cards = []
    for application in applications:
        rows = []
        for criterion in criteria:
            value = own.get((application.pk, criterion.pk))
            problem = None
            if errors is not None and errors[0] == application.pk:
                value = errors[1].get(criterion.code, value)
                problem = errors[2].get(criterion.code)
            rows.append({"criterion": criterion, "value": value, "errors": problem})
        cards.append(
            {
                "application": application,
                "rows": rows,
                "comment": comments.get(application.pk, ""),
                "complete": all((application.pk, c.pk) in own for c in criteria),
                "saved": saved == application.pk,
                "other_errors": errors[2].get(None, [])
                if errors is not None and errors[0] == application.pk
                else [],
            }
        )
    return cards


@login_required
def session_detail(request, pk):
    session = _session(request, pk)
    call = session.call
    user = request.user
    members = _labelled(session)
    is_member = any(m.pk == user.pk for m in members)
    can_manage = _can_manage(user, call)
    # The chair follows who scored what and the live ranking; so does a coordinator of the
    # call who does not score. A member who is not the chair sees only their own scores.
    sees_progress = user.pk == session.chair_id or (can_manage and not is_member)
    scoring = session.status == SessionStatus.SCORING
    applications = list(_before_committee(session)) if scoring else []
    context = {
        "session": session,
        "call": call,
        "members": members,
        "is_member": is_member,
        "can_manage": can_manage,
        "sees_progress": sees_progress,
        "scoring": scoring,
        "cards": _score_cards(session, user, applications) if is_member and scoring else [],
        "remarks_form": RemarksForm(initial={"note": session.minutes_note}, auto_id="remarks_%s"),
        "can_remark": can_manage or user.pk == session.chair_id,
        "decide_form": DecideForm(auto_id="decide_%s"),
    }
    if sees_progress and scoring:
        done = set(
            Score.objects.filter(session=session)
            .values_list("application_id", "member_id")
            .distinct()
        )
        criteria_count = call.criteria.count()
        counts = {}
        for application_id, member_id in Score.objects.filter(session=session).values_list(
            "application_id", "member_id"
        ):
            counts[(application_id, member_id)] = counts.get((application_id, member_id), 0) + 1
        context["progress"] = [
            (
                application,
                [counts.get((application.pk, m.pk), 0) >= criteria_count for m in members],
            )
            for application in applications
        ]
        context["ranking"] = services.session_ranking(session)
        context["scored_pairs"] = len(done)
    if not scoring:
        context["outcome"] = services.session_ranking(session)
    return render(request, "projects/calls/session.html", context)


@login_required
@require_POST
def score_record(request, pk, application_pk):
    session = _session(request, pk)
    application = get_object_or_404(
        Application.objects.unscoped("applications before the committee").select_related(
            "territory", "sector"
        ),
        pk=application_pk,
        call=session.call,
    )
    criteria = list(session.call.criteria.all())
    values = {c.code: request.POST.get(f"score-{c.code}", "").strip() for c in criteria}
    comment = request.POST.get("comment", "")[:500]
    errors = None
    try:
        services.score_record(
            user=request.user,
            session=session,
            application=application,
            scores=values,
            comment=comment,
        )
    except DomainError as error:
        found = (
            {k: [str(m) for m in v] for k, v in error.message_dict.items()}
            if hasattr(error, "error_dict")
            else {None: error.messages}
        )
        for key in [k for k in found if k is not None and k not in values]:
            found.setdefault(None, []).extend(found.pop(key))
        errors = (application.pk, values, found)
    if request.htmx:
        card = _score_cards(
            session,
            request.user,
            [application],
            errors=errors,
            saved=None if errors else application.pk,
        )[0]
        return render(
            request,
            "projects/calls/fragment_score_card.html",
            {"session": session, "card": card},
        )
    if errors:
        for messages_ in errors[2].values():
            for message in messages_:
                messages.error(request, f"{application.reference}: {message}")
    else:
        messages.success(
            request, _("Your scores of %(ref)s were saved.") % {"ref": application.reference}
        )
    return redirect(reverse("projects:session", args=[session.pk]) + f"#a{application.pk}")


@login_required
@require_POST
def session_decide(request, pk):
    session = _session(request, pk)
    form = DecideForm(request.POST)
    if form.is_valid():
        try:
            services.session_decide(
                user=request.user, session=session, pass_mark=form.cleaned_data["pass_mark"]
            )
        except DomainError as error:
            say_errors(request, form, error)
        else:
            messages.success(request, _("The committee has decided."))
    else:
        say_errors(request, form)
    return redirect("projects:session", pk=pk)


@login_required
@require_POST
def session_remarks(request, pk):
    session = _session(request, pk)
    form = RemarksForm(request.POST)
    if form.is_valid():
        try:
            services.session_note_set(
                user=request.user, session=session, note=form.cleaned_data["note"]
            )
        except DomainError as error:
            say_errors(request, form, error)
        else:
            messages.success(request, _("The remarks were saved."))
    else:
        say_errors(request, form)
    return redirect(reverse("projects:session", args=[pk]) + "#remarks")


@login_required
def session_minutes(request, pk):
    """The minutes, in the session's language, printable."""
    session = _session(request, pk)
    call = session.call
    members = _labelled(session)
    ranking = services.session_ranking(session)
    visible = _visible_person_ids(request.user, [r.application.promoter_id for r in ranking])
    language = language_for(session.language, call.organisation.country)
    with translation.override(language):
        envelopes = services.envelopes_used(call)
        response = render(
            request,
            "projects/calls/minutes.html",
            {
                "session": session,
                "call": call,
                "members": members,
                "criteria": list(call.criteria.all()),
                "ranking": ranking,
                "visible_promoters": visible,
                "envelopes": envelopes,
                "decided": session.status == SessionStatus.DECIDED,
            },
        )
    response["Content-Language"] = session.language
    return response
