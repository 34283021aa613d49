"""The pages of calls, applications, public applications, submissions and committees: who
sees them, what bad input shows (next to the field, nothing written), and the committee's
scoring, decision and minutes."""

import datetime
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tadamun.projects import services as s
from tadamun.projects.models import (
    Application,
    ApplicationStatus,
    Call,
    CommitteeSession,
    Envelope,
    Financing,
    Project,
    PublicSubmission,
    Score,
    SubmissionStatus,
    Tranche,
)
from tadamun.registry.models import Group, Person

from .conftest import TODAY, submit

pytestmark = pytest.mark.django_db


def _counts() -> dict:
    """What a refused request must leave as it was."""
    return {
        "applications": Application.objects.unscoped().count(),
        "application_history": Application.history.count(),
        "submissions": PublicSubmission.objects.unscoped().count(),
        "projects": Project.objects.unscoped().count(),
        "financings": Financing.objects.count(),
        "tranches": Tranche.objects.count(),
        "envelopes": list(Envelope.objects.order_by("pk").values_list("amount", flat=True)),
        "people": Person.objects.unscoped().count(),
        "groups": Group.objects.unscoped().count(),
    }


def _management(prefix: str, total: int) -> dict:
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": "0"}


def _plan(total="5000", own="500", unit=None) -> dict:
    total, own = Decimal(total), Decimal(own)
    return {
        **_management("inv", 2),
        "inv-0-label": "Sewing machines",
        "inv-0-quantity": "2",
        "inv-0-unit_cost": str(unit if unit is not None else total / 2),
        "inv-1-label": "",
        "inv-1-quantity": "1",
        "inv-1-unit_cost": "",
        **_management("fin", 2),
        "fin-0-source": "own",
        "fin-0-amount": str(own),
        "fin-1-source": "grant",
        "fin-1-amount": str(total - own),
    }


def _desk(w, **changes) -> dict:
    data = {
        "kind": "individual",
        "promoter": str(w.p_jendouba.pk),
        "territory": str(w.jendouba.pk),
        "sector": str(w.crafts.pk),
        "title": "Weaving workshop",
        "summary": "Carpets in the Kroumirie style",
        "financing_kind": "grant",
        "requested_amount": "4500",
        "expected_monthly_revenue": "900",
        "expected_jobs_women": "2",
        "expected_jobs_men": "1",
        "submitted_on": TODAY.isoformat(),
        **_plan(),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _apply_url(w) -> str:
    return reverse("projects:application_create", args=[w.call.pk])


def _decide(w, *applications, members=None):
    members = members or [w.coordinator, w.coordinator_2]
    session = s.session_create(
        user=w.coordinator,
        call=w.call,
        held_on=TODAY,
        language="fr",
        members=members,
        chair=w.coordinator,
    )
    for application in applications:
        s.application_precheck(user=w.desk_a, application=application)
        for member in members:
            s.score_record(
                user=member,
                session=session,
                application=application,
                scores={"viability": 8, "impact": 6},
            )
    s.session_decide(user=w.coordinator, session=session)
    return session


# --- Who sees what ---------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["coordinator", "desk_a", "viewer_a", "caseworker_b"])
def test_the_call_pages_render_for_the_network(pw, client_for, persona):
    client = client_for(getattr(pw, persona))
    listing = client.get(reverse("projects:call_list"))
    assert listing.status_code == 200
    assert "Micro-projects 2026" in listing.content.decode()
    page = client.get(reverse("projects:call", args=[pw.call.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "INVALID[" not in html
    # Envelopes with what is committed and what remains.
    envelopes = re.search(r'data-testid="envelopes".*?</table>', html, re.S).group(0)
    assert "Jendouba" in envelopes and "Kef" in envelopes
    # Only coordinators manage the call; desks and case workers record applications.
    assert ("Set or change an envelope" in html) is (persona == "coordinator")
    assert ("Record an application" in html) is (
        persona in ("coordinator", "desk_a", "caseworker_b")
    )


@pytest.mark.parametrize("persona", ["outsider", "nobody"])
def test_outsiders_get_404_on_every_page(pw, client_for, persona):
    application = submit(pw)
    session = s.session_create(
        user=pw.coordinator,
        call=pw.call,
        held_on=TODAY,
        language="en",
        members=[pw.coordinator],
        chair=pw.coordinator,
    )
    submission = s.submission_create(
        call=Call.objects.unscoped().get(pk=pw.call.pk),
        data={
            "title": "Olive oil",
            "financing_kind": "grant",
            "requested_amount": "1000",
            "investments": [{"label": "Press", "quantity": 1, "unit_cost": "1000"}],
            "given_name": "Sami",
            "family_name": "Gharbi",
        },
        territory=pw.jendouba,
        kind="individual",
        language="en",
        consent=True,
    )
    client = client_for(getattr(pw, persona))
    urls = [
        reverse("projects:call", args=[pw.call.pk]),
        reverse("projects:call_edit", args=[pw.call.pk]),
        reverse("projects:call_history", args=[pw.call.pk]),
        reverse("projects:application_create", args=[pw.call.pk]),
        reverse("projects:session_create", args=[pw.call.pk]),
        reverse("projects:application", args=[application.pk]),
        reverse("projects:application_history", args=[application.pk]),
        reverse("projects:application_award", args=[application.pk]),
        reverse("projects:submission", args=[submission.pk]),
        reverse("projects:session", args=[session.pk]),
        reverse("projects:minutes", args=[session.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    before = _counts()
    posts = [
        reverse("projects:envelope_set", args=[pw.call.pk]),
        reverse("projects:call_status", args=[pw.call.pk]),
        reverse("projects:application_precheck", args=[application.pk]),
        reverse("projects:application_withdraw", args=[application.pk]),
        reverse("projects:submission_decline", args=[submission.pk]),
        reverse("projects:submission_register", args=[submission.pk]),
        reverse("projects:score_record", args=[session.pk, application.pk]),
        reverse("projects:session_decide", args=[session.pk]),
    ]
    for url in posts:
        assert client.post(url, {"reason": "x", "status": "closed"}).status_code == 404, url
    assert _counts() == before
    listing = client.get(reverse("projects:call_list")).content.decode()
    assert "Micro-projects 2026" not in listing
    inbox = client.get(reverse("projects:submissions")).content.decode()
    assert submission.reference not in inbox


def test_a_territory_desk_does_not_see_applications_outside_its_territory(pw, client_for):
    in_kef = submit(pw, user=pw.caseworker_b, promoter=pw.p_kef, territory=pw.kef)
    in_tabarka = submit(pw, user=pw.desk_tabarka, promoter=pw.p_tabarka, territory=pw.tabarka)
    client = client_for(pw.desk_tabarka)
    assert client.get(reverse("projects:application", args=[in_kef.pk])).status_code == 404
    page = client.get(reverse("projects:application", args=[in_tabarka.pk]))
    assert page.status_code == 200
    html = client.get(reverse("projects:call", args=[pw.call.pk])).content.decode()
    assert in_tabarka.reference in html and in_kef.reference not in html


# --- Calls -------------------------------------------------------------------------------------


def _call_form(w, **changes) -> dict:
    data = {
        "organisation": str(w.net.pk),
        "code": "women-2026",
        "title_0": "مشاريع النساء",
        "title_1": "Projets des femmes",
        "title_4": "Women's projects",
        "description_4": "For women promoters",
        "opens_on": TODAY.isoformat(),
        "closes_on": (TODAY + datetime.timedelta(days=60)).isoformat(),
        "applicants": "both",
        "currency": "TND",
        "max_amount": "5000",
        "sectors": [str(w.crafts.pk)],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_coordinator_creates_a_call_with_translated_text_and_publishes_it(pw, client_for):
    client = client_for(pw.coordinator)
    response = client.post(reverse("projects:call_create"), _call_form(pw))
    call = Call.objects.unscoped().get(code="women-2026")
    assert response.status_code == 302
    assert response["Location"] == reverse("projects:call", args=[call.pk])
    assert {k: v for k, v in call.title.data.items() if v} == {
        "ar": "مشاريع النساء",
        "fr": "Projets des femmes",
        "en": "Women's projects",
    }
    assert list(call.sectors.all()) == [pw.crafts]
    # Publishing needs envelopes and a grid: the page says so and nothing changes.
    status_url = reverse("projects:call_status", args=[call.pk])
    response = client.post(status_url, {"status": "open"}, follow=True)
    assert "Give at least one territory an envelope" in response.content.decode()
    call.refresh_from_db()
    assert call.status == "draft"
    client.post(
        reverse("projects:envelope_set", args=[call.pk]),
        {"territory": pw.kef.pk, "amount": "3000"},
    )
    client.post(
        reverse("projects:criterion_add", args=[call.pk]),
        {"code": "viability", "label_4": "Viability", "weight": "2", "max_score": "10"},
    )
    client.post(
        reverse("projects:document_add", args=[call.pk]),
        {"code": "id", "label_4": "Identity card", "mandatory": "on"},
    )
    client.post(status_url, {"status": "open"})
    call.refresh_from_db()
    assert call.status == "open"
    assert call.envelopes.get().amount == Decimal("3000.000")
    assert call.criteria.get().label.data["en"] == "Viability"
    assert call.documents.get().mandatory
    # In French, the page shows the French title.
    pw.coordinator.language = "fr"
    pw.coordinator.save()
    page = client.get(reverse("projects:call", args=[call.pk])).content.decode()
    assert "Projets des femmes" in page


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"closes_on": (TODAY - datetime.timedelta(days=1)).isoformat()}, "closes_on"),
        ({"currency": "XYZ"}, "currency"),
        ({"code": "call-2026"}, "code"),
        ({"max_amount": "-5"}, "max_amount"),
        ({"title_0": "", "title_1": "", "title_4": ""}, "title"),
    ],
    ids=["closes before it opens", "unknown currency", "code taken", "negative", "no title"],
)
def test_bad_input_on_the_call_form_is_shown_next_to_the_field(pw, client_for, changes, field):
    before = Call.objects.unscoped().count()
    response = client_for(pw.coordinator).post(
        reverse("projects:call_create"), _call_form(pw, **changes)
    )
    assert response.status_code == 200
    assert f'data-field-error="{field}"' in response.content.decode()
    assert Call.objects.unscoped().count() == before


def test_desks_cannot_create_calls_nor_change_envelopes(pw, client_for):
    client = client_for(pw.desk_a)
    response = client.get(reverse("projects:call_create"))
    assert response.status_code == 302
    before = _counts()
    response = client.post(
        reverse("projects:envelope_set", args=[pw.call.pk]),
        {"territory": pw.jendouba.pk, "amount": "99999"},
        follow=True,
    )
    assert "Your role does not allow this" in response.content.decode()
    assert _counts() == before


def test_an_envelope_below_what_is_committed_is_refused(pw, client_for):
    # An application in Tabarka counts against the envelope of Jendouba, above it.
    application = submit(pw, user=pw.desk_a, promoter=pw.p_tabarka, territory=pw.tabarka)
    _decide(pw, application)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SELECTED
    client = client_for(pw.coordinator)
    page = client.get(reverse("projects:call", args=[pw.call.pk])).content.decode()
    envelopes = re.search(r'data-testid="envelopes".*?</table>', page, re.S).group(0)
    assert "4,500.000" in envelopes and "5,500.000" in envelopes
    before = _counts()
    response = client.post(
        reverse("projects:envelope_set", args=[pw.call.pk]),
        {"territory": pw.jendouba.pk, "amount": "4000"},
        follow=True,
    )
    assert "Applications already selected in this territory need more" in response.content.decode()
    response = client.post(
        reverse("projects:envelope_set", args=[pw.call.pk]),
        {"territory": pw.jendouba.pk, "amount": "-1"},
        follow=True,
    )
    assert "The amount cannot be negative." in response.content.decode()
    assert _counts() == before


# --- Applications at a desk ------------------------------------------------------------------


def test_a_desk_records_an_application_with_its_business_plan(pw, client_for):
    client = client_for(pw.desk_a)
    form = client.get(_apply_url(pw))
    assert form.status_code == 200
    assert "INVALID[" not in form.content.decode()
    response = client.post(_apply_url(pw), _desk(pw))
    application = Application.objects.unscoped().get()
    assert response.status_code == 302
    assert response["Location"] == reverse("projects:application", args=[application.pk])
    assert (application.promoter, application.submitted_by, application.organisation) == (
        pw.p_jendouba,
        pw.desk_a,
        pw.org_a,
    )
    assert [(i.label, i.amount) for i in application.investments.all()] == [
        ("Sewing machines", Decimal("5000.000"))
    ]
    assert sorted(line.amount for line in application.financing_plan.all()) == [
        Decimal("500.000"),
        Decimal("4500.000"),
    ]
    page = client.get(response["Location"]).content.decode()
    assert "Waiting for the eligibility check" in page
    assert "5,000.000" in page  # the investment's total
    assert "INVALID[" not in page


def test_a_collective_application_names_its_president_unless_told(pw, client_for):
    client = client_for(pw.desk_a)
    response = client.post(
        _apply_url(pw), _desk(pw, kind="collective", promoter="", group=str(pw.group.pk))
    )
    assert response.status_code == 302
    application = Application.objects.unscoped().get()
    assert (application.group, application.promoter) == (pw.group, pw.p_tabarka)


BAD_DESK_INPUT = [
    (
        "outside the window",
        {"submitted_on": (TODAY - datetime.timedelta(days=40)).isoformat()},
        "submitted_on",
        "Applications are accepted from",
    ),
    (
        "over the envelope",
        {
            "territory": "KEF",
            "promoter": "KEF_PERSON",
            "requested_amount": "7000",
            **_plan("7000", "0"),
        },
        "requested_amount",
        "more than what remains in the territory",
    ),
    (
        "over the call's largest amount",
        {"requested_amount": "9000", **_plan("9000", "0")},
        "requested_amount",
        "This call gives at most",
    ),
    (
        "negative amount",
        {"requested_amount": "-5"},
        "requested_amount",
        "The amount must be more than zero.",
    ),
    (
        "negative unit cost",
        {"inv-0-unit_cost": "-10"},
        "inv-0-unit_cost",
        "The amount cannot be negative.",
    ),
    (
        "too many decimals",
        {"requested_amount": "4500.0001"},
        "requested_amount",
        "TND amounts have at most 3 decimals.",
    ),
    (
        "financing plan that does not add up",
        {"fin-1-amount": "4000"},
        "financing",
        "The financing plan adds up to 4500.000 but the investment is 5000.000.",
    ),
    (
        "no investment",
        {"inv-0-label": "", "inv-0-unit_cost": "", "inv-0-quantity": "1"},
        "investments",
        "List at least one investment item.",
    ),
    ("no promoter", {"promoter": ""}, "promoter", "Pick the promoter."),
    ("collective without its group", {"kind": "collective"}, "group", "names the collective"),
    ("a person outside the scope", {"promoter": "EMPOLI_PERSON"}, "promoter", "valid choice"),
    ("script in the title", {"title": "Sa\x07mi"}, "title", ""),
]


@pytest.mark.parametrize(
    "changes,field,message",
    [c[1:] for c in BAD_DESK_INPUT],
    ids=[c[0] for c in BAD_DESK_INPUT],
)
def test_bad_input_at_the_desk_is_shown_next_to_the_field(pw, client_for, changes, field, message):
    substitutes = {
        "KEF": str(pw.kef.pk),
        "KEF_PERSON": str(pw.p_kef.pk),
        "EMPOLI_PERSON": str(pw.p_empoli.pk),
    }
    changes = {k: substitutes.get(v, v) if isinstance(v, str) else v for k, v in changes.items()}
    before = _counts()
    user = pw.coordinator if changes.get("territory") == str(pw.kef.pk) else pw.desk_a
    response = client_for(user).post(_apply_url(pw), _desk(pw, **changes))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-field-error="{field}"' in html
    assert message.replace("'", "&#x27;") in html
    assert 'name="title"' in html  # the form comes back, filled in
    assert _counts() == before


def test_a_promoter_financed_in_the_call_cannot_apply_again(pw, client_for):
    application = submit(pw, amount="3000", total="3000")
    _decide(pw, application)
    application.refresh_from_db()
    s.project_award(
        user=pw.coordinator,
        application=application,
        financed_on=TODAY,
        financings=[s.FinancingSpec(kind="grant", amount="3000")],
    )
    before = _counts()
    response = client_for(pw.desk_a).post(
        _apply_url(pw), _desk(pw, requested_amount="1000", **_plan("1000", "0"))
    )
    html = response.content.decode()
    assert 'data-field-error="promoter"' in html
    assert "This promoter has already been financed in this call." in html
    # The promoter picked is shown again, checked.
    assert f'value="{pw.p_jendouba.pk}" id="promoter-{pw.p_jendouba.pk}" checked' in html
    assert _counts() == before


def test_the_message_follows_the_user_language(pw, client_for):
    pw.desk_a.language = "fr"
    pw.desk_a.save()
    response = client_for(pw.desk_a).post(_apply_url(pw), _desk(pw, requested_amount="abc"))
    html = response.content.decode()
    assert 'data-field-error="requested_amount"' in html
    assert 'lang="fr"' in html


def test_add_a_row_without_javascript_and_with_htmx(pw, client_for):
    client = client_for(pw.desk_a)
    response = client.post(_apply_url(pw), {**_desk(pw), "add_row": "inv"})
    html = response.content.decode()
    assert 'name="inv-2-label"' in html and 'name="inv-TOTAL_FORMS" value="3"' in html
    assert Application.objects.unscoped().count() == 0
    row = client.get(
        reverse("projects:plan_row", args=["fin"]), {"fin-TOTAL_FORMS": "2"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'name="fin-2-amount"' in row
    assert 'hx-swap-oob="true"' in row and 'value="3"' in row
    assert client.get(reverse("projects:plan_row", args=["nope"])).status_code == 404


def test_the_promoter_search_only_finds_visible_people(pw, client_for):
    client = client_for(pw.desk_tabarka)
    url = reverse("projects:promoter_pick")
    found = client.get(url, {"promoter_q": "Mohamed"}).content.decode()
    assert f'value="{pw.p_tabarka.pk}"' in found
    hidden = client.get(url, {"promoter_q": "Salma"}).content.decode()
    assert f'value="{pw.p_jendouba.pk}"' not in hidden


# --- Pre-check, withdrawal, next step ----------------------------------------------------------


def test_precheck_and_the_coordinator_override(pw, client_for):
    s.document_require(user=pw.coordinator, call=pw.call, code="id", label={"en": "Identity card"})
    application = submit(pw)
    desk = client_for(pw.desk_a)
    url = reverse("projects:application_precheck", args=[application.pk])
    desk.post(url, {"version": application.version})
    application.refresh_from_db()
    assert application.status == ApplicationStatus.INELIGIBLE
    page = desk.get(reverse("projects:application", args=[application.pk])).content.decode()
    assert "Missing document: Identity card" in page
    assert "declare eligible anyway" not in page  # desks are not offered the override
    # A desk's override reason is refused; the coordinator's is recorded.
    response = desk.post(url, {"version": application.version, "override_reason": "Later"})
    application.refresh_from_db()
    assert application.status == ApplicationStatus.INELIGIBLE
    client = client_for(pw.coordinator)
    stale = application.version - 1
    response = client.post(
        url, {"version": stale, "override_reason": "Brought on paper"}, follow=True
    )
    assert "Someone else changed this application" in response.content.decode()
    client.post(url, {"version": application.version, "override_reason": "Brought on paper"})
    application.refresh_from_db()
    assert application.status == ApplicationStatus.ELIGIBLE
    assert "Declared eligible: Brought on paper" in application.eligibility_notes
    s.session_create(
        user=pw.coordinator,
        call=pw.call,
        held_on=TODAY + datetime.timedelta(days=3),
        language="en",
        members=[pw.coordinator],
        chair=pw.coordinator,
    )
    page = client.get(reverse("projects:application", args=[application.pk])).content.decode()
    assert "Before the committee on" in page


def test_withdraw(pw, client_for):
    application = submit(pw)
    client_for(pw.desk_a).post(
        reverse("projects:application_withdraw", args=[application.pk]),
        {"version": application.version},
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN


# --- Committee ---------------------------------------------------------------------------------


def _session(w, language="fr"):
    return s.session_create(
        user=w.coordinator,
        call=w.call,
        held_on=TODAY,
        language=language,
        members=[w.desk_a, w.coordinator_2],
        chair=w.coordinator,
    )


def test_a_session_is_created_from_the_call_page(pw, client_for):
    client = client_for(pw.coordinator)
    url = reverse("projects:session_create", args=[pw.call.pk])
    page = client.get(url).content.decode()
    assert pw.outsider.username not in page  # only people of the network are offered
    response = client.post(
        url,
        {
            "held_on": TODAY.isoformat(),
            "place": "Jendouba",
            "language": "ar",
            "members": [pw.desk_a.pk, pw.coordinator_2.pk],
            "chair": pw.coordinator.pk,
        },
    )
    session = CommitteeSession.objects.get()
    assert response["Location"] == reverse("projects:session", args=[session.pk])
    assert set(session.members.all()) == {pw.desk_a, pw.coordinator_2, pw.coordinator}
    response = client.post(
        url,
        {
            "held_on": TODAY.isoformat(),
            "language": "ar",
            "members": [pw.outsider.pk],
            "chair": pw.coordinator.pk,
        },
    )
    assert 'data-field-error="members"' in response.content.decode()
    assert CommitteeSession.objects.count() == 1


def test_two_members_scoring_at_the_same_time_both_keep_their_scores(pw):
    application = submit(pw)
    s.application_precheck(user=pw.desk_a, application=application)
    session = _session(pw)
    first, second = Client(), Client()
    first.force_login(pw.desk_a)
    second.force_login(pw.coordinator_2)
    page_url = reverse("projects:session", args=[session.pk])
    # Both open the page before either saves.
    assert "Save my scores" in first.get(page_url).content.decode()
    assert "Save my scores" in second.get(page_url).content.decode()
    url = reverse("projects:score_record", args=[session.pk, application.pk])
    answer = first.post(
        url, {"score-viability": "9", "score-impact": "7"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Your scores were saved." in answer
    second.post(url, {"score-viability": "4", "score-impact": "5"}, HTTP_HX_REQUEST="true")
    # The first member corrects one score afterwards: the second's stay.
    first.post(url, {"score-viability": "8", "score-impact": "7"}, HTTP_HX_REQUEST="true")
    scores = {
        (sc.member.username, sc.criterion.code): sc.value
        for sc in Score.objects.select_related("member", "criterion")
    }
    assert scores == {
        ("desk_a", "viability"): 8,
        ("desk_a", "impact"): 7,
        ("coordinator_2", "viability"): 4,
        ("coordinator_2", "impact"): 5,
    }
    # Each member sees only their own scores until the decision.
    mine = first.get(page_url).content.decode()
    assert f'name="score-viability" id="s{application.pk}-viability" value="8"' in mine
    assert 'value="4"' not in mine
    assert "Live ranking" not in mine


def test_bad_scores_are_shown_next_to_the_criterion(pw, client_for):
    application = submit(pw)
    s.application_precheck(user=pw.desk_a, application=application)
    session = _session(pw)
    url = reverse("projects:score_record", args=[session.pk, application.pk])
    html = (
        client_for(pw.desk_a)
        .post(url, {"score-viability": "11", "score-impact": "x"}, HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert 'data-field-error="viability"' in html and "Enter a score from 0 to 10." in html
    assert 'data-field-error="impact"' in html and "Enter a whole number." in html
    assert Score.objects.count() == 0


def test_only_members_score(pw, client_for):
    application = submit(pw)
    s.application_precheck(user=pw.desk_a, application=application)
    session = _session(pw)
    url = reverse("projects:score_record", args=[session.pk, application.pk])
    response = client_for(pw.viewer_a).post(
        url, {"score-viability": "5", "score-impact": "5"}, follow=True
    )
    assert "Only members of this committee score" in response.content.decode()
    assert Score.objects.count() == 0


def test_the_chair_follows_progress_decides_and_the_minutes_are_in_the_session_language(
    pw, client_for
):
    first = submit(pw, amount="6000", total="6000")
    second = submit(pw, promoter=pw.p_tabarka, amount="5000", total="5000")
    for application in (first, second):
        s.application_precheck(user=pw.desk_a, application=application)
    session = _session(pw, language="ar")
    # The chair sits on the committee too: three members.
    for member in (pw.desk_a, pw.coordinator_2):
        for application, value in ((first, 9), (second, 7)):
            s.score_record(
                user=member,
                session=session,
                application=application,
                scores={"viability": value, "impact": value},
            )
    chair = client_for(pw.coordinator)
    page = chair.get(reverse("projects:session", args=[session.pk])).content.decode()
    assert "Live ranking" in page and "INVALID[" not in page
    progress = re.search(r'data-testid="progress".*?</table>', page, re.S).group(0)
    assert progress.count("✓") == 4 and progress.count("—") == 2
    for application, value in ((first, 9), (second, 7)):
        s.score_record(
            user=pw.coordinator,
            session=session,
            application=application,
            scores={"viability": value, "impact": value},
        )
    chair.post(reverse("projects:session_remarks", args=[session.pk]), {"note": "Quorum reached."})
    response = chair.post(
        reverse("projects:session_decide", args=[session.pk]), {"pass_mark": "50"}, follow=True
    )
    assert "The committee has decided." in response.content.decode()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (
        ApplicationStatus.SELECTED,
        ApplicationStatus.WAITLISTED,
    )
    minutes = chair.get(reverse("projects:minutes", args=[session.pk]))
    html = minutes.content.decode()
    assert minutes["Content-Language"] == "ar"
    assert 'dir="rtl"' in html and 'lang="ar"' in html and "bootstrap.rtl" in html
    assert "Quorum reached." in html
    assert first.reference in html and second.reference in html
    assert "@media print" in html
    # The user's own pages stay in their language.
    assert 'lang="en"' in chair.get(reverse("projects:call_list")).content.decode()
    # A viewer of the network reads the minutes; an outsider does not.
    assert (
        client_for(pw.viewer_a).get(reverse("projects:minutes", args=[session.pk])).status_code
        == 200
    )


def test_deciding_before_everyone_scored_is_refused(pw, client_for):
    application = submit(pw)
    s.application_precheck(user=pw.desk_a, application=application)
    session = _session(pw)
    s.score_record(
        user=pw.desk_a,
        session=session,
        application=application,
        scores={"viability": 5, "impact": 5},
    )
    response = client_for(pw.coordinator).post(
        reverse("projects:session_decide", args=[session.pk]), {"pass_mark": "50"}, follow=True
    )
    assert "Every member must score every application first" in response.content.decode()
    session.refresh_from_db()
    assert session.status == "scoring"


# --- Award ---------------------------------------------------------------------------------------


def _award(**changes) -> dict:
    data = {
        "financed_on": TODAY.isoformat(),
        "grant_amount": "1500",
        "grant_description": "Workshop",
        "loan_amount": "3000",
        "loan_instalments": "7",
        "loan_grace_months": "2",
        "in_kind_amount": "",
        **_management("tr", 2),
        "tr-0-component": "grant",
        "tr-0-amount": "1000",
        "tr-0-milestone": "Workshop rented",
        "tr-1-component": "grant",
        "tr-1-amount": "500",
        "tr-1-milestone": "Machines bought",
    }
    data.update(changes)
    return data


@pytest.fixture
def selected(pw):
    application = submit(pw, amount="4500")
    _decide(pw, application)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SELECTED
    return application


def test_award_with_a_grant_in_two_tranches_and_a_loan(pw, client_for, selected):
    client = client_for(pw.coordinator)
    url = reverse("projects:application_award", args=[selected.pk])
    page = client.get(url).content.decode()
    assert "INVALID[" not in page and "4,500.000" in page
    response = client.post(url, {**_award(), "version": selected.version})
    project = Project.objects.unscoped().get()
    assert response.status_code == 302
    assert response["Location"] == reverse("projects:project", args=[project.pk])
    grant, loan = project.financings.order_by("pk")
    assert [(t.amount, t.milestone) for t in grant.tranches.all()] == [
        (Decimal("1000.000"), "Workshop rented"),
        (Decimal("500.000"), "Machines bought"),
    ]
    assert (loan.kind, loan.amount, loan.instalments, loan.grace_months) == (
        "loan",
        Decimal("3000.000"),
        7,
        2,
    )
    assert loan.tranches.count() == 1  # released in one when no tranche is given
    selected.refresh_from_db()
    assert selected.status == ApplicationStatus.AWARDED
    page = client.get(reverse("projects:application", args=[selected.pk])).content.decode()
    assert "Financed: see the project" in page


BAD_AWARD = [
    ("does not add up", {"loan_amount": "2000"}, "form-errors", "the committee awarded"),
    ("tranches do not add up", {"tr-1-amount": "400"}, "grant_amount", "The tranches must add up"),
    ("negative", {"grant_amount": "-1500"}, "grant_amount", "The amount must be more than zero."),
    (
        "loan without instalments",
        {"loan_instalments": ""},
        "loan_instalments",
        "number of instalments",
    ),
    (
        "tranche of no financing",
        {"tr-1-component": "in_kind"},
        "tr-1-component",
        "Give this financing an amount",
    ),
    ("tranche without milestone", {"tr-1-milestone": ""}, "tr-1-milestone", "Name the milestone."),
    (
        "in the future",
        {"financed_on": (TODAY + datetime.timedelta(days=2)).isoformat()},
        "financed_on",
        "in the future",
    ),
]


@pytest.mark.parametrize(
    "changes,field,message", [c[1:] for c in BAD_AWARD], ids=[c[0] for c in BAD_AWARD]
)
def test_bad_award_input_is_shown_and_nothing_is_written(
    pw, client_for, selected, changes, field, message
):
    before = _counts()
    response = client_for(pw.coordinator).post(
        reverse("projects:application_award", args=[selected.pk]),
        {**_award(**changes), "version": selected.version},
    )
    assert response.status_code == 200
    html = response.content.decode()
    marker = (
        'data-testid="form-errors"' if field == "form-errors" else f'data-field-error="{field}"'
    )
    assert marker in html
    assert message in html
    assert _counts() == before


def test_only_coordinators_award(pw, client_for, selected):
    assert (
        client_for(pw.desk_a)
        .get(reverse("projects:application_award", args=[selected.pk]))
        .status_code
        == 404
    )


# --- Public pages ------------------------------------------------------------------------------


def _public(w, **changes) -> dict:
    data = {
        "kind": "individual",
        "given_name": "سامي",
        "family_name": "الغربي",
        "sex": "M",
        "birth_year": "1995",
        "phone": "+216 20 123 456",
        "email": "",
        "territory": str(w.tabarka.pk),
        "sector": str(w.crafts.pk),
        "title": "ورشة نسيج",
        "summary": "",
        "financing_kind": "grant",
        "requested_amount": "4500",
        "expected_monthly_revenue": "",
        "expected_jobs_women": "1",
        "expected_jobs_men": "1",
        "consent": "on",
        "collective_name": "",
        **_plan(),
        **_management("mem", 2),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_public_pages_list_open_calls_only(pw, client):
    s.call_create(
        user=pw.coordinator,
        organisation=pw.net,
        code="draft-call",
        title={"en": "Not yet"},
        opens_on=TODAY,
        closes_on=TODAY,
        currency="TND",
    )
    html = client.get(reverse("projects:public_calls")).content.decode()
    assert "Micro-projects 2026" in html and "Not yet" not in html
    assert client.get(reverse("projects:public_apply", args=["draft-call"])).status_code == 404
    assert client.get(reverse("projects:public_apply", args=["nothing"])).status_code == 404


def test_the_public_form_in_arabic_is_right_to_left_and_sends_a_submission(pw, client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    url = reverse("projects:public_apply", args=[pw.call.code])
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert '<html lang="ar" dir="rtl">' in html
    assert "bootstrap.rtl.min.css" in html
    assert "المشاريع الصغرى 2026" in html  # the call's Arabic title
    assert "INVALID[" not in html
    response = client.post(url, _public(pw))
    submission = PublicSubmission.objects.unscoped().get()
    track = reverse("projects:track", args=[submission.reference, submission.tracking_secret])
    assert response.status_code == 302 and response["Location"] == track
    assert submission.language == "ar" and submission.consent_given
    assert submission.data["given_name"] == "سامي"
    assert submission.data["investments"][0]["label"] == "Sewing machines"
    assert Person.objects.unscoped().count() == 4  # nothing entered the registry
    page = client.get(track)
    html = page.content.decode()
    assert 'dir="rtl"' in html
    assert submission.reference in html and 'data-testid="tracking-link"' in html
    assert page["Referrer-Policy"] == "no-referrer"
    # The tracking page shows what the applicant typed, nothing of the registry.
    again = client.get(track).content.decode()
    assert 'data-testid="tracking-link"' not in again  # the link is shown once, after sending
    assert "ورشة نسيج" in again
    assert "+216" not in again


def test_the_tracking_page_with_a_wrong_secret_is_404(pw, client):
    client.post(reverse("projects:public_apply", args=[pw.call.code]), _public(pw))
    submission = PublicSubmission.objects.unscoped().get()
    for reference, secret in (
        (submission.reference, "wrong"),
        (submission.reference, submission.tracking_secret[:-1]),
        ("WEB-00-000000", submission.tracking_secret),
    ):
        assert client.get(reverse("projects:track", args=[reference, secret])).status_code == 404
    application = submit(pw)
    ok = reverse("projects:track", args=[application.reference, application.tracking_secret])
    assert client.get(ok).status_code == 200
    bad = reverse("projects:track", args=[application.reference, "x" * 32])
    assert client.get(bad).status_code == 404


PUBLIC_BAD = [
    ("no consent", {"consent": None}, "consent", "Please read the privacy notice"),
    ("outside the call", {"territory": "EMPOLI"}, "territory", "valid choice"),
    ("plan does not add up", {"fin-0-amount": "100"}, "financing", "The financing plan adds up to"),
    (
        "negative",
        {"requested_amount": "-1"},
        "requested_amount",
        "The amount must be more than zero.",
    ),
    ("collective without name", {"kind": "collective"}, "collective_name", "Give the name"),
    (
        "member without given name",
        {"kind": "collective", "collective_name": "Weavers", "mem-0-family_name": "Jaziri"},
        "mem-0-given_name",
        "required",
    ),
    ("birth year 1800", {"birth_year": "1800"}, "birth_year", ""),
    ("markup in the name", {"given_name": "<b>x</b>"}, "given_name", ""),
]


@pytest.mark.parametrize(
    "changes,field,message", [c[1:] for c in PUBLIC_BAD], ids=[c[0] for c in PUBLIC_BAD]
)
def test_bad_public_input_is_shown_next_to_the_field(pw, client, changes, field, message):
    changes = {k: str(pw.empoli.pk) if v == "EMPOLI" else v for k, v in changes.items()}
    response = client.post(
        reverse("projects:public_apply", args=[pw.call.code]), _public(pw, **changes)
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-field-error="{field}"' in html
    assert message in html
    assert PublicSubmission.objects.unscoped().count() == 0


# --- Submissions inbox ---------------------------------------------------------------------------


def _sent(w, **changes) -> tuple[PublicSubmission, Client]:
    """A submission sent from the public page by a visitor (their own browser)."""
    visitor = Client()
    response = visitor.post(
        reverse("projects:public_apply", args=[w.call.code]), _public(w, **changes)
    )
    assert response.status_code == 302
    return PublicSubmission.objects.unscoped().latest("pk"), visitor


def test_a_field_officer_registers_a_new_promoter(pw, client_for):
    submission, visitor = _sent(pw)
    officer = client_for(pw.desk_a)
    inbox = officer.get(reverse("projects:submissions")).content.decode()
    assert submission.reference in inbox
    outsider = Client()
    outsider.force_login(pw.outsider)
    assert outsider.get(reverse("projects:submission", args=[submission.pk])).status_code == 404
    page = officer.get(reverse("projects:submission", args=[submission.pk]))
    assert page.status_code == 200 and "INVALID[" not in page.content.decode()
    response = officer.post(
        reverse("projects:submission_register", args=[submission.pk]),
        {
            "promoter": "new",
            "organisation": pw.org_a.pk,
            "residence": pw.tabarka.pk,
            "sector": pw.crafts.pk,
        },
    )
    application = Application.objects.unscoped().get()
    assert response["Location"] == reverse("projects:application", args=[application.pk])
    person = application.promoter
    assert (person.given_name, person.family_name, person.birth_year, person.residence) == (
        "سامي",
        "الغربي",
        1995,
        pw.tabarka,
    )
    assert application.channel == "public"
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.REGISTERED
    # The applicant's tracking page now shows the next step.
    track = visitor.get(
        reverse("projects:track", args=[submission.reference, submission.tracking_secret])
    ).content.decode()
    assert "Waiting for the eligibility check" in track


def test_registering_a_collective_uses_a_known_person_and_creates_the_group(pw, client_for):
    submission, _visitor = _sent(
        pw,
        kind="collective",
        given_name="Salma",
        family_name="Trabelsi",
        birth_year="1990",
        phone="",
        collective_name="Jendouba bakers",
        role="president",
        share="50",
        **{"mem-0-given_name": "Leila", "mem-0-family_name": "Ayari", "mem-0-share": "50"},
    )
    officer = client_for(pw.desk_a)
    page = officer.get(reverse("projects:submission", args=[submission.pk])).content.decode()
    # The promoter is likely Salma Trabelsi, already registered by org_a.
    assert f'value="p{pw.p_jendouba.pk}"' in page
    before = Person.objects.unscoped().count()
    officer.post(
        reverse("projects:submission_register", args=[submission.pk]),
        {
            "promoter": f"p{pw.p_jendouba.pk}",
            "member_1": "new",
            "group_kind": "cooperative",
            "organisation": pw.org_a.pk,
            "residence": pw.jendouba.pk,
            "sector": pw.crafts.pk,
        },
    )
    application = Application.objects.unscoped().get()
    assert application.promoter == pw.p_jendouba
    group = application.group
    assert group.name == "Jendouba bakers"
    members = {
        (m.person.given_name, m.role, m.share) for m in group.members.select_related("person")
    }
    assert members == {
        ("Salma", "president", Decimal("50.00")),
        ("Leila", "member", Decimal("50.00")),
    }
    assert Person.objects.unscoped().count() == before + 1


def test_a_failed_registration_writes_nothing(pw, client_for):
    submit(pw)  # p_jendouba already has an application in the call
    submission, _visitor = _sent(
        pw, given_name="Salma", family_name="Trabelsi", birth_year="1990", phone=""
    )
    before = _counts()
    response = client_for(pw.desk_a).post(
        reverse("projects:submission_register", args=[submission.pk]),
        {
            "promoter": f"p{pw.p_jendouba.pk}",
            "organisation": pw.org_a.pk,
            "residence": pw.jendouba.pk,
            "sector": pw.crafts.pk,
        },
        follow=True,
    )
    assert "already has an application in this call" in response.content.decode()
    assert _counts() == before
    # A new person registered on the way is rolled back too when the application is refused.
    s.call_set_status(user=pw.coordinator, call=pw.call, status="closed")
    response = client_for(pw.desk_a).post(
        reverse("projects:submission_register", args=[submission.pk]),
        {
            "promoter": "new",
            "organisation": pw.org_a.pk,
            "residence": pw.jendouba.pk,
            "sector": pw.crafts.pk,
        },
        follow=True,
    )
    assert "This call is not open for applications." in response.content.decode()
    assert _counts() == before


def test_declining_needs_a_reason_the_applicant_reads(pw, client_for):
    submission, visitor = _sent(pw)
    officer = client_for(pw.desk_a)
    url = reverse("projects:submission_decline", args=[submission.pk])
    response = officer.post(url, {"reason": ""}, follow=True)
    assert "This field is required." in response.content.decode()
    officer.post(url, {"reason": "The project is outside the call's sectors."})
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.DECLINED
    track = visitor.get(
        reverse("projects:track", args=[submission.reference, submission.tracking_secret])
    ).content.decode()
    assert "outside the call&#x27;s sectors" in track


def test_the_footer_links_to_the_public_pages_when_signed_out(pw, client):
    html = client.get(reverse("login")).content.decode()
    footer = re.search(r'data-testid="footer".*?</footer>', html, re.S).group(0)
    assert f'href="{reverse("projects:public_calls")}"' in footer
