from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tadamun.core.errors import DomainError
from tadamun.core.views_helpers import get_visible_or_404, paginate, show_domain_error
from tadamun.registry.models import Person

from . import selectors, services
from .forms import MergeForm, RunStartForm
from .models import Decision, DuplicatePair, DuplicateRun, PersonMerge, RunStatus

TABS = (Decision.PENDING, Decision.DEFERRED, Decision.NOT_SAME, Decision.SAME)


def _visible_run(request, pk) -> DuplicateRun:
    return get_visible_or_404(
        DuplicateRun.objects.visible_to(request.user).select_related("organisation", "started_by"),
        pk=pk,
    )


def _visible_pair(request, pk) -> DuplicatePair:
    return get_visible_or_404(
        DuplicatePair.objects.visible_to(request.user).select_related(
            "run", "person_a", "person_b"
        ),
        pk=pk,
    )


@login_required
def run_list(request):
    may_review = services.may_review(request.user)
    organisations = services.run_organisations(request.user) if may_review else None
    is_operator = request.user.is_superuser
    form = None
    if may_review:
        # A coordinator of one network searches for it without choosing.
        form = RunStartForm(
            request.POST or None,
            organisations=organisations,
            required=not is_operator and organisations.count() > 1,
            platform=is_operator,
        )
    if request.method == "POST":
        if form is None:
            messages.error(request, _("Only network coordinators review duplicates."))
            return redirect("matching:run_list")
        if form.is_valid():
            try:
                run = services.duplicate_run_start(
                    user=request.user,
                    organisation=form.cleaned_data["organisation"],
                    threshold=form.cleaned_data["threshold"],
                )
            except DomainError as error:
                show_domain_error(request, form, error)
            else:
                return redirect("matching:run_detail", pk=run.pk)
    context = {
        "page": paginate(selectors.visible_runs(request.user), request),
        "form": form,
        "may_review": may_review,
    }
    return render(request, "matching/run_list.html", context)


def _decision(request) -> str:
    value = request.GET.get("decision", Decision.PENDING)
    return value if value in Decision.values else Decision.PENDING


def _results_context(request, run: DuplicateRun) -> dict:
    decision = _decision(request)
    context = {
        "run": run,
        "RunStatus": RunStatus,
        "Decision": Decision,
        "decision": decision,
        "may_review": services.may_review(request.user),
        "tabs": [],
        "page": None,
        "cards": [],
    }
    if run.status != RunStatus.DONE:
        return context
    for tab in TABS:
        context["tabs"].append(
            {
                "value": tab,
                "label": Decision(tab).label,
                "count": selectors.review_pairs(request.user, run, tab).count(),
            }
        )
    page = paginate(selectors.review_pairs(request.user, run, decision), request, per_page=10)
    context["page"] = page
    context["cards"] = [{"pair": pair, "rows": selectors.pair_rows(pair)} for pair in page.items]
    return context


@login_required
def run_detail(request, pk):
    run = _visible_run(request, pk)
    return render(request, "matching/run_detail.html", _results_context(request, run))


@login_required
def run_results(request, pk):
    """HTMX: the status and results, polled every two seconds while the search works."""
    run = _visible_run(request, pk)
    return render(request, "matching/fragment_run_results.html", _results_context(request, run))


def _back_to_run(pair: DuplicatePair, decision: str = "") -> str:
    url = reverse("matching:run_detail", args=[pair.run_id])
    return f"{url}?decision={decision}" if decision else url


def _card_context(request, pair: DuplicatePair, errors=None) -> dict:
    return {
        "card": {"pair": pair, "rows": selectors.pair_rows(pair)},
        "errors": errors or [],
        "may_review": services.may_review(request.user),
        "Decision": Decision,
    }


def _show_error(request, error: DomainError) -> None:
    """Each message of the error as a message of the page, with the field it is about."""
    if not hasattr(error, "error_dict"):
        show_domain_error(request, None, error)
        return
    for field, texts in error.message_dict.items():
        label = selectors.field_label(field) if field in services.MERGE_FIELDS else ""
        for text in texts:
            messages.error(request, f"{label[:1].upper()}{label[1:]}: {text}" if label else text)


@login_required
@require_POST
def pair_decide(request, pk):
    pair = _visible_pair(request, pk)
    previous = pair.decision
    try:
        pair = services.pair_decide(
            user=request.user, pair=pair, decision=request.POST.get("decision", "")
        )
    except DomainError as error:
        if request.htmx:
            pair.refresh_from_db()
            return render(
                request, "matching/fragment_pair.html", _card_context(request, pair, error.messages)
            )
        _show_error(request, error)
        return redirect(_back_to_run(pair, previous))
    if request.htmx:
        if pair.decision == Decision.PENDING:
            return render(request, "matching/fragment_pair.html", _card_context(request, pair))
        return render(
            request,
            "matching/fragment_pair_decided.html",
            {"pair": pair, "Decision": Decision, "previous": previous},
        )
    messages.success(
        request,
        _("Decision recorded: %(decision)s.") % {"decision": pair.get_decision_display()},
    )
    return redirect(_back_to_run(pair, previous))


@login_required
@require_POST
def pair_merge(request, pk):
    pair = _visible_pair(request, pk)
    form = MergeForm(request.POST, pair=pair)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else error)
        return redirect(_back_to_run(pair))
    if form.cleaned_data["keep"] == pair.person_a_id:
        keep, drop = pair.person_a, pair.person_b
    else:
        keep, drop = pair.person_b, pair.person_a
    try:
        merge = services.person_merge(
            user=request.user,
            keep=keep,
            drop=drop,
            reason=form.cleaned_data["reason"],
            pair=pair,
        )
    except DomainError as error:
        _show_error(request, error)
        return redirect(_back_to_run(pair))
    messages.success(
        request,
        _("The two records are now one: record %(drop)s was merged into this one.")
        % {"drop": merge.drop_id},
    )
    return redirect("registry:person_detail", pk=merge.keep_id)


@login_required
def merge_detail(request, pk):
    merge = get_visible_or_404(
        PersonMerge.objects.visible_to(request.user).select_related(
            "keep", "drop", "merged_by", "undone_by"
        ),
        pk=pk,
    )
    visible = set(
        Person.objects.visible_to(request.user)
        .filter(pk__in=[merge.keep_id, merge.drop_id])
        .values_list("pk", flat=True)
    )
    context = {
        "merge": merge,
        "rows": selectors.before_rows(merge),
        "filled": selectors.filled_values(merge),
        "recorded": selectors.recorded_values(merge),
        "moved": selectors.moved_summary(merge),
        "keep_visible": merge.keep_id in visible,
        "drop_visible": merge.drop_id in visible,
        "blocked_by": list(services.later_merges(merge).values_list("pk", flat=True)[:5])
        if not merge.is_undone
        else [],
    }
    return render(request, "matching/merge_detail.html", context)


@login_required
@require_POST
def merge_undo(request, pk):
    merge = get_visible_or_404(PersonMerge.objects.visible_to(request.user), pk=pk)
    try:
        services.person_merge_undo(user=request.user, merge=merge)
    except DomainError as error:
        _show_error(request, error)
    else:
        messages.success(request, _("The merge was undone: both records are as they were."))
    return redirect("matching:merge_detail", pk=merge.pk)
