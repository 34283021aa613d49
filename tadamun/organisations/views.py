from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
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
    text_param,
)
from tadamun.programmes.models import Programme

from . import services
from .forms import OrganisationForm
from .models import Organisation, OrganisationKind


def _coordinates(user, organisation) -> bool:
    return scope_for(user).can_act_for(organisation.pk, {Role.COORDINATOR})


@login_required
def organisation_list(request):
    """The directory of organisations is open to every signed-in user: names and places of
    organisations are not personal data, and partners need to find one another."""
    organisations = Organisation.objects.select_related("territory").order_by("slug")
    if request.GET.get("archived") != "1":
        organisations = organisations.active()
    if request.GET.get("kind") in OrganisationKind.values:
        organisations = organisations.filter(kind=request.GET["kind"])
    query = text_param(request, "q", 100).strip()
    if query:
        organisations = organisations.filter(
            Q(name__icontains=query) | Q(short_name__icontains=query) | Q(slug__icontains=query)
        )
    return render(
        request,
        "organisations/list.html",
        {
            "page": paginate(organisations, request, per_page=50),
            "Kind": OrganisationKind,
            "q": query,
        },
    )


@login_required
def organisation_detail(request, slug):
    organisation = get_visible_or_404(Organisation.objects.select_related("territory"), slug=slug)
    context = {
        "organisation": organisation,
        "members": organisation.member_links.select_related("member").order_by("member__slug"),
        "networks": organisation.network_links.select_related("network"),
        "programmes": Programme.objects.visible_to(request.user)
        .filter(participants__organisation=organisation)
        .distinct(),
        "history": history_rows(organisation, limit=5),
        "can_manage": _coordinates(request.user, organisation),
    }
    return render(request, "organisations/detail.html", context)


@login_required
def member_create(request, slug):
    """A network coordinator registers a new member organisation of the network."""
    network = get_visible_or_404(Organisation.objects.active().networks(), slug=slug)
    if not _coordinates(request.user, network):
        messages.error(request, _("Only a coordinator of the network can do this."))
        return redirect("organisations:detail", slug=slug)
    form = OrganisationForm(
        request.POST or None, initial={"country": network.country, "time_zone": network.time_zone}
    )
    if request.method == "POST" and form.is_valid():
        try:
            organisation = services.organisation_create(
                user=request.user, network=network, **form.cleaned_data
            )
        except DomainError as error:
            show_domain_error(request, form, error)
        else:
            messages.success(request, _("The organisation joined the network."))
            return redirect("organisations:detail", slug=organisation.slug)
    return render(
        request,
        "core/form_page.html",
        {
            "form": form,
            "title": _("New member of %(network)s") % {"network": network},
            "breadcrumbs": [
                (_("Organisations"), reverse("organisations:list")),
                (str(network), reverse("organisations:detail", args=[slug])),
            ],
            "cancel_url": reverse("organisations:detail", args=[slug]),
        },
    )


@login_required
def organisation_edit(request, slug):
    organisation = get_visible_or_404(Organisation.objects.all(), slug=slug)
    form = OrganisationForm(request.POST or None, instance=organisation, joining=False)
    if request.method == "POST" and form.is_valid():
        try:
            services.organisation_update(
                user=request.user, organisation=organisation, **form.cleaned_data
            )
        except DomainError as error:
            show_domain_error(request, form, error)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect("organisations:detail", slug=slug)
    return render(
        request,
        "core/form_page.html",
        {
            "form": form,
            "title": _("Change %(name)s") % {"name": organisation},
            "breadcrumbs": [
                (_("Organisations"), reverse("organisations:list")),
                (str(organisation), reverse("organisations:detail", args=[slug])),
            ],
            "cancel_url": reverse("organisations:detail", args=[slug]),
        },
    )


@login_required
@require_POST
def membership_end(request, slug, link_pk):
    network = get_visible_or_404(Organisation.objects.all(), slug=slug)
    link = get_visible_or_404(network.member_links.all(), pk=link_pk)
    try:
        services.membership_end(user=request.user, link=link)
    except DomainError as error:
        show_domain_error(request, None, error)
    else:
        messages.success(request, _("The organisation left the network."))
    return redirect("organisations:detail", slug=slug)


@login_required
def organisation_history(request, slug):
    organisation = get_visible_or_404(Organisation.objects.all(), slug=slug)
    return render(
        request,
        "core/history.html",
        {
            "record": organisation,
            "history": history_rows(organisation),
            "back_url": reverse("organisations:detail", args=[slug]),
        },
    )
