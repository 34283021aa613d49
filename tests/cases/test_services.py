"""The cases' services: who may change what, what is validated, what the audit keeps.

The world is tests/cases/conftest.py's: an open case of p_tabarka led by org_a and tutored by
caseworker_a; org_b (caseworker_b) is the partner organisation.
"""

import calendar
import datetime

import pytest
from django.utils import timezone

from tadamun.cases import selectors, services
from tadamun.cases.models import (
    ActionFamily,
    ActionStatus,
    ActionType,
    Case,
    CaseNote,
    CaseOutcome,
    CaseStatus,
    Confidentiality,
    ContractType,
    Desk,
    DiagnosisDimension,
    FollowUp,
    Intake,
    NeedLevel,
    Referral,
    ReferralStatus,
    Situation,
)
from tadamun.core.errors import AccessDenied, DomainError
from tadamun.registry.models import (
    Consent,
    ConsentPurpose,
    LawfulBasis,
    Person,
    PersonShare,
    ShareReason,
)

from .. import factories as f
from .conftest import OPENED_ON, TODAY, case_snapshot

YESTERDAY = TODAY - datetime.timedelta(days=1)
TOMORROW = TODAY + datetime.timedelta(days=1)
NEXT_WEEK = TODAY + datetime.timedelta(days=7)
READ_ONLY = ["viewer_a", "controller_a", "trainer_a"]


def _latest(record):
    return record.history.order_by("-history_date", "-history_id").first()


def _fresh(case) -> Case:
    return Case.objects.unscoped().get(pk=case.pk)


def _open_case(world, person, user=None, **fields) -> Case:
    return services.case_open(
        user=user or world.coordinator,
        person=person,
        organisation=fields.pop("organisation", person.organisation),
        opened_on=fields.pop("opened_on", OPENED_ON),
        **fields,
    )


def _action(world, case=None, family=ActionFamily.JOB_ACCOMPANIMENT, user=None, **fields):
    return services.action_add(
        user=user or world.caseworker_a,
        case=case or world.case,
        action_type=world.types[family],
        responsible=world.org_a,
        **fields,
    )


def _referral(world, case=None, to=None, **fields) -> Referral:
    fields.setdefault("message", "Looking for a placement in hospitality.")
    fields.setdefault("deadline", NEXT_WEEK)
    return services.referral_send(
        user=world.caseworker_a,
        case=case or world.case,
        to_organisation=to or world.org_b,
        **fields,
    )


def _other_network(world):
    """A network org_a does not belong to, with its own dimension and kind of action."""
    other = f.network("other-net", [world.org_c])
    dimension = DiagnosisDimension.objects.create(network=other, code="work", name={"en": "W"})
    action_type = ActionType.objects.create(
        network=other, code="hire", name={"en": "Hire"}, family=ActionFamily.HIRE
    )
    return other, dimension, action_type


# --- intake_record --------------------------------------------------------------------------


def test_a_desk_operator_records_a_visit_at_their_desk(world):
    visit = services.intake_record(
        user=world.desk_a, person=world.p_jendouba, desk=world.desk, reason="Looking for work"
    )
    visit.refresh_from_db()
    assert (visit.person, visit.desk, visit.organisation) == (
        world.p_jendouba,
        world.desk,
        world.desk.organisation,
    )
    assert visit.recorded_by == world.desk_a
    assert visit.case is None
    assert abs(visit.occurred_at - timezone.now()) < datetime.timedelta(minutes=1)
    assert _latest(visit).history_user == world.desk_a


def test_a_visit_of_a_person_outside_the_scope_is_refused(world):
    before = case_snapshot()
    with pytest.raises(AccessDenied) as refused:
        services.intake_record(user=world.desk_a, person=world.p_kef, desk=world.desk)
    assert "person" in refused.value.message_dict
    assert case_snapshot() == before


def test_a_visit_at_a_desk_of_another_organisation_is_refused(world):
    """caseworker_b sees p_kef but does not work at org_a's desk."""
    before = case_snapshot()
    with pytest.raises(AccessDenied) as refused:
        services.intake_record(user=world.caseworker_b, person=world.p_kef, desk=world.desk)
    assert "desk" in refused.value.message_dict
    assert case_snapshot() == before


@pytest.mark.parametrize("persona", READ_ONLY)
def test_a_read_only_role_cannot_record_a_visit(world, persona):
    before = case_snapshot()
    with pytest.raises(AccessDenied):
        services.intake_record(
            user=getattr(world, persona), person=world.p_jendouba, desk=world.desk
        )
    assert case_snapshot() == before


def test_a_visit_in_the_future_is_refused(world):
    with pytest.raises(DomainError) as refused:
        services.intake_record(
            user=world.desk_a,
            person=world.p_jendouba,
            desk=world.desk,
            occurred_at=timezone.now() + datetime.timedelta(hours=2),
        )
    assert "occurred_at" in refused.value.message_dict
    assert not Intake.objects.filter(person=world.p_jendouba).exists()


def test_a_visit_reason_with_a_direction_override_is_refused(world):
    with pytest.raises(DomainError) as refused:
        services.intake_record(
            user=world.desk_a, person=world.p_jendouba, desk=world.desk, reason="wo\u202erk"
        )
    assert "reason" in refused.value.message_dict


# --- case_open ------------------------------------------------------------------------------


def test_a_case_worker_opens_a_case_for_a_person_of_their_organisation(world):
    visit = services.intake_record(user=world.desk_a, person=world.p_jendouba, desk=world.desk)
    case = services.case_open(
        user=world.caseworker_a,
        person=world.p_jendouba,
        organisation=world.org_a,
        desk=world.desk,
        tutor=world.caseworker_a,
        intake=visit,
    )
    case.refresh_from_db()
    assert (case.status, case.opened_on, case.version) == (CaseStatus.OPEN, TODAY, 1)
    assert (case.person, case.organisation, case.desk, case.tutor) == (
        world.p_jendouba,
        world.org_a,
        world.desk,
        world.caseworker_a,
    )
    visit.refresh_from_db()
    assert visit.case == case
    entry = _latest(case)
    assert (entry.history_type, entry.history_user) == ("+", world.caseworker_a)
    assert case in set(Case.objects.visible_to(world.caseworker_a))


def test_opening_a_case_lets_the_lead_organisation_see_the_person(world):
    """The coordinator opens a case of org_b's person under org_a: org_a now holds it."""
    assert world.p_kef not in set(Person.objects.visible_to(world.caseworker_a))
    case = _open_case(world, world.p_kef, organisation=world.org_a)
    assert world.p_kef in set(Person.objects.visible_to(world.caseworker_a))
    assert case in set(Case.objects.visible_to(world.caseworker_a))


def test_a_second_open_case_with_the_same_organisation_is_refused(world):
    before = case_snapshot()
    with pytest.raises(DomainError) as refused:
        _open_case(world, world.p_tabarka, user=world.caseworker_a)
    assert "person" in refused.value.message_dict
    assert case_snapshot() == before


def test_a_new_case_can_be_opened_once_the_previous_one_is_closed(world):
    services.case_close(user=world.caseworker_a, case=world.case, outcome=CaseOutcome.EMPLOYED)
    case = _open_case(world, world.p_tabarka, user=world.caseworker_a)
    assert case.pk != world.case.pk
    assert Case.objects.unscoped().filter(person=world.p_tabarka).count() == 2


def test_the_tutor_must_work_for_the_lead_organisation(world):
    before = case_snapshot()
    with pytest.raises(DomainError) as refused:
        _open_case(world, world.p_jendouba, user=world.caseworker_a, tutor=world.caseworker_b)
    assert "tutor" in refused.value.message_dict
    assert case_snapshot() == before


def test_a_desk_of_another_network_is_refused(world):
    other, _dimension, _type = _other_network(world)
    foreign = Desk.objects.create(
        network=other, organisation=world.org_c, code="empoli", name={"en": "Empoli"}, kind="phone"
    )
    before = case_snapshot()
    with pytest.raises(DomainError) as refused:
        _open_case(world, world.p_jendouba, user=world.caseworker_a, desk=foreign)
    assert "desk" in refused.value.message_dict
    assert case_snapshot() == before


def test_a_case_cannot_be_opened_in_the_future(world):
    with pytest.raises(DomainError) as refused:
        _open_case(world, world.p_jendouba, opened_on=TOMORROW)
    assert "opened_on" in refused.value.message_dict
    assert not Case.objects.unscoped().filter(person=world.p_jendouba).exists()


@pytest.mark.parametrize(
    "persona,person,organisation",
    [
        ("desk_a", "p_jendouba", "org_a"),  # desk operators record visits, not cases
        ("viewer_a", "p_jendouba", "org_a"),
        ("controller_a", "p_jendouba", "org_a"),
        ("trainer_a", "p_jendouba", "org_a"),
        ("caseworker_b", "p_kef", "org_a"),  # another organisation
        ("caseworker_a", "p_kef", "org_a"),  # a person outside the scope
        ("outsider", "p_empoli", "org_c"),  # a desk operator
        ("nobody", "p_jendouba", "org_a"),
    ],
)
def test_opening_a_case_outside_the_role_or_scope_is_refused(world, persona, person, organisation):
    before = case_snapshot()
    with pytest.raises(AccessDenied):
        services.case_open(
            user=getattr(world, persona),
            person=getattr(world, person),
            organisation=getattr(world, organisation),
        )
    assert case_snapshot() == before


# --- diagnosis_record -----------------------------------------------------------------------


def test_a_case_worker_records_a_diagnosis_over_the_network_dimensions(world):
    version = world.case.version
    diagnosis = services.diagnosis_record(
        user=world.caseworker_a,
        case=world.case,
        diagnosed_on=YESTERDAY,
        levels={
            world.dim_work: (NeedLevel.HIGH, "No work for two years"),
            world.dim_health: (NeedLevel.LOW, ""),
        },
        summary="Motivated; needs a driving licence.",
        version=version,
    )
    levels = {lv.dimension.code: (lv.level, lv.note) for lv in diagnosis.levels.all()}
    assert levels == {"work": (NeedLevel.HIGH, "No work for two years"), "health": (1, "")}
    assert diagnosis.diagnosed_by == world.caseworker_a
    assert _fresh(world.case).version == version + 1
    assert _latest(diagnosis).history_user == world.caseworker_a
    assert _latest(_fresh(world.case)).history_user == world.caseworker_a


def test_a_diagnosis_before_the_case_was_opened_is_refused(world):
    before = case_snapshot()
    with pytest.raises(DomainError) as refused:
        services.diagnosis_record(
            user=world.caseworker_a,
            case=world.case,
            diagnosed_on=OPENED_ON - datetime.timedelta(days=1),
            levels={world.dim_work: (NeedLevel.LOW, "")},
        )
    assert "diagnosed_on" in refused.value.message_dict
    assert case_snapshot() == before


@pytest.mark.parametrize(
    "field,change",
    [
        ("diagnosed_on", {"diagnosed_on": TOMORROW}),
        ("levels", {"levels": {}}),
        ("summary", {"summary": "in\u202ehand"}),
    ],
)
def test_an_invalid_diagnosis_is_refused_with_the_field_named(world, field, change):
    fields = {"diagnosed_on": YESTERDAY, "levels": {world.dim_work: (NeedLevel.LOW, "")}}
    fields.update(change)
    before = case_snapshot()
    with pytest.raises(DomainError) as refused:
        services.diagnosis_record(user=world.caseworker_a, case=world.case, **fields)
    assert field in refused.value.message_dict
    assert case_snapshot() == before


def test_a_desk_operator_cannot_record_a_health_dimension(world):
    before = case_snapshot()
    with pytest.raises(AccessDenied):
        services.diagnosis_record(
            user=world.desk_a,
            case=world.case,
            diagnosed_on=YESTERDAY,
            levels={world.dim_health: (NeedLevel.HIGH, "")},
        )
    assert case_snapshot() == before


def test_a_dimension_of_another_network_is_refused(world):
    _other, dimension, _type = _other_network(world)
    before = case_snapshot()
    with pytest.raises(DomainError) as refused:
        services.diagnosis_record(
            user=world.coordinator,
            case=world.case,
            diagnosed_on=YESTERDAY,
            levels={dimension: (NeedLevel.LOW, "")},
        )
    assert "levels" in refused.value.message_dict
    assert case_snapshot() == before


def test_a_diagnosis_of_a_case_outside_the_scope_is_refused(world):
    before = case_snapshot()
    with pytest.raises(AccessDenied):
        services.diagnosis_record(
            user=world.caseworker_b,
            case=world.case,
            diagnosed_on=YESTERDAY,
            levels={world.dim_work: (NeedLevel.LOW, "")},
        )
    assert case_snapshot() == before


# --- action_add, action_update --------------------------------------------------------------


def test_an_internship_without_an_end_lasts_its_default_three_months(world):
    start = OPENED_ON + datetime.timedelta(days=3)
    action = _action(world, family=ActionFamily.INTERNSHIP, start=start)
    assert world.types[ActionFamily.INTERNSHIP].default_months == 3
    assert action.end == services.add_months(start, 3)
    assert (action.end.year * 12 + action.end.month) - (start.year * 12 + start.month) == 3


def test_an_end_given_with_the_action_is_kept(world):
    start = OPENED_ON + datetime.timedelta(days=3)
    end = start + datetime.timedelta(days=20)
    action = _action(world, family=ActionFamily.INTERNSHIP, start=start, end=end)
    assert action.end == end


def test_an_action_without_a_usual_length_gets_no_end(world):
    action = _action(world, family=ActionFamily.JOB_ACCOMPANIMENT, start=OPENED_ON)
    assert action.end is None


def test_a_hire_keeps_its_contract_type_and_stipend(world):
    action = _action(
        world,
        family=ActionFamily.HIRE,
        start=OPENED_ON,
        status=ActionStatus.ONGOING,
        contract_type=ContractType.FIXED_TERM,
        host=world.org_c,
    )
    action.refresh_from_db()
    assert (action.contract_type, action.host, action.status) == (
        ContractType.FIXED_TERM,
        world.org_c,
        ActionStatus.ONGOING,
    )


def test_adding_an_action_bumps_the_version_and_names_the_user(world):
    version = world.case.version
    action = _action(world, version=version)
    assert _fresh(world.case).version == version + 1
    assert _latest(action).history_user == world.caseworker_a
    entry = _latest(_fresh(world.case))
    assert (entry.history_user, entry.history_change_reason) == (
        world.caseworker_a,
        "action planned",
    )


@pytest.mark.parametrize(
    "field,fields",
    [
        ("end", {"start": OPENED_ON + datetime.timedelta(days=10), "end": OPENED_ON}),
        ("start", {"start": OPENED_ON - datetime.timedelta(days=1)}),
        ("start", {"status": ActionStatus.ONGOING}),
        ("extended_until", {"start": OPENED_ON, "end": YESTERDAY, "extended_until": YESTERDAY}),
        ("monthly_stipend", {"monthly_stipend": -1}),
        ("status", {"status": "finished"}),
        ("contract_type", {"contract_type": "zero_hours"}),
        ("outcome", {"outcome": "ok\x00"}),
        ("archived_at", {"archived_at": None}),
    ],
)
def test_an_invalid_action_is_refused_with_the_field_named(world, field, fields):
    before = case_snapshot()
    with pytest.raises(DomainError) as refused:
        _action(world, **fields)
    assert field in refused.value.message_dict
    assert case_snapshot() == before


def test_a_kind_of_action_of_another_network_is_refused(world):
    _other, _dimension, action_type = _other_network(world)
    before = case_snapshot()
    with pytest.raises(DomainError) as refused:
        services.action_add(
            user=world.caseworker_a,
            case=world.case,
            action_type=action_type,
            responsible=world.org_a,
        )
    assert "action_type" in refused.value.message_dict
    assert case_snapshot() == before


@pytest.mark.parametrize("persona", ["desk_a", "desk_tabarka", *READ_ONLY])
def test_a_role_without_health_access_cannot_plan_a_care_pathway(world, persona):
    before = case_snapshot()
    with pytest.raises(AccessDenied):
        _action(world, family=ActionFamily.CARE_PATHWAY, user=getattr(world, persona))
    assert case_snapshot() == before


def test_a_case_worker_plans_a_care_pathway(world):
    action = _action(world, family=ActionFamily.CARE_PATHWAY, start=OPENED_ON)
    assert action.action_type.is_health
    assert action in set(selectors.visible_actions(world.caseworker_a, world.case))
    assert action not in set(selectors.visible_actions(world.desk_a, world.case))


def test_a_closed_case_takes_no_new_action(world):
    services.case_close(user=world.caseworker_a, case=world.case, outcome=CaseOutcome.EMPLOYED)
    before = case_snapshot()
    with pytest.raises(DomainError):
        _action(world, case=_fresh(world.case))
    assert case_snapshot() == before


def test_updating_an_action_saves_it_bumps_the_version_and_names_the_user(world):
    action = _action(world, start=OPENED_ON)
    version = _fresh(world.case).version
    services.action_update(
        user=world.coordinator,
        action=action,
        version=version,
        status=ActionStatus.COMPLETED,
        outcome="Signed a contract",
    )
    action.refresh_from_db()
    assert (action.status, action.outcome) == (ActionStatus.COMPLETED, "Signed a contract")
    assert _fresh(world.case).version == version + 1
    assert _latest(action).history_user == world.coordinator


def test_two_case_workers_editing_the_same_plan_do_not_overwrite_each_other(world):
    """Both loaded the case at the same version; the second save is refused, nothing of it
    is written, and the first one's change stays."""
    action = _action(world, start=OPENED_ON)
    loaded = _fresh(world.case).version  # both pages show this version
    services.action_update(
        user=world.coordinator, action=action, version=loaded, outcome="Interview on Monday"
    )
    before = case_snapshot()
    with pytest.raises(DomainError) as refused:
        services.action_update(
            user=world.caseworker_a,
            action=action,
            version=loaded,
            outcome="Waiting for an answer",
            status=ActionStatus.INTERRUPTED,
        )
    assert "Reload" in " ".join(refused.value.messages)
    assert case_snapshot() == before
    action.refresh_from_db()
    assert (action.outcome, action.status) == ("Interview on Monday", ActionStatus.PLANNED)


@pytest.mark.parametrize(
    "call",
    [
        lambda w, v: _action(w, version=v),
        lambda w, v: services.diagnosis_record(
            user=w.caseworker_a,
            case=w.case,
            diagnosed_on=YESTERDAY,
            levels={w.dim_work: (NeedLevel.LOW, "")},
            version=v,
        ),
        lambda w, v: services.case_close(
            user=w.caseworker_a, case=w.case, outcome=CaseOutcome.EMPLOYED, version=v
        ),
        lambda w, v: services.case_assign_tutor(
            user=w.caseworker_a, case=w.case, tutor=w.coordinator, version=v
        ),
    ],
    ids=["action_add", "diagnosis_record", "case_close", "case_assign_tutor"],
)
def test_a_stale_version_is_refused_and_nothing_is_saved(world, call):
    stale = world.case.version
    services.note_add(user=world.caseworker_a, case=world.case, body="unrelated")  # no bump
    _action(world)  # someone else changed the plan
    before = case_snapshot()
    with pytest.raises(DomainError):
        call(world, stale)
    assert case_snapshot() == before


def test_a_role_without_health_access_cannot_change_a_care_pathway(world):
    action = _action(world, family=ActionFamily.CARE_PATHWAY)
    before = case_snapshot()
    with pytest.raises(AccessDenied):
        services.action_update(user=world.desk_a, action=action, status=ActionStatus.CANCELLED)
    assert case_snapshot() == before


# --- referral_send --------------------------------------------------------------------------


def test_a_referral_needs_the_persons_consent_and_says_so(world):
    case = _open_case(world, world.p_kef, organisation=world.org_b)
    world.consent_kef.delete()
    before = case_snapshot()
    with pytest.raises(DomainError) as refused:
        services.referral_send(
            user=world.caseworker_b,
            case=case,
            to_organisation=world.org_a,
            message="Please see her",
            deadline=NEXT_WEEK,
        )
    message = " ".join(refused.value.message_dict["to_organisation"])
    assert "consent" in message
    assert "referral" in message  # names the purpose to record
    assert case_snapshot() == before


def test_a_withdrawn_consent_does_not_allow_a_referral(world):
    """p_jendouba agreed to network sharing, then withdrew."""
    assert world.consent_jendouba.withdrawn_on is not None
    case = _open_case(world, world.p_jendouba, user=world.caseworker_a)
    before = case_snapshot()
    with pytest.raises(DomainError) as refused:
        _referral(world, case=case)
    assert "consent" in " ".join(refused.value.message_dict["to_organisation"])
    assert case_snapshot() == before


def test_a_consent_for_another_purpose_does_not_allow_a_referral(world):
    case = _open_case(world, world.p_jendouba, user=world.caseworker_a)
    for purpose in (ConsentPurpose.REGISTRATION, ConsentPurpose.HEALTH, ConsentPurpose.CONTACT):
        Consent.objects.create(
            person=world.p_jendouba,
            purpose=purpose,
            lawful_basis=LawfulBasis.CONSENT,
            organisation=world.org_a,
            given_on=OPENED_ON,
            recorded_by=world.caseworker_a,
        )
    with pytest.raises(DomainError):
        _referral(world, case=case)
    assert not Referral.objects.unscoped().filter(case=case).exists()


def test_a_consent_to_network_sharing_allows_a_referral(world):
    case = _open_case(world, world.p_kef, organisation=world.org_b)
    referral = services.referral_send(
        user=world.caseworker_b,
        case=case,
        to_organisation=world.org_a,
        message="Please see him",
        deadline=NEXT_WEEK,
    )
    assert referral.consent == world.consent_kef


def test_sending_a_referral_records_it_with_the_consent_and_names_the_user(world):
    version = world.case.version
    action = _action(world, family=ActionFamily.JOB_PLACEMENT)
    referral = _referral(world, action=action)
    referral.refresh_from_db()
    assert (referral.status, referral.from_organisation, referral.to_organisation) == (
        ReferralStatus.SENT,
        world.org_a,
        world.org_b,
    )
    assert (referral.consent, referral.action, referral.sent_by) == (
        world.consent_tabarka,
        action,
        world.caseworker_a,
    )
    assert _fresh(world.case).version == version + 2  # the action, then the referral
    assert _latest(referral).history_user == world.caseworker_a
    # The partner does not see the person until it accepts.
    assert world.p_tabarka not in set(Person.objects.visible_to(world.caseworker_b))


@pytest.mark.parametrize(
    "field,change",
    [
        ("deadline", {"deadline": YESTERDAY}),
        ("to_organisation", {"to": "org_a"}),  # the organisation leading the case
        ("message", {"message": ""}),
        ("message", {"message": "see\u202e her"}),
    ],
)
def test_an_invalid_referral_is_refused_with_the_field_named(world, field, change):
    if "to" in change:
        change["to"] = getattr(world, change["to"])
    before = case_snapshot()
    with pytest.raises(DomainError) as refused:
        _referral(world, **change)
    assert field in refused.value.message_dict
    assert case_snapshot() == before


def test_a_second_referral_awaiting_an_answer_is_refused(world):
    _referral(world)
    before = case_snapshot()
    with pytest.raises(DomainError) as refused:
        _referral(world)
    assert "to_organisation" in refused.value.message_dict
    assert case_snapshot() == before


def test_an_action_of_another_case_cannot_be_referred(world):
    other = _open_case(world, world.p_jendouba, user=world.caseworker_a)
    foreign = _action(world, case=other)
    before = case_snapshot()
    with pytest.raises(DomainError) as refused:
        _referral(world, action=foreign)
    assert "action" in refused.value.message_dict
    assert case_snapshot() == before


@pytest.mark.parametrize("persona", ["desk_a", "caseworker_b", "outsider", *READ_ONLY])
def test_only_who_works_the_case_refers_it(world, persona):
    before = case_snapshot()
    with pytest.raises(AccessDenied):
        services.referral_send(
            user=getattr(world, persona),
            case=world.case,
            to_organisation=world.org_b,
            message="x",
            deadline=NEXT_WEEK,
        )
    assert case_snapshot() == before


# --- referral_answer, referral_return_outcome, referral_cancel -----------------------------


@pytest.mark.parametrize(
    "persona", ["caseworker_a", "desk_a", "viewer_a", "outsider", "nobody", "desk_tabarka"]
)
def test_only_the_receiving_partner_answers_a_referral(world, persona):
    referral = _referral(world)
    before = case_snapshot()
    with pytest.raises(AccessDenied):
        services.referral_answer(user=getattr(world, persona), referral=referral, accept=True)
    assert case_snapshot() == before


def test_declining_needs_a_reason(world):
    referral = _referral(world)
    before = case_snapshot()
    with pytest.raises(DomainError) as refused:
        services.referral_answer(
            user=world.caseworker_b, referral=referral, accept=False, reason="   "
        )
    assert "decline_reason" in refused.value.message_dict
    assert case_snapshot() == before


def test_declining_keeps_the_reason_and_gives_the_partner_no_access(world):
    referral = _referral(world)
    services.referral_answer(
        user=world.caseworker_b, referral=referral, accept=False, reason=" No place left "
    )
    referral.refresh_from_db()
    assert (referral.status, referral.decline_reason, referral.answered_by) == (
        ReferralStatus.DECLINED,
        "No place left",
        world.caseworker_b,
    )
    assert referral.answered_at is not None
    assert world.p_tabarka not in set(Person.objects.visible_to(world.caseworker_b))
    assert _latest(referral).history_user == world.caseworker_b


@pytest.mark.parametrize("reason", ["x" * 501, "no\u202e place"])
def test_an_invalid_reason_for_declining_is_refused(world, reason):
    referral = _referral(world)
    before = case_snapshot()
    with pytest.raises(DomainError) as refused:
        services.referral_answer(
            user=world.caseworker_b, referral=referral, accept=False, reason=reason
        )
    assert "decline_reason" in refused.value.message_dict
    assert case_snapshot() == before


def test_accepting_lets_the_partner_see_the_person_but_not_the_case(world):
    referral = _referral(world)
    assert world.p_tabarka not in set(Person.objects.visible_to(world.caseworker_b))
    services.referral_answer(user=world.caseworker_b, referral=referral, accept=True)
    referral.refresh_from_db()
    assert (referral.status, referral.answered_by) == (ReferralStatus.ACCEPTED, world.caseworker_b)
    share = PersonShare.objects.get(person=world.p_tabarka, organisation=world.org_b)
    assert share.reason == ShareReason.REFERRAL
    assert _latest(share).history_user == world.caseworker_b
    assert world.p_tabarka in set(Person.objects.visible_to(world.caseworker_b))
    assert world.case not in set(Case.objects.visible_to(world.caseworker_b))


def test_a_referral_is_answered_once(world):
    referral = _referral(world)
    services.referral_answer(user=world.caseworker_b, referral=referral, accept=True)
    before = case_snapshot()
    with pytest.raises(DomainError):
        services.referral_answer(
            user=world.caseworker_b, referral=referral, accept=False, reason="x"
        )
    assert case_snapshot() == before


def test_a_consent_withdrawn_after_sending_prevents_acceptance(world):
    referral = _referral(world)
    Consent.objects.filter(pk=world.consent_tabarka.pk).update(withdrawn_on=TODAY)
    before = case_snapshot()
    with pytest.raises(DomainError):
        services.referral_answer(user=world.caseworker_b, referral=referral, accept=True)
    assert case_snapshot() == before
    assert world.p_tabarka not in set(Person.objects.visible_to(world.caseworker_b))


def test_the_partner_returns_the_outcome_and_the_referring_case_worker_reads_it(world):
    referral = _referral(world)
    services.referral_answer(user=world.caseworker_b, referral=referral, accept=True)
    services.referral_return_outcome(
        user=world.caseworker_b, referral=referral, outcome=" Hired as a cook from May. "
    )
    seen = Referral.objects.visible_to(world.caseworker_a).get(pk=referral.pk)
    assert (seen.status, seen.outcome) == (ReferralStatus.COMPLETED, "Hired as a cook from May.")
    assert seen.outcome_at is not None
    assert _latest(seen).history_user == world.caseworker_b


def test_an_outcome_needs_an_accepted_referral(world):
    referral = _referral(world)
    before = case_snapshot()
    with pytest.raises(DomainError):
        services.referral_return_outcome(user=world.caseworker_b, referral=referral, outcome="x")
    assert case_snapshot() == before


def test_an_empty_outcome_is_refused(world):
    referral = _referral(world)
    services.referral_answer(user=world.caseworker_b, referral=referral, accept=True)
    before = case_snapshot()
    with pytest.raises(DomainError) as refused:
        services.referral_return_outcome(user=world.caseworker_b, referral=referral, outcome=" ")
    assert "outcome" in refused.value.message_dict
    assert case_snapshot() == before


@pytest.mark.parametrize("persona", ["caseworker_a", "coordinator_of_a_only", "desk_a", "outsider"])
def test_only_the_partner_returns_the_outcome(world, persona):
    referral = _referral(world)
    services.referral_answer(user=world.caseworker_b, referral=referral, accept=True)
    if persona == "coordinator_of_a_only":
        user = f.UserFactory(username="coordinator_a")
        f.membership(user, world.org_a, f.Role.COORDINATOR)
    else:
        user = getattr(world, persona)
    before = case_snapshot()
    with pytest.raises(AccessDenied):
        services.referral_return_outcome(user=user, referral=referral, outcome="Done")
    assert case_snapshot() == before


def test_the_referring_case_worker_cancels_a_referral_awaiting_an_answer(world):
    referral = _referral(world)
    services.referral_cancel(user=world.caseworker_a, referral=referral)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.CANCELLED
    assert _latest(referral).history_user == world.caseworker_a
    with pytest.raises(DomainError):
        services.referral_answer(user=world.caseworker_b, referral=referral, accept=True)
    # Once cancelled, the same partner can be asked again.
    assert _referral(world).status == ReferralStatus.SENT


@pytest.mark.parametrize("persona", ["caseworker_b", "desk_a", "viewer_a", "outsider"])
def test_only_who_works_the_case_cancels_its_referral(world, persona):
    referral = _referral(world)
    before = case_snapshot()
    with pytest.raises(AccessDenied):
        services.referral_cancel(user=getattr(world, persona), referral=referral)
    assert case_snapshot() == before


def test_an_answered_referral_cannot_be_cancelled(world):
    referral = _referral(world)
    services.referral_answer(user=world.caseworker_b, referral=referral, accept=True)
    with pytest.raises(DomainError):
        services.referral_cancel(user=world.caseworker_a, referral=referral)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED


# --- note_add -------------------------------------------------------------------------------


def test_a_desk_operator_adds_a_note_everyone_on_the_case_reads(world):
    note = services.note_add(user=world.desk_a, case=world.case, body="Came with her brother.")
    assert note.confidentiality == Confidentiality.STANDARD
    assert _latest(note).history_user == world.desk_a
    for persona in ("desk_a", "viewer_a", "caseworker_a", "coordinator"):
        assert note in set(selectors.visible_notes(getattr(world, persona), world.case))


@pytest.mark.parametrize("level", [Confidentiality.RESTRICTED, Confidentiality.HEALTH])
def test_a_desk_operator_cannot_write_a_confidential_note(world, level):
    before = case_snapshot()
    with pytest.raises(AccessDenied) as refused:
        services.note_add(user=world.desk_a, case=world.case, body="x", confidentiality=level)
    assert "confidentiality" in refused.value.message_dict
    assert case_snapshot() == before


@pytest.mark.parametrize("level", [Confidentiality.RESTRICTED, Confidentiality.HEALTH])
def test_a_confidential_note_is_read_only_by_case_workers_and_coordinators(world, level):
    note = services.note_add(
        user=world.caseworker_a, case=world.case, body="Follow-up at CSM", confidentiality=level
    )
    readers = {
        persona
        for persona in ("coordinator", "caseworker_a", "desk_a", "desk_tabarka", *READ_ONLY)
        if note in set(selectors.visible_notes(getattr(world, persona), world.case))
    }
    assert readers == {"coordinator", "caseworker_a"}


@pytest.mark.parametrize("persona", [*READ_ONLY, "caseworker_b", "outsider", "nobody"])
def test_who_does_not_work_at_the_desk_or_on_the_case_writes_no_note(world, persona):
    before = case_snapshot()
    with pytest.raises(AccessDenied):
        services.note_add(user=getattr(world, persona), case=world.case, body="x")
    assert case_snapshot() == before


def test_a_note_at_an_unknown_level_is_refused(world):
    with pytest.raises(DomainError) as refused:
        services.note_add(
            user=world.caseworker_a, case=world.case, body="x", confidentiality="secret"
        )
    assert "confidentiality" in refused.value.message_dict
    assert not CaseNote.objects.exists()


# --- case_close, add_months, case_reopen, follow_up_record ---------------------------------


def _month_later(day: datetime.date, months: int) -> datetime.date:
    """The oracle: the same day ``months`` later, else that month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return datetime.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@pytest.mark.parametrize(
    "day,months,expected",
    [
        (datetime.date(2023, 1, 31), 1, datetime.date(2023, 2, 28)),
        (datetime.date(2024, 1, 31), 1, datetime.date(2024, 2, 29)),
        (datetime.date(2024, 8, 31), 6, datetime.date(2025, 2, 28)),
        (datetime.date(2023, 8, 31), 6, datetime.date(2024, 2, 29)),
        (datetime.date(2024, 3, 31), 6, datetime.date(2024, 9, 30)),
        (datetime.date(2024, 12, 31), 12, datetime.date(2025, 12, 31)),
        (datetime.date(2024, 2, 29), 12, datetime.date(2025, 2, 28)),
        (datetime.date(2024, 7, 15), 6, datetime.date(2025, 1, 15)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_last_day_of_the_month(day, months, expected):
    assert services.add_months(day, months) == expected


def test_add_months_agrees_with_the_calendar_over_four_years():
    day = datetime.date(2023, 1, 1)
    while day < datetime.date(2027, 1, 1):
        for months in (1, 3, 6, 12, 25):
            assert services.add_months(day, months) == _month_later(day, months), (day, months)
        day += datetime.timedelta(days=1)


def test_closing_a_case_schedules_follow_ups_at_6_and_12_months(world):
    closed_on = YESTERDAY
    version = world.case.version
    services.case_close(
        user=world.caseworker_a,
        case=world.case,
        outcome=CaseOutcome.EMPLOYED,
        reason="Hired by the hotel",
        closed_on=closed_on,
        version=version,
    )
    case = _fresh(world.case)
    assert (case.status, case.closed_on, case.outcome, case.closure_reason) == (
        CaseStatus.CLOSED,
        closed_on,
        CaseOutcome.EMPLOYED,
        "Hired by the hotel",
    )
    assert case.version == version + 1
    due = {fu.months_after: fu.due_on for fu in case.follow_ups.all()}
    assert due == {6: _month_later(closed_on, 6), 12: _month_later(closed_on, 12)}
    entry = _latest(case)
    assert (entry.history_user, entry.history_change_reason) == (world.caseworker_a, "closed")
    for follow_up in case.follow_ups.all():
        assert _latest(follow_up).history_user == world.caseworker_a


def test_a_case_closed_on_31_august_is_followed_up_at_the_end_of_february(world):
    case = _open_case(
        world, world.p_jendouba, user=world.caseworker_a, opened_on=datetime.date(2023, 8, 1)
    )
    services.case_close(
        user=world.caseworker_a,
        case=case,
        outcome=CaseOutcome.TRAINING,
        closed_on=datetime.date(2023, 8, 31),
    )
    due = dict(case.follow_ups.values_list("months_after", "due_on"))
    assert due == {6: datetime.date(2024, 2, 29), 12: datetime.date(2024, 8, 31)}


@pytest.mark.parametrize(
    "field,fields",
    [
        ("closed_on", {"closed_on": TOMORROW}),
        ("closed_on", {"closed_on": OPENED_ON - datetime.timedelta(days=1)}),
        ("outcome", {"outcome": "retired"}),
        ("outcome", {"outcome": ""}),
        ("closure_reason", {"reason": "gone\u202e"}),
    ],
)
def test_an_invalid_closure_is_refused_with_the_field_named(world, field, fields):
    fields.setdefault("outcome", CaseOutcome.EMPLOYED)
    before = case_snapshot()
    with pytest.raises(DomainError) as refused:
        services.case_close(user=world.caseworker_a, case=world.case, **fields)
    assert field in refused.value.message_dict
    assert case_snapshot() == before


def test_a_closed_case_cannot_be_closed_again(world):
    services.case_close(user=world.caseworker_a, case=world.case, outcome=CaseOutcome.EMPLOYED)
    before = case_snapshot()
    with pytest.raises(DomainError):
        services.case_close(user=world.caseworker_a, case=world.case, outcome=CaseOutcome.MOVED)
    assert case_snapshot() == before


@pytest.mark.parametrize("persona", ["desk_a", "caseworker_b", *READ_ONLY])
def test_only_who_works_the_case_closes_it(world, persona):
    before = case_snapshot()
    with pytest.raises(AccessDenied):
        services.case_close(
            user=getattr(world, persona), case=world.case, outcome=CaseOutcome.EMPLOYED
        )
    assert case_snapshot() == before


def test_reopening_clears_the_closure_and_the_pending_follow_ups(world):
    services.case_close(user=world.caseworker_a, case=world.case, outcome=CaseOutcome.MOVED)
    version = _fresh(world.case).version
    services.case_reopen(user=world.coordinator, case=world.case, version=version)
    case = _fresh(world.case)
    assert (case.status, case.closed_on, case.outcome, case.closure_reason) == (
        CaseStatus.OPEN,
        None,
        "",
        "",
    )
    assert case.version == version + 1
    assert not case.follow_ups.exists()
    entry = _latest(case)
    assert (entry.history_user, entry.history_change_reason) == (world.coordinator, "reopened")
    # Open again: the plan takes new actions.
    _action(world)


def test_a_case_is_not_reopened_beside_another_open_case_of_the_person(world):
    """Reopening follows the rule of opening: one open case per person and organisation."""
    services.case_close(user=world.caseworker_a, case=world.case, outcome=CaseOutcome.MOVED)
    _open_case(world, world.p_tabarka, user=world.caseworker_a)
    before = case_snapshot()
    with pytest.raises(DomainError) as refused:
        services.case_reopen(user=world.caseworker_a, case=world.case)
    assert "person" in refused.value.message_dict
    assert case_snapshot() == before


def test_an_open_case_cannot_be_reopened(world):
    before = case_snapshot()
    with pytest.raises(DomainError):
        services.case_reopen(user=world.caseworker_a, case=world.case)
    assert case_snapshot() == before


def _closed_case_follow_up(world, months=6) -> FollowUp:
    services.case_close(user=world.caseworker_a, case=world.case, outcome=CaseOutcome.EMPLOYED)
    return FollowUp.objects.get(case=world.case, months_after=months)


def test_a_follow_up_records_the_situation(world):
    follow_up = _closed_case_follow_up(world)
    services.follow_up_record(
        user=world.caseworker_a,
        follow_up=follow_up,
        situation=Situation.IN_WORK,
        note="Still at the hotel",
        done_on=TODAY,
    )
    follow_up.refresh_from_db()
    assert (follow_up.situation, follow_up.note, follow_up.done_on, follow_up.recorded_by) == (
        Situation.IN_WORK,
        "Still at the hotel",
        TODAY,
        world.caseworker_a,
    )
    assert _latest(follow_up).history_user == world.caseworker_a


@pytest.mark.parametrize(
    "field,fields",
    [
        ("done_on", {"done_on": TOMORROW}),
        ("situation", {"situation": "retired"}),
        ("note", {"note": "x" * 501}),
    ],
)
def test_an_invalid_follow_up_is_refused_with_the_field_named(world, field, fields):
    follow_up = _closed_case_follow_up(world)
    fields.setdefault("situation", Situation.IN_WORK)
    before = case_snapshot()
    with pytest.raises(DomainError) as refused:
        services.follow_up_record(user=world.caseworker_a, follow_up=follow_up, **fields)
    assert field in refused.value.message_dict
    assert case_snapshot() == before


@pytest.mark.parametrize("persona", ["desk_a", "caseworker_b", *READ_ONLY])
def test_only_who_works_the_case_records_a_follow_up(world, persona):
    follow_up = _closed_case_follow_up(world)
    before = case_snapshot()
    with pytest.raises(AccessDenied):
        services.follow_up_record(
            user=getattr(world, persona), follow_up=follow_up, situation=Situation.IN_WORK
        )
    assert case_snapshot() == before


# --- caseload and timeline ------------------------------------------------------------------


def test_the_caseload_lists_the_tutors_open_cases_with_overdue_ones_first(world):
    calm = _open_case(world, world.p_jendouba, user=world.caseworker_a, tutor=world.caseworker_a)
    late = _open_case(
        world, world.p_kef, organisation=world.org_a, tutor=world.caseworker_a
    )  # by the coordinator
    not_mine = _open_case(world, world.p_kef, organisation=world.org_b)
    _action(world, case=calm, start=OPENED_ON, end=TODAY + datetime.timedelta(days=30))
    overdue = _action(world, case=late, start=OPENED_ON, end=YESTERDAY)
    assert overdue.is_overdue
    closed = _fresh(world.case)
    services.case_close(user=world.caseworker_a, case=closed, outcome=CaseOutcome.MOVED)

    listed = list(selectors.caseload(user=world.caseworker_a))
    assert listed[0] == late
    assert set(listed) == {late, calm}  # not the closed one, not another tutor's
    assert not_mine not in listed
    assert [c.has_overdue for c in listed] == [1, 0]
    # Once the late action is extended, nothing is overdue any more.
    services.action_update(user=world.caseworker_a, action=overdue, extended_until=NEXT_WEEK)
    assert not any(c.has_overdue for c in selectors.caseload(user=world.caseworker_a))


def test_an_overdue_referral_puts_its_case_first_in_the_caseload(world):
    other = _open_case(world, world.p_jendouba, user=world.caseworker_a, tutor=world.caseworker_a)
    _action(world, case=other, start=OPENED_ON, end=NEXT_WEEK)
    referral = _referral(world)
    assert [c.pk for c in selectors.caseload(user=world.caseworker_a)][0] == other.pk
    Referral.objects.unscoped().filter(pk=referral.pk).update(deadline=YESTERDAY)  # time passes
    referral.refresh_from_db()
    assert referral.is_overdue
    assert [c.pk for c in selectors.caseload(user=world.caseworker_a)][0] == world.case.pk


def test_the_timeline_shows_visits_cases_actions_and_referrals(world):
    services.intake_record(user=world.desk_a, person=world.p_tabarka, desk=world.desk)
    _action(world, family=ActionFamily.JOB_ACCOMPANIMENT, start=OPENED_ON)
    _action(world, family=ActionFamily.CARE_PATHWAY, start=OPENED_ON)
    _referral(world)
    kinds = [
        e.kind for e in selectors.person_timeline(user=world.caseworker_a, person=world.p_tabarka)
    ]
    assert sorted(kinds) == ["action", "action", "case", "intake", "referral"]
    desk_view = selectors.person_timeline(user=world.desk_a, person=world.p_tabarka)
    labels = [e.label for e in desk_view]
    assert str(world.types[ActionFamily.JOB_ACCOMPANIMENT]) in labels
    assert str(world.types[ActionFamily.CARE_PATHWAY]) not in labels
    dates = [e.when for e in desk_view]
    assert dates == sorted(dates, reverse=True)
