"""The world of tests/conftest.py, extended for cases.

Added: a case worker of org_a (``caseworker_a``, who tutors the case), a desk of the network
run by org_a in Jendouba, the network's diagnosis dimensions (health flagged) and one kind of
action per family (care pathways flagged as health; internships last 3 months by default),
an open case of p_tabarka led by org_a, and the consents the referral rules look at:
p_tabarka agreed to referrals, p_jendouba withdrew their consent to network sharing, p_kef
agreed to network sharing.

The partner of the referrals is org_b: ``caseworker_b`` works there and sees nothing of
org_a's cases.
"""

import datetime

import pytest
from django.utils import timezone

from tadamun.accounts.models import Role
from tadamun.cases import services
from tadamun.cases.models import (
    ActionFamily,
    ActionType,
    Case,
    CaseNote,
    Desk,
    DeskKind,
    Diagnosis,
    DiagnosisDimension,
    DiagnosisLevel,
    FollowUp,
    Intake,
    PathwayAction,
    Referral,
)
from tadamun.registry.models import Consent, ConsentPurpose, LawfulBasis, PersonShare

from .. import factories as f
from ..conftest import PERSONAS

# The personas of the access tests, plus the case worker of the lead organisation.
CASE_PERSONAS = [*PERSONAS, "caseworker_a"]
# Who sees the case of p_tabarka (org_a's staff, within their territory, and the network's
# coordinator); the others get "not found".
SEES_THE_CASE = {
    "coordinator",
    "caseworker_a",
    "desk_a",
    "desk_tabarka",
    "viewer_a",
    "controller_a",
    "trainer_a",
    "operator",
}
# Who works the case (diagnosis, plan, referrals, closure) and reads its health information.
WORKS_THE_CASE = {"coordinator", "caseworker_a", "operator"}

TODAY = timezone.localdate()
OPENED_ON = TODAY - datetime.timedelta(days=60)


def add_cases(world, *, case: bool = True):
    """Give the world what cases need; returns it (the same object, with more attributes).

    Without ``case``, p_tabarka has neither a case nor a consent to referrals yet."""
    w = world
    w.caseworker_a = f.UserFactory(username="caseworker_a", first_name="Hana", last_name="Kefi")
    f.membership(w.caseworker_a, w.org_a, Role.CASE_WORKER)
    w.desk = Desk.objects.create(
        network=w.net,
        organisation=w.org_a,
        code="jendouba-job-desk",
        name={"en": "Jendouba job desk"},
        kind=DeskKind.JOB_DESK,
        territory=w.jendouba,
    )
    w.dim_work = DiagnosisDimension.objects.create(
        network=w.net, code="work", name={"en": "Work"}, order=0
    )
    w.dim_housing = DiagnosisDimension.objects.create(
        network=w.net, code="housing", name={"en": "Housing"}, order=1
    )
    w.dim_health = DiagnosisDimension.objects.create(
        network=w.net, code="health", name={"en": "Mental health"}, order=2, is_health=True
    )
    w.types = {
        family: ActionType.objects.create(
            network=w.net,
            code=family.replace("_", "-"),
            name={"en": f"{label} (net)"},
            family=family,
            is_health=family == ActionFamily.CARE_PATHWAY,
            default_months=3 if family == ActionFamily.INTERNSHIP else None,
        )
        for family, label in ActionFamily.choices
    }

    # Read back, as pages do: names become translated strings.
    for name in ("dim_work", "dim_housing", "dim_health"):
        setattr(w, name, DiagnosisDimension.objects.get(pk=getattr(w, name).pk))
    w.types = {family: ActionType.objects.get(pk=t.pk) for family, t in w.types.items()}

    def consent(person, purpose, withdrawn_on=None):
        return Consent.objects.create(
            person=person,
            purpose=purpose,
            lawful_basis=LawfulBasis.CONSENT,
            organisation=person.organisation,
            given_on=OPENED_ON - datetime.timedelta(days=30),
            recorded_by=w.operator,
            withdrawn_on=withdrawn_on,
            withdrawn_by=w.operator if withdrawn_on else None,
        )

    w.consent_jendouba = consent(w.p_jendouba, ConsentPurpose.NETWORK_SHARING, OPENED_ON)
    w.consent_kef = consent(w.p_kef, ConsentPurpose.NETWORK_SHARING)
    if not case:
        return w
    w.consent_tabarka = consent(w.p_tabarka, ConsentPurpose.REFERRAL)
    w.case = services.case_open(
        user=w.caseworker_a,
        person=w.p_tabarka,
        organisation=w.org_a,
        desk=w.desk,
        tutor=w.caseworker_a,
        opened_on=OPENED_ON,
    )
    return w


@pytest.fixture
def world(world):
    """tests/conftest.py's world with the cases of this folder (see the module docstring)."""
    return add_cases(world)


CASE_MODELS = (Case, Intake, Diagnosis, DiagnosisLevel, PathwayAction, Referral, CaseNote, FollowUp)


def case_snapshot() -> dict:
    """Everything a refused change must leave as it was: the cases' rows, the shares of
    people (a referral's acceptance adds one) and the number of audit entries."""
    rows = {
        model.__name__: list(
            getattr(model.objects, "unscoped", model.objects.all)().order_by("pk").values()
        )
        for model in CASE_MODELS
    }
    rows["PersonShare"] = list(PersonShare.objects.order_by("pk").values())
    rows["history"] = {
        model.__name__: model.history.count() for model in CASE_MODELS if hasattr(model, "history")
    }
    return rows
