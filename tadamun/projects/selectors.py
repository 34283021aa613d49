"""Reads of micro-projects that need more than a filter: the dashboard, portfolio at risk,
projects at risk, survival, and the person's timeline. Every read goes through the access
layer (``visible_to``)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import BooleanField, Count, ExpressionWrapper, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tadamun.core.timeline import TimelineEntry

from .models import Application, Financing, FinancingKind, Project, ProjectStatus
from .services import ARREARS_DAYS, VISIT_EVERY_DAYS, add_months

SURVIVAL_MONTHS = (6, 12, 24)


def visible_projects(user, **filters):
    projects = Project.objects.visible_to(user).filter(archived_at__isnull=True)
    for name, value in filters.items():
        if value not in (None, ""):
            projects = projects.filter(**{name: value})
    return projects


# --- Dashboard ------------------------------------------------------------------------------


@dataclass
class Bucket:
    projects: int = 0
    collective: int = 0
    jobs_women: int = 0
    jobs_men: int = 0
    amounts: dict[str, Decimal] = field(default_factory=dict)  # currency -> amount
    status: dict[str, int] = field(default_factory=dict)
    eligible: dict[int, int] = field(default_factory=dict)  # months -> projects old enough
    alive: dict[int, int] = field(default_factory=dict)  # months -> of which alive

    @property
    def individual(self) -> int:
        return self.projects - self.collective

    @property
    def jobs(self) -> int:
        return self.jobs_women + self.jobs_men

    def survival(self, months: int) -> float | None:
        eligible = self.eligible.get(months, 0)
        return self.alive.get(months, 0) / eligible if eligible else None

    def add(self, row: dict) -> None:
        self.projects += row["n"]
        self.collective += row["collective"]
        self.jobs_women += row["jobs_women"] or 0
        self.jobs_men += row["jobs_men"] or 0
        currency = row["currency"]
        self.amounts[currency] = self.amounts.get(currency, Decimal(0)) + (row["amount"] or 0)
        self.status[row["status"]] = self.status.get(row["status"], 0) + row["n"]
        for months in SURVIVAL_MONTHS:
            self.eligible[months] = self.eligible.get(months, 0) + row[f"eligible_{months}"]
            self.alive[months] = self.alive.get(months, 0) + row[f"alive_{months}"]


@dataclass
class Dashboard:
    total: Bucket
    by_region: dict[int, Bucket]
    by_sector: dict[int, Bucket]
    by_status: dict[str, int]
    region_names: dict[int, str]
    sector_names: dict[int, str]


def dashboard_rows(projects, today: datetime.date | None = None):
    """The one aggregate the dashboard needs: projects grouped by region, sector, kind,
    status and currency, with amounts, jobs and survival counts."""
    today = today or timezone.localdate()
    aggregates = {
        "n": Count("pk"),
        "collective": Count("pk", filter=Q(kind="collective")),
        "amount": Sum("amount_financed"),
        "jobs_women": Sum("jobs_women"),
        "jobs_men": Sum("jobs_men"),
    }
    for months in SURVIVAL_MONTHS:
        cutoff = add_months(today, -months)
        old_enough = Q(financed_on__lte=cutoff)
        aggregates[f"eligible_{months}"] = Count("pk", filter=old_enough)
        aggregates[f"alive_{months}"] = Count(
            "pk", filter=old_enough & (Q(months_alive__isnull=True) | Q(months_alive__gte=months))
        )
    return (
        projects.order_by()
        .values("region_id", "sector_id", "status", "currency")
        .annotate(**aggregates)
    )


def dashboard(user, *, today: datetime.date | None = None, **filters) -> Dashboard:
    from tadamun.territories.models import Territory

    from .models import Sector

    total = Bucket()
    by_region: dict[int, Bucket] = defaultdict(Bucket)
    by_sector: dict[int, Bucket] = defaultdict(Bucket)
    by_status: dict[str, int] = defaultdict(int)
    for row in dashboard_rows(visible_projects(user, **filters), today):
        total.add(row)
        by_region[row["region_id"]].add(row)
        by_sector[row["sector_id"]].add(row)
        by_status[row["status"]] += row["n"]
    regions = {t.pk: str(t) for t in Territory.objects.filter(pk__in=by_region)}
    sectors = {s.pk: str(s) for s in Sector.objects.filter(pk__in=by_sector)}
    return Dashboard(
        total=total,
        by_region=dict(sorted(by_region.items(), key=lambda kv: -kv[1].projects)),
        by_sector=dict(sorted(by_sector.items(), key=lambda kv: -kv[1].projects)),
        by_status={s: by_status.get(s, 0) for s in ProjectStatus.values},
        region_names=regions,
        sector_names=sectors,
    )


# --- Portfolio at risk --------------------------------------------------------------------


@dataclass
class PortfolioLine:
    key: int | None
    currency: str
    loans: int
    outstanding: Decimal
    at_risk: Decimal
    loans_at_risk: int

    @property
    def par(self) -> float | None:
        return float(self.at_risk / self.outstanding) if self.outstanding else None


def portfolio_rows(
    loans, as_of: datetime.date, days: int = ARREARS_DAYS, by: str = "project__region_id"
):
    """The one aggregate PAR needs: outstanding principal per group, and the part of it on
    loans with an instalment unpaid for more than ``days`` days."""
    late = Q(oldest_unpaid_due_on__lt=as_of - datetime.timedelta(days=days))
    return (
        loans.filter(kind=FinancingKind.LOAN, outstanding__gt=0)
        .order_by()
        .values(by, "project__currency")
        .annotate(
            loans=Count("pk"),
            outstanding_sum=Sum("outstanding"),
            at_risk=Sum("outstanding", filter=late),
            loans_at_risk=Count("pk", filter=late),
        )
    )


def visible_loans(user, **project_filters):
    """Loans of the projects ``user`` may see, joined to their project (the project's
    visibility condition applied through the join, so a territory-limited user's query starts
    from their projects, not from every loan)."""
    loans = Financing.objects.filter(
        Project.objects.visibility_through(user, "project__"),
        kind=FinancingKind.LOAN,
        project__archived_at__isnull=True,
    )
    for name, value in project_filters.items():
        if value not in (None, ""):
            loans = loans.filter(**{f"project__{name}": value})
    return loans


def portfolio_at_risk(
    user,
    *,
    as_of: datetime.date | None = None,
    days: int = ARREARS_DAYS,
    by="project__region_id",
    **filters,
) -> list[PortfolioLine]:
    as_of = as_of or timezone.localdate()
    lines = []
    for row in portfolio_rows(visible_loans(user, **filters), as_of, days, by):
        lines.append(
            PortfolioLine(
                key=row[by],
                currency=row["project__currency"],
                loans=row["loans"],
                outstanding=row["outstanding_sum"] or Decimal(0),
                at_risk=row["at_risk"] or Decimal(0),
                loans_at_risk=row["loans_at_risk"],
            )
        )
    lines.sort(key=lambda line: -(line.par or 0))
    return lines


# --- Projects at risk -----------------------------------------------------------------------


def projects_at_risk(user, *, today: datetime.date | None = None, **filters):
    """Projects stopped, not visited for ``VISIT_EVERY_DAYS`` days, or with a loan instalment
    unpaid for more than ``ARREARS_DAYS`` days; each annotated with the reasons."""
    today = today or timezone.localdate()
    unvisited_since = today - datetime.timedelta(days=VISIT_EVERY_DAYS)
    # An uncorrelated IN: the late loans are found once, through the arrears index. A
    # correlated EXISTS let SQLite scan that index again for every project.
    late = Financing.objects.filter(
        kind=FinancingKind.LOAN,
        outstanding__gt=0,
        oldest_unpaid_due_on__lt=today - datetime.timedelta(days=ARREARS_DAYS),
    ).values("project_id")
    in_arrears = Q(pk__in=late)
    not_visited = Q(last_visit_on__lt=unvisited_since) | Q(
        last_visit_on__isnull=True, financed_on__lt=unvisited_since
    )
    return (
        visible_projects(user, **filters)
        .annotate(in_arrears=ExpressionWrapper(in_arrears, output_field=BooleanField()))
        .filter(Q(status=ProjectStatus.STOPPED) | not_visited | in_arrears)
        .select_related("region", "sector")
        .order_by("last_visit_on", "pk")
    )


def risk_reasons(project: Project, today: datetime.date | None = None) -> list[str]:
    today = today or timezone.localdate()
    reasons = []
    if project.status == ProjectStatus.STOPPED:
        reasons.append(_("Stopped"))
    if project.status == ProjectStatus.STRUGGLING:
        reasons.append(_("Struggling"))
    last = project.last_visit_on or project.financed_on
    if (today - last).days > VISIT_EVERY_DAYS:
        reasons.append(_("Not visited for %(days)d days") % {"days": (today - last).days})
    if getattr(project, "in_arrears", False):
        reasons.append(_("In arrears for more than %(days)d days") % {"days": ARREARS_DAYS})
    return reasons


def survival_of(project: Project, months: int, today: datetime.date | None = None) -> bool | None:
    """Alive ``months`` after financing (None when that day has not come yet)."""
    today = today or timezone.localdate()
    if add_months(project.financed_on, months) > today:
        return None
    return project.months_alive is None or project.months_alive >= months


# --- Timeline -------------------------------------------------------------------------------


def person_timeline_entries(*, user, person) -> list[TimelineEntry]:
    entries = []
    applications = (
        Application.objects.visible_to(user)
        .filter(Q(promoter=person) | Q(group__members__person=person))
        .select_related("call")
        .distinct()
    )
    for application in applications:
        entries.append(
            TimelineEntry(
                application.submitted_on,
                "application",
                _("Applied to %(call)s") % {"call": application.call},
                f"{application.title} · {application.get_status_display()}",
                reverse("projects:application", args=[application.pk]),
            )
        )
    projects = (
        visible_projects(user)
        .filter(Q(promoter=person) | Q(group__members__person=person))
        .distinct()
    )
    for project in projects:
        entries.append(
            TimelineEntry(
                project.financed_on,
                "project",
                _("Project financed: %(title)s") % {"title": project.title},
                project.get_status_display(),
                reverse("projects:project", args=[project.pk]),
            )
        )
    return entries
