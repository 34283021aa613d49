from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import render
from django.urls import reverse

from tadamun.core.views_helpers import get_visible_or_404, history_rows, paginate
from tadamun.programmes.models import Programme

from .models import Organisation, OrganisationKind


@login_required
def organisation_list(request):
    """The directory of organisations is open to every signed-in user: names and places of
    organisations are not personal data, and partners need to find one another."""
    organisations = Organisation.objects.select_related("territory").order_by("slug")
    if request.GET.get("archived") != "1":
        organisations = organisations.active()
    if request.GET.get("kind") in OrganisationKind.values:
        organisations = organisations.filter(kind=request.GET["kind"])
    query = request.GET.get("q", "").strip()[:100]
    if query:
        organisations = organisations.filter(
            Q(name__icontains=query) | Q(short_name__icontains=query) | Q(slug__icontains=query)
        )
    return render(
        request,
        "organisations/list.html",
        {"page": paginate(organisations, request, per_page=50), "Kind": OrganisationKind},
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
    }
    return render(request, "organisations/detail.html", context)


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
