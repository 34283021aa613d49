"""Personas against the cases' pages: who sees what, who may do what.

A case or referral outside the persona's scope is "not found" (404) on every page and action,
never "forbidden" and never a server error; one inside it but beyond the persona's role is
refused with a message and left as it was. The partner receiving a referral sees the referral
page and nothing of the case. Health information (health and restricted notes, care
pathways, health dimensions) is read only by coordinators and case workers.
"""

import datetime
from dataclasses import dataclass

import pytest

from tadamun.accounts.models import Role
from tadamun.cases import services
from tadamun.cases.models import (
    ActionFamily,
    Case,
    CaseOutcome,
    Confidentiality,
    NeedLevel,
    Referral,
    ReferralStatus,
)
from tadamun.registry.models import Person

from .. import factories as f
from ..helpers import error_messages
from .conftest import CASE_PERSONAS, OPENED_ON, SEES_THE_CASE, TODAY, WORKS_THE_CASE, case_snapshot

NEXT_WEEK = TODAY + datetime.timedelta(days=7)
# p_jendouba lives outside Tabarka: the territory desk does not see their case.
SEES_THE_CLOSED_CASE = SEES_THE_CASE - {"desk_tabarka"}
HEALTH_READERS = WORKS_THE_CASE
# Who has a role reading health information somewhere: the report has a care pathway line
# for them (counting only the cases of organisations where they read it).
REPORT_HEALTH = HEALTH_READERS | {"caseworker_b"}

# Texts that only health readers may find on a page.
HEALTH_NOTE = "Seen by the psychiatrist on Tuesday"
RESTRICTED_NOTE = "Owes three months of rent"
STANDARD_NOTE = "Came with her brother"
CARE_PATHWAY = "Care pathway with the health authority (net)"
HEALTH_DIMENSION = "Mental health"
DIAGNOSIS_SUMMARY = "Motivated, needs a driving licence"


@dataclass
class Records:
    world: object
    case: Case  # open, p_tabarka, org_a
    closed: Case  # closed, p_jendouba, org_a, with its follow-ups
    kef_case: Case  # open, p_kef, org_b
    action: object
    care: object  # a care pathway of the open case
    sent: Referral  # org_a -> org_b, awaiting an answer
    accepted: Referral  # org_a -> org_c, accepted by the outsider

    def user(self, persona):
        return getattr(self.world, persona)


@pytest.fixture
def records(world) -> Records:
    w = world
    cw = w.caseworker_a
    services.diagnosis_record(
        user=cw,
        case=w.case,
        diagnosed_on=OPENED_ON,
        levels={w.dim_work: (NeedLevel.HIGH, ""), w.dim_health: (NeedLevel.MODERATE, "")},
        summary=DIAGNOSIS_SUMMARY,
    )
    action = services.action_add(
        user=cw,
        case=w.case,
        action_type=w.types[ActionFamily.JOB_ACCOMPANIMENT],
        responsible=w.org_a,
        start=OPENED_ON,
    )
    care = services.action_add(
        user=cw,
        case=w.case,
        action_type=w.types[ActionFamily.CARE_PATHWAY],
        responsible=w.org_a,
        start=OPENED_ON,
    )
    for body, level in [
        (HEALTH_NOTE, Confidentiality.HEALTH),
        (RESTRICTED_NOTE, Confidentiality.RESTRICTED),
        (STANDARD_NOTE, Confidentiality.STANDARD),
    ]:
        services.note_add(user=cw, case=w.case, body=body, confidentiality=level)
    sent = services.referral_send(
        user=cw,
        case=w.case,
        to_organisation=w.org_b,
        message="Needs a placement in a kitchen",
        deadline=NEXT_WEEK,
        action=action,
    )
    accepted = services.referral_send(
        user=cw, case=w.case, to_organisation=w.org_c, message="Language course", deadline=NEXT_WEEK
    )
    services.referral_answer(user=w.outsider, referral=accepted, accept=True)
    closed = services.case_open(
        user=cw, person=w.p_jendouba, organisation=w.org_a, opened_on=OPENED_ON
    )
    services.case_close(user=cw, case=closed, outcome=CaseOutcome.TRAINING)
    kef_case = services.case_open(
        user=w.caseworker_b, person=w.p_kef, organisation=w.org_b, opened_on=OPENED_ON
    )
    return Records(
        world=w,
        case=Case.objects.unscoped().get(pk=w.case.pk),
        closed=Case.objects.unscoped().get(pk=closed.pk),
        kef_case=kef_case,
        action=action,
        care=care,
        sent=sent,
        accepted=Referral.objects.unscoped().get(pk=accepted.pk),
    )


# --- reads ----------------------------------------------------------------------------------


def _case_pages(records):
    return {
        "detail": f"/cases/{records.case.pk}/",
        "history": f"/cases/{records.case.pk}/history/",
    }


@pytest.mark.parametrize("page", ["detail", "history"])
@pytest.mark.parametrize("persona", CASE_PERSONAS)
def test_a_case_page_is_shown_in_scope_and_not_found_outside(client_for, records, persona, page):
    response = client_for(records.user(persona)).get(_case_pages(records)[page])
    assert response.status_code == (200 if persona in SEES_THE_CASE else 404)
    if response.status_code == 404:
        assert records.world.p_tabarka.given_name not in response.content.decode()


@pytest.mark.parametrize("persona", CASE_PERSONAS)
def test_the_closed_case_of_a_person_outside_the_territory_is_not_found(
    client_for, records, persona
):
    response = client_for(records.user(persona)).get(f"/cases/{records.closed.pk}/")
    assert response.status_code == (200 if persona in SEES_THE_CLOSED_CASE else 404)


@pytest.mark.parametrize("url", ["/cases/999999/", "/cases/999999/history/"])
def test_a_case_that_does_not_exist_is_not_found_either(client_for, records, url):
    assert client_for(records.world.operator).get(url).status_code == 404


@pytest.mark.parametrize("persona", sorted(SEES_THE_CASE))
def test_the_case_page_shows_health_information_only_to_health_readers(
    client_for, records, persona
):
    html = client_for(records.user(persona)).get(f"/cases/{records.case.pk}/").content.decode()
    assert STANDARD_NOTE in html
    assert DIAGNOSIS_SUMMARY in html
    assert str(records.world.types[ActionFamily.JOB_ACCOMPANIMENT]) in html
    health = persona in HEALTH_READERS
    for text in (HEALTH_NOTE, RESTRICTED_NOTE, CARE_PATHWAY, HEALTH_DIMENSION):
        assert (text in html) == health, (persona, text)


@pytest.mark.parametrize("persona", CASE_PERSONAS)
def test_the_person_timeline_shows_care_pathways_only_to_health_readers(
    client_for, records, persona
):
    response = client_for(records.user(persona)).get(f"/people/{records.world.p_tabarka.pk}/")
    if response.status_code == 404:
        assert persona not in SEES_THE_CASE
        return
    labels = [entry.label for entry in response.context["timeline"]]
    assert (CARE_PATHWAY in labels) == (persona in HEALTH_READERS)
    assert (CARE_PATHWAY in response.content.decode()) == (persona in HEALTH_READERS)
    # Entries of the case (and links to it) only for who sees the case.
    case_url = f"/cases/{records.case.pk}/"
    assert any(e.url == case_url for e in response.context["timeline"]) == (
        persona in SEES_THE_CASE
    )


def test_the_partner_sees_the_person_after_accepting_but_nothing_of_the_case(client_for, records):
    """The outsider accepted a referral: p_tabarka's page opens, the case does not."""
    client = client_for(records.world.outsider)
    response = client.get(f"/people/{records.world.p_tabarka.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"/cases/{records.case.pk}/" not in html
    assert DIAGNOSIS_SUMMARY not in html
    assert {e.kind for e in response.context["timeline"]} == {"referral"}
    assert client.get(f"/cases/{records.case.pk}/").status_code == 404


# The referrals each persona sees, received and sent.
INCOMING = {
    "coordinator": {"sent"},
    "caseworker_b": {"sent"},
    "outsider": {"accepted"},
    "operator": {"sent", "accepted"},
}
OUTGOING = {
    **{
        p: {"sent", "accepted"}
        for p in (
            "coordinator",
            "caseworker_a",
            "desk_a",
            "desk_tabarka",
            "viewer_a",
            "controller_a",
            "trainer_a",
            "operator",
        )
    },
}


def _sees_referral(persona, key) -> bool:
    return key in INCOMING.get(persona, set()) | OUTGOING.get(persona, set())


@pytest.mark.parametrize("direction", ["incoming", "outgoing"])
@pytest.mark.parametrize("persona", CASE_PERSONAS)
def test_the_referral_lists_show_exactly_the_persons_referrals(
    client_for, records, persona, direction
):
    response = client_for(records.user(persona)).get(f"/cases/referrals/?direction={direction}")
    assert response.status_code == 200
    shown = {r.pk for r in response.context["page"].items}
    expected = (INCOMING if direction == "incoming" else OUTGOING).get(persona, set())
    assert shown == {getattr(records, key).pk for key in expected}


@pytest.mark.parametrize("key", ["sent", "accepted"])
@pytest.mark.parametrize("persona", CASE_PERSONAS)
def test_a_referral_page_is_shown_to_both_ends_and_not_found_elsewhere(
    client_for, records, persona, key
):
    referral = getattr(records, key)
    response = client_for(records.user(persona)).get(f"/cases/referrals/{referral.pk}/")
    assert response.status_code == (200 if _sees_referral(persona, key) else 404)


def test_the_partner_sees_the_referral_but_not_the_case(client_for, records):
    w = records.world
    client = client_for(w.caseworker_b)
    response = client.get(f"/cases/referrals/{records.sent.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    # What the partner needs: the person's name and year of birth, the message, the kind.
    assert w.p_tabarka.full_name in html
    assert str(w.p_tabarka.year_of_birth) in html
    assert "Needs a placement in a kitchen" in html
    assert str(w.types[ActionFamily.JOB_ACCOMPANIMENT]) in html
    # Nothing else of the case, and no way to it.
    for text in (DIAGNOSIS_SUMMARY, STANDARD_NOTE, HEALTH_NOTE, CARE_PATHWAY, str(w.desk)):
        assert text not in html
    assert f"/cases/{records.case.pk}/" not in html
    assert response.context["is_partner"] is True
    assert client.get(f"/cases/{records.case.pk}/").status_code == 404
    assert client.get(f"/cases/{records.case.pk}/history/").status_code == 404
    # Not even through the person, whom the partner cannot see before accepting.
    assert client.get(f"/people/{w.p_tabarka.pk}/").status_code == 404


def test_a_referral_of_a_care_pathway_does_not_name_it_to_roles_without_health_access(
    client_for, records
):
    w = records.world
    referral = services.referral_send(
        user=w.caseworker_a,
        case=records.case,
        to_organisation=w.org_b,
        message="Please take her in",
        deadline=NEXT_WEEK,
        action=records.care,
    )
    for persona in ("desk_a", "viewer_a", "controller_a", "trainer_a"):
        client = client_for(getattr(w, persona))
        for url in (f"/cases/referrals/{referral.pk}/", f"/cases/{records.case.pk}/"):
            html = client.get(url).content.decode()
            assert CARE_PATHWAY not in html, (persona, url)
    for persona in ("caseworker_a", "caseworker_b"):  # the partner's case worker needs it
        html = client_for(getattr(w, persona)).get(f"/cases/referrals/{referral.pk}/")
        assert CARE_PATHWAY in html.content.decode(), persona


def test_a_territory_desk_does_not_see_a_referral_of_a_person_outside_its_territory(
    client_for, records
):
    w = records.world
    case = services.case_open(
        user=w.coordinator, person=w.p_kef, organisation=w.org_a, opened_on=OPENED_ON
    )
    referral = services.referral_send(
        user=w.coordinator,
        case=case,
        to_organisation=w.org_b,
        message="Lives in Kef now",
        deadline=NEXT_WEEK,
    )
    client = client_for(w.desk_tabarka)
    assert client.get(f"/cases/referrals/{referral.pk}/").status_code == 404
    listed = client.get("/cases/referrals/?direction=outgoing").context["page"].items
    assert referral not in listed
    assert w.p_kef not in set(Person.objects.visible_to(w.desk_tabarka))
    # desk_a, not limited to a territory, sees it.
    assert client_for(w.desk_a).get(f"/cases/referrals/{referral.pk}/").status_code == 200


@pytest.mark.parametrize("persona", CASE_PERSONAS)
def test_the_caseload_lists_exactly_the_open_cases_the_persona_sees(client_for, records, persona):
    response = client_for(records.user(persona)).get("/cases/?all=1")
    assert response.status_code == 200
    shown = {c.pk for c in response.context["page"].items}
    expected = set()
    if persona in SEES_THE_CASE:
        expected.add(records.case.pk)
    if persona in {"coordinator", "caseworker_b", "operator"}:
        expected.add(records.kef_case.pk)
    assert shown == expected
    closed = client_for(records.user(persona)).get("/cases/?all=1&status=closed")
    assert {c.pk for c in closed.context["page"].items} == (
        {records.closed.pk} if persona in SEES_THE_CLOSED_CASE else set()
    )


def test_overdue_referrals_show_on_both_sides(client_for, records):
    w = records.world
    Referral.objects.unscoped().filter(pk=records.sent.pk).update(
        deadline=TODAY - datetime.timedelta(days=3)
    )
    partner = client_for(w.caseworker_b)
    incoming = partner.get("/cases/referrals/?direction=incoming")
    assert [r.is_overdue for r in incoming.context["page"].items] == [True]
    assert "Overdue" in incoming.content.decode()
    assert partner.get("/cases/").context["overdue_incoming"] == 1
    assert "Overdue" in partner.get(f"/cases/referrals/{records.sent.pk}/").content.decode()

    referrer = client_for(w.caseworker_a)
    outgoing = referrer.get("/cases/referrals/?direction=outgoing")
    overdue = {r.pk for r in outgoing.context["page"].items if r.is_overdue}
    assert overdue == {records.sent.pk}
    case_page = referrer.get(f"/cases/{records.case.pk}/")
    assert "Overdue" in case_page.content.decode()
    mine = referrer.get("/cases/").context["page"].items
    assert [c.pk for c in mine if c.has_overdue] == [records.case.pk]


@pytest.mark.parametrize("persona", CASE_PERSONAS)
def test_the_report_shows_care_pathways_only_to_health_readers(client_for, records, persona):
    start, end = OPENED_ON - datetime.timedelta(days=1), TODAY
    response = client_for(records.user(persona)).get(
        f"/cases/report/?start={start.isoformat()}&end={end.isoformat()}"
    )
    assert response.status_code == 200
    lines = {line.key: line.count for line in response.context["result"]["lines"]}
    html = response.content.decode()
    health = persona in REPORT_HEALTH
    assert ("care_pathway" in lines) == health
    assert ('data-key="care_pathway"' in html) == health
    sees = persona in SEES_THE_CASE
    assert lines["job_accompaniment"] == (1 if sees else 0)
    assert lines["diagnoses"] == (1 if sees else 0)
    if health:
        assert lines["care_pathway"] == (1 if persona in HEALTH_READERS else 0)


def test_a_case_worker_elsewhere_does_not_see_care_pathways_where_they_are_at_the_desk(
    client_for, records
):
    """Health access is per organisation: a case worker of org_b who is also a desk
    operator of org_a sees org_a's cases without their care pathways."""
    w = records.world
    both = f.UserFactory(username="both")
    f.membership(both, w.org_a, Role.DESK_OPERATOR)
    f.membership(both, w.org_b, Role.CASE_WORKER)
    start, end = OPENED_ON - datetime.timedelta(days=1), TODAY
    result = client_for(both).get(f"/cases/report/?start={start}&end={end}").context["result"]
    lines = {line.key: line.count for line in result["lines"]}
    assert lines["job_accompaniment"] == 1  # org_a's case is counted...
    assert lines.get("care_pathway", 0) == 0  # ...without its care pathway
    html = client_for(both).get(f"/cases/{records.case.pk}/").content.decode()
    assert CARE_PATHWAY not in html
    assert HEALTH_NOTE not in html


@pytest.mark.parametrize("persona", CASE_PERSONAS)
def test_the_report_export_follows_the_same_rules(client_for, records, persona):
    import io

    from openpyxl import load_workbook

    start, end = OPENED_ON - datetime.timedelta(days=1), TODAY
    response = client_for(records.user(persona)).get(
        f"/cases/report/?start={start}&end={end}&format=xlsx"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    labels = [row[0] for row in sheet.iter_rows(values_only=True) if row and row[0]]
    assert (str(ActionFamily.CARE_PATHWAY.label) in labels) == (persona in REPORT_HEALTH)


@pytest.mark.parametrize("persona", CASE_PERSONAS)
def test_pages_about_a_person_outside_the_scope_are_not_found(client_for, records, persona):
    client = client_for(records.user(persona))
    w = records.world
    if persona == "caseworker_a":
        visible = {w.p_tabarka, w.p_jendouba}
    else:
        visible = w.visible_people(persona)
    if persona == "outsider":  # org_c accepted a referral of p_tabarka
        visible = visible | {w.p_tabarka}
    for person in (records.world.p_tabarka, records.world.p_kef, records.world.p_empoli):
        expected = 200 if person in visible else 404
        assert client.get(f"/cases/intake/?person={person.pk}").status_code == expected
        assert client.get(f"/cases/open/{person.pk}/").status_code == expected


@pytest.mark.parametrize(
    "query,status",
    [("person=abc", 404), ("person=99999999", 404), ("person=%00", 400), ("given_name=%00", 400)],
)
def test_a_malformed_person_at_the_desk_is_not_found_or_a_bad_request(
    client_for, records, query, status
):
    """A NUL character is refused as a bad request before any view, as on every page."""
    assert client_for(records.world.desk_a).get(f"/cases/intake/?{query}").status_code == status


# --- changes --------------------------------------------------------------------------------


# (name, URL template, payload builder, which record it targets)
def _payloads(records):
    w, case = records.world, records.case
    fresh = Case.objects.unscoped().get(pk=case.pk)
    follow_up = records.closed.follow_ups.get(months_after=6)
    action, care = records.action, records.care
    return {
        "diagnosis": (
            f"/cases/{case.pk}/diagnoses/",
            {
                "diagnosed_on": TODAY.isoformat(),
                f"level_{w.dim_work.pk}": "2",
                "version": fresh.version,
            },
        ),
        "action_add": (
            f"/cases/{case.pk}/actions/",
            {
                "action_type": w.types[ActionFamily.INTERNSHIP].pk,
                "status": "planned",
                "start": TODAY.isoformat(),
                "responsible": w.org_a.pk,
                "currency": "EUR",
                "version": fresh.version,
            },
        ),
        "action_edit": (
            f"/cases/{case.pk}/actions/{action.pk}/",
            {
                f"a{action.pk}-status": "ongoing",
                f"a{action.pk}-start": OPENED_ON.isoformat(),
                f"a{action.pk}-responsible": w.org_a.pk,
                f"a{action.pk}-currency": "EUR",
                f"a{action.pk}-outcome": "Started",
                f"a{action.pk}-version": fresh.version,
            },
        ),
        "care_edit": (
            f"/cases/{case.pk}/actions/{care.pk}/",
            {
                f"a{care.pk}-status": "completed",
                f"a{care.pk}-start": OPENED_ON.isoformat(),
                f"a{care.pk}-responsible": w.org_a.pk,
                f"a{care.pk}-currency": "EUR",
                f"a{care.pk}-version": fresh.version,
            },
        ),
        "note": (
            f"/cases/{case.pk}/notes/",
            {"body": "Called back", "confidentiality": "standard"},
        ),
        "referral_send": (
            f"/cases/{case.pk}/referrals/",
            {
                "to_organisation": w.org_c.pk,
                "message": "Second try",
                "deadline": NEXT_WEEK.isoformat(),
            },
        ),
        "close": (f"/cases/{case.pk}/close/", {"outcome": "employed", "version": fresh.version}),
        "reopen": (f"/cases/{records.closed.pk}/reopen/", {}),
        "follow_up": (
            f"/cases/{records.closed.pk}/follow-ups/{follow_up.pk}/",
            {"situation": "in_work"},
        ),
        "answer": (f"/cases/referrals/{records.sent.pk}/answer/", {"accept": "1"}),
        "decline": (
            f"/cases/referrals/{records.sent.pk}/answer/",
            {"decline_reason": "No room this month"},
        ),
        "outcome": (f"/cases/referrals/{records.accepted.pk}/outcome/", {"outcome": "Enrolled"}),
        "cancel": (f"/cases/referrals/{records.sent.pk}/cancel/", {}),
    }


CHANGES = [
    "diagnosis",
    "action_add",
    "action_edit",
    "care_edit",
    "note",
    "referral_send",
    "close",
    "reopen",
    "follow_up",
    "answer",
    "decline",
    "outcome",
    "cancel",
]
CASE_WORK = {"diagnosis", "action_add", "action_edit", "referral_send", "close"}


def _expected(change: str, persona: str) -> str:
    """ "missing" (404), "refused" (a message, nothing changed) or "done"."""
    if change in CASE_WORK or change == "note":
        if persona not in SEES_THE_CASE:
            return "missing"
        if persona in WORKS_THE_CASE or (change == "note" and persona.startswith("desk_")):
            return "done"
        return "refused"
    if change == "care_edit":  # hidden from who may not read health information
        return "done" if persona in HEALTH_READERS else "missing"
    if change in ("reopen", "follow_up"):
        if persona not in SEES_THE_CLOSED_CASE:
            return "missing"
        return "done" if persona in WORKS_THE_CASE else "refused"
    key = "accepted" if change == "outcome" else "sent"
    if not _sees_referral(persona, key):
        return "missing"
    partners = {
        "sent": {"caseworker_b", "coordinator", "operator"},
        "accepted": {"outsider", "operator"},
    }
    if change == "cancel":
        return "done" if persona in WORKS_THE_CASE else "refused"
    return "done" if persona in partners[key] else "refused"


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("persona", CASE_PERSONAS)
def test_a_change_is_done_refused_or_not_found_by_persona(client_for, records, persona, change):
    client = client_for(records.user(persona))
    url, payload = _payloads(records)[change]
    expected = _expected(change, persona)
    before = case_snapshot()
    response = client.post(url, payload)
    if expected == "missing":
        assert response.status_code == 404, response.status_code
        assert case_snapshot() == before
        return
    assert response.status_code == 302, response.status_code
    landing = client.get(response["Location"])
    assert landing.status_code == 200, f"redirected to {response['Location']}, not found"
    if expected == "refused":
        assert error_messages(landing), "the refusal was not shown"
        assert case_snapshot() == before
    else:
        assert not error_messages(landing), error_messages(landing)
        assert case_snapshot() != before


def test_the_case_page_offers_changes_only_to_who_may_make_them(client_for, records):
    for persona in SEES_THE_CASE:
        html = client_for(records.user(persona)).get(f"/cases/{records.case.pk}/").content
        html = html.decode()
        works = persona in WORKS_THE_CASE
        for action in ("diagnoses/", "actions/", "referrals/", "close/"):
            assert (f'action="/cases/{records.case.pk}/{action}"' in html) == works, (
                persona,
                action,
            )


ANONYMOUS = [
    "/cases/",
    "/cases/intake/",
    "/cases/report/",
    "/cases/referrals/",
]


@pytest.mark.parametrize("change", CHANGES)
def test_an_anonymous_change_is_sent_to_sign_in_and_changes_nothing(client, records, change):
    url, payload = _payloads(records)[change]
    before = case_snapshot()
    response = client.post(url, payload)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert case_snapshot() == before


@pytest.mark.parametrize("page", ["detail", "history"])
def test_an_anonymous_visitor_is_sent_to_sign_in_from_a_case_page(client, records, page):
    response = client.get(_case_pages(records)[page])
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", ANONYMOUS)
def test_an_anonymous_visitor_is_sent_to_sign_in_from_a_cases_page(client, records, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("persona", CASE_PERSONAS)
def test_the_cases_pages_answer_every_persona(client_for, records, persona):
    client = client_for(records.user(persona))
    for url in [*ANONYMOUS, "/cases/?all=1&status=closed", "/cases/referrals/?direction=outgoing"]:
        assert client.get(url).status_code == 200, url


# --- the desk -------------------------------------------------------------------------------


def test_the_desk_finds_a_person_across_scripts(client_for, records):
    """p_tabarka is registered as محمد بن علي: the Latin spelling finds them."""
    w = records.world
    response = client_for(w.desk_a).get(
        "/cases/intake/?given_name=mohamed&family_name=ben+ali", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert [r["person"].pk for r in response.context["candidates"]] == [w.p_tabarka.pk]
    assert "محمد بن علي" in response.content.decode()


def test_the_desk_finds_nobody_outside_its_scope(client_for, records):
    response = client_for(records.world.desk_a).get("/cases/intake/?given_name=karim")
    assert [r for r in response.context["candidates"] if r["candidate"].visible] == []
    assert "Mejri" not in response.content.decode()


def test_a_desk_operator_records_a_visit_at_the_desk_page(client_for, records):
    w = records.world
    client = client_for(w.desk_a)
    response = client.post(
        f"/cases/intake/?person={w.p_jendouba.pk}", {"desk": w.desk.pk, "reason": "CV help"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/people/{w.p_jendouba.pk}/"
    visit = w.p_jendouba.intakes.get()
    assert (visit.desk, visit.reason, visit.recorded_by, visit.case) == (
        w.desk,
        "CV help",
        w.desk_a,
        None,
    )


def test_a_case_worker_records_a_visit_and_opens_a_case_at_once(client_for, records):
    w = records.world
    client = client_for(w.caseworker_a)
    response = client.post(
        f"/cases/intake/?person={w.p_jendouba.pk}",
        {"desk": w.desk.pk, "reason": "Back again", "open_case": "on"},
    )
    assert response.status_code == 302
    case = Case.objects.visible_to(w.caseworker_a).get(person=w.p_jendouba, status="open")
    assert response["Location"] == f"/cases/{case.pk}/"
    assert (case.desk, case.organisation) == (w.desk, w.org_a)
    assert w.p_jendouba.intakes.get().case == case


def test_a_desk_operator_cannot_open_a_case_and_nothing_is_half_recorded(client_for, records):
    """Asking for a case a desk operator may not open records neither the visit nor a
    case: the operator sees why and can record the visit alone."""
    w = records.world
    client = client_for(w.desk_a)
    before = case_snapshot()
    response = client.post(
        f"/cases/intake/?person={w.p_jendouba.pk}",
        {"desk": w.desk.pk, "reason": "Walk-in", "open_case": "on"},
    )
    assert response.status_code == 200
    assert error_messages(response)
    assert case_snapshot() == before
    response = client.post(
        f"/cases/intake/?person={w.p_jendouba.pk}", {"desk": w.desk.pk, "reason": "Walk-in"}
    )
    assert response.status_code == 302
    assert w.p_jendouba.intakes.count() == 1


@pytest.mark.parametrize("persona", ["caseworker_b", "viewer_a", "outsider"])
def test_a_desk_the_persona_does_not_work_at_is_not_offered_nor_accepted(
    client_for, records, persona
):
    w = records.world
    user = getattr(w, persona)
    person = next(iter(Person.objects.visible_to(user)), None)
    if person is None:
        pytest.skip("sees nobody")
    client = client_for(user)
    page = client.get(f"/cases/intake/?person={person.pk}")
    assert w.desk not in set(page.context["form"].fields["desk"].queryset)
    before = case_snapshot()
    response = client.post(f"/cases/intake/?person={person.pk}", {"desk": w.desk.pk})
    assert response.status_code == 200
    assert response.context["form"].errors["desk"]
    assert case_snapshot() == before


def test_a_stale_plan_posted_from_the_page_is_refused_with_a_message(client_for, records):
    """Two case workers had the case page open; the second save says to reload."""
    w = records.world
    url, payload = _payloads(records)["action_edit"]
    first = client_for(w.coordinator).post(url, payload)
    assert first.status_code == 302
    second_client = client_for(w.caseworker_a)
    before = case_snapshot()
    stale = {**payload, f"a{records.action.pk}-outcome": "Overwritten?"}
    response = second_client.post(url, stale, follow=True)
    assert any("Reload" in m for m in error_messages(response))
    assert case_snapshot() == before
    records.action.refresh_from_db()
    assert records.action.outcome == "Started"


def test_a_referral_without_consent_is_refused_on_the_page_with_the_reason(client_for, records):
    w = records.world
    case = records.kef_case
    w.consent_kef.delete()
    client = client_for(w.caseworker_b)
    page = client.get(f"/cases/{case.pk}/")
    assert "has not consented" in page.content.decode()
    before = case_snapshot()
    response = client.post(
        f"/cases/{case.pk}/referrals/",
        {"to_organisation": w.org_a.pk, "message": "x", "deadline": NEXT_WEEK.isoformat()},
        follow=True,
    )
    assert any("consent" in m for m in error_messages(response))
    assert case_snapshot() == before


def test_the_referring_case_worker_sees_the_returned_outcome_on_the_case_page(client_for, records):
    w = records.world
    client_for(w.outsider).post(
        f"/cases/referrals/{records.accepted.pk}/outcome/", {"outcome": "Enrolled in A2 course"}
    )
    records.accepted.refresh_from_db()
    assert records.accepted.status == ReferralStatus.COMPLETED
    html = client_for(w.caseworker_a).get(f"/cases/{records.case.pk}/").content.decode()
    assert "Enrolled in A2 course" in html


@pytest.mark.parametrize("which", ["case", "closed"])
def test_every_label_on_the_case_page_names_its_own_field(client_for, records, which):
    """Several forms share field names (outcome, version ...): their ids must not clash."""
    import re

    case = getattr(records, which)
    html = client_for(records.world.caseworker_a).get(f"/cases/{case.pk}/").content.decode()
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    for target in re.findall(r'\sfor="([^"]+)"', html):
        assert target in ids, target
