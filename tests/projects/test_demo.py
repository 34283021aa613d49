"""The micro-projects of the demo, read back from the records.

The figures of the seeds: UTSS "more than 9,500 projects created, financed and followed up,
750 of them collective" and a regional forum in Tabarka with an exhibition of promoters'
products (seed 000); more than 30 projects shown at Innov Impact in Safi, each prepared in a
business-plan workshop (seed 001). Every denormalised figure the loader writes in bulk is
recomputed here with the rules of ``tadamun.projects.services``.

``test_the_whole_demo`` loads the whole demo once (about 10,000 projects); the other tests load
a reduced UTSS set through the loader's size parameters.
"""

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db.models import Count, Q, Sum
from django.utils import timezone

from tadamun.accounts.models import User
from tadamun.demo import loader
from tadamun.demo.projects import UTSS_CODE, allocate, load_projects, read_data
from tadamun.matching.keys import PersonRecord, match_keys
from tadamun.projects import selectors, services
from tadamun.projects.models import (
    Application,
    ApplicationKind,
    ApplicationStatus,
    Call,
    CallStatus,
    CoachingKind,
    CoachingSession,
    CommitteeSession,
    Exhibition,
    Financing,
    FinancingKind,
    FinancingLine,
    Instalment,
    InvestmentItem,
    Product,
    Project,
    ProjectStatus,
    PublicSubmission,
    Repayment,
    Score,
    SessionStatus,
    Stand,
    SubmissionStatus,
    Tranche,
    TrancheStatus,
    Visit,
    VisitStatus,
)
from tadamun.registry.models import Consent, Group, GroupMember, MemberRole, Person
from tadamun.registry.names import name_keys

DATA = read_data()
UTSS = DATA["utss"]
INNOV = DATA["innov_impact"]
TODAY = timezone.localdate()
QUIET = {"progress": lambda _message: None}


def user(username: str) -> User:
    return User.objects.get(username=username)  # a fresh object: no cached scope


def base_demo(people: int):
    """The demo without its cases and projects: territories, organisations, programmes,
    accounts and ``people`` synthetic people."""
    operator = loader.operator()
    loader.load_territories()
    loader.load_organisations(operator)
    loader.load_programmes(operator)
    loader.load_users()
    loader.load_people(operator, people, **QUIET)
    return operator


def table_counts() -> dict:
    models = [
        Project,
        Application,
        Financing,
        Tranche,
        Instalment,
        Repayment,
        Visit,
        CoachingSession,
        Product,
        Exhibition,
        Stand,
        Call,
        CommitteeSession,
        Score,
        PublicSubmission,
        InvestmentItem,
        FinancingLine,
        Person,
        Group,
        GroupMember,
        Consent,
    ]
    counts = {}
    for model in models:
        manager = model.objects
        queryset = manager.unscoped("test") if hasattr(manager, "unscoped") else manager.all()
        counts[model.__name__] = queryset.count()
    return counts


# --- What the records must say ----------------------------------------------------------------


def assert_figures(utss_projects: int, utss_collective: int) -> None:
    coordinator, a4c, operator = user("utss-coordinator"), user("a4c-coordinator"), user("operator")
    utss = Project.objects.unscoped("test").filter(code__startswith=UTSS_CODE)
    assert utss.count() == utss_projects
    assert utss.filter(kind=ApplicationKind.COLLECTIVE).count() == utss_collective
    assert set(utss.values_list("currency", flat=True)) == {"TND"}
    # The network's coordinator sees every UTSS project, and only those.
    board = selectors.dashboard(coordinator)
    assert board.total.projects == utss_projects
    assert board.total.collective == utss_collective
    assert set(board.total.amounts) == {"TND"}
    assert board.total.amounts["TND"] == utss.aggregate(s=Sum("amount_financed"))["s"]
    assert sum(board.by_status.values()) == utss_projects
    innov = Project.objects.unscoped("test").filter(code__startswith=INNOV["code"])
    assert innov.count() == len(INNOV["projects"]) >= 30
    assert set(innov.values_list("territory__code", "currency")) == {("MA-SAF-SAF", "MAD")}
    board = selectors.dashboard(a4c)
    assert board.total.projects == innov.count()
    assert set(board.total.amounts) == {"MAD"}
    board = selectors.dashboard(operator)
    assert board.total.projects == Project.objects.unscoped("test").count()
    assert board.total.projects == utss_projects + innov.count()
    # Every one of the 24 governorates, more projects in the interior than on the coast.
    regions = dict(
        utss.values_list("region__code").annotate(n=Count("pk")).values_list("region__code", "n")
    )
    expected = allocate(utss_projects, UTSS["governorates"])
    assert regions == {code: n for code, n in expected.items() if n}
    assert regions["TN-32"] > regions["TN-11"] and regions["TN-42"] > regions["TN-51"]


def assert_realistic(utss_projects: int) -> None:
    """Survival, arrears and follow-up in the ranges the data file aims at."""
    coordinator = user("utss-coordinator")
    board = selectors.dashboard(coordinator)
    stopped = board.by_status[ProjectStatus.STOPPED] / utss_projects
    assert 0.10 < stopped < 0.22, stopped
    assert 0.95 < board.total.survival(6) <= 1
    assert 0.88 < board.total.survival(12) < 0.98
    assert 0.80 < board.total.survival(24) < 0.93
    assert board.total.survival(24) < board.total.survival(12) < board.total.survival(6)
    assert board.total.jobs_women > 0 and board.total.jobs_men > 0
    lines = selectors.portfolio_at_risk(coordinator)
    outstanding = sum(line.outstanding for line in lines)
    at_risk = sum(line.at_risk for line in lines)
    loans = sum(line.loans for line in lines)
    late = sum(line.loans_at_risk for line in lines)
    assert 0.04 < late / loans < 0.14, late / loans
    assert 0.05 < at_risk / outstanding < 0.2, at_risk / outstanding
    # Most projects still running were visited in the last 120 days.
    running = Project.objects.unscoped("test").filter(
        code__startswith=UTSS_CODE, status__in=[ProjectStatus.ACTIVE, ProjectStatus.STRUGGLING]
    )
    recent = running.filter(last_visit_on__gte=TODAY - datetime.timedelta(days=120)).count()
    assert recent / running.count() > 0.75


def assert_exhibitions(tabarka_stands: int | None) -> None:
    forum = UTSS["forum"]
    tabarka = Exhibition.objects.get(organisation__slug="utss")
    assert tabarka.territory.code == "TN-32-TBK"
    assert (tabarka.starts_on, tabarka.ends_on) == (
        datetime.date.fromisoformat(forum["starts_on"]),
        datetime.date.fromisoformat(forum["ends_on"]),
    )
    stands = list(tabarka.stands.select_related("project__region"))
    if tabarka_stands is not None:
        assert len(stands) == tabarka_stands
    assert stands
    for stand in stands:
        project = stand.project
        assert project.region.code in forum["governorates"]
        assert project.financed_on < tabarka.starts_on
        assert project.stopped_on is None or project.stopped_on > tabarka.ends_on
        assert project.products.filter(published=True).exists()
    innov = Exhibition.objects.get(organisation__slug="act4community")
    assert str(innov.name) == "Innov Impact"
    assert innov.territory.code == "MA-SAF-SAF"
    assert (innov.starts_on, innov.ends_on) == (
        datetime.date(2025, 2, 5),
        datetime.date(2025, 2, 6),
    )
    assert innov.stands.count() == len(INNOV["projects"])
    for stand in innov.stands.select_related("project"):
        project = stand.project
        assert project.code.startswith(INNOV["code"])
        assert project.products.filter(published=True).exists()
        workshop = project.coaching.get(kind=CoachingKind.BUSINESS_PLAN)
        assert workshop.held_on < project.financed_on
        present = CoachingSession.attendees.through.objects.filter(coachingsession=workshop)
        assert project.promoter_id in set(present.values_list("person_id", flat=True))
    domains = {row["sector"] for row in INNOV["projects"]}
    assert {"digital", "agriculture", "training", "services", "textiles", "crafts"} <= domains
    catalogue = Product.objects.filter(published=True, archived_at__isnull=True)
    assert catalogue.filter(project__currency="MAD").count() == len(INNOV["projects"])
    assert catalogue.filter(project__currency="TND").count() >= len(stands)


def assert_live() -> None:
    """An open call of this year, applications at each step, a committee scoring, two public
    submissions waiting."""
    coordinator, caseworker = user("utss-coordinator"), user("utss-caseworker")
    call = Call.objects.visible_to(coordinator).get(code__startswith=f"utss-{TODAY.year}")
    assert call.status == CallStatus.OPEN and call.is_open_on(TODAY)
    assert call.criteria.count() == 4 and call.documents.filter(mandatory=True).count() == 3
    applications = Application.objects.visible_to(coordinator).filter(call=call)
    statuses = defaultdict(int)
    for status in applications.values_list("status", flat=True):
        statuses[status] += 1
    assert statuses[ApplicationStatus.SUBMITTED] >= 2
    assert statuses[ApplicationStatus.ELIGIBLE] >= 3
    assert statuses[ApplicationStatus.INELIGIBLE] >= 1
    assert applications.filter(kind=ApplicationKind.COLLECTIVE).exists()
    session = CommitteeSession.objects.get(call=call)
    assert session.status == SessionStatus.SCORING
    assert {coordinator.pk, caseworker.pk} <= set(session.members.values_list("pk", flat=True))
    assert session.chair_id == coordinator.pk
    assert Score.objects.filter(session=session, member=caseworker).exists()
    assert not Score.objects.filter(session=session, member=coordinator).exists()
    ranking = services.session_ranking(session)
    assert len(ranking) == statuses[ApplicationStatus.ELIGIBLE]
    inbox = PublicSubmission.objects.visible_to(coordinator).filter(
        call=call, status=SubmissionStatus.RECEIVED
    )
    assert inbox.count() == 2
    # UTSS's desk in Tabarka sees the submission from Tabarka, not the one from Kef.
    assert PublicSubmission.objects.visible_to(user("tabarka-desk")).count() == 1


def replay_visits(visits: list[Visit]) -> dict:
    """What ``visit_record`` leaves on a project after these visits, in this order."""
    state = {"last_visit_on": None, "status": ProjectStatus.ACTIVE, "stopped_on": None}
    state |= {"jobs_women": 0, "jobs_men": 0, "monthly_revenue": None}
    for visit in visits:
        if state["last_visit_on"] is None or visit.visited_on >= state["last_visit_on"]:
            state["last_visit_on"] = visit.visited_on
            state["status"] = visit.project_status
            if visit.jobs_women is not None:
                state["jobs_women"] = visit.jobs_women
            if visit.jobs_men is not None:
                state["jobs_men"] = visit.jobs_men
            if visit.monthly_revenue is not None:
                state["monthly_revenue"] = visit.monthly_revenue
            if visit.project_status == ProjectStatus.STOPPED:
                state["stopped_on"] = state["stopped_on"] or visit.visited_on
            else:
                state["stopped_on"] = None
    return state


def replay_repayments(schedule: list[Instalment], repayments: list[Repayment]) -> list[Decimal]:
    """What ``repayment_record`` leaves on each instalment: oldest first."""
    paid = [Decimal(0)] * len(schedule)
    for repayment in repayments:
        left = repayment.amount
        for index, instalment in enumerate(schedule):
            if left <= 0:
                break
            part = min(left, instalment.amount - paid[index])
            paid[index] += part
            left -= part
        assert left == 0, "a repayment larger than what the loan owed"
    return paid


def assert_rules(projects) -> int:
    """Recompute, with the services' rules, what the loader wrote in bulk."""
    checked = 0
    for project in projects.select_related("territory", "region", "application", "group"):
        checked += 1
        assert project.region == services._region_of(project.territory)
        visits = list(project.visits.filter(state=VisitStatus.DONE).order_by("visited_on", "pk"))
        state = replay_visits(visits)
        for name, value in state.items():
            assert getattr(project, name) == value, (project.code, name)
        if project.stopped_on:
            assert project.months_alive == services.months_between(
                project.financed_on, project.stopped_on
            )
        else:
            assert project.months_alive is None
        assert all(project.financed_on <= v.visited_on <= TODAY for v in visits)
        financings = list(project.financings.all())
        assert project.amount_financed == sum(f.amount for f in financings)
        touches = 0
        for financing in financings:
            assert financing.awarded_on == project.financed_on
            tranches = list(financing.tranches.order_by("number"))
            assert sum(t.amount for t in tranches) == financing.amount
            released_before = True
            for tranche in tranches:
                if tranche.status == TrancheStatus.RELEASED:
                    assert released_before, "released after an unreleased tranche"
                    assert tranche.evidenced_on <= tranche.released_on <= TODAY
                else:
                    released_before = False
                if tranche.evidenced_on:
                    assert tranche.evidenced_on >= project.financed_on
                    assert tranche.evidence_note or tranche.evidence_file
                touches += (tranche.evidenced_on is not None) + (tranche.released_on is not None)
            if financing.kind != FinancingKind.LOAN:
                assert financing.outstanding == 0 and not financing.schedule.exists()
                continue
            assert financing.first_due_on == services.add_months(
                financing.awarded_on, financing.grace_months + 1
            )
            schedule = list(financing.schedule.order_by("number"))
            assert [(i.number, i.due_on, i.amount) for i in schedule] == services.loan_schedule(
                financing.amount, project.currency, financing.instalments, financing.first_due_on
            )
            repayments = list(financing.repayments.order_by("paid_on", "pk"))
            assert all(financing.awarded_on <= r.paid_on <= TODAY for r in repayments)
            assert [i.paid for i in schedule] == replay_repayments(schedule, repayments)
            expected = Financing.objects.get(pk=financing.pk)
            services._refresh_loan(expected)  # SQLite sums decimals as floats: round as saving does
            assert financing.outstanding == expected.outstanding.quantize(financing.outstanding)
            assert financing.oldest_unpaid_due_on == expected.oldest_unpaid_due_on
            assert financing.outstanding == financing.amount - sum(r.amount for r in repayments)
        assert project.version == 1 + len(visits) + touches, project.code
        if project.kind == ApplicationKind.COLLECTIVE:
            members = list(project.group.members.filter(left_on__isnull=True))
            assert len(members) >= 2
            assert project.promoter_id in {m.person_id for m in members}
            if project.code.startswith(UTSS_CODE):
                assert sum(m.share for m in members) == 100
                head = next(m for m in members if m.person_id == project.promoter_id)
                assert head.role == MemberRole.PRESIDENT
        else:
            assert project.group_id is None
        application = project.application
        if application is not None:
            assert application.status == ApplicationStatus.AWARDED
            assert application.awarded_amount == application.requested_amount
            assert application.awarded_amount == project.amount_financed
            assert (application.promoter_id, application.territory_id) == (
                project.promoter_id,
                project.territory_id,
            )
            assert application.call.opens_on <= application.submitted_on
            assert application.submitted_on <= application.call.closes_on < project.financed_on
            invested = application.investments.aggregate(s=Sum("amount"))["s"]
            assert invested == application.financing_plan.aggregate(s=Sum("amount"))["s"]
            assert invested >= application.requested_amount
        promoter = Person.objects.unscoped("test").get(pk=project.promoter_id)
        assert set(promoter.name_keys.values_list("key", flat=True)) == set(
            name_keys(
                promoter.given_name,
                promoter.family_name,
                promoter.given_name_latin,
                promoter.family_name_latin,
            )
        )
        assert set(promoter.match_keys.values_list("key", flat=True)) == set(
            match_keys(PersonRecord.from_person(promoter))
        )
        assert promoter.shares.filter(organisation_id=promoter.organisation_id).exists()
    return checked


def assert_envelopes() -> None:
    """What the committees awarded in each governorate fits in the call's envelope."""
    for call in Call.objects.unscoped("test").filter(status=CallStatus.CLOSED):
        awarded = Application.objects.unscoped("test").filter(
            call=call, status=ApplicationStatus.AWARDED
        )
        assert awarded.exists()
        for envelope in call.envelopes.select_related("territory"):
            assert services._committed(call, envelope.territory) <= envelope.amount


# --- Tests ---------------------------------------------------------------------------------


def test_allocation_is_exact():
    counts = allocate(9612, UTSS["governorates"])
    assert sum(counts.values()) == 9612
    assert counts["TN-32"] > counts["TN-11"]
    assert allocate(750, UTSS["governorates"]) == allocate(750, UTSS["governorates"])


def test_the_data_file_states_the_seed_figures():
    assert UTSS["projects"] > 9500 and UTSS["collective"] == 750
    assert len(UTSS["governorates"]) == 24
    assert len(INNOV["projects"]) > 30
    assert UTSS["synthetic"] is True and all(p["synthetic"] for p in INNOV["projects"])


@pytest.mark.django_db
def test_a_reduced_demo_follows_the_rules():
    operator = base_demo(600)
    created = load_projects(operator, utss_projects=240, utss_collective=20, **QUIET)
    assert created == 240 + len(INNOV["projects"])
    assert_figures(240, 20)
    assert_exhibitions(None)
    assert_live()
    assert_envelopes()
    assert assert_rules(Project.objects.unscoped("test")) == created
    before = table_counts()
    assert load_projects(operator, utss_projects=240, utss_collective=20, **QUIET) == 0
    assert table_counts() == before


@pytest.mark.django_db
def test_rules_check_catches_a_wrong_figure():
    """The recomputation fails when a denormalised figure is off."""
    operator = base_demo(300)
    load_projects(operator, utss_projects=60, utss_collective=6, **QUIET)
    loan = (
        Financing.objects.filter(kind=FinancingKind.LOAN, repayments__isnull=False)
        .order_by("pk")
        .first()
    )
    Financing.objects.filter(pk=loan.pk).update(outstanding=loan.outstanding + 1)
    with pytest.raises(AssertionError):
        assert_rules(Project.objects.unscoped("test").filter(pk=loan.project_id))
    project = Project.objects.unscoped("test").filter(visits__isnull=False).first()
    Project.objects.unscoped("test").filter(pk=project.pk).update(jobs_men=project.jobs_men + 5)
    with pytest.raises(AssertionError):
        assert_rules(Project.objects.unscoped("test").filter(pk=project.pk))


@pytest.mark.django_db
def test_the_whole_demo():
    """The whole demo, as ``tadamun demo`` loads it: the seed figures from the records."""
    counts = loader.load_demo(people=3000, **QUIET)
    assert counts["projects"] == UTSS["projects"] + len(INNOV["projects"])
    assert_figures(UTSS["projects"], UTSS["collective"])
    assert UTSS["projects"] > 9500
    assert_realistic(UTSS["projects"])
    assert_exhibitions(UTSS["forum"]["stands"])
    assert_live()
    assert_envelopes()
    # The rules over a sample: every 40th UTSS project, the loans in arrears, the stopped
    # collectives, and every Innov Impact project.
    projects = Project.objects.unscoped("test")
    ids = list(
        projects.filter(code__startswith=UTSS_CODE).order_by("pk").values_list("pk", flat=True)
    )
    late = TODAY - datetime.timedelta(days=services.ARREARS_DAYS)
    arrears = Financing.objects.filter(
        kind=FinancingKind.LOAN, outstanding__gt=0, oldest_unpaid_due_on__lt=late
    ).values_list("project_id", flat=True)[:40]
    sample = projects.filter(
        Q(pk__in=ids[::40])
        | Q(pk__in=list(arrears))
        | Q(pk__in=projects.filter(kind="collective", status="stopped").values("pk")[:20])
        | Q(code__startswith=INNOV["code"])
    )
    assert assert_rules(sample) > 300
    before = table_counts()
    assert loader.load_demo(people=3000, **QUIET)["projects"] == 0
    assert table_counts() == before
