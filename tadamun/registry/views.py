from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tadamun.access.scope import scope_for
from tadamun.accounts.models import ROLES_WORKING_CASES
from tadamun.core.errors import DomainError
from tadamun.core.timeline import timeline
from tadamun.core.views_helpers import (
    get_visible_or_404,
    history_rows,
    paginate,
    show_domain_error,
    text_param,
)
from tadamun.organisations.models import Organisation
from tadamun.territories.models import Territory

from . import selectors, services
from .forms import ConsentForm, GroupForm, GroupMemberForm, PersonForm
from .models import Consent, Group, GroupKind, GroupMember, Person, Sex


def _visible_person(request, pk):
    return get_visible_or_404(
        Person.objects.visible_to(request.user).select_related("residence", "organisation"), pk=pk
    )


def _visible_group(request, pk):
    return get_visible_or_404(
        Group.objects.visible_to(request.user).select_related("territory", "organisation"), pk=pk
    )


@login_required
def person_list(request):
    territory = Territory.objects.filter(code=text_param(request, "territory")).first()
    organisation = Organisation.objects.filter(slug=text_param(request, "organisation")).first()
    query = text_param(request, "q")
    people = selectors.person_list(
        user=request.user,
        search=query,
        sex=request.GET.get("sex", "") if request.GET.get("sex") in Sex.values else "",
        territory=territory,
        organisation=organisation,
        archived=request.GET.get("archived") == "1",
    )
    context = {
        "page": paginate(people, request),
        "q": query,
        "Sex": Sex,
        "territories": Territory.objects.filter(depth__lte=1).order_by("path"),
        "selected_territory": territory,
        "organisations": Organisation.objects.filter(
            pk__in=scope_for(request.user).organisation_ids
        )
        if not scope_for(request.user).is_operator
        else Organisation.objects.none(),
        "selected_organisation": organisation,
        "can_register": selectors.editing_organisations(request.user).exists(),
    }
    if request.htmx and request.htmx.target == "people-results":
        return render(request, "registry/fragment_person_results.html", context)
    return render(request, "registry/person_list.html", context)


@login_required
def person_detail(request, pk):
    person = _visible_person(request, pk)
    memberships = person.group_links.select_related("group").filter(
        group__in=Group.objects.visible_to(request.user)
    )
    context = {
        "person": person,
        "consents": person.consents.select_related("recorded_by", "withdrawn_by", "organisation"),
        "memberships": memberships,
        "holders": person.shares.select_related("organisation"),
        "history": history_rows(person, limit=5),
        "can_edit": scope_for(request.user).can_edit_people_for(
            person.organisation_id, person.residence_id
        ),
        "consent_form": ConsentForm(),
        "timeline": timeline(user=request.user, person=person),
        "can_open_case": bool(scope_for(request.user).grants_with(ROLES_WORKING_CASES))
        or scope_for(request.user).is_operator,
    }
    return render(request, "registry/person_detail.html", context)


def _person_fields(form) -> dict:
    data = {k: v for k, v in form.cleaned_data.items() if k != "organisation"}
    data["languages"] = list(data.get("languages") or [])
    return data


@login_required
def person_create(request):
    organisations = selectors.editing_organisations(request.user)
    if not organisations.exists():
        messages.error(request, _("Your role does not allow registering people."))
        return redirect("registry:person_list")
    form = PersonForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.person_register(
                user=request.user,
                organisation=form.cleaned_data["organisation"],
                **_person_fields(form),
            )
        except DomainError as error:
            show_domain_error(request, form, error)
        else:
            messages.success(request, _("%(name)s was registered.") % {"name": person.full_name})
            return redirect("registry:person_detail", pk=person.pk)
    return render(
        request,
        "core/form_page.html",
        {
            "form": form,
            "title": _("Register a person"),
            "breadcrumbs": [(_("People"), reverse("registry:person_list"))],
            "cancel_url": reverse("registry:person_list"),
            "submit_label": _("Register"),
        },
    )


@login_required
def person_edit(request, pk):
    person = _visible_person(request, pk)
    form = PersonForm(request.POST or None, instance=person)
    if request.method == "POST" and form.is_valid():
        try:
            services.person_update(user=request.user, person=person, **_person_fields(form))
        except DomainError as error:
            show_domain_error(request, form, error)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect("registry:person_detail", pk=person.pk)
    return render(
        request,
        "core/form_page.html",
        {
            "form": form,
            "title": _("Change %(name)s") % {"name": person.full_name},
            "breadcrumbs": [
                (_("People"), reverse("registry:person_list")),
                (person.full_name, reverse("registry:person_detail", args=[person.pk])),
            ],
            "cancel_url": reverse("registry:person_detail", args=[person.pk]),
        },
    )


@login_required
@require_POST
def person_archive(request, pk):
    person = _visible_person(request, pk)
    restore = request.POST.get("restore") == "1"
    try:
        if restore:
            services.person_restore(user=request.user, person=person)
            messages.success(request, _("The record was restored."))
        else:
            services.person_archive(user=request.user, person=person)
            messages.success(request, _("The record was archived. It can be restored."))
    except DomainError as error:
        show_domain_error(request, None, error)
    return redirect("registry:person_detail", pk=person.pk)


@login_required
def person_history(request, pk):
    person = _visible_person(request, pk)
    return render(
        request,
        "core/history.html",
        {
            "record": person,
            "history": history_rows(person),
            "back_url": reverse("registry:person_detail", args=[person.pk]),
        },
    )


@login_required
@require_POST
def consent_add(request, pk):
    person = _visible_person(request, pk)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            services.consent_record(user=request.user, person=person, **form.cleaned_data)
        except DomainError as error:
            show_domain_error(request, form, error)
        else:
            messages.success(request, _("The consent was recorded."))
            return redirect("registry:person_detail", pk=person.pk)
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)
    return redirect("registry:person_detail", pk=person.pk)


@login_required
@require_POST
def consent_withdraw(request, pk, consent_pk):
    person = _visible_person(request, pk)
    consent = get_visible_or_404(Consent.objects.filter(person=person), pk=consent_pk)
    try:
        services.consent_withdraw(user=request.user, consent=consent)
    except DomainError as error:
        show_domain_error(request, None, error)
    else:
        messages.success(request, _("The consent was withdrawn."))
    return redirect("registry:person_detail", pk=person.pk)


@login_required
def person_pick(request):
    """HTMX: people matching a search, to pick one (for example a new group member)."""
    query = request.GET.get("q", "")[:200]
    people = []
    if len(query.strip()) >= 2:
        people = list(selectors.person_list(user=request.user, search=query)[:10])
    return render(request, "registry/fragment_person_pick.html", {"people": people, "q": query})


@login_required
def group_list(request):
    query = text_param(request, "q")
    groups = selectors.group_list(
        user=request.user,
        search=query,
        kind=request.GET.get("kind", "") if request.GET.get("kind") in GroupKind.values else "",
        archived=request.GET.get("archived") == "1",
    )
    context = {
        "page": paginate(groups, request),
        "q": query,
        "GroupKind": GroupKind,
        "can_register": selectors.editing_organisations(request.user).exists(),
    }
    return render(request, "registry/group_list.html", context)


@login_required
def group_detail(request, pk):
    group = _visible_group(request, pk)
    visible_people = Person.objects.visible_to(request.user)
    members = group.members.select_related("person").filter(person__in=visible_people)
    hidden = group.members.exclude(person__in=visible_people).count()
    context = {
        "group": group,
        "members": members,
        "hidden_members": hidden,
        "member_form": GroupMemberForm(people=visible_people),
        "history": history_rows(group, limit=5),
        "can_edit": scope_for(request.user).can_edit_people_for(
            group.organisation_id, group.territory_id
        ),
    }
    return render(request, "registry/group_detail.html", context)


@login_required
def group_create(request):
    organisations = selectors.editing_organisations(request.user)
    form = GroupForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        organisation = data.pop("organisation")
        try:
            group = services.group_create(user=request.user, organisation=organisation, **data)
        except DomainError as error:
            show_domain_error(request, form, error)
        else:
            messages.success(request, _("The group was created."))
            return redirect("registry:group_detail", pk=group.pk)
    return render(
        request,
        "core/form_page.html",
        {
            "form": form,
            "title": _("New group"),
            "breadcrumbs": [(_("Groups"), reverse("registry:group_list"))],
            "cancel_url": reverse("registry:group_list"),
        },
    )


@login_required
def group_edit(request, pk):
    group = _visible_group(request, pk)
    form = GroupForm(request.POST or None, instance=group)
    if request.method == "POST" and form.is_valid():
        try:
            services.group_update(user=request.user, group=group, **form.cleaned_data)
        except DomainError as error:
            show_domain_error(request, form, error)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect("registry:group_detail", pk=group.pk)
    return render(
        request,
        "core/form_page.html",
        {
            "form": form,
            "title": _("Change %(name)s") % {"name": group.name},
            "breadcrumbs": [
                (_("Groups"), reverse("registry:group_list")),
                (group.name, reverse("registry:group_detail", args=[group.pk])),
            ],
            "cancel_url": reverse("registry:group_detail", args=[group.pk]),
        },
    )


@login_required
@require_POST
def group_archive(request, pk):
    group = _visible_group(request, pk)
    restore = request.POST.get("restore") == "1"
    try:
        services.group_archive(user=request.user, group=group, restore=restore)
    except DomainError as error:
        show_domain_error(request, None, error)
    else:
        messages.success(
            request,
            _("The record was restored.")
            if restore
            else _("The record was archived. It can be restored."),
        )
    return redirect("registry:group_detail", pk=group.pk)


@login_required
@require_POST
def group_member_add(request, pk):
    group = _visible_group(request, pk)
    form = GroupMemberForm(request.POST, people=Person.objects.visible_to(request.user))
    if form.is_valid():
        try:
            services.group_member_add(user=request.user, group=group, **form.cleaned_data)
        except DomainError as error:
            show_domain_error(request, form, error)
        else:
            messages.success(request, _("The member was added."))
            return redirect("registry:group_detail", pk=group.pk)
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)
    return redirect("registry:group_detail", pk=group.pk)


@login_required
@require_POST
def group_member_remove(request, pk, member_pk):
    group = _visible_group(request, pk)
    member = get_visible_or_404(
        GroupMember.objects.filter(group=group, person__in=Person.objects.visible_to(request.user)),
        pk=member_pk,
    )
    try:
        services.group_member_remove(user=request.user, member=member)
    except DomainError as error:
        show_domain_error(request, None, error)
    else:
        messages.success(request, _("The member left the group."))
    return redirect("registry:group_detail", pk=group.pk)


@login_required
def group_history(request, pk):
    group = _visible_group(request, pk)
    return render(
        request,
        "core/history.html",
        {
            "record": group,
            "history": history_rows(group),
            "back_url": reverse("registry:group_detail", args=[group.pk]),
        },
    )


@login_required
def lookup_log(request):
    """Who looked the whole registry up for duplicates (the desk's lookup), for the network's
    coordinators: who, when, how many lookups and candidates; never what was typed."""
    if not selectors.may_review_lookups(request.user):
        raise Http404
    return render(
        request,
        "registry/lookup_log.html",
        {"page": paginate(selectors.person_lookup_log(user=request.user), request, per_page=50)},
    )
