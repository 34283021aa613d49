"""Reads of cases, always through the access layer."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Case as Conditional
from django.db.models import Count, F, IntegerField, Min, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from i18nfield.strings import LazyI18nString

from tadamun.access.scope import scope_for
from tadamun.core.timeline import TimelineEntry

from .models import (
    ROLES_READING_HEALTH,
    ActionFamily,
    ActionStatus,
    Case,
    CaseNote,
    CaseOutcome,
    CaseStatus,
    Confidentiality,
    ContractType,
    Diagnosis,
    DiagnosisLevel,
    Intake,
    PathwayAction,
    Referral,
    ReferralStatus,
)
from .services import can_read_health


def caseload(*, user, mine_only: bool = True, status: str = CaseStatus.OPEN) -> QuerySet:
    """The user's cases, those with overdue actions or referrals first."""
    today = timezone.localdate()
    cases = Case.objects.visible_to(user).filter(archived_at__isnull=True)
    if status:
        cases = cases.filter(status=status)
    if mine_only:
        cases = cases.filter(tutor=user)
    overdue_actions = Q(
        actions__status__in=[ActionStatus.PLANNED, ActionStatus.ONGOING],
        actions__end__lt=today,
    ) & (Q(actions__extended_until__isnull=True) | Q(actions__extended_until__lt=today))
    overdue_referrals = Q(referrals__status=ReferralStatus.SENT, referrals__deadline__lt=today)
    return (
        cases.annotate(
            overdue=Count("actions", filter=overdue_actions, distinct=True)
            + Count("referrals", filter=overdue_referrals, distinct=True),
            next_due=Min(
                "actions__end",
                filter=Q(actions__status__in=[ActionStatus.PLANNED, ActionStatus.ONGOING]),
            ),
        )
        .annotate(
            has_overdue=Conditional(
                When(overdue__gt=0, then=Value(1)), default=Value(0), output_field=IntegerField()
            )
        )
        .select_related("person", "person__residence", "desk", "tutor", "organisation")
        # Cases with something due come before those with nothing planned, on every engine.
        .order_by("-has_overdue", F("next_due").asc(nulls_last=True), "-opened_on", "-pk")
    )


def visible_notes(user, case: Case) -> QuerySet:
    notes = CaseNote.objects.filter(case=case).select_related("author")
    if not can_read_health(user, case):
        notes = notes.filter(confidentiality=Confidentiality.STANDARD)
    return notes


def visible_actions(user, case: Case) -> QuerySet:
    actions = PathwayAction.objects.filter(case=case).select_related(
        "action_type", "responsible", "host"
    )
    if not can_read_health(user, case):
        actions = actions.exclude(action_type__is_health=True)
    return actions


def visible_levels(user, diagnosis: Diagnosis) -> QuerySet:
    levels = DiagnosisLevel.objects.filter(diagnosis=diagnosis).select_related("dimension")
    if not can_read_health(user, diagnosis.case):
        levels = levels.exclude(dimension__is_health=True)
    return levels.order_by("dimension__order")


def referral_action_shown(user, referral: Referral):
    """The referred action, unless it is a care pathway and the user reads no health
    information at either end of the referral."""
    action = referral.action
    if action is None or not action.action_type.is_health:
        return action
    scope = scope_for(user)
    for organisation_id in (referral.from_organisation_id, referral.to_organisation_id):
        if scope.can_act_for(organisation_id, ROLES_READING_HEALTH):
            return action
    return None


def referrals_for(*, user, direction: str = "incoming") -> QuerySet:
    scope = scope_for(user)
    referrals = Referral.objects.visible_to(user).select_related(
        "case__person", "from_organisation", "to_organisation", "action__action_type"
    )
    if not scope.is_operator:
        field_name = "to_organisation_id" if direction == "incoming" else "from_organisation_id"
        referrals = referrals.filter(**{f"{field_name}__in": scope.organisation_ids})
    return referrals.order_by("status", "deadline")


def person_timeline(*, user, person) -> list[TimelineEntry]:
    """One timeline across desks and cases, limited to what the user may see."""
    entries: list[TimelineEntry] = []
    cases = list(
        Case.objects.visible_to(user).filter(person=person).select_related("organisation", "desk")
    )
    case_ids = {c.pk for c in cases}
    for intake in Intake.objects.filter(person=person).select_related("desk", "organisation"):
        if (
            intake.organisation_id in scope_for(user).organisation_ids
            or scope_for(user).is_operator
            or intake.case_id in case_ids
        ):
            entries.append(
                TimelineEntry(
                    timezone.localtime(intake.occurred_at).date(),
                    "intake",
                    _("Came to %(desk)s") % {"desk": intake.desk},
                    intake.reason,
                )
            )
    for case in cases:
        url = reverse("cases:detail", args=[case.pk])
        entries.append(
            TimelineEntry(
                case.opened_on,
                "case",
                _("Case opened by %(org)s") % {"org": case.organisation},
                case.desk and str(case.desk) or "",
                url,
            )
        )
        if case.closed_on:
            entries.append(
                TimelineEntry(
                    case.closed_on,
                    "case",
                    _("Case closed: %(outcome)s") % {"outcome": case.get_outcome_display()},
                    case.closure_reason,
                    url,
                )
            )
        for action in visible_actions(user, case):
            if action.start:
                entries.append(
                    TimelineEntry(
                        action.start,
                        "action",
                        str(action.action_type),
                        action.get_status_display(),
                        url,
                    )
                )
    for referral in (
        Referral.objects.visible_to(user)
        .filter(case__person=person)
        .select_related("to_organisation")
    ):
        entries.append(
            TimelineEntry(
                timezone.localtime(referral.sent_at).date(),
                "referral",
                _("Referred to %(org)s") % {"org": referral.to_organisation},
                referral.get_status_display(),
                reverse("cases:referral", args=[referral.pk]),
            )
        )
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries


AGE_BANDS = [
    (0, 24, "<25"),
    (25, 34, "25-34"),
    (35, 44, "35-44"),
    (45, 54, "45-54"),
    (55, 200, "55+"),
]


def age_band(year_of_birth: int | None, on: datetime.date) -> str:
    if not year_of_birth:
        return "?"
    age = on.year - year_of_birth
    for low, high, label in AGE_BANDS:
        if low <= age <= high:
            return label
    return "?"


@dataclass
class ReportLine:
    key: str
    label: str
    people: set = field(default_factory=set)
    by: dict = field(default_factory=dict)  # dimension -> value -> set of person ids

    @property
    def count(self) -> int:
        return len(self.people)

    @property
    def women(self) -> int:
        return len(self.by.get("sex", {}).get("F", ()))

    @property
    def men(self) -> int:
        return len(self.by.get("sex", {}).get("M", ()))


def _add(line: ReportLine, person_id: int, facets: dict) -> None:
    line.people.add(person_id)
    for dimension, value in facets.items():
        line.by.setdefault(dimension, {}).setdefault(value, set()).add(person_id)


def case_report(*, user, start: datetime.date, end: datetime.date, network_ids=None) -> dict:
    """Diagnoses, starts per pathway family and outcomes in a period, counting distinct
    people (a person with two internships counts once), broken down by desk, territory, sex
    and age band. Health-related lines need a role entitled to health information."""
    cases = Case.objects.visible_to(user)
    if network_ids:
        cases = cases.filter(organisation_id__in=network_ids)
    scope = scope_for(user)
    # Health information is read per organisation: a case worker somewhere who is a desk
    # operator elsewhere does not count the care pathways of the desk's cases.
    health_orgs: set[int] = set()
    for grant in scope.grants_with(ROLES_READING_HEALTH):
        health_orgs |= grant.organisation_ids
    health = scope.is_operator or bool(health_orgs)

    def facets(case_row) -> dict:
        return {
            "desk": str(LazyI18nString(case_row["desk__name"])) or "—",
            "territory": str(LazyI18nString(case_row["person__residence__name"])) or "—",
            "sex": case_row["person__sex"],
            "age": age_band(case_row["person__birth_year"], start),
        }

    values = [
        "pk",
        "person_id",
        "desk__name",
        "person__residence__name",
        "person__sex",
        "person__birth_year",
    ]
    case_rows = {c["pk"]: c for c in cases.values(*values)}

    lines: dict[str, ReportLine] = {"diagnoses": ReportLine("diagnoses", _("Diagnoses"))}
    for diagnosis in Diagnosis.objects.filter(
        case_id__in=case_rows.keys(), diagnosed_on__range=(start, end)
    ).values("case_id"):
        row = case_rows[diagnosis["case_id"]]
        _add(lines["diagnoses"], row["person_id"], facets(row))
    actions = PathwayAction.objects.filter(case_id__in=case_rows.keys(), start__range=(start, end))
    if not scope.is_operator:
        actions = actions.exclude(
            Q(action_type__is_health=True) & ~Q(case__organisation_id__in=health_orgs)
        )
    for family, label in ActionFamily.choices:
        lines[family] = ReportLine(family, label)
    for action in actions.values("case_id", "action_type__family", "contract_type"):
        row = case_rows[action["case_id"]]
        family = action["action_type__family"]
        _add(lines[family], row["person_id"], facets(row))
        if family == ActionFamily.HIRE and action["contract_type"]:
            key = f"hire:{action['contract_type']}"
            lines.setdefault(
                key,
                ReportLine(
                    key,
                    _("Hire: %(contract)s")
                    % {"contract": ContractType(action["contract_type"]).label},
                ),
            )
            _add(lines[key], row["person_id"], facets(row))
    if not health:
        lines.pop(ActionFamily.CARE_PATHWAY, None)
    outcomes: dict[str, ReportLine] = {}
    for case_row in cases.filter(closed_on__range=(start, end)).values(*values, "outcome"):
        key = case_row["outcome"] or "other"
        line = outcomes.setdefault(key, ReportLine(key, CaseOutcome(key).label))
        _add(line, case_row["person_id"], facets(case_row))
    return {
        "start": start,
        "end": end,
        "lines": list(lines.values()),
        "outcomes": list(outcomes.values()),
        "health": health,
    }
