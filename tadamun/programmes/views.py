from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tadamun.access.scope import scope_for
from tadamun.accounts.models import Role
from tadamun.core.errors import DomainError
from tadamun.core.views_helpers import (
    get_visible_or_404,
    history_rows,
    paginate,
    show_domain_error,
)
from tadamun.organisations.models import Organisation

from . import services
from .forms import ProgrammeForm
from .models import ParticipantRole, Programme, ProgrammeStatus


def _lead_choices(user):
    scope = scope_for(user)
    if scope.is_operator:
        return Organisation.objects.active()
    ids = {g.organisation_id for g in scope.grants_with({Role.COORDINATOR})}
    return Organisation.objects.active().filter(pk__in=ids)


def _visible(request, code):
    return get_visible_or_404(Programme.objects.visible_to(request.user), code=code)


@login_required
def programme_list(request):
    programmes = Programme.objects.visible_to(request.user).order_by("code")
    if request.GET.get("archived") != "1":
        programmes = programmes.active()
    if request.GET.get("status") in ProgrammeStatus.values:
        programmes = programmes.filter(status=request.GET["status"])
    return render(
        request,
        "programmes/list.html",
        {
            "page": paginate(programmes, request),
            "Status": ProgrammeStatus,
            "can_create": _lead_choices(request.user).exists(),
        },
    )


@login_required
def programme_detail(request, code):
    programme = _visible(request, code)
    participants = programme.participants_by_role()
    lead_ids = [o.pk for o in participants.get(ParticipantRole.LEAD, [])]
    context = {
        "programme": programme,
        "participants": [
            (label, participants.get(role, [])) for role, label in ParticipantRole.choices
        ],
        "components": programme.components.all(),
        "territories": programme.territories.order_by("path"),
        "history": history_rows(programme, limit=5),
        "can_edit": any(scope_for(request.user).can_edit_programmes_for(i) for i in lead_ids),
    }
    return render(request, "programmes/detail.html", context)


def _participants(form) -> dict:
    return {
        name: form.cleaned_data.pop(name)
        for name in ("funders", "implementers", "partners", "territories")
    }


@login_required
def programme_create(request):
    leads = _lead_choices(request.user)
    if not leads.exists():
        messages.error(request, _("Only a network coordinator can create a programme."))
        return redirect("programmes:list")
    form = ProgrammeForm(request.POST or None, leads=leads)
    if request.method == "POST" and form.is_valid():
        related = _participants(form)
        lead = form.cleaned_data.pop("lead")
        try:
            programme = services.programme_create(
                user=request.user, lead=lead, **related, **form.cleaned_data
            )
        except DomainError as error:
            show_domain_error(request, form, error)
        else:
            messages.success(request, _("The programme was created."))
            return redirect("programmes:detail", code=programme.code)
    return render(
        request,
        "core/form_page.html",
        {
            "form": form,
            "title": _("New programme"),
            "breadcrumbs": [(_("Programmes"), reverse("programmes:list"))],
            "cancel_url": reverse("programmes:list"),
        },
    )


@login_required
def programme_edit(request, code):
    programme = _visible(request, code)
    by_role = programme.participants_by_role()
    initial = {
        "funders": by_role.get(ParticipantRole.FUNDER, []),
        "implementers": by_role.get(ParticipantRole.IMPLEMENTER, []),
        "partners": by_role.get(ParticipantRole.PARTNER, []),
        "territories": list(programme.territories.all()),
    }
    form = ProgrammeForm(request.POST or None, instance=programme, initial=initial)
    if request.method == "POST" and form.is_valid():
        related = _participants(form)
        try:
            services.programme_update(
                user=request.user, programme=programme, **related, **form.cleaned_data
            )
        except DomainError as error:
            show_domain_error(request, form, error)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect("programmes:detail", code=programme.code)
    return render(
        request,
        "core/form_page.html",
        {
            "form": form,
            "title": _("Change %(name)s") % {"name": programme.code},
            "breadcrumbs": [
                (_("Programmes"), reverse("programmes:list")),
                (programme.code, reverse("programmes:detail", args=[programme.code])),
            ],
            "cancel_url": reverse("programmes:detail", args=[programme.code]),
        },
    )


@login_required
@require_POST
def programme_archive(request, code):
    programme = _visible(request, code)
    restore = request.POST.get("restore") == "1"
    try:
        services.programme_archive(user=request.user, programme=programme, restore=restore)
    except DomainError as error:
        show_domain_error(request, None, error)
    else:
        messages.success(
            request,
            _("The record was restored.")
            if restore
            else _("The record was archived. It can be restored."),
        )
    return redirect("programmes:detail", code=programme.code)


@login_required
def programme_history(request, code):
    programme = _visible(request, code)
    return render(
        request,
        "core/history.html",
        {
            "record": programme,
            "history": history_rows(programme),
            "back_url": reverse("programmes:detail", args=[code]),
        },
    )
