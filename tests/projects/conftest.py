"""The world of tests/conftest.py, extended for micro-projects.

Added: sectors; a call of the network ``net`` in TND (three decimals) open from 30 days ago
to 30 days ahead, with envelopes of 10,000.000 for Jendouba and 6,000.000 for Kef, a grid of
two criteria (viability weighed 2, social impact weighed 1, each out of 10) and one mandatory
document; a collective of org_a in Tabarka with p_tabarka (president, 60%) and p_jendouba
(member, 40%); a second coordinator (``coordinator_2``) to sit on committees.
"""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tadamun.accounts.models import Role
from tadamun.projects import services as s
from tadamun.projects.models import Sector
from tadamun.registry.models import Group, GroupKind, GroupMember, MemberRole

from .. import factories as f

TODAY = timezone.localdate()


def plan(total="5000", own="500"):
    total, own = Decimal(total), Decimal(own)
    return s.BusinessPlan(
        investments=[{"label": "Sewing machines", "quantity": 2, "unit_cost": total / 2}],
        financing=[{"source": "own", "amount": own}, {"source": "grant", "amount": total - own}],
    )


@pytest.fixture
def pw(world):
    """The projects world: ``world`` plus what micro-projects need."""
    crafts = Sector.objects.create(code="crafts", name={"en": "Crafts", "fr": "Artisanat"})
    farming = Sector.objects.create(code="farming", name={"en": "Farming"})
    coordinator_2 = f.UserFactory(username="coordinator_2")
    f.membership(coordinator_2, world.net, Role.COORDINATOR)
    call = s.call_create(
        user=world.coordinator,
        organisation=world.net,
        code="call-2026",
        title={"en": "Micro-projects 2026", "ar": "المشاريع الصغرى 2026"},
        opens_on=TODAY - datetime.timedelta(days=30),
        closes_on=TODAY + datetime.timedelta(days=30),
        currency="TND",
        max_amount=Decimal("8000"),
        sectors=[crafts, farming],
    )
    s.envelope_set(user=world.coordinator, call=call, territory=world.jendouba, amount="10000")
    s.envelope_set(user=world.coordinator, call=call, territory=world.kef, amount="6000")
    s.criterion_add(
        user=world.coordinator, call=call, code="viability", label={"en": "Viability"}, weight=2
    )
    s.criterion_add(
        user=world.coordinator, call=call, code="impact", label={"en": "Social impact"}, weight=1
    )
    s.call_set_status(user=world.coordinator, call=call, status="open")
    group = Group.objects.create(
        name="Tabarka weavers",
        kind=GroupKind.COOPERATIVE,
        organisation=world.org_a,
        territory=world.tabarka,
    )
    GroupMember.objects.create(
        group=group, person=world.p_tabarka, role=MemberRole.PRESIDENT, share=Decimal(60)
    )
    GroupMember.objects.create(
        group=group, person=world.p_jendouba, role=MemberRole.MEMBER, share=Decimal(40)
    )
    world.crafts, world.farming, world.call, world.group = crafts, farming, call, group
    world.coordinator_2 = coordinator_2
    return world


def submit(
    w,
    user=None,
    promoter=None,
    territory=None,
    amount="4500",
    kind="individual",
    group=None,
    total="5000",
):
    return s.application_submit(
        user=user or w.desk_a,
        call=w.call,
        kind=kind,
        promoter=promoter or w.p_jendouba,
        group=group,
        territory=territory or w.jendouba,
        sector=w.crafts,
        title="Weaving workshop",
        financing_kind="grant",
        requested_amount=amount,
        plan=plan(total=total, own=str(Decimal(total) - Decimal(amount))),
        expected_jobs_women=2,
        expected_jobs_men=1,
    )
