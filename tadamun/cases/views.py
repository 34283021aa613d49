import contextlib
import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tadamun.access.scope import scope_for
from tadamun.accounts.models import User
from tadamun.core.errors import DomainError
from tadamun.core.views_helpers import (
    get_visible_or_404,
    history_rows,
    paginate,
    say_errors,
    show_domain_error,
    text_param,
)
from tadamun.matching.lookup import may_look_up, person_candidates
from tadamun.organisations.models import Organisation
from tadamun.registry import services as registry_services
from tadamun.registry.models import Person

from . import selectors, services
from .forms import (
    ActionForm,
    AnswerForm,
    CaseOpenForm,
    CloseForm,
    DiagnosisForm,
    FollowUpForm,
    IntakeForm,
    NoteForm,
    OutcomeForm,
    ReferralForm,
    ReportForm,
)
from .models import (
    ROLES_AT_DESK,
    ROLES_WORKING_CASES,
    ActionType,
    Case,
    CaseStatus,
    Desk,
    DiagnosisDimension,
    FollowUp,
    PathwayAction,
    Referral,
)
from .report_export import report_xlsx


def _orgs_with(user, roles):
    scope = scope_for(user)
    if scope.is_operator:
        return Organisation.objects.active()
    ids = set()
    for grant in scope.grants_with(roles):
        ids |= grant.organisation_ids
    return Organisation.objects.active().filter(pk__in=ids)


def _desks_for(user):
    scope = scope_for(user)
    desks = Desk.objects.filter(archived_at__isnull=True).select_related("organisation")
    if scope.is_operator:
        return desks
    return desks.filter(organisation__in=_orgs_with(user, ROLES_AT_DESK))


def _case(request, pk) -> Case:
    return get_visible_or_404(
        Case.objects.visible_to(request.user).select_related(
            "person", "person__residence", "organisation", "desk", "tutor"
        ),
        pk=pk,
    )


@login_required
def caseload(request):
    mine = request.GET.get("all") != "1"
    status = request.GET.get("status", CaseStatus.OPEN)
    cases = selectors.caseload(
        user=request.user, mine_only=mine, status=status if status in CaseStatus.values else ""
    )
    return render(
        request,
        "cases/caseload.html",
        {
            "page": paginate(cases, request),
            "mine": mine,
            "status": status,
            "Status": CaseStatus,
            "overdue_incoming": selectors.referrals_for(user=request.user)
            .filter(status="sent", deadline__lt=timezone.localdate())
            .count(),
        },
    )


# What the desk types to look the person up (GET parameters), and how long each may be.
LOOKUP_FIELDS = {
    "given_name": 150,
    "family_name": 150,
    "birth_date": 10,
    "birth_year": 4,
    "phone": 40,
}


def _typed_lookup(request) -> dict[str, str]:
    return {name: text_param(request, name, limit) for name, limit in LOOKUP_FIELDS.items()}


def _typed_birth(typed: dict) -> tuple[datetime.date | None, int | None]:
    """The date or year of birth typed, when they make one (anything else is left out)."""
    today = timezone.localdate()
    born = None
    with contextlib.suppress(ValueError):
        born = datetime.date.fromisoformat(typed["birth_date"])
    if born is not None and not datetime.date(1900, 1, 1) <= born <= today:
        born = None
    year = int(typed["birth_year"]) if typed["birth_year"].isdecimal() else None
    if year is not None and not 1900 <= year <= today.year:
        year = None
    return born, year


def _intake_candidates(request, typed: dict) -> list[dict]:
    """Possible matches of the person at the desk in the whole registry, as the user may know
    them (``matching.lookup.person_candidates``); the lookup is recorded (who, when, how many)."""
    if not (typed["given_name"].strip() or typed["family_name"].strip()):
        return []
    if not may_look_up(request.user):
        return []
    born, year = _typed_birth(typed)
    found = person_candidates(
        user=request.user,
        given_name=typed["given_name"],
        family_name=typed["family_name"],
        birth_date=born,
        birth_year=year,
        phone=typed["phone"],
    )
    shown = [c.person_id for c in found if c.visible]
    registry_services.person_lookup_record(
        user=request.user, shown=len(shown), hidden=len(found) - len(shown)
    )
    people = Person.objects.visible_to(request.user).select_related("residence").in_bulk(shown)
    rows = []
    for candidate in found:
        person = people.get(candidate.person_id) if candidate.visible else None
        if candidate.visible and person is None:
            continue  # archived or gone since the lookup
        rows.append(
            {"candidate": candidate, "person": person, "percent": int(candidate.score * 100)}
        )
    return rows


@login_required
def intake(request):
    """The desk: look the person up first (across the whole registry, in any script), then
    record the visit against the person chosen (and open a case)."""
    desks = _desks_for(request.user)
    typed = _typed_lookup(request)
    person = None
    if request.GET.get("person"):
        person = get_visible_or_404(
            Person.objects.visible_to(request.user), pk=request.GET["person"]
        )
    form = IntakeForm(request.POST or None, desks=desks)
    if request.method == "POST" and person is not None and form.is_valid():
        case = None
        try:
            # The visit and the case together, or neither: a refused case must not leave a
            # visit behind that the next attempt would record again.
            with transaction.atomic():
                visit = services.intake_record(
                    user=request.user,
                    person=person,
                    desk=form.cleaned_data["desk"],
                    reason=form.cleaned_data["reason"],
                )
                if form.cleaned_data["open_case"]:
                    case = services.case_open(
                        user=request.user,
                        person=person,
                        organisation=visit.desk.organisation,
                        desk=visit.desk,
                        intake=visit,
                    )
        except DomainError as error:
            say_errors(request, None, error)
        else:
            if case is not None:
                messages.success(request, _("The visit was recorded and a case opened."))
                return redirect("cases:detail", pk=case.pk)
            messages.success(request, _("The visit was recorded."))
            return redirect("registry:person_detail", pk=person.pk)
    template = "cases/fragment_intake_people.html" if request.htmx else "cases/intake.html"
    return render(
        request,
        template,
        {
            "form": form,
            "candidates": _intake_candidates(request, typed),
            "typed": typed,
            "typed_query": urlencode({k: v for k, v in typed.items() if v}),
            "looked_up": bool(typed["given_name"].strip() or typed["family_name"].strip()),
            "person": person,
            "has_desk": desks.exists(),
        },
    )


@login_required
def case_open(request, person_pk):
    person = get_visible_or_404(Person.objects.visible_to(request.user), pk=person_pk)
    organisations = _orgs_with(request.user, ROLES_WORKING_CASES)
    tutors = (
        User.objects.filter(
            memberships__organisation__in=organisations,
            memberships__role__in=ROLES_WORKING_CASES,
            memberships__is_active=True,
        )
        .distinct()
        .order_by("last_name")
    )
    form = CaseOpenForm(
        request.POST or None,
        organisations=organisations,
        desks=_desks_for(request.user),
        tutors=tutors,
        initial={"tutor": request.user.pk},
    )
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_open(user=request.user, person=person, **form.cleaned_data)
        except DomainError as error:
            show_domain_error(request, form, error)
        else:
            messages.success(request, _("The case was opened."))
            return redirect("cases:detail", pk=case.pk)
    return render(
        request,
        "core/form_page.html",
        {
            "form": form,
            "title": _("Open a case for %(name)s") % {"name": person.full_name},
            "breadcrumbs": [
                (_("People"), reverse("registry:person_list")),
                (person.full_name, reverse("registry:person_detail", args=[person.pk])),
            ],
            "cancel_url": reverse("registry:person_detail", args=[person.pk]),
        },
    )


def _network_ids(case: Case) -> list[int]:
    return list(services.case_networks(case))


@login_required
def case_detail(request, pk):
    case = _case(request, pk)
    networks = _network_ids(case)
    dimensions = DiagnosisDimension.objects.filter(network_id__in=networks)
    if not services.can_read_health(request.user, case):
        dimensions = dimensions.exclude(is_health=True)
    action_types = ActionType.objects.filter(network_id__in=networks)
    if not services.can_read_health(request.user, case):
        action_types = action_types.exclude(is_health=True)
    partners = Organisation.objects.active().exclude(pk=case.organisation_id).order_by("slug")
    actions = list(selectors.visible_actions(request.user, case))
    referrals = list(
        Referral.objects.visible_to(request.user)
        .filter(case=case)
        .select_related("to_organisation", "action__action_type")
    )
    for referral in referrals:
        referral.shown_action = selectors.referral_action_shown(request.user, referral)
    diagnoses = [
        (d, list(selectors.visible_levels(request.user, d)))
        for d in case.diagnoses.select_related("diagnosed_by")
    ]
    can_work = scope_for(request.user).can_act_for(
        case.organisation_id, ROLES_WORKING_CASES, case.person.residence_id
    )
    version = {"version": case.version}
    context = {
        "case": case,
        "diagnoses": diagnoses,
        "actions": [
            (
                a,
                ActionForm(
                    instance=a,
                    prefix=f"a{a.pk}",
                    initial=version,
                    organisations=Organisation.objects.active(),
                ),
            )
            for a in actions
        ],
        "notes": selectors.visible_notes(request.user, case),
        "referrals": referrals,
        "follow_ups": case.follow_ups.all(),
        "intakes": case.intakes.select_related("desk"),
        "history": history_rows(case, limit=5),
        "can_work": can_work,
        "consent": services.sharing_consent(case.person),
        # The page holds several forms with fields of the same name: each form's ids get
        # their own prefix, so that every label points to its own field.
        "diagnosis_form": DiagnosisForm(
            dimensions=dimensions,
            initial={**version, "diagnosed_on": timezone.localdate()},
            auto_id="diagnosis_%s",
        ),
        "action_form": ActionForm(
            action_types=action_types,
            initial=version,
            organisations=Organisation.objects.active().order_by("slug"),
            auto_id="action_%s",
        ),
        "note_form": NoteForm(auto_id="note_%s"),
        "referral_form": ReferralForm(
            partners=partners,
            actions=PathwayAction.objects.filter(pk__in=[a.pk for a in actions]),
            auto_id="referral_%s",
        ),
        "close_form": CloseForm(initial=version, auto_id="close_%s"),
        "follow_up_form": FollowUpForm(auto_id=False),
    }
    return render(request, "cases/detail.html", context)


def _post(request, pk, build, call, success):
    """Run one service for a form posted from the case page, then go back to it."""
    case = _case(request, pk)
    form = build(case)
    if form.is_valid():
        try:
            call(case, form)
        except DomainError as error:
            say_errors(request, form, error)
        else:
            messages.success(request, success)
    else:
        say_errors(request, form)
    return redirect(reverse("cases:detail", args=[case.pk]) + request.POST.get("anchor", ""))


@login_required
@require_POST
def diagnosis_add(request, pk):
    def build(case):
        return DiagnosisForm(
            request.POST,
            dimensions=DiagnosisDimension.objects.filter(network_id__in=_network_ids(case)),
        )

    def call(case, form):
        services.diagnosis_record(
            user=request.user,
            case=case,
            levels=form.levels(),
            diagnosed_on=form.cleaned_data["diagnosed_on"],
            summary=form.cleaned_data["summary"],
            version=form.cleaned_data["version"],
        )

    return _post(request, pk, build, call, _("The diagnosis was recorded."))


@login_required
@require_POST
def action_add(request, pk):
    def build(case):
        return ActionForm(
            request.POST,
            action_types=ActionType.objects.filter(network_id__in=_network_ids(case)),
            organisations=Organisation.objects.active(),
        )

    def call(case, form):
        data = dict(form.cleaned_data)
        services.action_add(
            user=request.user,
            case=case,
            version=data.pop("version"),
            action_type=data.pop("action_type"),
            responsible=data.pop("responsible"),
            **data,
        )

    return _post(request, pk, build, call, _("The action was added to the plan."))


@login_required
@require_POST
def action_edit(request, pk, action_pk):
    def build(case):
        # A care pathway is hidden from roles without health access: not found for them.
        action = get_visible_or_404(selectors.visible_actions(request.user, case), pk=action_pk)
        return ActionForm(
            request.POST,
            instance=action,
            prefix=f"a{action.pk}",
            organisations=Organisation.objects.active(),
        )

    def call(case, form):
        data = dict(form.cleaned_data)
        services.action_update(
            user=request.user, action=form.instance, version=data.pop("version"), **data
        )

    return _post(request, pk, build, call, _("The action was saved."))


@login_required
@require_POST
def note_add(request, pk):
    def call(case, form):
        services.note_add(user=request.user, case=case, **form.cleaned_data)

    return _post(request, pk, lambda case: NoteForm(request.POST), call, _("The note was added."))


@login_required
@require_POST
def referral_send(request, pk):
    def build(case):
        return ReferralForm(
            request.POST,
            partners=Organisation.objects.active(),
            actions=PathwayAction.objects.filter(case=case),
        )

    def call(case, form):
        services.referral_send(user=request.user, case=case, **form.cleaned_data)

    return _post(request, pk, build, call, _("The referral was sent."))


@login_required
@require_POST
def case_close(request, pk):
    def call(case, form):
        data = form.cleaned_data
        services.case_close(
            user=request.user,
            case=case,
            outcome=data["outcome"],
            reason=data["reason"],
            closed_on=data["closed_on"],
            version=data["version"],
        )

    return _post(
        request,
        pk,
        lambda case: CloseForm(request.POST),
        call,
        _("The case was closed; follow-ups are planned at 6 and 12 months."),
    )


@login_required
@require_POST
def case_reopen(request, pk):
    def call(case, form):
        services.case_reopen(user=request.user, case=case)

    return _post(
        request, pk, lambda case: CloseForm({"outcome": "other"}), call, _("The case was reopened.")
    )


@login_required
@require_POST
def follow_up_record(request, pk, follow_up_pk):
    def call(case, form):
        follow_up = get_visible_or_404(FollowUp.objects.filter(case=case), pk=follow_up_pk)
        services.follow_up_record(user=request.user, follow_up=follow_up, **form.cleaned_data)

    return _post(
        request, pk, lambda case: FollowUpForm(request.POST), call, _("The follow-up was recorded.")
    )


@login_required
def case_history(request, pk):
    case = _case(request, pk)
    return render(
        request,
        "core/history.html",
        {
            "record": case,
            "history": history_rows(case),
            "back_url": reverse("cases:detail", args=[case.pk]),
        },
    )


@login_required
def referral_list(request):
    direction = "outgoing" if request.GET.get("direction") == "outgoing" else "incoming"
    referrals = selectors.referrals_for(user=request.user, direction=direction)
    return render(
        request,
        "cases/referrals.html",
        {
            "page": paginate(referrals, request),
            "direction": direction,
        },
    )


@login_required
def referral_detail(request, pk):
    """What the partner sees: the person's name and year of birth, the message, the action's
    kind; nothing else of the case."""
    referral = get_visible_or_404(
        Referral.objects.visible_to(request.user).select_related(
            "case__person", "from_organisation", "to_organisation", "action__action_type", "sent_by"
        ),
        pk=pk,
    )
    scope = scope_for(request.user)
    is_partner = scope.can_act_for(referral.to_organisation_id, ROLES_AT_DESK)
    return render(
        request,
        "cases/referral.html",
        {
            "referral": referral,
            "shown_action": selectors.referral_action_shown(request.user, referral),
            "is_partner": is_partner,
            "can_open_case": Case.objects.visible_to(request.user)
            .filter(pk=referral.case_id)
            .exists(),
            "answer_form": AnswerForm(),
            "outcome_form": OutcomeForm(),
        },
    )


@login_required
@require_POST
def referral_answer(request, pk):
    referral = get_visible_or_404(Referral.objects.visible_to(request.user), pk=pk)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.referral_answer(
                user=request.user,
                referral=referral,
                accept=request.POST.get("accept") == "1",
                reason=form.cleaned_data["decline_reason"],
            )
        except DomainError as error:
            say_errors(request, form, error)
        else:
            messages.success(request, _("Your answer was sent."))
    return redirect("cases:referral", pk=pk)


@login_required
@require_POST
def referral_outcome(request, pk):
    referral = get_visible_or_404(Referral.objects.visible_to(request.user), pk=pk)
    form = OutcomeForm(request.POST)
    if form.is_valid():
        try:
            services.referral_return_outcome(
                user=request.user, referral=referral, outcome=form.cleaned_data["outcome"]
            )
        except DomainError as error:
            say_errors(request, form, error)
        else:
            messages.success(request, _("The outcome was sent back to the referring organisation."))
    else:
        say_errors(request, form)
    return redirect("cases:referral", pk=pk)


@login_required
@require_POST
def referral_cancel(request, pk):
    referral = get_visible_or_404(Referral.objects.visible_to(request.user), pk=pk)
    try:
        services.referral_cancel(user=request.user, referral=referral)
    except DomainError as error:
        say_errors(request, None, error)
    else:
        messages.success(request, _("The referral was cancelled."))
    if Case.objects.visible_to(request.user).filter(pk=referral.case_id).exists():
        return redirect("cases:detail", pk=referral.case_id)
    # The partner sees the referral, not the case: back to the referral.
    return redirect("cases:referral", pk=referral.pk)


@login_required
def report(request):
    today = timezone.localdate()
    data = (
        request.GET
        if "start" in request.GET
        else {"start": datetime.date(today.year, 1, 1).isoformat(), "end": today.isoformat()}
    )
    form = ReportForm(data)
    result = None
    if form.is_valid():
        result = selectors.case_report(
            user=request.user, start=form.cleaned_data["start"], end=form.cleaned_data["end"]
        )
        if request.GET.get("format") == "xlsx":
            content = report_xlsx(result)
            response = HttpResponse(
                content,
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            name = f"cases-{result['start']:%Y%m%d}-{result['end']:%Y%m%d}.xlsx"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
    return render(request, "cases/report.html", {"form": form, "result": result})
