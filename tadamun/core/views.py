from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from tadamun.access.scope import scope_for
from tadamun.accounts.forms import PreferencesForm
from tadamun.accounts.models import Role
from tadamun.programmes.models import Programme
from tadamun.registry.models import Group, Person


@never_cache
def healthz(request):
    """Up and reaching its database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return JsonResponse({"status": "ok", "database": connection.vendor})
    except Exception:  # the point is to say "down" instead of failing
        return JsonResponse({"status": "error"}, status=503)


@login_required
def home(request):
    scope = scope_for(request.user)
    people = Person.objects.visible_to(request.user).current()
    memberships = request.user.memberships.filter(is_active=True).select_related(
        "organisation", "territory"
    )
    coordinated = [m.organisation for m in memberships if m.role == Role.COORDINATOR]
    networks = [
        (org, org.member_links.filter(left_on__isnull=True).count())
        for org in coordinated
        if org.kind == "network"
    ]
    context = {
        "networks": networks,
        "is_desk": Role.DESK_OPERATOR in scope.roles,
        "memberships": memberships,
        "roles": scope.roles,
        "Role": Role,
        "recent_people": list(people.order_by("-pk")[:8]),
        "recent_groups": list(Group.objects.visible_to(request.user).current()[:5]),
        "programmes": list(
            Programme.objects.visible_to(request.user).active().order_by("code")[:10]
        ),
        "organisation_count": len(scope.organisation_ids),
        "can_register": bool(scope.editing_organisation_ids()) or scope.is_operator,
    }
    return render(request, "core/home.html", context)


@require_POST
def language_set(request):
    """Switch the interface language; a signed-in user keeps the choice on every device."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if language in dict(settings.LANGUAGES) and check_for_language(language):
        if request.user.is_authenticated:
            request.user.language = language
            request.user.save(update_fields=["language"])
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax"
        )
    return response


@login_required
def preferences(request):
    form = PreferencesForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your preferences were saved."))
        return HttpResponseRedirect(request.path)
    # A new API token is shown once, right after it was made.
    new_token = request.session.pop("new_api_token", None)
    return render(request, "core/preferences.html", {"form": form, "new_token": new_token})
