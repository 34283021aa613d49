"""Bad input to the micro-projects services: each refusal names the field at fault and
writes nothing at all (every row of the app, its audit entries and its link tables are the
same before and after)."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.apps import apps

from tadamun.core.errors import Conflict
from tadamun.projects import services as s
from tadamun.projects.models import ApplicationStatus, Financing, FinancingKind

from .. import factories as f
from .conftest import TODAY, plan

pytestmark = pytest.mark.django_db

YESTERDAY = TODAY - datetime.timedelta(days=1)
TOMORROW = TODAY + datetime.timedelta(days=1)


def snapshot() -> dict:
    """Every row of every table of micro-projects, history and link tables included."""
    rows = {}
    for model in apps.get_app_config("projects").get_models(include_auto_created=True):
        manager = model._default_manager
        queryset = manager.unscoped("test snapshot") if hasattr(manager, "unscoped") else manager
        rows[model._meta.label] = list(queryset.order_by("pk").values())
    return rows


@dataclass
class State:
    w: object
    project: object  # financed for p_jendouba: a grant in two tranches and a loan
    grant: object
    loan: object
    pending: object  # p_tabarka's eligible application before ``session``
    session: object  # two members, nobody has scored yet
    eur_call: object
    stranger: object  # a person of org_a outside the Tabarka weavers, with no application


def apply(w, **overrides):
    values = {
        "user": w.desk_a,
        "call": w.call,
        "kind": "individual",
        "promoter": w.p_kef if overrides.get("territory") == w.kef else w.fresh,
        "territory": w.jendouba,
        "sector": w.crafts,
        "title": "Olive oil press",
        "financing_kind": "grant",
        "requested_amount": "1000",
        "plan": plan(total="1000", own="0"),
    }
    values.update(overrides)
    return s.application_submit(**values)


@pytest.fixture
def state(pw) -> State:
    w = pw
    first = s.application_submit(
        user=w.desk_a,
        call=w.call,
        kind="individual",
        promoter=w.p_jendouba,
        territory=w.jendouba,
        sector=w.crafts,
        title="Weaving workshop",
        financing_kind="grant",
        requested_amount="4500",
        plan=plan(total="5000", own="500"),
    )
    s.application_precheck(user=w.desk_a, application=first)
    decided = s.session_create(
        user=w.coordinator,
        call=w.call,
        held_on=TODAY,
        language="fr",
        members=[w.coordinator],
        chair=w.coordinator,
    )
    s.score_record(
        user=w.coordinator,
        session=decided,
        application=first,
        scores={"viability": 8, "impact": 7},
    )
    s.session_decide(user=w.coordinator, session=decided)
    first.refresh_from_db()
    project = s.project_award(
        user=w.coordinator,
        application=first,
        financed_on=TODAY,
        financings=[
            s.FinancingSpec(
                kind="grant",
                amount="1500",
                tranches=[
                    {"amount": "1000", "milestone": "Workshop rented"},
                    {"amount": "500", "milestone": "Looms bought"},
                ],
            ),
            s.FinancingSpec(kind="loan", amount="3000", instalments=7),
        ],
    )
    grant = Financing.objects.get(project=project, kind=FinancingKind.GRANT)
    loan = Financing.objects.get(project=project, kind=FinancingKind.LOAN)
    stranger = f.person(w.org_a, w.jendouba, given_name="Hedi", family_name="Gharbi")
    w.fresh = stranger  # no application yet
    pending = apply(
        w,
        promoter=w.p_tabarka,
        territory=w.tabarka,
        requested_amount="2000",
        plan=plan("2000", "0"),
    )
    s.application_precheck(user=w.desk_a, application=pending)
    pending.refresh_from_db()
    assert pending.status == ApplicationStatus.ELIGIBLE
    session = s.session_create(
        user=w.coordinator,
        call=w.call,
        held_on=TODAY,
        language="ar",
        members=[w.coordinator, w.coordinator_2],
        chair=w.coordinator,
    )
    eur_call = s.call_create(
        user=w.coordinator,
        organisation=w.net,
        code="call-eur",
        title={"en": "Euro call"},
        opens_on=YESTERDAY,
        closes_on=TOMORROW,
        currency="EUR",
    )
    s.envelope_set(user=w.coordinator, call=eur_call, territory=w.jendouba, amount="5000")
    s.criterion_add(user=w.coordinator, call=eur_call, code="v", label={"en": "V"}, weight=1)
    s.call_set_status(user=w.coordinator, call=eur_call, status="open")
    return State(w, project, grant, loan, pending, session, eur_call, stranger)


def _first_tranche(st):
    return st.grant.tranches.get(number=1)


def _evidenced_tranche(st):
    tranche = _first_tranche(st)
    s.tranche_evidence(user=st.w.desk_a, tranche=tranche, note="Lease signed")
    return tranche


def _award_spec(kind="grant", amount="2000", **extra):
    return [s.FinancingSpec(kind=kind, amount=amount, **extra)]


CASES = {
    # Calls.
    "a call code already used": (
        "code",
        lambda st: s.call_update(user=st.w.coordinator, call=st.w.call, code="call-eur"),
    ),
    "a call closing before it opens": (
        "closes_on",
        lambda st: s.call_update(
            user=st.w.coordinator, call=st.w.call, closes_on=YESTERDAY - datetime.timedelta(days=60)
        ),
    ),
    "an envelope below what is already awarded": (
        "amount",
        lambda st: s.envelope_set(
            user=st.w.coordinator, call=st.w.call, territory=st.w.jendouba, amount="4499.999"
        ),
    ),
    # Applications: window, envelope, ceiling, one financing per promoter and call.
    "outside the window": (
        "submitted_on",
        lambda st: apply(st.w, submitted_on=TODAY - datetime.timedelta(days=31)),
    ),
    "submitted in the future": ("submitted_on", lambda st: apply(st.w, submitted_on=TOMORROW)),
    "over the territory's envelope": (
        "requested_amount",
        lambda st: apply(
            st.w,
            user=st.w.caseworker_b,
            territory=st.w.kef,
            requested_amount="7000",
            plan=plan("7000", "0"),
        ),
    ),
    "over what remains of the envelope": (
        "requested_amount",
        # 10,000 in Jendouba, 4,500 awarded: 5,600 does not fit (and is under the 8,000 cap).
        lambda st: apply(st.w, requested_amount="5600", plan=plan("5600", "0")),
    ),
    "over the call's largest amount": (
        "requested_amount",
        lambda st: apply(st.w, requested_amount="8000.001", plan=plan("9000", "999.999")),
    ),
    "a promoter already financed in the call": (
        "promoter",
        lambda st: apply(st.w, promoter=st.w.p_jendouba),
    ),
    "a negative amount": (
        "requested_amount",
        lambda st: apply(st.w, requested_amount="-5"),
    ),
    "a zero amount": ("requested_amount", lambda st: apply(st.w, requested_amount="0")),
    "TND with four decimals": (
        "requested_amount",
        lambda st: apply(st.w, requested_amount="999.0001"),
    ),
    "EUR with three decimals": (
        "requested_amount",
        lambda st: apply(st.w, call=st.eur_call, requested_amount="100.005"),
    ),
    "EUR unit cost with three decimals": (
        "investments.1.unit_cost",
        lambda st: apply(
            st.w,
            call=st.eur_call,
            requested_amount="100",
            plan=s.BusinessPlan(
                investments=[{"label": "Oven", "quantity": 1, "unit_cost": "100.001"}],
                financing=[],
            ),
        ),
    ),
    "a negative investment": (
        "investments.1.unit_cost",
        lambda st: apply(
            st.w,
            plan=s.BusinessPlan(
                investments=[{"label": "Oven", "quantity": 1, "unit_cost": "-1000"}], financing=[]
            ),
        ),
    ),
    "a financing plan that does not add up": (
        "financing",
        lambda st: apply(
            st.w,
            plan=s.BusinessPlan(
                investments=[{"label": "Oven", "quantity": 2, "unit_cost": "500"}],
                financing=[
                    {"source": "own", "amount": "100"},
                    {"source": "grant", "amount": "1000"},
                ],
            ),
        ),
    ),
    "a financing line from nowhere": (
        "financing.1.source",
        lambda st: apply(
            st.w,
            plan=s.BusinessPlan(
                investments=[{"label": "Oven", "quantity": 1, "unit_cost": "1000"}],
                financing=[{"source": "lottery", "amount": "1000"}],
            ),
        ),
    ),
    "a quantity with three decimals": (
        "investments.1.quantity",
        lambda st: apply(
            st.w,
            plan=s.BusinessPlan(
                investments=[{"label": "Flour", "quantity": "2.125", "unit_cost": "400"}],
                financing=[],
            ),
        ),
    ),
    "an item costing more than any amount": (
        "investments.1.unit_cost",
        lambda st: apply(
            st.w,
            plan=s.BusinessPlan(
                investments=[
                    {"label": "Fleet", "quantity": "99999999", "unit_cost": "99999999999"}
                ],
                financing=[],
            ),
        ),
    ),
    "asking more than the investment": (
        "requested_amount",
        lambda st: apply(st.w, requested_amount="1000", plan=plan("900", "0")),
    ),
    "a collective without the promoter as member": (
        "promoter",
        lambda st: apply(st.w, kind="collective", group=st.w.group, promoter=st.stranger),
    ),
    "a collective without its collective": (
        "group",
        lambda st: apply(st.w, kind="collective", group=None),
    ),
    # Committee.
    "an unknown criterion": (
        "beauty",
        lambda st: s.score_record(
            user=st.w.coordinator,
            session=st.session,
            application=st.pending,
            scores={"viability": 5, "impact": 5, "beauty": 3},
        ),
    ),
    "a score above the criterion's highest": (
        "viability",
        lambda st: s.score_record(
            user=st.w.coordinator,
            session=st.session,
            application=st.pending,
            scores={"viability": 11, "impact": 5},
        ),
    ),
    "a criterion left unscored": (
        "impact",
        lambda st: s.score_record(
            user=st.w.coordinator,
            session=st.session,
            application=st.pending,
            scores={"viability": 5},
        ),
    ),
    "deciding before every member scored": (
        "scores",
        lambda st: s.session_decide(user=st.w.coordinator, session=st.session),
    ),
    # Award: dates and amounts.
    "an award in the future": (
        "financed_on",
        lambda st: s.project_award(
            user=st.w.coordinator,
            application=st.pending,
            financed_on=TOMORROW,
            financings=_award_spec(),
        ),
    ),
    "an award not adding up to the decision": (
        "financings",
        lambda st: s.project_award(
            user=st.w.coordinator,
            application=st.pending,
            financed_on=TODAY,
            financings=_award_spec(amount="1999.999"),
        ),
    ),
    "tranches not adding up to the grant": (
        "financings.1.tranches",
        lambda st: s.project_award(
            user=st.w.coordinator,
            application=st.pending,
            financed_on=TODAY,
            financings=_award_spec(
                tranches=[{"amount": "1000", "milestone": "a"}, {"amount": "999", "milestone": "b"}]
            ),
        ),
    ),
    "a tranche planned before the award": (
        "financings.1.tranches.1.planned_on",
        lambda st: s.project_award(
            user=st.w.coordinator,
            application=st.pending,
            financed_on=TODAY,
            financings=_award_spec(
                tranches=[{"amount": "2000", "milestone": "a", "planned_on": YESTERDAY}]
            ),
        ),
    ),
    "a loan without instalments": (
        "financings.1.instalments",
        lambda st: s.project_award(
            user=st.w.coordinator,
            application=st.pending,
            financed_on=TODAY,
            financings=_award_spec(kind="loan"),
        ),
    ),
    "an over-precise loan": (
        "financings.1.amount",
        lambda st: s.project_award(
            user=st.w.coordinator,
            application=st.pending,
            financed_on=TODAY,
            financings=_award_spec(kind="loan", amount="2000.0001", instalments=4),
        ),
    ),
    "a project code already used": (
        "code",
        lambda st: s.project_award(
            user=st.w.coordinator,
            application=st.pending,
            financed_on=TODAY,
            financings=_award_spec(),
            code=st.project.code,
        ),
    ),
    # Tranches.
    "releasing a tranche without evidence": (
        "status",
        lambda st: s.tranche_release(user=st.w.coordinator, tranche=_first_tranche(st)),
    ),
    "releasing the second tranche before the first": (
        "status",
        lambda st: s.tranche_release(
            user=st.w.coordinator, tranche=st.grant.tranches.get(number=2)
        ),
    ),
    "evidence dated before the award": (
        "evidenced_on",
        lambda st: s.tranche_evidence(
            user=st.w.desk_a, tranche=_first_tranche(st), note="Lease", evidenced_on=YESTERDAY
        ),
    ),
    "evidence dated in the future": (
        "evidenced_on",
        lambda st: s.tranche_evidence(
            user=st.w.desk_a, tranche=_first_tranche(st), note="Lease", evidenced_on=TOMORROW
        ),
    ),
    "evidence without a word": (
        "note",
        lambda st: s.tranche_evidence(user=st.w.desk_a, tranche=_first_tranche(st), note="  "),
    ),
    "a release dated in the future": (
        "released_on",
        lambda st: s.tranche_release(
            user=st.w.coordinator, tranche=_first_tranche(st), released_on=TOMORROW
        ),
    ),
    # Repayments.
    "a repayment larger than owed": (
        "amount",
        lambda st: s.repayment_record(user=st.w.desk_a, financing=st.loan, amount="3000.001"),
    ),
    "a negative repayment": (
        "amount",
        lambda st: s.repayment_record(user=st.w.desk_a, financing=st.loan, amount="-1"),
    ),
    "an over-precise repayment": (
        "amount",
        lambda st: s.repayment_record(user=st.w.desk_a, financing=st.loan, amount="10.0005"),
    ),
    "a repayment before the award": (
        "paid_on",
        lambda st: s.repayment_record(
            user=st.w.desk_a, financing=st.loan, amount="100", paid_on=YESTERDAY
        ),
    ),
    "a repayment in the future": (
        "paid_on",
        lambda st: s.repayment_record(
            user=st.w.desk_a, financing=st.loan, amount="100", paid_on=TOMORROW
        ),
    ),
    "a repayment of a grant": (
        "financing",
        lambda st: s.repayment_record(user=st.w.desk_a, financing=st.grant, amount="100"),
    ),
    # Follow-up.
    "a visit before the award": (
        "visited_on",
        lambda st: s.visit_record(
            user=st.w.desk_a, project=st.project, visited_on=YESTERDAY, project_status="active"
        ),
    ),
    "a visit in the future": (
        "visited_on",
        lambda st: s.visit_record(
            user=st.w.desk_a, project=st.project, visited_on=TOMORROW, project_status="active"
        ),
    ),
    "a visit with an over-precise revenue": (
        "monthly_revenue",
        lambda st: s.visit_record(
            user=st.w.desk_a,
            project=st.project,
            visited_on=TODAY,
            project_status="active",
            monthly_revenue="12.3456",
        ),
    ),
    "coaching before the award": (
        "held_on",
        lambda st: s.coaching_record(
            user=st.w.desk_a,
            project=st.project,
            kind="coaching",
            held_on=YESTERDAY,
            topic="Pricing",
            hours=Decimal("2"),
        ),
    ),
    "a product priced upside down": (
        "price_max",
        lambda st: s.product_save(
            user=st.w.desk_a,
            project=st.project,
            name={"en": "Basket"},
            price_min="30",
            price_max="12.5",
        ),
    ),
}


def _selected(st):
    """p_tabarka's application selected by the committee for 2,000."""
    w = st.w
    for member in (w.coordinator, w.coordinator_2):
        s.score_record(
            user=member,
            session=st.session,
            application=st.pending,
            scores={"viability": 9, "impact": 9},
        )
    s.session_decide(user=w.coordinator, session=st.session)
    st.pending.refresh_from_db()
    assert st.pending.status == ApplicationStatus.SELECTED
    return st.pending


def _one_member_scored(st):
    s.score_record(
        user=st.w.coordinator,
        session=st.session,
        application=st.pending,
        scores={"viability": 9, "impact": 9},
    )


def _second_tranche_evidenced(st):
    s.tranche_evidence(user=st.w.desk_a, tranche=st.grant.tranches.get(number=2), note="Invoice")


# What some cases need first (it writes, so it runs before the snapshot).
PREPARE = {
    "deciding before every member scored": _one_member_scored,
    "releasing the second tranche before the first": _second_tranche_evidenced,
    "a release dated in the future": _evidenced_tranche,
    **dict.fromkeys(
        [
            "an award in the future",
            "an award not adding up to the decision",
            "tranches not adding up to the grant",
            "a tranche planned before the award",
            "a loan without instalments",
            "an over-precise loan",
            "a project code already used",
        ],
        _selected,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_refused_with_the_field_named_and_nothing_written(state, case):
    key, action = CASES[case]
    if case in PREPARE:
        PREPARE[case](state)
    before = snapshot()
    with pytest.raises(s.ProjectError) as error:
        action(state)
    assert key in error.value.message_dict, error.value.message_dict
    assert snapshot() == before


def test_a_stale_version_is_a_conflict_and_writes_nothing(state):
    w = state.w
    application = state.pending
    old = application.version
    s.application_precheck(user=w.desk_a, application=application, version=old)
    before = snapshot()
    with pytest.raises(Conflict):
        s.application_withdraw(user=w.desk_a, application=application, version=old)
    with pytest.raises(Conflict):
        s.mentor_assign(
            user=w.coordinator,
            project=state.project,
            mentor=w.desk_a,
            version=state.project.version - 1,
        )
    assert snapshot() == before
    # The current version goes through.
    application.refresh_from_db()
    s.application_withdraw(user=w.desk_a, application=application, version=application.version)
