"""Pages of financed projects: list, project page (financing, tranches, loans and receipts,
coaching, visits, products), projects and portfolio at risk, the dashboard; and the public
catalogue and exhibitions, which show products and projects, never the people behind them."""

import datetime
import io
from collections import defaultdict
from decimal import Decimal

from babel.numbers import format_percent
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, Sum
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from openpyxl import Workbook

from tadamun.access.scope import scope_for
from tadamun.accounts.models import User
from tadamun.core.errors import AccessDenied, DomainError
from tadamun.core.money import babel_locale, format_money
from tadamun.core.views_helpers import (
    get_visible_or_404,
    history_rows,
    paginate,
    show_domain_error,
    text_param,
)
from tadamun.organisations.models import NetworkMembership, Organisation
from tadamun.programmes.models import Programme
from tadamun.registry.models import Group, Person
from tadamun.territories.models import Territory

from . import selectors, services
from .forms_projects import (
    PAR_DAYS,
    AtRiskFilterForm,
    CatalogueFilterForm,
    CoachingForm,
    DashboardFilterForm,
    EvidenceForm,
    ExhibitionForm,
    MentorForm,
    PortfolioForm,
    ProductForm,
    ProjectFilterForm,
    ReleaseForm,
    RepaymentForm,
    StandForm,
    VisitForm,
    VisitPlanForm,
)
from .models import (
    ROLES_MANAGING_CALLS,
    ROLES_WORKING_PROJECTS,
    CoachingSession,
    Exhibition,
    FinancingKind,
    Product,
    Project,
    Repayment,
    Tranche,
    TrancheStatus,
    Visit,
    VisitStatus,
)
from .uploads import CONTENT_TYPES, sniff

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_LIMIT = 100_000


def _organisations(user, roles=None):
    """Organisations the user works for (with one of ``roles``), for filters and choices."""
    scope = scope_for(user)
    if scope.is_operator:
        return Organisation.objects.active().order_by("slug")
    grants = scope.grants if roles is None else scope.grants_with(roles)
    ids = set()
    for grant in grants:
        ids |= grant.organisation_ids
    return Organisation.objects.active().filter(pk__in=ids).order_by("slug")


def _project(request, pk) -> Project:
    return get_visible_or_404(
        Project.objects.visible_to(request.user).select_related(
            "organisation",
            "programme",
            "promoter",
            "group",
            "territory",
            "region",
            "sector",
            "mentor",
            "application",
        ),
        pk=pk,
    )


def _percent(ratio) -> str:
    """A ratio as a percentage in the user's locale ("12.5 %", "١٢٫٥٪"...), or ""."""
    if ratio is None:
        return ""
    return format_percent(ratio, format="#,##0.0%", locale=babel_locale())


def _safe(value):
    """Text a spreadsheet would take for a formula is written as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _xlsx_response(book: Workbook, name: str) -> HttpResponse:
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- List -----------------------------------------------------------------------------------


@login_required
def project_list(request):
    form = ProjectFilterForm(request.GET or None, organisations=_organisations(request.user))
    projects = selectors.visible_projects(request.user, **form.filters())
    search = text_param(request, "q", 100).strip()
    if search:
        projects = projects.filter(Q(code__istartswith=search) | Q(title__icontains=search))
    projects = projects.select_related("region", "sector", "organisation").order_by(
        "-financed_on", "-pk"
    )
    return render(
        request,
        "projects/projects/list.html",
        {"form": form, "page": paginate(projects, request)},
    )


# --- The project page -----------------------------------------------------------------------


def _mentors(project: Project):
    organisations = {project.organisation_id} | set(
        NetworkMembership.objects.filter(
            member_id=project.organisation_id, left_on__isnull=True
        ).values_list("network_id", flat=True)
    )
    return (
        User.objects.filter(
            memberships__organisation_id__in=organisations, memberships__is_active=True
        )
        .distinct()
        .order_by("last_name", "username")
    )


def _members(project: Project):
    if not project.group_id:
        return []
    return list(project.group.members.select_related("person").order_by("left_on", "pk"))


def _attendee_choices(user, project: Project, members):
    ids = {project.promoter_id} | {m.person_id for m in members if m.left_on is None}
    return Person.objects.visible_to(user).filter(pk__in=ids).order_by("family_name", "pk")


def _coaching(user, project: Project) -> list:
    """The project's sessions, each with the attendees the user may see (people are read
    through the access layer, never through the many-to-many manager)."""
    sessions = list(project.coaching.select_related("recorded_by"))
    through = CoachingSession.attendees.through
    rows = list(
        through.objects.filter(coachingsession__project=project).values_list(
            "coachingsession_id", "person_id"
        )
    )
    people = Person.objects.visible_to(user).in_bulk({person for _s, person in rows})
    present = defaultdict(list)
    for session_id, person_id in rows:
        if person_id in people:
            present[session_id].append(people[person_id])
    for session in sessions:
        session.present = present.get(session.pk, [])
        session.hidden_present = sum(1 for s, p in rows if s == session.pk and p not in people)
    return sessions


def _in_arrears(loans, today) -> bool:
    limit = today - datetime.timedelta(days=services.ARREARS_DAYS)
    return any(
        f.outstanding > 0 and f.oldest_unpaid_due_on and f.oldest_unpaid_due_on < limit
        for f in loans
    )


def _project_context(request, project: Project, bound=None, open_form: str = "") -> dict:
    """Everything the project page shows. ``bound`` holds forms posted with errors, keyed
    like the page's forms, so their messages appear next to their fields."""
    bound = bound or {}
    user = request.user
    today = timezone.localdate()
    scope = scope_for(user)
    can_work = scope.can_act_for(
        project.organisation_id, ROLES_WORKING_PROJECTS, project.territory_id
    )
    can_manage = scope.can_act_for(
        project.organisation_id, ROLES_MANAGING_CALLS, project.territory_id
    )

    members = _members(project)
    visible_people = set(
        Person.objects.visible_to(user)
        .filter(pk__in={project.promoter_id} | {m.person_id for m in members})
        .values_list("pk", flat=True)
    )
    for member in members:
        member.is_visible = member.person_id in visible_people
    group_visible = bool(
        project.group_id and Group.objects.visible_to(user).filter(pk=project.group_id).exists()
    )

    financings = list(
        project.financings.prefetch_related("tranches", "schedule", "repayments").order_by("pk")
    )
    loans = []
    for financing in financings:
        financing.tranche_rows = list(financing.tranches.all())
        for tranche in financing.tranche_rows:
            tranche.evidence_form = bound.get(f"evidence-{tranche.pk}") or EvidenceForm(
                prefix=f"e{tranche.pk}"
            )
            tranche.release_form = bound.get(f"release-{tranche.pk}") or ReleaseForm(
                prefix=f"r{tranche.pk}"
            )
        financing.released = sum(
            (t.amount for t in financing.tranche_rows if t.status == TrancheStatus.RELEASED),
            Decimal(0),
        )
        if financing.kind == FinancingKind.LOAN:
            loans.append(financing)
            financing.instalment_rows = list(financing.schedule.all())
            for instalment in financing.instalment_rows:
                instalment.is_late = (
                    instalment.paid < instalment.amount and instalment.due_on < today
                )
            financing.repayment_rows = list(financing.repayments.all())
            financing.arrears = services.arrears_of(financing, today)
            financing.paid_total = financing.amount - financing.outstanding
            financing.repayment_form = bound.get(f"repayment-{financing.pk}") or RepaymentForm(
                prefix=f"p{financing.pk}", initial={"paid_on": today}
            )
    project.in_arrears = _in_arrears(loans, today)
    planned = project.visits.filter(state=VisitStatus.SCHEDULED).order_by("planned_on")
    return {
        "project": project,
        "today": today,
        "can_work": can_work,
        "can_manage": can_manage,
        "members": members,
        "promoter_visible": project.promoter_id in visible_people,
        "hidden_members": sum(1 for m in members if not m.is_visible),
        "group_visible": group_visible,
        "financings": financings,
        "loans": loans,
        "risks": selectors.risk_reasons(project, today),
        "survival": [
            (months, selectors.survival_of(project, months, today))
            for months in selectors.SURVIVAL_MONTHS
        ],
        "coaching": _coaching(user, project),
        "visits": project.visits.select_related("visited_by"),
        "products": project.products.filter(archived_at__isnull=True),
        "stands": project.stands.select_related("exhibition"),
        "history": history_rows(project, limit=5),
        "open_form": open_form,
        "mentor_form": bound.get("mentor")
        or MentorForm(
            mentors=_mentors(project),
            initial={"mentor": project.mentor_id, "version": project.version},
            auto_id="mentor_%s",
        ),
        "coaching_form": bound.get("coaching")
        or CoachingForm(
            people=_attendee_choices(user, project, members),
            initial={"held_on": today, "attendees": [project.promoter_id]},
            auto_id="coaching_%s",
        ),
        "visit_plan_form": bound.get("visit_plan") or VisitPlanForm(auto_id="plan_%s"),
        "visit_form": bound.get("visit")
        or VisitForm(
            planned=planned,
            initial={"visited_on": today, "project_status": project.status},
            auto_id="visit_%s",
        ),
        "product_form": bound.get("product") or ProductForm(auto_id="product_%s"),
    }


@login_required
def project_detail(request, pk):
    project = _project(request, pk)
    return render(request, "projects/projects/detail.html", _project_context(request, project))


def _act(request, pk, key: str, build, run, success: str, anchor: str):
    """Run one service for a form posted from the project page. On success, back to the page;
    otherwise the page again with the form's errors next to its fields, and nothing written."""
    project = _project(request, pk)
    form = build(project)
    status = 400
    if form.is_valid():
        try:
            run(project, form)
        except AccessDenied as error:
            status = 403
            show_domain_error(request, form, error)
        except DomainError as error:
            show_domain_error(request, form, error)
        else:
            messages.success(request, success)
            return redirect(reverse("projects:project", args=[project.pk]) + anchor)
    if form.non_field_errors():
        # Also said at the top: a refusal (a conflict, a missing right) concerns the page.
        for error in form.non_field_errors():
            messages.error(request, error)
    project = _project(request, pk)
    return render(
        request,
        "projects/projects/detail.html",
        _project_context(request, project, bound={key: form}, open_form=key),
        status=status,
    )


def _tranche(project, tranche_pk) -> Tranche:
    return get_visible_or_404(
        Tranche.objects.filter(financing__project=project).select_related("financing"),
        pk=tranche_pk,
    )


@login_required
@require_POST
def mentor_assign(request, pk):
    def build(project):
        return MentorForm(request.POST, mentors=_mentors(project), auto_id="mentor_%s")

    def run(project, form):
        services.mentor_assign(
            user=request.user,
            project=project,
            mentor=form.cleaned_data["mentor"],
            version=form.cleaned_data["version"],
        )

    return _act(request, pk, "mentor", build, run, _("The mentor was saved."), "#mentor")


@login_required
@require_POST
def tranche_evidence(request, pk, tranche_pk):
    def build(project):
        _tranche(project, tranche_pk)
        return EvidenceForm(request.POST, request.FILES, prefix=f"e{tranche_pk}")

    def run(project, form):
        data = form.cleaned_data
        services.tranche_evidence(
            user=request.user,
            tranche=_tranche(project, tranche_pk),
            note=data["note"],
            evidenced_on=data["evidenced_on"],
            file=data["file"] or None,
        )

    return _act(
        request,
        pk,
        f"evidence-{tranche_pk}",
        build,
        run,
        _("The evidence was recorded."),
        "#financing",
    )


@login_required
@require_POST
def tranche_release(request, pk, tranche_pk):
    def build(project):
        _tranche(project, tranche_pk)
        return ReleaseForm(request.POST, prefix=f"r{tranche_pk}")

    def run(project, form):
        services.tranche_release(
            user=request.user,
            tranche=_tranche(project, tranche_pk),
            released_on=form.cleaned_data["released_on"],
        )

    return _act(
        request,
        pk,
        f"release-{tranche_pk}",
        build,
        run,
        _("The tranche was released."),
        "#financing",
    )


@login_required
@require_POST
def repayment_record(request, pk, financing_pk):
    def financing_of(project):
        return get_visible_or_404(
            project.financings.filter(kind=FinancingKind.LOAN), pk=financing_pk
        )

    def build(project):
        financing_of(project)
        return RepaymentForm(request.POST, prefix=f"p{financing_pk}")

    receipt = {}

    def run(project, form):
        receipt["repayment"] = services.repayment_record(
            user=request.user,
            financing=financing_of(project),
            amount=form.cleaned_data["amount"],
            paid_on=form.cleaned_data["paid_on"],
        )

    response = _act(
        request,
        pk,
        f"repayment-{financing_pk}",
        build,
        run,
        _("The repayment was recorded."),
        f"#loan-{financing_pk}",
    )
    if "repayment" in receipt and response.status_code == 302:
        return redirect("projects:receipt", pk=pk, repayment_pk=receipt["repayment"].pk)
    return response


@login_required
def receipt(request, pk, repayment_pk):
    project = _project(request, pk)
    repayment = get_visible_or_404(
        Repayment.objects.filter(financing__project=project).select_related(
            "financing", "recorded_by"
        ),
        pk=repayment_pk,
    )
    financing = repayment.financing
    repaid = financing.repayments.filter(pk__lte=repayment.pk).aggregate(s=Sum("amount"))["s"]
    left = financing.amount - (repaid or Decimal(0))
    currency = project.currency
    return render(
        request,
        "projects/projects/receipt.html",
        {
            "project": project,
            "repayment": repayment,
            "financing": financing,
            "promoter_visible": Person.objects.visible_to(request.user)
            .filter(pk=project.promoter_id)
            .exists(),
            "amount": format_money(repayment.amount, currency),
            "loan_amount": format_money(financing.amount, currency),
            "left_after": format_money(left, currency),
        },
    )


@login_required
@require_POST
def coaching_record(request, pk):
    def build(project):
        return CoachingForm(
            request.POST,
            people=_attendee_choices(request.user, project, _members(project)),
            auto_id="coaching_%s",
        )

    def run(project, form):
        services.coaching_record(user=request.user, project=project, **form.cleaned_data)

    return _act(request, pk, "coaching", build, run, _("The session was recorded."), "#coaching")


@login_required
@require_POST
def visit_plan(request, pk):
    def run(project, form):
        services.visit_plan(
            user=request.user, project=project, planned_on=form.cleaned_data["planned_on"]
        )

    return _act(
        request,
        pk,
        "visit_plan",
        lambda project: VisitPlanForm(request.POST, auto_id="plan_%s"),
        run,
        _("The visit was planned."),
        "#visits",
    )


@login_required
@require_POST
def visit_record(request, pk):
    def build(project):
        return VisitForm(
            request.POST,
            request.FILES,
            planned=project.visits.filter(state=VisitStatus.SCHEDULED),
            auto_id="visit_%s",
        )

    def run(project, form):
        data = dict(form.cleaned_data)
        services.visit_record(
            user=request.user,
            project=project,
            visit=data.pop("visit"),
            photo=data.pop("photo") or None,
            **data,
        )

    return _act(request, pk, "visit", build, run, _("The visit was recorded."), "#visits")


@login_required
@require_POST
def product_add(request, pk):
    def run(project, form):
        data = form.cleaned_data
        services.product_save(
            user=request.user,
            project=project,
            name=data["name"],
            description=data["description"],
            price_min=data["price_min"],
            price_max=data["price_max"],
            photo=data["photo"] or None,
            published=data["published"],
        )

    return _act(
        request,
        pk,
        "product",
        lambda project: ProductForm(request.POST, request.FILES, auto_id="product_%s"),
        run,
        _("The product was saved."),
        "#products",
    )


def _product(project, product_pk) -> Product:
    return get_visible_or_404(project.products.all(), pk=product_pk)


@login_required
def product_edit(request, pk, product_pk):
    project = _project(request, pk)
    product = _product(project, product_pk)
    if not scope_for(request.user).can_act_for(
        project.organisation_id, ROLES_WORKING_PROJECTS, project.territory_id
    ):
        raise PermissionDenied
    form = ProductForm(request.POST or None, request.FILES or None, instance=product)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.product_save(
                user=request.user,
                project=project,
                product=product,
                name=data["name"],
                description=data["description"],
                price_min=data["price_min"],
                price_max=data["price_max"],
                photo=data["photo"] or None,
                published=data["published"],
            )
        except DomainError as error:
            show_domain_error(request, form, error)
        else:
            messages.success(request, _("The product was saved."))
            return redirect(reverse("projects:project", args=[project.pk]) + "#products")
    return render(
        request,
        "core/form_page.html",
        {
            "form": form,
            "title": _("Product: %(name)s") % {"name": product},
            "breadcrumbs": [
                (_("Micro-projects"), reverse("projects:project_list")),
                (str(project), reverse("projects:project", args=[project.pk])),
            ],
            "cancel_url": reverse("projects:project", args=[project.pk]),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def product_publish(request, pk, product_pk):
    """Show or withdraw a product from the public catalogue."""
    project = _project(request, pk)
    product = _product(project, product_pk)
    try:
        services.product_save(
            user=request.user,
            project=project,
            product=product,
            name=product.name.data,
            price_min=product.price_min,
            price_max=product.price_max,
            published=request.POST.get("published") == "1",
        )
    except DomainError as error:
        show_domain_error(request, None, error)
    else:
        messages.success(
            request,
            _("The product is on the public catalogue.")
            if request.POST.get("published") == "1"
            else _("The product was withdrawn from the public catalogue."),
        )
    return redirect(reverse("projects:project", args=[project.pk]) + "#products")


def _file_response(field, *, attachment: bool = False):
    if not field:
        raise Http404
    try:
        handle = field.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    kind = sniff(handle.read(16))
    handle.seek(0)
    if kind is None:
        handle.close()
        raise Http404
    name = f"{field.name.rsplit('/', 1)[-1]}"
    return FileResponse(
        handle,
        content_type=CONTENT_TYPES[kind],
        as_attachment=attachment or kind == "pdf",
        filename=name,
    )


@login_required
def visit_photo(request, pk, visit_pk):
    project = _project(request, pk)
    visit = get_visible_or_404(Visit.objects.filter(project=project), pk=visit_pk)
    return _file_response(visit.photo)


@login_required
def evidence_file(request, pk, tranche_pk):
    project = _project(request, pk)
    return _file_response(_tranche(project, tranche_pk).evidence_file)


@login_required
def product_photo(request, pk, product_pk):
    project = _project(request, pk)
    return _file_response(_product(project, product_pk).photo)


@login_required
def project_history(request, pk):
    project = _project(request, pk)
    return render(
        request,
        "core/history.html",
        {
            "record": project,
            "history": history_rows(project),
            "back_url": reverse("projects:project", args=[project.pk]),
        },
    )


# --- At risk, portfolio ---------------------------------------------------------------------


@login_required
def at_risk(request):
    form = AtRiskFilterForm(request.GET or None, organisations=_organisations(request.user))
    filters = form.filters()
    projects = selectors.projects_at_risk(request.user, **filters).select_related("organisation")
    today = timezone.localdate()
    if request.GET.get("format") == "xlsx":
        book = Workbook(write_only=True)
        sheet = book.create_sheet(_("Projects at risk")[:31])
        sheet.append(
            [
                _("Code"),
                _("Title"),
                _("Organisation"),
                _("Region"),
                _("Sector"),
                _("Status"),
                _("Financed on"),
                _("Last visit"),
                _("Reasons"),
            ]
        )
        for project in projects[:EXPORT_LIMIT]:
            sheet.append(
                [
                    _safe(project.code),
                    _safe(project.title),
                    _safe(str(project.organisation)),
                    _safe(str(project.region)),
                    _safe(str(project.sector)),
                    project.get_status_display(),
                    project.financed_on,
                    project.last_visit_on,
                    _safe("; ".join(selectors.risk_reasons(project, today))),
                ]
            )
        return _xlsx_response(book, f"projects-at-risk-{today:%Y%m%d}.xlsx")
    page = paginate(projects, request)
    for project in page.items:
        project.reasons = selectors.risk_reasons(project, today)
    return render(request, "projects/projects/at_risk.html", {"form": form, "page": page})


@login_required
def portfolio(request):
    form = PortfolioForm(request.GET or None, organisations=_organisations(request.user))
    days, filters = services.ARREARS_DAYS, {}
    if form.is_valid():
        days = form.cleaned_data["days"] or services.ARREARS_DAYS
        if form.cleaned_data.get("organisation"):
            filters["organisation"] = form.cleaned_data["organisation"]
    today = timezone.localdate()
    lines = selectors.portfolio_at_risk(request.user, as_of=today, days=days, **filters)
    names = {t.pk: str(t) for t in Territory.objects.filter(pk__in={line.key for line in lines})}
    totals: dict[str, dict] = defaultdict(
        lambda: {"loans": 0, "outstanding": Decimal(0), "at_risk": Decimal(0), "late": 0}
    )
    rows = []
    for line in lines:
        total = totals[line.currency]
        total["loans"] += line.loans
        total["outstanding"] += line.outstanding
        total["at_risk"] += line.at_risk
        total["late"] += line.loans_at_risk
        rows.append({"line": line, "name": names.get(line.key, "—"), "par": _percent(line.par)})
    summary = []
    for currency, figures in sorted(totals.items()):
        ratio = (
            float(figures["at_risk"] / figures["outstanding"]) if figures["outstanding"] else None
        )
        summary.append({"currency": currency, **figures, "par": ratio, "par_text": _percent(ratio)})
    if request.GET.get("format") == "xlsx":
        book = Workbook(write_only=True)
        sheet = book.create_sheet(_("PAR%(days)d") % {"days": days})
        sheet.append([_("As of"), today, _("Days late"), days])
        sheet.append(
            [
                _("Region"),
                _("Currency"),
                _("Loans"),
                _("Outstanding"),
                _("Loans at risk"),
                _("Outstanding at risk"),
                _("Ratio"),
            ]
        )
        for row in rows:
            line = row["line"]
            sheet.append(
                [
                    _safe(row["name"]),
                    line.currency,
                    line.loans,
                    line.outstanding,
                    line.loans_at_risk,
                    line.at_risk,
                    line.par,
                ]
            )
        for total in summary:
            sheet.append(
                [
                    _("Total"),
                    total["currency"],
                    total["loans"],
                    total["outstanding"],
                    total["late"],
                    total["at_risk"],
                    total["par"],
                ]
            )
        return _xlsx_response(book, f"portfolio-at-risk-{days}-{today:%Y%m%d}.xlsx")
    return render(
        request,
        "projects/projects/portfolio.html",
        {
            "form": form,
            "rows": rows,
            "summary": summary,
            "days": days,
            "today": today,
            "choices": PAR_DAYS,
        },
    )


# --- Dashboard ------------------------------------------------------------------------------


def _bucket_view(bucket, name: str = "") -> dict:
    return {
        "name": name,
        "projects": bucket.projects,
        "individual": bucket.individual,
        "collective": bucket.collective,
        "jobs_women": bucket.jobs_women,
        "jobs_men": bucket.jobs_men,
        "jobs": bucket.jobs,
        "amounts": [format_money(a, c) for c, a in sorted(bucket.amounts.items())],
        "status": bucket.status,
        "survival": [
            {
                "months": months,
                "rate": _percent(bucket.survival(months)),
                "alive": bucket.alive.get(months, 0),
                "eligible": bucket.eligible.get(months, 0),
            }
            for months in selectors.SURVIVAL_MONTHS
        ],
    }


@login_required
def dashboard(request):
    form = DashboardFilterForm(
        request.GET or None,
        organisations=_organisations(request.user),
        programmes=Programme.objects.visible_to(request.user).order_by("code"),
    )
    board = selectors.dashboard(request.user, **form.filters())
    regions = [_bucket_view(b, board.region_names.get(k, "—")) for k, b in board.by_region.items()]
    sectors = [_bucket_view(b, board.sector_names.get(k, "—")) for k, b in board.by_sector.items()]
    from .models import ProjectStatus

    statuses = [
        {"status": status, "label": label, "projects": board.by_status.get(status, 0)}
        for status, label in ProjectStatus.choices
    ]
    charts = {
        "regions": {
            "labels": [r["name"] for r in regions],
            "projects": [r["projects"] for r in regions],
            "women": [r["jobs_women"] for r in regions],
            "men": [r["jobs_men"] for r in regions],
        },
        "sectors": {
            "labels": [s["name"] for s in sectors],
            "projects": [s["projects"] for s in sectors],
        },
        "status": {
            "labels": [str(s["label"]) for s in statuses],
            "projects": [s["projects"] for s in statuses],
        },
        "words": {
            "projects": _("Projects"),
            "women": _("Jobs (women)"),
            "men": _("Jobs (men)"),
        },
    }
    return render(
        request,
        "projects/dashboard/dashboard.html",
        {
            "form": form,
            "total": _bucket_view(board.total),
            "regions": regions,
            "sectors": sectors,
            "statuses": statuses,
            "charts": charts,
        },
    )


# --- Public catalogue and exhibitions -------------------------------------------------------


def _published():
    return Product.objects.filter(
        published=True, archived_at__isnull=True, project__archived_at__isnull=True
    )


def catalogue(request):
    products = _published()
    form = CatalogueFilterForm(
        request.GET or None,
        region_ids=set(products.order_by().values_list("project__region_id", flat=True).distinct()),
    )
    if form.is_valid():
        if form.cleaned_data.get("region"):
            products = products.filter(project__region=form.cleaned_data["region"])
        if form.cleaned_data.get("sector"):
            products = products.filter(project__sector=form.cleaned_data["sector"])
    products = products.select_related("project__region", "project__territory", "project__sector")
    return render(
        request,
        "projects/catalogue/catalogue.html",
        {"form": form, "page": paginate(products.order_by("-pk"), request, per_page=24)},
    )


def catalogue_photo(request, product_pk):
    product = get_visible_or_404(_published(), pk=product_pk)
    return _file_response(product.photo)


def exhibition_list(request):
    exhibitions = Exhibition.objects.filter(archived_at__isnull=True).select_related(
        "territory", "organisation"
    )
    return render(
        request,
        "projects/catalogue/exhibitions.html",
        {"page": paginate(exhibitions.order_by("-starts_on", "-pk"), request)},
    )


def _stands_with_products(exhibition):
    stands = list(
        exhibition.stands.filter(project__archived_at__isnull=True).select_related(
            "project__sector", "project__territory", "project__region"
        )
    )
    products = defaultdict(list)
    for product in _published().filter(project_id__in=[s.project_id for s in stands]):
        products[product.project_id].append(product)
    for stand in stands:
        stand.products = products.get(stand.project_id, [])
    return stands


def exhibition_detail(request, pk):
    exhibition = get_visible_or_404(
        Exhibition.objects.filter(archived_at__isnull=True).select_related(
            "territory", "organisation"
        ),
        pk=pk,
    )
    return render(
        request,
        "projects/catalogue/exhibition.html",
        {"exhibition": exhibition, "stands": _stands_with_products(exhibition)},
    )


# --- Staff: exhibitions ---------------------------------------------------------------------


def _staff_exhibitions(user):
    exhibitions = Exhibition.objects.select_related("territory", "organisation")
    scope = scope_for(user)
    if scope.is_operator:
        return exhibitions
    return exhibitions.filter(organisation_id__in=scope.organisation_ids)


@login_required
def exhibition_manage(request):
    organisers = _organisations(request.user, ROLES_MANAGING_CALLS)
    form = ExhibitionForm(request.POST or None, organisations=organisers)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            exhibition = services.exhibition_create(user=request.user, **data)
        except DomainError as error:
            show_domain_error(request, form, error)
        else:
            messages.success(request, _("The exhibition was created."))
            return redirect("projects:exhibition_stands", pk=exhibition.pk)
    return render(
        request,
        "projects/catalogue/manage.html",
        {
            "form": form,
            "can_create": organisers.exists(),
            "page": paginate(
                _staff_exhibitions(request.user).order_by("-starts_on", "-pk"), request
            ),
        },
        status=400 if form.errors else 200,
    )


@login_required
def exhibition_stands(request, pk):
    exhibition = get_visible_or_404(_staff_exhibitions(request.user), pk=pk)
    can_manage = scope_for(request.user).can_act_for(
        exhibition.organisation_id, ROLES_MANAGING_CALLS
    )
    form = StandForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        project = (
            Project.objects.visible_to(request.user)
            .filter(code=form.cleaned_data["project"].strip())
            .first()
        )
        if project is None:
            form.add_error("project", _("No project with this code is in your scope."))
        else:
            try:
                services.stand_add(
                    user=request.user,
                    exhibition=exhibition,
                    project=project,
                    label=form.cleaned_data["label"],
                )
            except DomainError as error:
                show_domain_error(request, form, error)
            else:
                messages.success(request, _("The stand was added."))
                return redirect("projects:exhibition_stands", pk=exhibition.pk)
    stands = exhibition.stands.select_related("project__sector", "project__territory")
    return render(
        request,
        "projects/catalogue/stands.html",
        {"exhibition": exhibition, "form": form, "stands": stands, "can_manage": can_manage},
        status=400 if form.errors else 200,
    )
