"""Demo micro-projects (``data/projects.json``).

- UTSS: yearly calls 2019-2025 in TND (envelopes per governorate, a four-criterion grid,
  required documents) and the projects they financed: "more than 9,500 projects created,
  financed and followed up, 750 of them collective" (seed 000), here exactly the numbers of the
  data file, over the 24 governorates; with financing (grant, interest-free loan, in kind),
  tranches, loan schedules and repayments, follow-up visits, coaching and products; the
  exhibition of promoters' products at the regional forum in Tabarka.
- Act4Community with UM6P's social-innovation lab: the projects shown at Innov Impact in Safi
  (seed 001), each prepared in a business-plan workshop, with their products and stands.
- A few live items to try the flows: an open call with applications, a committee scoring,
  public submissions waiting in the inbox.

The bulk records are written with ``bulk_create`` from a fixed random seed. The figures the
services keep up to date (a loan's ``outstanding`` and ``oldest_unpaid_due_on``, a project's
status, jobs, revenue, ``last_visit_on``, ``stopped_on``, ``months_alive``, region, version)
are computed by the same rules as ``tadamun.projects.services``. Projects, applications,
financings, groups and their members get an audit entry ("demo"); tranches, repayments,
visits, coaching sessions and the bulk products do not. The small sets (calls, exhibitions,
stands, the Innov Impact coaching and products, the live items) go through the services.
"""

from __future__ import annotations

import datetime
import json
import math
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

from django.core.files.base import ContentFile
from django.db import connection, models, transaction
from django.utils import timezone

from tadamun.accounts.models import Membership, User
from tadamun.core.money import currency_decimals
from tadamun.matching.keys import PersonRecord, match_keys
from tadamun.organisations.models import Organisation
from tadamun.programmes.models import Programme
from tadamun.projects import services
from tadamun.projects.models import (
    ApplicantKinds,
    Application,
    ApplicationKind,
    ApplicationStatus,
    Call,
    CallStatus,
    Channel,
    CoachingKind,
    CoachingSession,
    Exhibition,
    Financing,
    FinancingKind,
    FinancingLine,
    FundingSource,
    Instalment,
    InvestmentItem,
    Product,
    Project,
    ProjectStatus,
    Repayment,
    Sector,
    Tranche,
    TrancheStatus,
    Visit,
    VisitStatus,
)
from tadamun.registry import services as registry_services
from tadamun.registry.models import (
    Consent,
    ConsentPurpose,
    Group,
    GroupKind,
    GroupMember,
    LawfulBasis,
    MemberRole,
    Person,
    PersonMatchKey,
    PersonNameKey,
    PersonShare,
    Sex,
    ShareReason,
)
from tadamun.registry.names import name_keys
from tadamun.territories.models import Territory

DATA = Path(__file__).parent / "data" / "projects.json"
UTSS_CODE = "UTSS-"  # project codes UTSS-<year>-<number>


def read_data() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


def _pdf(title: str) -> bytes:
    """A one-page PDF standing for a scanned document."""
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n% " + title.encode("ascii", "replace") + b"\n"
    )


# --- Small rules shared with the services ----------------------------------------------------


def region_of(territory: Territory, by_id: dict[int, Territory]) -> Territory:
    """``services._region_of`` over territories already in memory."""
    current = territory
    while current.parent_id is not None and by_id[current.parent_id].parent_id is not None:
        current = by_id[current.parent_id]
    return current


def refresh_loan(
    amount: Decimal, schedule: list[tuple[int, datetime.date, Decimal]], paid: list[Decimal]
):
    """``services._refresh_loan`` over a schedule in memory: (outstanding, oldest unpaid)."""
    oldest = next(
        (due for (_n, due, value), done in zip(schedule, paid, strict=True) if done < value),
        None,
    )
    return amount - sum(paid, Decimal(0)), oldest


def allocate(total: int, weights: dict[str, float]) -> dict[str, int]:
    """``total`` shared out in proportion to ``weights`` (largest remainders), exactly."""
    whole = sum(weights.values())
    shares = {k: total * w / whole for k, w in weights.items()}
    counts = {k: math.floor(v) for k, v in shares.items()}
    left = total - sum(counts.values())
    for key in sorted(shares, key=lambda k: (counts[k] - shares[k], k))[:left]:
        counts[key] += 1
    return counts


def _survival_month(table: list[list[float]], u: float) -> float | None:
    """The month at which a project stops, for a uniform draw ``u`` against the survival
    curve ``table`` ([month, share still alive], decreasing); None: it does not stop."""
    if u < table[-1][1]:
        return None
    for (m0, s0), (m1, s1) in zip(table, table[1:], strict=False):
        if s0 >= u >= s1:
            return m0 + (m1 - m0) * ((s0 - u) / (s0 - s1) if s0 != s1 else 0)
    return None


def _step(value: float, step: int) -> int:
    return max(step, int(round(value / step)) * step)


def fast_insert(model, fields: list[str], rows: list[tuple]) -> None:
    """Insert ``rows`` (tuples of the values of ``fields``, by attribute name) without building
    model instances: for the large child tables of the demo, which keep no audit entry."""
    meta = model._meta
    quote = connection.ops.quote_name
    # Names from the model's options, values as parameters.
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        quote(meta.db_table),
        ", ".join(quote(meta.get_field(name).column) for name in fields),
        ", ".join(["%s"] * len(fields)),
    )
    adapters = []
    for name in fields:
        kind = meta.get_field(name)
        if isinstance(kind, models.DateTimeField):
            adapters.append(connection.ops.adapt_datetimefield_value)
        elif isinstance(kind, models.DateField):
            adapters.append(connection.ops.adapt_datefield_value)
        elif isinstance(kind, models.JSONField):
            adapters.append(lambda value, field=kind: field.get_db_prep_save(value, connection))
        else:
            adapters.append(None)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            chunk = [
                tuple(
                    adapt(value) if adapt is not None and value is not None else value
                    for adapt, value in zip(adapters, row, strict=True)
                )
                for row in rows[start : start + 5000]
            ]
            cursor.executemany(sql, chunk)


def create_with_history(model, objs: list, user, reason: str = "demo") -> list:
    """``bulk_create`` with an audit entry per record ("created", naming ``user``), as
    simple-history's ``bulk_create_with_history`` writes them, the entries inserted directly."""
    objs = model._default_manager.bulk_create(objs, batch_size=500)
    history = model.history.model
    fields = [f.attname for f in history._meta.concrete_fields if f.attname != "history_id"]
    entry = {
        "history_date": timezone.now(),
        "history_change_reason": reason,
        "history_type": "+",
        "history_user_id": user.pk,
    }
    fast_insert(
        history,
        fields,
        [
            tuple(entry[name] if name in entry else getattr(obj, name) for name in fields)
            for obj in objs
        ],
    )
    return objs


# --- Plans: what is generated before it is written ---------------------------------------------


@dataclass
class PersonPlan:
    """A person to register (``person`` is set once written)."""

    row: dict
    given_on: datetime.date
    person: Person | None = None

    @property
    def sex(self) -> str:
        return self.row["sex"]


@dataclass
class ProjectPlan:
    kind: str
    organisation: Organisation
    territory: Territory
    region: Territory
    sector: Sector
    title: str
    financed_on: datetime.date
    amount: Decimal
    parts: list[tuple[str, Decimal]]
    promoter: Person | PersonPlan
    members: list[tuple[Person | PersonPlan, str]] = field(default_factory=list)
    group_name: str = ""
    group_kind: str = ""
    year: int = 0
    submitted_on: datetime.date | None = None
    own: Decimal = Decimal(0)
    revenue: tuple[int, int] = (500, 1500)
    items: list = field(default_factory=list)
    officer: User | None = None
    mentor: User | None = None
    code: str = ""
    jobs: tuple[int, int] = (1, 0)
    row: dict = field(default_factory=dict)
    project: Project | None = None


class Builder:
    """Writes planned projects in bulk with everything that hangs from them."""

    def __init__(self, *, user, rng: random.Random, today: datetime.date, currency: str):
        self.user = user
        self.rng = rng
        self.today = today
        self.currency = currency
        self.unit = Decimal(1).scaleb(-currency_decimals(currency))

    def money(self, value) -> Decimal:
        return Decimal(value).quantize(self.unit)

    # -- people and groups --

    def write_people(self, plans: list[PersonPlan]) -> None:
        """Register people as ``person_bulk_register`` does: each row checked by
        ``person_bulk_validate``, then written as ``person_bulk_write`` writes them (the record
        with its audit entry, the organisation holding it, the name and match keys from the
        registry's own functions), with a registration consent each. The consents keep no audit
        entry."""
        if not plans:
            return
        people = registry_services.person_bulk_validate(
            user=self.user, rows=[plan.row for plan in plans]
        )
        people = create_with_history(Person, people, self.user)
        for plan, person in zip(plans, people, strict=True):
            plan.person = person
        now = timezone.now()
        fast_insert(
            PersonShare,
            ["person_id", "organisation_id", "reason", "created_at"],
            [(p.pk, p.organisation_id, ShareReason.REGISTERED, now) for p in people],
        )
        fast_insert(
            PersonNameKey,
            ["person_id", "key"],
            [
                (p.pk, key)
                for p in people
                for key in sorted(
                    name_keys(p.given_name, p.family_name, p.given_name_latin, p.family_name_latin)
                )
            ],
        )
        fast_insert(
            PersonMatchKey,
            ["person_id", "key"],
            [
                (p.pk, key)
                for p in people
                for key in sorted(match_keys(PersonRecord.from_person(p)))
            ],
        )
        fast_insert(
            Consent,
            [
                "person_id",
                "purpose",
                "lawful_basis",
                "organisation_id",
                "given_on",
                "recorded_by_id",
                "recorded_at",
                "note",
            ],
            [
                (
                    plan.person.pk,
                    ConsentPurpose.REGISTRATION,
                    LawfulBasis.CONSENT,
                    plan.person.organisation_id,
                    plan.given_on,
                    self.user.pk,
                    now,
                    "",
                )
                for plan in plans
            ],
        )

    @staticmethod
    def person(value) -> Person:
        return value.person if isinstance(value, PersonPlan) else value

    def write_groups(self, plans: list[ProjectPlan]) -> dict[int, Group]:
        collective = [p for p in plans if p.kind == ApplicationKind.COLLECTIVE and p.group_name]
        groups = create_with_history(
            Group,
            [
                Group(
                    name=p.group_name,
                    kind=p.group_kind,
                    organisation=p.organisation,
                    territory=p.territory,
                )
                for p in collective
            ],
            self.user,
        )
        members = []
        for plan, group in zip(collective, groups, strict=True):
            count = len(plan.members)
            share = (Decimal(100) / count).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
            for index, (person, role) in enumerate(plan.members):
                members.append(
                    GroupMember(
                        group=group,
                        person=self.person(person),
                        role=role,
                        share=share if index < count - 1 else Decimal(100) - share * (count - 1),
                        joined_on=plan.financed_on
                        - datetime.timedelta(days=self.rng.randint(60, 500)),
                    )
                )
        create_with_history(GroupMember, members, self.user)
        return {id(p): g for p, g in zip(collective, groups, strict=True)}

    # -- applications (for projects that came through a call) --

    def write_applications(self, plans: list[ProjectPlan], calls: dict[int, Call], groups):
        rng = self.rng
        used: set[str] = set()
        applications = []
        for plan in plans:
            while True:
                reference = f"APP-{plan.year % 100:02d}-{rng.getrandbits(24):06X}"
                if reference not in used:
                    used.add(reference)
                    break
            main = max(plan.parts, key=lambda part: part[1])[0]
            applications.append(
                Application(
                    call=calls[plan.year],
                    organisation=plan.organisation,
                    reference=reference,
                    kind=plan.kind,
                    promoter=self.person(plan.promoter),
                    group=groups.get(id(plan)),
                    territory=plan.territory,
                    sector=plan.sector,
                    title=plan.title,
                    financing_kind=main,
                    requested_amount=plan.amount,
                    expected_monthly_revenue=self.money(plan.revenue[0]),
                    expected_jobs_women=plan.jobs[0],
                    expected_jobs_men=plan.jobs[1],
                    channel=Channel.IMPORT,
                    status=ApplicationStatus.AWARDED,
                    submitted_on=plan.submitted_on,
                    submitted_by=plan.officer,
                    tracking_secret="".join(
                        rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
                        for _ in range(32)
                    ),
                    awarded_amount=plan.amount,
                )
            )
        applications = create_with_history(Application, applications, self.user)
        items, lines = [], []
        for plan, application in zip(plans, applications, strict=True):
            for label, quantity, unit_cost in plan.items:
                items.append(
                    (application.pk, label, quantity, unit_cost, self.money(quantity * unit_cost))
                )
            if plan.own:
                lines.append((application.pk, FundingSource.OWN, plan.own))
            for kind, amount in plan.parts:
                lines.append((application.pk, kind, amount))
        fast_insert(
            InvestmentItem, ["application_id", "label", "quantity", "unit_cost", "amount"], items
        )
        fast_insert(FinancingLine, ["application_id", "source", "amount"], lines)
        return applications

    # -- projects and everything under them --

    def write_projects(
        self, plans: list[ProjectPlan], *, groups, applications=None, programme=None, rules
    ) -> list[Project]:
        lives = [self._life(plan, rules) for plan in plans]
        money_plans, touches = self._plan_financing(plans, lives, rules)
        projects = []
        for index, (plan, life) in enumerate(zip(plans, lives, strict=True)):
            last = life["visits"][-1] if life["visits"] else None
            project = Project(
                application=applications[index] if applications else None,
                code=plan.code,
                organisation=plan.organisation,
                programme=programme,
                kind=plan.kind,
                promoter=self.person(plan.promoter),
                group=groups.get(id(plan)),
                territory=plan.territory,
                region=plan.region,
                sector=plan.sector,
                title=plan.title,
                currency=self.currency,
                financed_on=plan.financed_on,
                amount_financed=sum((a for _k, a in plan.parts), Decimal(0)),
                mentor=plan.mentor,
                # Each visit, tranche evidenced and tranche released bumps it (``_touch``).
                version=1 + len(life["visits"]) + touches[index],
            )
            # visit_record: the project takes its figures from its latest visit, and a
            # stopped project remembers when it stopped.
            if last is not None:
                project.last_visit_on = last["on"]
                project.status = last["status"]
                project.jobs_women, project.jobs_men = last["jobs"]
                project.monthly_revenue = last["revenue"]
                if last["status"] == ProjectStatus.STOPPED:
                    project.stopped_on = life["stopped_on"]
                    project.months_alive = services.months_between(
                        plan.financed_on, project.stopped_on
                    )
            projects.append(project)
        projects = create_with_history(Project, projects, self.user)
        for plan, project in zip(plans, projects, strict=True):
            plan.project = project
        self._write_financing(plans, money_plans)
        self._write_visits(plans, lives)
        self._write_coaching(plans, lives, rules)
        return projects

    def _life(self, plan: ProjectPlan, rules: dict) -> dict:
        """The project's story: when it stops (if it does), its visits and what they found."""
        rng, today = self.rng, self.today
        stopped_on = None
        month = _survival_month(rules["survival"], rng.random())
        if month is not None:
            whole = max(int(month), 2)
            candidate = services.add_months(plan.financed_on, whole) + datetime.timedelta(
                days=int((month - int(month)) * 28)
            )
            if candidate < today - datetime.timedelta(days=3):
                stopped_on = candidate
        struggling = stopped_on is None and rng.random() < rules["struggling"]
        end = stopped_on or today
        days = []
        day = services.add_months(plan.financed_on, rng.randint(2, 4)) + datetime.timedelta(
            days=rng.randint(0, 20)
        )
        while day < end:
            days.append(day)
            step = (
                rng.randint(3, 5)
                if services.months_between(plan.financed_on, day) < 24
                else rng.randint(6, 12)
            )
            day = services.add_months(day, step) + datetime.timedelta(days=rng.randint(-10, 10))
        if stopped_on is not None:
            days = [d for d in days if d < stopped_on] + [stopped_on]
        elif rng.random() < rules.get("recent_visit", 0.88):
            recent = today - datetime.timedelta(days=rng.randint(3, 100))
            if recent > plan.financed_on and (
                not days or days[-1] < recent - datetime.timedelta(days=30)
            ):
                days.append(recent)
        days = sorted(d for d in days if plan.financed_on <= d <= today)
        jobs_w, jobs_m = plan.jobs
        low, high = plan.revenue
        base = rng.randint(low, high)
        visits = []
        for number, on in enumerate(days):
            remaining = len(days) - number
            if stopped_on is not None and on == stopped_on:
                status = ProjectStatus.STOPPED
            elif (stopped_on is not None and remaining <= 2 and rng.random() < 0.7) or (
                struggling and remaining <= 2
            ):
                status = ProjectStatus.STRUGGLING
            else:
                status = ProjectStatus.STRUGGLING if rng.random() < 0.04 else ProjectStatus.ACTIVE
            age = services.months_between(plan.financed_on, on)
            if status == ProjectStatus.STOPPED:
                jobs, revenue = (0, 0), Decimal(0)
            else:
                grown = (jobs_w + (1 if age > 18 and rng.random() < 0.2 else 0), jobs_m)
                if status == ProjectStatus.STRUGGLING:
                    factor = rng.uniform(0.3, 0.6)
                    grown = (max(grown[0] - 1, 1 if jobs_w else 0), grown[1])
                else:
                    factor = min(1 + age / 48, 1.6) * rng.uniform(0.85, 1.15)
                jobs, revenue = grown, self.money(int(base * factor))
            visits.append({"on": on, "status": status, "jobs": jobs, "revenue": revenue})
        return {"stopped_on": stopped_on, "struggling": struggling, "visits": visits}

    def _tranches(self, plan, kind, amount, rules) -> list[dict]:
        milestones = rules["milestones"]
        on = plan.financed_on
        if kind == FinancingKind.LOAN:
            return [{"amount": amount, "milestone": milestones["loan"], "planned_on": on}]
        if kind == FinancingKind.IN_KIND:
            later = on + datetime.timedelta(days=self.rng.randint(0, 30))
            return [{"amount": amount, "milestone": milestones["in_kind"], "planned_on": later}]
        if amount <= 5000:
            return [{"amount": amount, "milestone": milestones["grant"][0], "planned_on": on}]
        first = self.money(_step(float(amount) * 0.6, 100))
        return [
            {"amount": first, "milestone": milestones["grant"][0], "planned_on": on},
            {
                "amount": amount - first,
                "milestone": milestones["grant"][1],
                "planned_on": services.add_months(on, 3),
            },
        ]

    def _plan_financing(self, plans, lives, rules):
        """Each project's financings with their tranches and, for loans, the schedule and the
        repayments, in memory; and how many times each project is touched on the way."""
        rng, today = self.rng, self.today
        touches = [0] * len(plans)
        planned = []
        for index, (plan, life) in enumerate(zip(plans, lives, strict=True)):
            stop = life["stopped_on"] or today
            for kind, amount in plan.parts:
                financing = Financing(kind=kind, amount=amount, awarded_on=plan.financed_on)
                schedule, paid, receipts = [], [], []
                if kind == FinancingKind.LOAN:
                    loan = rules["loan"]
                    choices = loan["instalments"]
                    if plan.kind == ApplicationKind.COLLECTIVE:
                        count = rng.choice(choices[2:])
                        grace = max(loan["grace_months"])
                    else:
                        count = rng.choice(choices[:3] if amount <= 5000 else choices[2:])
                        grace = rng.choice(loan["grace_months"])
                    financing.grace_months = grace
                    financing.instalments = count
                    financing.first_due_on = services.add_months(plan.financed_on, grace + 1)
                    schedule = services.loan_schedule(
                        amount, self.currency, count, financing.first_due_on
                    )
                    paid, receipts = self._repay(life, financing, schedule, rules["repayment"])
                    financing.outstanding, financing.oldest_unpaid_due_on = refresh_loan(
                        amount, schedule, paid
                    )
                tranches = []
                for number, row in enumerate(self._tranches(plan, kind, amount, rules), start=1):
                    # number, amount, milestone, planned_on, status, evidence note, evidenced on
                    # and by, released on and by (``tranche_evidence``, ``tranche_release``)
                    tranche = [number, row["amount"], row["milestone"], row["planned_on"]]
                    tranche += [TrancheStatus.PLANNED, "", None, None, None, None]
                    evidenced = row["planned_on"] + datetime.timedelta(
                        days=0 if number == 1 else rng.randint(0, 30)
                    )
                    if evidenced <= stop:
                        tranche[4:8] = [
                            TrancheStatus.EVIDENCED,
                            rules["evidence_note"],
                            evidenced,
                            plan.officer.pk,
                        ]
                        touches[index] += 1
                        released = evidenced + datetime.timedelta(
                            days=0 if number == 1 else rng.randint(0, 20)
                        )
                        if released <= today and (number == 1 or rng.random() < 0.9):
                            tranche[4] = TrancheStatus.RELEASED
                            tranche[8:10] = [released, rules["releaser"].pk]
                            touches[index] += 1
                    tranches.append(tranche)
                planned.append((plan, financing, tranches, schedule, paid, receipts))
        return planned, touches

    def _write_financing(self, plans, planned) -> None:
        rng = self.rng
        for plan, financing, *_rest in planned:
            financing.project = plan.project
        financings = create_with_history(Financing, [row[1] for row in planned], self.user)
        tranches, instalments, repayments = [], [], []
        now = timezone.now()
        for (plan, _f, planned_tranches, schedule, paid, receipts), financing in zip(
            planned, financings, strict=True
        ):
            pk = financing.pk
            tranches += [(pk, *tranche, "") for tranche in planned_tranches]
            instalments += [
                (pk, number, due, value, done)
                for (number, due, value), done in zip(schedule, paid, strict=True)
            ]
            repayments += [
                (
                    pk,
                    on,
                    amount,
                    f"R{pk}-{sequence:03d}-{rng.getrandbits(16):04X}",
                    plan.officer.pk,
                    now,
                )
                for sequence, (on, amount) in enumerate(receipts, start=1)
            ]
        fast_insert(
            Tranche,
            [
                "financing_id",
                "number",
                "amount",
                "milestone",
                "planned_on",
                "status",
                "evidence_note",
                "evidenced_on",
                "evidenced_by_id",
                "released_on",
                "released_by_id",
                "evidence_file",
            ],
            tranches,
        )
        fast_insert(Instalment, ["financing_id", "number", "due_on", "amount", "paid"], instalments)
        fast_insert(
            Repayment,
            ["financing_id", "paid_on", "amount", "receipt", "recorded_by_id", "recorded_at"],
            repayments,
        )

    def _repay(self, life, financing, schedule, rules):
        """Who pays and when: on time (often several instalments at once, paying ahead), late
        but within the month, or stopping at some point (arrears). Returns what each instalment
        received and the receipts (date, amount), allocated oldest first as
        ``repayment_record`` does."""
        rng, today = self.rng, self.today
        status = (
            "stopped" if life["stopped_on"] else "struggling" if life["struggling"] else "active"
        )
        due = [row for row in schedule if row[1] <= today]
        behaviour = "on_time"
        cut = len(due)
        if rng.random() < rules["default"][status]:
            if status == "stopped":
                limit = services.add_months(life["stopped_on"], -rng.randint(0, 3))
                cut = sum(1 for row in due if row[1] < limit)
                behaviour = "default"
            else:
                overdue = [
                    i for i, row in enumerate(due) if row[1] < today - datetime.timedelta(days=45)
                ]
                if overdue:
                    cut = rng.choice(overdue)
                    behaviour = "default"
        elif rng.random() < rules["late"]:
            behaviour = "late"
        sizes = [size for size, _w in rules["chunks"]]
        weights = [w for _s, w in rules["chunks"]]
        paid = [Decimal(0)] * len(schedule)
        receipts = []
        index = 0
        while index < cut:
            size = min(rng.choices(sizes, weights)[0], cut - index)
            first_due = due[index][1]
            if behaviour == "late":
                on = first_due + datetime.timedelta(days=rng.randint(5, 25))
            else:
                on = first_due - datetime.timedelta(days=rng.randint(0, 5))
            on = max(on, financing.awarded_on)
            if on > today:
                break
            amount = sum((due[i][2] for i in range(index, index + size)), Decimal(0))
            for i in range(index, index + size):
                paid[i] = due[i][2]
            receipts.append((on, amount))
            index += size
        if behaviour == "default" and index < len(due) and rng.random() < 0.3:
            part = self.money(due[index][2] * Decimal(rng.randint(20, 70)) / 100)
            on = due[index][1] + datetime.timedelta(days=rng.randint(0, 20))
            if part > 0 and on <= today:
                paid[index] = part
                receipts.append((on, part))
        return paid, receipts

    def _write_visits(self, plans, lives) -> None:
        rng, today = self.rng, self.today
        visits = []
        for plan, life in zip(plans, lives, strict=True):
            pk, officer = plan.project.pk, plan.officer.pk
            for visit in life["visits"]:
                jobs_women, jobs_men = visit["jobs"]
                visits.append(
                    (pk, None, visit["on"], VisitStatus.DONE, visit["status"], jobs_women)
                    + (jobs_men, visit["revenue"], officer, "", "")
                )
            if life["stopped_on"] is None and rng.random() < 0.2:
                planned = today + datetime.timedelta(days=rng.randint(1, 45))
                visits.append(
                    (pk, planned, None, VisitStatus.SCHEDULED, "", None, None, None, None, "", "")
                )
        fast_insert(
            Visit,
            [
                "project_id",
                "planned_on",
                "visited_on",
                "state",
                "project_status",
                "jobs_women",
                "jobs_men",
                "monthly_revenue",
                "visited_by_id",
                "photo",
                "notes",
            ],
            visits,
        )

    def _write_coaching(self, plans, lives, rules) -> None:
        rng, today = self.rng, self.today
        share = rules.get("coaching", 0)
        if not share:
            return
        topics = rules["coaching_topics"]
        sessions, attendance = [], []
        for plan, life in zip(plans, lives, strict=True):
            if rng.random() >= share:
                continue
            end = life["stopped_on"] or today
            kinds = [CoachingKind.BUSINESS_PLAN] if rng.random() < 0.4 else []
            kinds += rng.choice([[CoachingKind.TRAINING], [CoachingKind.COACHING], []])
            for kind in kinds:
                if kind == CoachingKind.BUSINESS_PLAN:
                    held = plan.financed_on - datetime.timedelta(days=rng.randint(10, 60))
                    hours = rng.choice([6, 8, 12])
                else:
                    held = plan.financed_on + datetime.timedelta(days=rng.randint(20, 400))
                    hours = rng.choice([2, 3, 6]) if kind == CoachingKind.COACHING else 12
                if held > end:
                    continue
                session = CoachingSession(
                    project=plan.project,
                    kind=kind,
                    held_on=held,
                    topic=rng.choice(topics[kind]),
                    hours=Decimal(hours),
                    recorded_by=plan.officer,
                )
                sessions.append(session)
                people = [self.person(plan.promoter)] + [
                    self.person(p) for p, _r in plan.members[1:]
                ]
                attendance.append((session, people))
        CoachingSession.objects.bulk_create(sessions, batch_size=2000)
        fast_insert(
            CoachingSession.attendees.through,
            ["coachingsession_id", "person_id"],
            [(session.pk, person.pk) for session, people in attendance for person in people],
        )


# --- Sectors ----------------------------------------------------------------------------------


def load_sectors(data: dict) -> dict[str, Sector]:
    existing = {s.code: s for s in Sector.objects.all()}
    for row in data["sectors"]:
        if row["code"] not in existing:
            existing[row["code"]] = Sector.objects.create(code=row["code"], name=row["name"])
    return existing


# --- UTSS ------------------------------------------------------------------------------------


def _users(*names: str) -> dict[str, User]:
    return {u.username: u for u in User.objects.filter(username__in=names)}


def _family(network: Organisation) -> list[Organisation]:
    members = Organisation.objects.filter(
        network_links__network=network, network_links__left_on__isnull=True
    )
    return [network, *members]


def new_person(rng, names, country, organisation, residence, year, *, female=None) -> PersonPlan:
    """A synthetic person to register, of working age in ``year`` (the demo's name pools)."""
    from .loader import _person_row as base_row

    row = base_row(rng, country, names[country])
    # Draw again until the sex matches (the name pools are per sex).
    while female is not None and (row["sex"] == Sex.FEMALE) != female:
        row = base_row(rng, country, names[country])
    row.pop("_variants")
    age = rng.randint(20, 56)
    born = datetime.date(year - age, rng.randint(1, 12), rng.randint(1, 28))
    row.pop("birth_date", None)
    row.pop("birth_year", None)
    if rng.random() < 0.1:
        row["birth_year"] = born.year
    else:
        row["birth_date"] = born
    row["organisation"] = organisation
    row["residence"] = residence
    given_on = datetime.date(year, 1, 1) + datetime.timedelta(days=rng.randint(0, 80))
    return PersonPlan(row, given_on)


def _arabic(territory: Territory) -> str:
    data = territory.name.data
    return (data.get("ar") if isinstance(data, dict) else None) or str(territory)


def _birth_year(value) -> int | None:
    _pk, _sex, _path, _residence, _organisation, birth_date, birth_year = value
    return birth_date.year if birth_date else birth_year


def plan_utss(
    *, data, rng, today, territories, sectors, users, total: int, collective: int
) -> tuple[list[ProjectPlan], list[PersonPlan]]:
    """The UTSS projects to write and the people to register for them."""
    from .loader import _read

    spec = data["utss"]
    names = _read("names.json")
    by_id = {t.pk: t for t in territories.values()}
    utss = Organisation.objects.get(slug=spec["organisation"])
    family = _family(utss)
    branches = {
        o.territory.code: o
        for o in family
        if o.pk != utss.pk and o.territory is not None and o.territory.code in spec["governorates"]
    }
    places: dict[str, list[Territory]] = defaultdict(list)
    for territory in territories.values():
        parts = territory.path.strip("/").split("/")
        if len(parts) == 3 and parts[1] in spec["governorates"]:
            places[parts[1]].append(territory)
    counts = allocate(total, spec["governorates"])
    collective_counts = allocate(collective, spec["governorates"])
    years = [int(y) for y in spec["years"]]
    # People of the registry who can promote a project: UTSS's, in Tunisia, not yet promoters.
    pool: dict[str, list] = defaultdict(list)
    taken = set(Project.objects.unscoped("demo").values_list("promoter_id", flat=True))
    rows = (
        Person.objects.unscoped("demo: promoters")
        .filter(
            organisation__in=family, residence__path__startswith="/TN/", archived_at__isnull=True
        )
        .order_by("pk")
        .values_list(
            "pk",
            "sex",
            "residence__path",
            "residence_id",
            "organisation_id",
            "birth_date",
            "birth_year",
        )
    )
    for row in rows:
        if row[0] not in taken:
            pool[row[2].strip("/").split("/")[1]].append(row)
    organisations = {o.pk: o for o in family}
    officer_of = {
        "utss-jendouba": users.get("jendouba-desk"),
        "utss-kef": users.get("kef-caseworker"),
    }
    default_officer = users.get("utss-desk") or users.get("utss-coordinator")
    tabarka = territories.get("TN-32-TBK")
    mentors_all = [users[n] for n in ("utss-caseworker", "utss-trainer") if n in users]
    amounts = spec["amounts"]
    mixes = spec["mixes"]
    new_people: list[PersonPlan] = []
    plans: list[ProjectPlan] = []
    group_names: set[str] = set()

    def officer_for(organisation, territory):
        if tabarka and territory.path.startswith(tabarka.path) and organisation.pk == utss.pk:
            return users.get("tabarka-desk") or default_officer
        return officer_of.get(organisation.slug) or default_officer

    for governorate in spec["governorates"]:
        gov = territories[governorate]
        below = places.get(governorate, [])
        choices = [gov, *below]
        weights = [max(1, 6 - len(below))] + [1] * len(below)
        coastal = governorate in spec["coastal"]
        branch = branches.get(governorate, utss)
        people = pool.get(governorate, [])
        rng.shuffle(people)
        kinds = [ApplicationKind.COLLECTIVE] * collective_counts[governorate] + [
            ApplicationKind.INDIVIDUAL
        ] * (counts[governorate] - collective_counts[governorate])
        rng.shuffle(kinds)
        for kind in kinds:
            year = rng.choices(years, [spec["years"][str(y)] for y in years])[0]
            sector_weights = []
            for row in data["sectors"]:
                weight = row["weights"][kind]
                if coastal and row["code"] in ("commerce", "services", "digital", "training"):
                    weight *= 2
                if coastal and row["code"] in ("agriculture", "livestock"):
                    weight *= 0.5
                sector_weights.append(weight)
            srow = rng.choices(data["sectors"], sector_weights)[0]
            sector = sectors[srow["code"]]
            female = rng.random() < max(0.35, min(srow["women"], 0.85))
            promoter = None
            if kind == ApplicationKind.INDIVIDUAL:
                for position, candidate in enumerate(people):
                    born = _birth_year(candidate)
                    if born and 20 <= year - born <= 59:
                        promoter = people.pop(position)
                        break
            if promoter is not None:
                pk, sex, path, residence_id, organisation_id, _bd, _by = promoter
                territory = by_id[residence_id]
                organisation = organisations[organisation_id]
                promoter_value: Person | PersonPlan = Person(
                    pk=pk, sex=sex, organisation_id=organisation_id, residence_id=residence_id
                )
            else:
                territory = rng.choices(choices, weights)[0]
                # UTSS's own desk in Tabarka handles the delegation's projects.
                local_desk = tabarka and territory.path.startswith(tabarka.path)
                organisation = utss if local_desk else branch
                promoter_value = new_person(
                    rng, names, "TN", organisation, territory, year, female=female
                )
                new_people.append(promoter_value)
            opens = datetime.date(year, 2, 1)
            submitted_on = opens + datetime.timedelta(days=rng.randint(0, 88))
            financed_on = datetime.date(year, 6, 1) + datetime.timedelta(days=rng.randint(0, 200))
            financed_on = min(financed_on, today - datetime.timedelta(days=30))
            low, high, step = amounts[kind]
            amount = Decimal(_step(rng.triangular(low, high, low + (high - low) * 0.3), step))
            mix = rng.choices([m for m, _w in mixes[kind]], [w for _m, w in mixes[kind]])[0]
            parts = _split(rng, amount, mix, step)
            own = Decimal(_step(float(amount) * rng.uniform(*spec["own_contribution"]), 50))
            place = _arabic(territory)
            joiner = "ب"
            members: list = []
            group_name = group_kind = ""
            revenue = tuple(srow["revenue"])
            if kind == ApplicationKind.COLLECTIVE:
                activity = rng.choice(srow["collective_titles"])
                title = f"{activity} {joiner}{place}"
                group_kind = rng.choice([GroupKind.COOPERATIVE, GroupKind.COLLECTIVE])
                prefix = "تعاضدية" if group_kind == GroupKind.COOPERATIVE else "مجمع"
                group_name = f"{prefix} {activity} {joiner}{place}"
                number = 2
                while group_name in group_names:
                    group_name = f"{prefix} {activity} {joiner}{place} {number}"
                    number += 1
                group_names.add(group_name)
                size = rng.randint(3, 8)
                roles = [MemberRole.PRESIDENT, MemberRole.TREASURER, MemberRole.SECRETARY]
                members.append((promoter_value, MemberRole.PRESIDENT))
                for index in range(1, size):
                    other = new_person(
                        rng,
                        names,
                        "TN",
                        organisation,
                        territory,
                        year,
                        female=rng.random() < srow["women"],
                    )
                    new_people.append(other)
                    members.append((other, roles[index] if index < 3 else MemberRole.MEMBER))
                women = sum(1 for person, _r in members if person.sex == Sex.FEMALE)
                jobs = (women, size - women)
                revenue = (revenue[0] * 3, revenue[1] * 3)
            else:
                title = f"{rng.choice(srow['titles'])} {joiner}{place}"
                sex = promoter_value.sex
                hires = rng.choices([0, 1, 2], [60, 30, 10])[0]
                hired_women = sum(1 for _ in range(hires) if rng.random() < srow["women"])
                jobs = (
                    (1 if sex == Sex.FEMALE else 0) + hired_women,
                    (0 if sex == Sex.FEMALE else 1) + hires - hired_women,
                )
            plan = ProjectPlan(
                kind=kind,
                organisation=organisation,
                territory=territory,
                region=region_of(territory, by_id),
                sector=sector,
                title=title[:200],
                financed_on=financed_on,
                amount=amount,
                parts=parts,
                promoter=promoter_value,
                members=members,
                group_name=group_name[:200],
                group_kind=group_kind,
                year=year,
                submitted_on=submitted_on,
                own=own,
                revenue=revenue,
                items=_items(rng, srow["items"], amount + own),
                officer=officer_for(organisation, territory),
                jobs=jobs,
            )
            if rng.random() < spec["mentored"]:
                mentors = list(mentors_all)
                if organisation.slug == "utss-kef" and "kef-caseworker" in users:
                    mentors.append(users["kef-caseworker"])
                plan.mentor = rng.choice(mentors) if mentors else None
            plans.append(plan)
    # Codes by year, in the order of financing.
    plans.sort(key=lambda p: (p.financed_on, p.territory.code))
    sequence: dict[int, int] = defaultdict(int)
    for plan in plans:
        sequence[plan.year] += 1
        plan.code = f"{UTSS_CODE}{plan.year}-{sequence[plan.year]:06d}"
    return plans, new_people


# Share ranges of each kind of financing in a mix; the last kind takes what is left.
_SHARES = {
    ("grant", "loan"): {"grant": (0.3, 0.6)},
    ("grant", "in_kind"): {"grant": (0.5, 0.8)},
    ("loan", "in_kind"): {"loan": (0.6, 0.8)},
    ("grant", "loan", "in_kind"): {"grant": (0.3, 0.45), "loan": (0.3, 0.45)},
}


def _split(rng, amount: Decimal, mix: list[str], step: int) -> list[tuple[str, Decimal]]:
    """The amount shared between the kinds of financing of ``mix``, each at least ``step``."""
    shares = _SHARES.get(tuple(mix), {})
    parts = []
    left = amount
    for kind in mix[:-1]:
        low, high = shares.get(kind, (0.3, 0.5))
        value = Decimal(_step(float(amount) * rng.uniform(low, high), step))
        value = min(value, left - step * (len(mix) - len(parts) - 1))
        parts.append((kind, value))
        left -= value
    parts.append((mix[-1], left))
    return parts


def _items(rng, catalogue, total: Decimal) -> list[tuple[str, Decimal, Decimal]]:
    """Investment items of the sector adding up exactly to ``total``."""
    rows = []
    spent = Decimal(0)
    for label, share, low, high in catalogue[:-1]:
        quantity = rng.randint(low, high)
        unit_cost = Decimal(_step(float(total) * share / quantity, 10))
        rows.append((label, Decimal(quantity), unit_cost))
        spent += quantity * unit_cost
    rest = total - spent
    if rest <= 0:
        return [(catalogue[0][0], Decimal(1), total)]
    return [*rows, (catalogue[-1][0], Decimal(1), rest)]


def _create_calls(*, user, data, sectors, plans, years, territories) -> dict[int, Call]:
    spec = data["utss"]
    call_spec = spec["call"]
    utss = Organisation.objects.get(slug=spec["organisation"])
    programme = Programme.objects.unscoped("demo").filter(code=spec["programme"]).first()
    used: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for plan in plans:
        used[(plan.year, plan.region.code)] += plan.amount
    calls = {}
    for year in years:
        code = f"utss-{year}"
        call = Call.objects.unscoped("demo").filter(code=code).first()
        if call is None:
            opens = datetime.date.fromisoformat(f"{year}-{call_spec['window'][0]}")
            closes = datetime.date.fromisoformat(f"{year}-{call_spec['window'][1]}")
            call = _call(user, utss, programme, sectors, call_spec, code, year, opens, closes)
            for governorate in spec["governorates"]:
                needed = float(used.get((year, governorate), 0)) * call_spec["envelope_margin"]
                amount = max(20000, math.ceil(needed / 10000) * 10000)
                services.envelope_set(
                    user=user, call=call, territory=territories[governorate], amount=amount
                )
            services.call_set_status(user=user, call=call, status=CallStatus.OPEN)
            services.call_set_status(user=user, call=call, status=CallStatus.CLOSED)
        calls[year] = call
    return calls


def _call(user, organisation, programme, sectors, spec, code, year, opens, closes) -> Call:
    call = services.call_create(
        user=user,
        organisation=organisation,
        sectors=list(sectors.values()),
        code=code,
        title={k: v.format(year=year) for k, v in spec["title"].items()},
        description=spec["description"],
        eligibility=spec["eligibility"],
        programme=programme,
        opens_on=opens,
        closes_on=closes,
        applicants=ApplicantKinds.BOTH,
        min_age=spec["min_age"],
        max_age=spec["max_age"],
        currency="TND",
        max_amount=Decimal(spec["max_amount"]),
    )
    for criterion in spec["criteria"]:
        services.criterion_add(
            user=user,
            call=call,
            code=criterion["code"],
            label=criterion["label"],
            weight=criterion["weight"],
        )
    for document in spec["documents"]:
        services.document_require(
            user=user,
            call=call,
            code=document["code"],
            label=document["label"],
            mandatory=document["mandatory"],
        )
    return call


def _rules(data: dict, spec: dict, releaser) -> dict:
    return {
        "survival": spec.get("survival", data["utss"]["survival"]),
        "struggling": spec.get("struggling", data["utss"]["struggling"]),
        "loan": data["utss"]["loan"],
        "repayment": data["utss"]["repayment"],
        "milestones": data["utss"]["milestones"],
        "coaching_topics": data["utss"]["coaching_topics"],
        "coaching": spec.get("coaching", 0),
        "evidence_note": "محضر معاينة ميدانية",
        "releaser": releaser,
    }


@transaction.atomic
def load_utss(
    user,
    *,
    data,
    sectors,
    today,
    total: int | None = None,
    collective: int | None = None,
    progress: Callable[[str], None] = print,
) -> int:
    spec = data["utss"]
    if not Organisation.objects.filter(slug=spec["organisation"]).exists():
        return 0
    if Project.objects.unscoped("demo").filter(code__startswith=UTSS_CODE).exists():
        return 0
    total = spec["projects"] if total is None else total
    collective = spec["collective"] if collective is None else collective
    rng = random.Random(spec["seed"])
    territories = {t.code: t for t in Territory.objects.all()}
    users = _users(
        "utss-coordinator",
        "utss-desk",
        "utss-caseworker",
        "utss-trainer",
        "jendouba-desk",
        "tabarka-desk",
        "kef-caseworker",
    )
    coordinator = users.get("utss-coordinator", user)
    plans, people = plan_utss(
        data=data,
        rng=rng,
        today=today,
        territories=territories,
        sectors=sectors,
        users=users,
        total=total,
        collective=collective,
    )
    for plan in plans:
        plan.officer = plan.officer or user
    progress(f"  micro-projects: registering {len(people)} promoters and members")
    builder = Builder(user=user, rng=rng, today=today, currency=spec["currency"])
    builder.write_people(people)
    groups = builder.write_groups(plans)
    years = sorted({int(y) for y in spec["years"]})
    calls = _create_calls(
        user=coordinator,
        data=data,
        sectors=sectors,
        plans=plans,
        years=years,
        territories=territories,
    )
    progress(f"  micro-projects: {len(plans)} UTSS projects")
    applications = builder.write_applications(plans, calls, groups)
    programme = Programme.objects.unscoped("demo").filter(code=spec["programme"]).first()
    rules = _rules(data, spec, releaser=coordinator)
    builder.write_projects(
        plans, groups=groups, applications=applications, programme=programme, rules=rules
    )
    _load_utss_products(builder, plans, data, spec["products"])
    return len(plans)


def _load_utss_products(builder: Builder, plans, data, share: float) -> None:
    rng = builder.rng
    catalogue = {row["code"]: row["products"] for row in data["sectors"]}
    products = []
    for plan in plans:
        offer = catalogue.get(plan.sector.code)
        if not offer or plan.project.status == ProjectStatus.STOPPED or rng.random() >= share:
            continue
        name_ar, name_fr, low, high = rng.choice(offer)
        products.append(
            Product(
                project=plan.project,
                name={"ar": name_ar, "fr": name_fr},
                price_min=builder.money(low),
                price_max=builder.money(high),
                published=rng.random() < 0.9,
            )
        )
    Product.objects.bulk_create(products, batch_size=1000)


@transaction.atomic
def load_tabarka_forum(user, *, data, today) -> int:
    """The exhibition of promoters' products at the regional forum in Tabarka: stands of
    projects of Jendouba, Kef, Beja and Bizerte running at the time, each with a product."""
    forum = data["utss"]["forum"]
    utss = Organisation.objects.filter(slug=data["utss"]["organisation"]).first()
    if utss is None:
        return 0
    starts = datetime.date.fromisoformat(forum["starts_on"])
    ends = datetime.date.fromisoformat(forum["ends_on"])
    if Exhibition.objects.filter(organisation=utss, starts_on=starts).exists():
        return 0
    coordinator = User.objects.filter(username="utss-coordinator").first() or user
    territories = {t.code: t for t in Territory.objects.filter(code__in=forum["governorates"])}
    candidates = list(
        Project.objects.unscoped("demo")
        .filter(
            code__startswith=UTSS_CODE,
            region__in=territories.values(),
            sector__code__in=forum["sectors"],
            financed_on__lt=starts,
        )
        .exclude(stopped_on__lte=ends)
        .select_related("sector", "region")
        .order_by("code")
    )
    if not candidates:
        return 0
    rng = random.Random(2025)
    rng.shuffle(candidates)
    # Each of the four governorates shows about a quarter of the stands.
    by_region: dict[int, list[Project]] = defaultdict(list)
    for project in candidates:
        by_region[project.region_id].append(project)
    chosen: list[Project] = []
    while len(chosen) < forum["stands"] and any(by_region.values()):
        for region in sorted(by_region):
            if by_region[region] and len(chosen) < forum["stands"]:
                chosen.append(by_region[region].pop())
    exhibition = services.exhibition_create(
        user=coordinator,
        organisation=utss,
        name=forum["name"],
        description=forum["description"],
        starts_on=starts,
        ends_on=ends,
        territory=Territory.objects.get(code=forum["territory"]),
        venue=forum["venue"],
    )
    catalogue = {row["code"]: row["products"] for row in data["sectors"]}
    for number, project in enumerate(chosen, start=1):
        # The promoter shows a product: the one in the catalogue (published for the forum),
        # or a new one.
        product = project.products.filter(archived_at__isnull=True).first()
        if product is None:
            name_ar, name_fr, low, high = rng.choice(catalogue[project.sector.code])
            services.product_save(
                user=coordinator,
                project=project,
                name={"ar": name_ar, "fr": name_fr},
                price_min=low,
                price_max=high,
                published=True,
            )
        elif not product.published:
            services.product_save(
                user=coordinator,
                project=project,
                product=product,
                name=product.name.data,
                price_min=product.price_min,
                price_max=product.price_max,
                published=True,
            )
        services.stand_add(
            user=coordinator, exhibition=exhibition, project=project, label=f"A{number:02d}"
        )
    return len(chosen)


# --- Innov Impact (Act4Community, Safi) -------------------------------------------------------


@transaction.atomic
def load_innov_impact(user, *, data, sectors, today, progress=print) -> int:
    spec = data["innov_impact"]
    network = Organisation.objects.filter(slug=spec["organisation"]).first()
    if network is None:
        return 0
    if Project.objects.unscoped("demo").filter(code__startswith=spec["code"]).exists():
        return 0
    from .loader import _read

    rng = random.Random(spec["seed"])
    territories = {t.code: t for t in Territory.objects.all()}
    by_id = {t.pk: t for t in territories.values()}
    safi = territories[spec["territory"]]
    users = _users("a4c-coordinator", "a4c-desk", "a4c-trainer")
    coordinator = users.get("a4c-coordinator", user)
    officer = users.get("a4c-desk", coordinator)
    family = _family(network)
    taken = set(Project.objects.unscoped("demo").values_list("promoter_id", flat=True))
    province = by_id.get(safi.parent_id, safi)  # Safi province: the city and around it
    free = [
        p
        for p in Person.objects.unscoped("demo: promoters")
        .filter(organisation__in=family, residence__path__startswith=province.path)
        .order_by("pk")
        if p.pk not in taken
    ]
    rng.shuffle(free)
    groups = {
        g.name: g
        for g in Group.objects.unscoped("demo").filter(
            organisation__in=family, name__in=[p["group"] for p in spec["projects"] if "group" in p]
        )
    }
    names = _read("names.json")
    start, end = (datetime.date.fromisoformat(d) for d in spec["financed"])
    plans, new_people = [], []
    existing_groups: dict[int, Group] = {}
    for number, row in enumerate(spec["projects"], start=1):
        financed_on = start + datetime.timedelta(days=rng.randint(0, (end - start).days))
        group = groups.get(row.get("group", ""))
        members = []
        if group is not None:
            links = list(group.members.filter(left_on__isnull=True).select_related("person"))
            head = next((m for m in links if m.role == MemberRole.PRESIDENT), links[0])
            promoter = head.person
            members = [(head.person, head.role)] + [
                (m.person, m.role) for m in links if m.pk != head.pk
            ]
        elif free:
            promoter = free.pop()
        else:
            promoter = new_person(rng, names, "MA", network, safi, financed_on.year)
            new_people.append(promoter)
        amount = Decimal(row["amount"])
        if rng.random() < 0.35:
            grant = Decimal(_step(float(amount) * rng.uniform(0.6, 0.85), 1000))
            parts = [(FinancingKind.GRANT, grant), (FinancingKind.IN_KIND, amount - grant)]
        else:
            parts = [(FinancingKind.GRANT, amount)]
        sex = promoter.sex
        women = sum(1 for p, _r in members if p.sex == Sex.FEMALE) if members else 0
        jobs = (
            (women, len(members) - women)
            if members
            else ((1, rng.randint(0, 2)) if sex == Sex.FEMALE else (rng.randint(0, 2), 1))
        )
        low = max(1500, int(amount) // 20)
        plan = ProjectPlan(
            kind=ApplicationKind.COLLECTIVE if group else ApplicationKind.INDIVIDUAL,
            organisation=network,
            territory=safi,
            region=region_of(safi, by_id),
            sector=sectors[row["sector"]],
            title=f"{row['fr']} · {row['ar']}"[:200],
            financed_on=financed_on,
            amount=amount,
            parts=parts,
            promoter=promoter,
            members=members,
            revenue=(low, low * 3),
            officer=officer,
            mentor=users.get("a4c-trainer") if number % 3 == 0 else None,
            code=f"{spec['code']}{number:06d}",
            jobs=jobs,
            row=row,
        )
        if group is not None:
            existing_groups[id(plan)] = group
        plans.append(plan)
    builder = Builder(user=user, rng=rng, today=today, currency=spec["currency"])
    builder.write_people(new_people)
    programme = Programme.objects.unscoped("demo").filter(code=spec["programme"]).first()
    # Accompanied start-ups: few stop within two years.
    survival = {"survival": [[0, 1.0], [24, 0.97], [120, 0.9]], "struggling": 0.08}
    rules = _rules(data, survival, releaser=coordinator)
    builder.write_projects(plans, groups=existing_groups, programme=programme, rules=rules)
    progress(f"  micro-projects: {len(plans)} Innov Impact projects")
    # Each was prepared in a business-plan workshop, and shows a product at the forum.
    exhibition_spec = spec["exhibition"]
    coaching = spec["coaching"]
    exhibition = services.exhibition_create(
        user=coordinator,
        organisation=network,
        name=exhibition_spec["name"],
        description=exhibition_spec["description"],
        starts_on=datetime.date.fromisoformat(exhibition_spec["starts_on"]),
        ends_on=datetime.date.fromisoformat(exhibition_spec["ends_on"]),
        territory=safi,
        venue=exhibition_spec["venue"],
    )
    for number, plan in enumerate(plans, start=1):
        project = plan.project
        attendees = [builder.person(plan.promoter)] + [
            builder.person(p) for p, _r in plan.members[1:]
        ]
        services.coaching_record(
            user=officer,
            project=project,
            kind=CoachingKind.BUSINESS_PLAN,
            held_on=plan.financed_on - datetime.timedelta(days=rng.randint(20, 90)),
            topic=coaching["topic"],
            hours=Decimal(rng.randint(*coaching["hours"])),
            attendees=attendees,
        )
        name_ar, name_fr, low, high = plan.row["product"]
        services.product_save(
            user=coordinator,
            project=project,
            name={"ar": name_ar, "fr": name_fr},
            price_min=low,
            price_max=high,
            published=True,
        )
        services.stand_add(
            user=coordinator, exhibition=exhibition, project=project, label=f"S{number:02d}"
        )
    return len(plans)


# --- Live items: an open call, a committee scoring, public submissions ------------------------


@transaction.atomic
def load_live(user, *, data, sectors, today) -> int:
    """An open UTSS call for the current year with applications at each step, a committee
    session scoring them, and public submissions waiting to be registered."""
    spec, live = data["utss"], data["live"]
    utss = Organisation.objects.filter(slug=spec["organisation"]).first()
    if utss is None:
        return 0
    code = f"utss-{today.year}"
    if str(today.year) in spec["years"]:
        code += "-b"
    if Call.objects.unscoped("demo").filter(code=code).exists():
        return 0
    users = _users(
        "utss-coordinator",
        "utss-desk",
        "utss-caseworker",
        "jendouba-desk",
        "kef-caseworker",
    )
    coordinator = users.get("utss-coordinator")
    if coordinator is None:
        return 0
    territories = {t.code: t for t in Territory.objects.all()}
    programme = Programme.objects.unscoped("demo").filter(code=spec["programme"]).first()
    before, after = live["call"]["window_days"]
    call = _call(
        coordinator,
        utss,
        programme,
        sectors,
        spec["call"],
        code,
        today.year,
        today + datetime.timedelta(days=before),
        today + datetime.timedelta(days=after),
    )
    for governorate, amount in live["call"]["envelopes"].items():
        services.envelope_set(
            user=coordinator, call=call, territory=territories[governorate], amount=amount
        )
    call = services.call_set_status(user=coordinator, call=call, status=CallStatus.OPEN)
    documents = list(call.documents.filter(mandatory=True))
    taken = set(Project.objects.unscoped("demo").values_list("promoter_id", flat=True))
    taken |= set(Application.objects.unscoped("demo").values_list("promoter_id", flat=True))
    groups = {
        g.name: g
        for g in Group.objects.unscoped("demo").filter(
            name__in=[a["group"] for a in live["applications"] if "group" in a]
        )
    }
    eligible = []
    made = 0
    rng = random.Random(today.year)
    from .loader import _read

    names = _read("names.json")
    for row in live["applications"]:
        recorder = users.get(row["user"]) or coordinator
        territory = territories[row["territory"]]
        governorate = region_of(territory, {t.pk: t for t in territories.values()})
        group = None
        if "group" in row:
            group = groups.get(row["group"])
            if group is None:
                continue
            links = list(group.members.filter(left_on__isnull=True).select_related("person"))
            # The member who carries the application: the president if of age for the call.
            links.sort(key=lambda m: m.role != MemberRole.PRESIDENT)
            promoter = next((m.person for m in links if _age_fits(m.person, today.year)), None)
            if promoter is None:
                continue
        else:
            promoter = next(
                (
                    p
                    for p in Person.objects.visible_to(recorder)
                    .filter(residence__path__startswith=governorate.path, archived_at__isnull=True)
                    .order_by("pk")
                    if p.pk not in taken and _age_fits(p, today.year)
                ),
                None,
            )
            if promoter is None:
                # A walk-in: the desk registers the promoter first.
                membership = Membership.objects.filter(user=recorder, is_active=True).first()
                plan = new_person(rng, names, "TN", membership.organisation, territory, today.year)
                fields = {k: v for k, v in plan.row.items() if k != "organisation"}
                promoter = registry_services.person_register(
                    user=recorder, organisation=membership.organisation, **fields
                )
        taken.add(promoter.pk)
        amount, own = Decimal(row["amount"]), Decimal(row["own"])
        source = row["kind_of_financing"]
        application = services.application_submit(
            user=recorder,
            call=call,
            kind=ApplicationKind.COLLECTIVE if group else ApplicationKind.INDIVIDUAL,
            promoter=promoter,
            group=group,
            territory=territory,
            sector=sectors[row["sector"]],
            title=row["title"],
            financing_kind=source,
            requested_amount=amount,
            plan=services.BusinessPlan(
                investments=[
                    {"label": "تجهيزات", "quantity": 1, "unit_cost": amount + own - 500},
                    {"label": "رأس مال متداول", "quantity": 1, "unit_cost": 500},
                ],
                financing=[
                    {"source": FundingSource.OWN, "amount": own},
                    {"source": source, "amount": amount},
                ],
            ),
            expected_monthly_revenue=Decimal(row["amount"]) // 8,
            expected_jobs_women=1 if promoter.sex == Sex.FEMALE else 0,
            expected_jobs_men=0 if promoter.sex == Sex.FEMALE else 1,
            submitted_on=today - datetime.timedelta(days=min(made * 3 + 2, -before)),
            attachments=[(d, ContentFile(_pdf(d.code), name=f"{d.code}.pdf")) for d in documents]
            if row["documents"]
            else [],
        )
        made += 1
        if row["state"] in ("eligible", "ineligible"):
            application = services.application_precheck(user=recorder, application=application)
            if application.status == ApplicationStatus.ELIGIBLE:
                eligible.append(application)
    committee = live["committee"]
    members = [users[name] for name in committee["members"] if name in users]
    if eligible and members:
        session = services.session_create(
            user=coordinator,
            call=call,
            held_on=today + datetime.timedelta(days=committee["in_days"]),
            language="ar",
            members=members,
            chair=coordinator,
            place=committee["place"],
        )
        for application in eligible[: committee["scored_by_members"]]:
            services.score_record(
                user=members[0],
                session=session,
                application=application,
                scores={c.code: rng.randint(5, 9) for c in call.criteria.all()},
            )
    for row in live["submissions"]:
        services.submission_create(
            call=call,
            data=row["data"],
            territory=territories[row["territory"]],
            kind=row["kind"],
            language=row["language"],
            consent=True,
            today=today,
        )
    return made


def _age_fits(person: Person, year: int) -> bool:
    born = person.birth_year or (person.birth_date and person.birth_date.year)
    return bool(born) and 22 <= year - born <= 55


# --- Entry point --------------------------------------------------------------------------------


def load_projects(
    user,
    *,
    utss_projects: int | None = None,
    utss_collective: int | None = None,
    progress: Callable[[str], None] = print,
) -> int:
    """Load the micro-projects of the demo; returns the number of projects created (0 when
    they exist already). ``utss_projects`` and ``utss_collective`` shrink the UTSS set (tests)."""
    data = read_data()
    today = timezone.localdate()
    with transaction.atomic():
        sectors = load_sectors(data)
    created = load_utss(
        user,
        data=data,
        sectors=sectors,
        today=today,
        total=utss_projects,
        collective=utss_collective,
        progress=progress,
    )
    load_tabarka_forum(user, data=data, today=today)
    created += load_innov_impact(user, data=data, sectors=sectors, today=today, progress=progress)
    load_live(user, data=data, sectors=sectors, today=today)
    return created
