from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from tadamun.core.views_helpers import get_visible_or_404
from tadamun.organisations.models import Organisation

from .models import Territory


@login_required
def territory_list(request):
    """Territories are public reference data: every signed-in user browses the whole tree."""
    countries = Territory.objects.countries().order_by("code")
    return render(request, "territories/list.html", {"countries": countries})


@login_required
def territory_detail(request, code):
    territory = get_visible_or_404(Territory.objects.all(), code=code)
    context = {
        "territory": territory,
        "ancestors": territory.ancestors(),
        "children": territory.children.order_by("code"),
        "organisations": Organisation.objects.active()
        .filter(territory__path__startswith=territory.path)
        .order_by("slug")[:100],
    }
    return render(request, "territories/detail.html", context)
