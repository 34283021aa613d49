"""The access matrix: every persona against every page and API endpoint.

Lists show exactly what the persona may see; a record outside the persona's scope is "not
found" (404) on every detail page, history, edit page and action, never "forbidden" (which
would confirm it exists) and never shown; a record inside it is shown. Read-only roles see
but cannot change.
"""

import datetime
from dataclasses import dataclass

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from tadamun.cases.models import (
    ActionFamily,
    ActionType,
    Case,
    CaseNote,
    Desk,
    DeskKind,
    DiagnosisDimension,
    Intake,
    PathwayAction,
    Referral,
)
from tadamun.imports.models import ImportJob, ImportKind, ImportStatus
from tadamun.programmes.models import ParticipantRole, Programme, ProgrammeParticipant
from tadamun.registry.models import (
    Consent,
    ConsentPurpose,
    Group,
    GroupKind,
    GroupMember,
    Person,
)
from tadamun.territories.models import Territory

from ..conftest import PERSONAS
from ..helpers import error_messages, snapshot

READ_ONLY = ["viewer_a", "controller_a", "trainer_a"]
PEOPLE = ["tabarka", "jendouba", "kef", "empoli"]
GROUPS = ["tabarka", "jendouba", "kef", "empoli", "a_anywhere"]
PROGRAMMES = ["a", "b", "c", "net", "shared"]

_ORG_A_GROUPS = {"tabarka", "jendouba", "a_anywhere"}
VISIBLE_GROUPS = {
    "coordinator": _ORG_A_GROUPS | {"kef"},
    "desk_a": _ORG_A_GROUPS,
    "desk_tabarka": {"tabarka"},  # a group with no territory is outside a territory role
    "caseworker_b": {"kef"},
    "viewer_a": _ORG_A_GROUPS,
    "controller_a": _ORG_A_GROUPS,
    "trainer_a": _ORG_A_GROUPS,
    "outsider": {"empoli"},
    "operator": set(GROUPS),
    "nobody": set(),
}
# Programmes are seen by the organisations taking part (territory roles included).
VISIBLE_PROGRAMMES = {
    "coordinator": {"a", "b", "net", "shared"},
    "desk_a": {"a", "shared"},
    "desk_tabarka": {"a", "shared"},
    "caseworker_b": {"b", "net"},
    "viewer_a": {"a", "shared"},
    "controller_a": {"a", "shared"},
    "trainer_a": {"a", "shared"},
    "outsider": {"c", "shared"},
    "operator": set(PROGRAMMES),
    "nobody": set(),
}


@dataclass
class Records:
    world: object
    people: dict
    groups: dict
    programmes: dict
    consents: dict  # person key -> a consent of that person
    members: dict  # group key -> a member of that group

    def visible_people(self, persona) -> set[str]:
        seen = self.world.visible_people(persona)
        return {key for key, person in self.people.items() if person in seen}


@pytest.fixture
def records(world) -> Records:
    w = world
    people = {
        "tabarka": w.p_tabarka,
        "jendouba": w.p_jendouba,
        "kef": w.p_kef,
        "empoli": w.p_empoli,
    }

    def group(name, organisation, territory):
        record = Group(
            name=name, kind=GroupKind.HOUSEHOLD, organisation=organisation, territory=territory
        )
        record.save()
        return record

    groups = {
        "tabarka": group("Tabarka household", w.org_a, w.tabarka),
        "jendouba": group("Jendouba cooperative", w.org_a, w.jendouba),
        "kef": group("Kef household", w.org_b, w.kef),
        "empoli": group("Empoli collective", w.org_c, w.empoli),
        "a_anywhere": group("Org A network", w.org_a, None),
    }

    def programme(code, **roles):
        record = Programme(code=code, title={"en": f"Programme {code}"}, currency="TND")
        record.save()
        for role, organisations in roles.items():
            for organisation in organisations:
                ProgrammeParticipant.objects.create(
                    programme=record, organisation=organisation, role=role
                )
        return record

    lead, implementer, partner = (
        ParticipantRole.LEAD,
        ParticipantRole.IMPLEMENTER,
        ParticipantRole.PARTNER,
    )
    programmes = {
        "a": programme("prog-a", **{lead: [w.org_a]}),
        "b": programme("prog-b", **{lead: [w.org_b]}),
        "c": programme("prog-c", **{lead: [w.org_c]}),
        "net": programme("prog-net", **{lead: [w.net], implementer: [w.org_b]}),
        "shared": programme("prog-shared", **{lead: [w.org_c], partner: [w.org_a]}),
    }
    consents = {
        key: Consent.objects.create(
            person=person,
            purpose="registration",
            lawful_basis="consent",
            organisation=person.organisation,
            given_on=datetime.date(2024, 2, 15),
            recorded_by=w.operator,
        )
        for key, person in people.items()
    }
    members = {
        key: GroupMember.objects.create(group=groups[key], person=people[key], role="head")
        for key in ("tabarka", "jendouba", "kef", "empoli")
    }
    return Records(
        world=w,
        people=people,
        groups=groups,
        programmes=programmes,
        consents=consents,
        members=members,
    )


# --- endpoints ------------------------------------------------------------------------------

# (kind of record, URL template) for pages answering GET.
PAGE_READS = [
    ("person", "/people/{pk}/"),
    ("person", "/people/{pk}/edit/"),
    ("person", "/people/{pk}/history/"),
    ("group", "/groups/{pk}/"),
    ("group", "/groups/{pk}/edit/"),
    ("group", "/groups/{pk}/history/"),
    ("programme", "/programmes/{code}/"),
    ("programme", "/programmes/{code}/edit/"),
    ("programme", "/programmes/{code}/history/"),
]
# (kind, method, URL template) for pages that change something.
PAGE_WRITES = [
    ("person", "post", "/people/{pk}/edit/"),
    ("person", "post", "/people/{pk}/archive/"),
    ("person", "post", "/people/{pk}/consents/"),
    ("person", "post", "/people/{pk}/consents/{consent}/withdraw/"),
    ("group", "post", "/groups/{pk}/edit/"),
    ("group", "post", "/groups/{pk}/archive/"),
    ("group", "post", "/groups/{pk}/members/"),
    ("group", "post", "/groups/{pk}/members/{member}/remove/"),
    ("programme", "post", "/programmes/{code}/edit/"),
    ("programme", "post", "/programmes/{code}/archive/"),
]
API_READS = [
    ("person", "/api/v1/people/{pk}/"),
    ("person", "/api/v1/people/{pk}/history/"),
    ("person", "/api/v1/people/{pk}/consents/"),
    ("group", "/api/v1/groups/{pk}/"),
    ("group", "/api/v1/groups/{pk}/history/"),
    ("group", "/api/v1/groups/{pk}/members/"),
    ("programme", "/api/v1/programmes/{code}/"),
    ("programme", "/api/v1/programmes/{code}/history/"),
]
API_WRITES = [
    ("person", "patch", "/api/v1/people/{pk}/"),
    ("person", "put", "/api/v1/people/{pk}/"),
    ("person", "delete", "/api/v1/people/{pk}/"),
    ("person", "post", "/api/v1/people/{pk}/restore/"),
    ("person", "post", "/api/v1/people/{pk}/consents/"),
    ("person", "post", "/api/v1/people/{pk}/consents/{consent}/withdraw/"),
    ("group", "patch", "/api/v1/groups/{pk}/"),
    ("group", "delete", "/api/v1/groups/{pk}/"),
    ("group", "post", "/api/v1/groups/{pk}/members/"),
    ("group", "post", "/api/v1/groups/{pk}/members/{member}/leave/"),
    ("programme", "patch", "/api/v1/programmes/{code}/"),
    ("programme", "delete", "/api/v1/programmes/{code}/"),
    ("programme", "post", "/api/v1/programmes/{code}/restore/"),
]
LIST_PAGES = ["/people/", "/groups/", "/programmes/", "/organisations/", "/territories/"]
LIST_APIS = [
    "/api/v1/people/",
    "/api/v1/groups/",
    "/api/v1/programmes/",
    "/api/v1/organisations/",
    "/api/v1/territories/",
]


def _keys(records, kind):
    return {"person": PEOPLE, "group": GROUPS, "programme": PROGRAMMES}[kind]


def _visible(records, kind, persona) -> set[str]:
    if kind == "person":
        return records.visible_people(persona)
    if kind == "group":
        return VISIBLE_GROUPS[persona]
    return VISIBLE_PROGRAMMES[persona]


def _url(records, kind, template, key) -> str:
    if kind == "person":
        return template.format(pk=records.people[key].pk, consent=records.consents[key].pk)
    if kind == "group":
        member = records.members.get(key)
        return template.format(pk=records.groups[key].pk, member=member.pk if member else 0)
    return template.format(code=records.programmes[key].code)


def _person_form(person, **changes) -> dict:
    data = {
        "given_name": person.given_name,
        "family_name": person.family_name,
        "given_name_latin": person.given_name_latin,
        "family_name_latin": person.family_name_latin,
        "sex": "F",
        "birth_date": "1990-05-17",
        "residence": person.residence_id or "",
    }
    data.update(changes)
    return data


def _page_payload(records, kind, template, key) -> dict:
    if template.endswith("/edit/"):
        if kind == "person":
            return _person_form(records.people[key], given_name="Changed")
        if kind == "group":
            group = records.groups[key]
            return {"name": "Changed", "kind": "cooperative", "territory": group.territory_id or ""}
        return {"title_0": "Changed", "status": "active", "currency": "TND"}
    if template.endswith("/consents/"):
        return {"purpose": "contact", "lawful_basis": "consent", "given_on": "2024-03-01"}
    if template.endswith("/members/"):
        return {"person": records.people["tabarka"].pk, "role": "member"}
    return {}


def _api_payload(records, kind, method, template, key) -> dict:
    if method == "put" and kind == "person":
        person = records.people[key]
        return {
            "given_name": "Changed",
            "family_name": person.family_name,
            "residence": person.residence.code if person.residence else None,
        }
    if method in ("patch", "put"):
        return (
            {"given_name": "Changed"}
            if kind == "person"
            else ({"name": "Changed"} if kind == "group" else {"status": "active"})
        )
    if template.endswith("/consents/"):
        return {"purpose": "contact", "lawful_basis": "consent", "given_on": "2024-03-01"}
    if template.endswith("/members/"):
        return {"person": records.people["tabarka"].pk, "role": "member"}
    return {}


def _archive(records, kind, key):
    """Archive a record behind the services' back, so that there is something to restore."""
    model, record = {
        "person": (Person, records.people.get(key)),
        "group": (Group, records.groups.get(key)),
        "programme": (Programme, records.programmes.get(key)),
    }[kind]
    model.objects.unscoped().filter(pk=record.pk).update(
        archived_at=datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    )


def _ids(rows):
    return [" ".join(str(part) for part in row).replace("/", "_") for row in rows]


# --- anonymous ------------------------------------------------------------------------------

ANONYMOUS_PAGES = [
    "/",
    *LIST_PAGES,
    "/people/new/",
    "/groups/new/",
    "/programmes/new/",
    "/organisations/org-a/",
    "/organisations/org-a/history/",
    "/territories/TN/",
    "/accounts/preferences/",
]


@pytest.mark.parametrize("kind,template", PAGE_READS, ids=_ids(PAGE_READS))
def test_anonymous_visitor_is_sent_to_sign_in_from_a_record_page(client, records, kind, template):
    key = "tabarka" if kind != "programme" else "a"
    url = _url(records, kind, template, key)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("url", ANONYMOUS_PAGES)
def test_anonymous_visitor_is_sent_to_sign_in_from_a_page(client, records, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("kind,method,template", PAGE_WRITES, ids=_ids(PAGE_WRITES))
def test_anonymous_post_is_sent_to_sign_in_and_changes_nothing(
    client, records, kind, method, template
):
    key = "tabarka" if kind != "programme" else "a"
    before = snapshot()
    response = client.post(
        _url(records, kind, template, key), _page_payload(records, kind, template, key)
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert snapshot() == before


@pytest.mark.parametrize("url", LIST_APIS)
def test_anonymous_api_list_is_refused(api_for, records, url):
    response = api_for(None).get(url)
    assert response.status_code in (401, 403)
    assert "results" not in response.json()


@pytest.mark.parametrize("kind,template", API_READS, ids=_ids(API_READS))
def test_anonymous_api_record_is_refused(api_for, records, kind, template):
    key = "tabarka" if kind != "programme" else "a"
    response = api_for(None).get(_url(records, kind, template, key))
    assert response.status_code in (401, 403)


@pytest.mark.parametrize("kind,method,template", API_WRITES, ids=_ids(API_WRITES))
def test_anonymous_api_write_is_refused_and_changes_nothing(
    api_for, records, kind, method, template
):
    key = "tabarka" if kind != "programme" else "a"
    before = snapshot()
    response = getattr(api_for(None), method)(
        _url(records, kind, template, key),
        _api_payload(records, kind, method, template, key),
        format="json",
    )
    assert response.status_code in (401, 403)
    assert snapshot() == before


def test_a_bad_token_is_refused(records):
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert api.get("/api/v1/people/").status_code == 401


# --- lists ----------------------------------------------------------------------------------


def _expected_list(records, persona, url):
    w = records.world
    if url.endswith("/people/"):
        return {records.people[k].pk for k in records.visible_people(persona)}
    if url.endswith("/groups/"):
        return {records.groups[k].pk for k in VISIBLE_GROUPS[persona]}
    if url.endswith("/programmes/"):
        return {records.programmes[k].code for k in VISIBLE_PROGRAMMES[persona]}
    if url.endswith("/organisations/"):
        # The directory of organisations is open to every signed-in user.
        return {o.slug for o in (w.org_a, w.org_b, w.org_c, w.net)}
    if url == "/territories/":
        return {"TN", "IT"}  # the page lists the countries; the tree opens from there
    return {t.code for t in (w.tn, w.jendouba, w.tabarka, w.kef, w.it, w.empoli)}


def _key_of(url):
    if url.endswith(("/programmes/",)):
        return "code"
    if url.endswith("/organisations/"):
        return "slug"
    if url.endswith("/territories/"):
        return "code"
    return "pk"


@pytest.mark.parametrize("url", LIST_PAGES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_list_page_shows_exactly_what_the_persona_may_see(client_for, records, persona, url):
    response = client_for(getattr(records.world, persona)).get(url)
    assert response.status_code == 200
    if url == "/territories/":
        shown = {t.code for t in response.context["countries"]}
    else:
        attribute = _key_of(url)
        shown = {getattr(item, attribute) for item in response.context["page"].items}
    assert shown == _expected_list(records, persona, url)


@pytest.mark.parametrize("url", LIST_PAGES[:3])
@pytest.mark.parametrize("persona", PERSONAS)
def test_list_page_names_no_record_outside_scope(client_for, records, persona, url):
    """The HTML itself carries no link to a record the persona may not see."""
    html = client_for(getattr(records.world, persona)).get(url).content.decode()
    if url == "/people/":
        for key, person in records.people.items():
            assert (f'href="/people/{person.pk}/"' in html) == (
                key in records.visible_people(persona)
            )
    elif url == "/groups/":
        for key, group in records.groups.items():
            assert (f'href="/groups/{group.pk}/"' in html) == (key in VISIBLE_GROUPS[persona])
    else:
        for key, programme in records.programmes.items():
            assert (f'href="/programmes/{programme.code}/"' in html) == (
                key in VISIBLE_PROGRAMMES[persona]
            )


@pytest.mark.parametrize("url", LIST_APIS)
@pytest.mark.parametrize("persona", PERSONAS)
def test_list_api_returns_exactly_what_the_persona_may_see(api_for, records, persona, url):
    response = api_for(getattr(records.world, persona)).get(url)
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    field = {"pk": "id", "code": "code", "slug": "slug"}[_key_of(url)]
    assert {row[field] for row in body["results"]} == _expected_list(records, persona, url)


@pytest.mark.parametrize("persona", PERSONAS)
def test_person_search_api_finds_no_one_outside_scope(api_for, records, persona):
    """Searching for a name held by every organisation's records returns only visible ones."""
    response = api_for(getattr(records.world, persona)).get("/api/v1/people/", {"q": "a"})
    assert response.status_code == 200
    visible = {records.people[k].pk for k in records.visible_people(persona)}
    assert {row["id"] for row in response.json()["results"]} <= visible


# --- records: reads -------------------------------------------------------------------------


def _cases(endpoints):
    return [(persona, *endpoint) for persona in PERSONAS for endpoint in endpoints]


@pytest.mark.parametrize("persona,kind,template", _cases(PAGE_READS), ids=_ids(_cases(PAGE_READS)))
def test_record_page_is_404_outside_scope_and_200_inside(
    client_for, records, persona, kind, template
):
    client = client_for(getattr(records.world, persona))
    visible = _visible(records, kind, persona)
    answers = {
        key: client.get(_url(records, kind, template, key)).status_code
        for key in _keys(records, kind)
    }
    assert answers == {key: 200 if key in visible else 404 for key in _keys(records, kind)}


@pytest.mark.parametrize("persona,kind,template", _cases(API_READS), ids=_ids(_cases(API_READS)))
def test_record_api_is_404_outside_scope_and_200_inside(api_for, records, persona, kind, template):
    api = api_for(getattr(records.world, persona))
    visible = _visible(records, kind, persona)
    answers = {
        key: api.get(_url(records, kind, template, key)).status_code for key in _keys(records, kind)
    }
    assert answers == {key: 200 if key in visible else 404 for key in _keys(records, kind)}


@pytest.mark.parametrize("persona", PERSONAS)
def test_record_api_outside_scope_says_only_not_found(api_for, records, persona):
    api = api_for(getattr(records.world, persona))
    for key in set(PEOPLE) - records.visible_people(persona):
        response = api.get(f"/api/v1/people/{records.people[key].pk}/")
        assert response.status_code == 404
        assert records.people[key].family_name not in response.content.decode()
    assert api.get("/api/v1/people/999999/").status_code == 404


# --- records: writes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona,kind,method,template", _cases(PAGE_WRITES), ids=_ids(_cases(PAGE_WRITES))
)
def test_page_action_outside_scope_is_404_and_changes_nothing(
    client_for, records, persona, kind, method, template
):
    client = client_for(getattr(records.world, persona))
    hidden = set(_keys(records, kind)) - _visible(records, kind, persona)
    before = snapshot()
    for key in sorted(hidden):
        url = _url(records, kind, template, key)
        response = client.post(url, _page_payload(records, kind, template, key))
        assert response.status_code == 404, url
    assert snapshot() == before


@pytest.mark.parametrize(
    "persona,kind,method,template", _cases(API_WRITES), ids=_ids(_cases(API_WRITES))
)
def test_api_write_outside_scope_is_404_and_changes_nothing(
    api_for, records, persona, kind, method, template
):
    api = api_for(getattr(records.world, persona))
    hidden = set(_keys(records, kind)) - _visible(records, kind, persona)
    before = snapshot()
    for key in sorted(hidden):
        url = _url(records, kind, template, key)
        payload = _api_payload(records, kind, method, template, key)
        response = getattr(api, method)(url, payload, format="json")
        assert response.status_code == 404, (url, response.content)
    assert snapshot() == before


PERSON_API_WRITES = [w for w in API_WRITES if w[0] == "person"]
GROUP_API_WRITES = [w for w in API_WRITES if w[0] == "group"]
PROGRAMME_API_WRITES = [w for w in API_WRITES if w[0] == "programme"]


@pytest.mark.parametrize("persona", READ_ONLY)
@pytest.mark.parametrize("kind,method,template", API_WRITES, ids=_ids(API_WRITES))
def test_read_only_role_write_through_api_is_403_and_changes_nothing(
    api_for, records, persona, kind, method, template
):
    key = {"person": "jendouba", "group": "jendouba", "programme": "a"}[kind]
    assert key in _visible(records, kind, persona)
    if template.endswith("/restore/"):
        _archive(records, kind, key)
    before = snapshot()
    response = getattr(api_for(getattr(records.world, persona)), method)(
        _url(records, kind, template, key),
        _api_payload(records, kind, method, template, key),
        format="json",
    )
    assert response.status_code == 403, response.content
    assert snapshot() == before


@pytest.mark.parametrize("persona", READ_ONLY)
@pytest.mark.parametrize("kind,method,template", PAGE_WRITES, ids=_ids(PAGE_WRITES))
def test_read_only_role_write_through_a_page_shows_an_error_and_changes_nothing(
    client_for, records, persona, kind, method, template
):
    key = {"person": "jendouba", "group": "jendouba", "programme": "a"}[kind]
    assert key in _visible(records, kind, persona)
    client = client_for(getattr(records.world, persona))
    before = snapshot()
    response = client.post(
        _url(records, kind, template, key),
        _page_payload(records, kind, template, key),
        follow=True,
    )
    assert response.status_code == 200
    form = response.context.get("form")
    form_errors = form.errors if form is not None else {}
    assert error_messages(response) or form_errors, "the refusal was not shown"
    assert snapshot() == before


def test_viewer_is_not_offered_change_buttons(client_for, records):
    html = (
        client_for(records.world.viewer_a)
        .get(f"/people/{records.people['jendouba'].pk}/")
        .content.decode()
    )
    assert f"/people/{records.people['jendouba'].pk}/edit/" not in html
    assert "/archive/" not in html


# --- children of visible records ------------------------------------------------------------


def test_a_consent_of_another_person_is_404_through_a_visible_person(client_for, api_for, records):
    w = records.world
    mine, theirs = records.people["tabarka"], records.consents["kef"]
    before = snapshot()
    page = client_for(w.desk_a).post(f"/people/{mine.pk}/consents/{theirs.pk}/withdraw/")
    api = api_for(w.desk_a).post(f"/api/v1/people/{mine.pk}/consents/{theirs.pk}/withdraw/")
    assert (page.status_code, api.status_code) == (404, 404)
    assert snapshot() == before


def test_a_member_of_another_group_is_404_through_a_visible_group(client_for, api_for, records):
    w = records.world
    mine, theirs = records.groups["tabarka"], records.members["kef"]
    before = snapshot()
    page = client_for(w.desk_a).post(f"/groups/{mine.pk}/members/{theirs.pk}/remove/")
    api = api_for(w.desk_a).post(f"/api/v1/groups/{mine.pk}/members/{theirs.pk}/leave/")
    assert (page.status_code, api.status_code) == (404, 404)
    assert snapshot() == before


def test_a_member_outside_the_territory_is_hidden_in_a_visible_group(client_for, api_for, records):
    """desk_tabarka sees the Tabarka household, not its member living in Jendouba."""
    w = records.world
    group = records.groups["tabarka"]
    hidden = GroupMember.objects.create(group=group, person=w.p_jendouba, role="relative")
    listed = api_for(w.desk_tabarka).get(f"/api/v1/groups/{group.pk}/members/").json()
    assert {row["person"] for row in listed} == {w.p_tabarka.pk}
    page = client_for(w.desk_tabarka).get(f"/groups/{group.pk}/")
    assert w.p_jendouba.given_name not in page.content.decode()
    assert page.context["hidden_members"] == 1
    before = snapshot()
    api = api_for(w.desk_tabarka).post(f"/api/v1/groups/{group.pk}/members/{hidden.pk}/leave/")
    assert api.status_code == 404
    assert w.p_jendouba.given_name not in api.content.decode()
    page = client_for(w.desk_tabarka).post(f"/groups/{group.pk}/members/{hidden.pk}/remove/")
    assert page.status_code == 404
    assert snapshot() == before


def test_a_person_outside_scope_cannot_be_added_to_a_visible_group(api_for, records):
    w = records.world
    group = records.groups["tabarka"]
    before = snapshot()
    response = api_for(w.desk_a).post(
        f"/api/v1/groups/{group.pk}/members/",
        {"person": w.p_kef.pk, "role": "member"},
        format="json",
    )
    assert response.status_code == 400
    assert "person" in response.json()
    assert snapshot() == before


# --- writes inside scope succeed for editing roles -----------------------------------------


EDITORS = {
    "coordinator": "jendouba",
    "desk_a": "jendouba",
    "desk_tabarka": "tabarka",
    "caseworker_b": "kef",
    "outsider": "empoli",
    "operator": "kef",
}


@pytest.mark.parametrize("persona", sorted(EDITORS))
def test_an_editing_role_changes_a_person_in_scope(api_for, records, persona):
    person = records.people[EDITORS[persona]]
    response = api_for(getattr(records.world, persona)).patch(
        f"/api/v1/people/{person.pk}/", {"family_name": "Changed"}, format="json"
    )
    assert response.status_code == 200, response.content
    person.refresh_from_db()
    assert person.family_name == "Changed"


@pytest.mark.parametrize("persona", sorted(EDITORS))
def test_an_editing_role_archives_a_person_in_scope_through_the_page(client_for, records, persona):
    person = records.people[EDITORS[persona]]
    response = client_for(getattr(records.world, persona)).post(f"/people/{person.pk}/archive/")
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.is_archived


# The same requests as in the refusals above, by a role entitled to make them: they succeed,
# so a refusal above is the access layer's doing, not a malformed request's.
EDITOR_OF = {
    "person": ("desk_a", "jendouba"),
    "group": ("desk_a", "jendouba"),
    "programme": ("coordinator", "a"),
}


@pytest.mark.parametrize("kind,method,template", PAGE_WRITES, ids=_ids(PAGE_WRITES))
def test_page_action_inside_scope_succeeds_for_an_editing_role(
    client_for, records, kind, method, template
):
    persona, key = EDITOR_OF[kind]
    client = client_for(getattr(records.world, persona))
    before = snapshot()
    response = client.post(
        _url(records, kind, template, key), _page_payload(records, kind, template, key)
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert not error_messages(client.get(response["Location"]))
    assert snapshot() != before


@pytest.mark.parametrize("kind,method,template", API_WRITES, ids=_ids(API_WRITES))
def test_api_write_inside_scope_succeeds_for_an_editing_role(
    api_for, records, kind, method, template
):
    persona, key = EDITOR_OF[kind]
    if template.endswith("/restore/"):
        _archive(records, kind, key)
    before = snapshot()
    response = getattr(api_for(getattr(records.world, persona)), method)(
        _url(records, kind, template, key),
        _api_payload(records, kind, method, template, key),
        format="json",
    )
    assert response.status_code in (200, 201, 204), response.content
    assert snapshot() != before


def test_territories_are_the_same_reference_data_for_everyone(api_for, records):
    """Territories are not scoped: a sanity check that the oracle above is not vacuous."""
    codes = {
        row["code"]
        for row in api_for(records.world.nobody).get("/api/v1/territories/").json()["results"]
    }
    assert codes == set(Territory.objects.values_list("code", flat=True))


# --- organisations: a public directory, changed only by the network's coordinators ---------

NOT_COORDINATORS = [p for p in PERSONAS if p not in ("coordinator", "operator")]
ORGANISATION_FORM = {
    "name_4": "Changed",
    "kind": "association",
    "country": "TN",
    "time_zone": "Africa/Tunis",
}


@pytest.mark.parametrize("persona", NOT_COORDINATORS)
def test_changing_an_organisation_through_the_api_needs_its_coordinator(api_for, records, persona):
    before = snapshot()
    response = api_for(getattr(records.world, persona)).patch(
        "/api/v1/organisations/org-a/", {"short_name": "Changed"}, format="json"
    )
    assert response.status_code == 403, response.content
    assert snapshot() == before


@pytest.mark.parametrize("persona", NOT_COORDINATORS)
def test_changing_an_organisation_through_its_page_needs_its_coordinator(
    client_for, records, persona
):
    client = client_for(getattr(records.world, persona))
    before = snapshot()
    edit = client.post("/organisations/org-a/edit/", ORGANISATION_FORM)
    assert edit.status_code == 200
    assert edit.context["form"].non_field_errors()
    link = records.world.net.member_links.get(member=records.world.org_b)
    end = client.post(f"/organisations/net/members/{link.pk}/end/", follow=True)
    assert error_messages(end)
    assert snapshot() == before


def test_the_coordinator_changes_a_member_organisation(api_for, records):
    response = api_for(records.world.coordinator).patch(
        "/api/v1/organisations/org-a/", {"short_name": "OA"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["short_name"] == "OA"


def test_the_coordinator_changes_a_member_organisation_through_its_page(client_for, records):
    """The control for the refusals above: the same form, sent by the coordinator, is saved."""
    response = client_for(records.world.coordinator).post(
        "/organisations/org-a/edit/", ORGANISATION_FORM
    )
    assert response.status_code == 302
    records.world.org_a.refresh_from_db()
    assert records.world.org_a.name.localize("en") == "Changed"


# --- cases, referrals and imports ---------------------------------------------------------
#
# docs/architecture.md: a case is seen by the staff of its lead organisation and the network's
# coordinators, within their territory; a referral by both ends, each within its territory
# (of the person it names); an import by its uploader and the coordinators of its
# organisation. The platform operator sees everything.

CASES = PEOPLE  # one case per person, led by the organisation that registered them
REFERRALS = ["a_to_b", "a_to_c", "b_to_a", "c_to_b"]  # "<from>_to_<to>" organisations
_A_SIDE = {"a_to_b", "a_to_c", "b_to_a"}
VISIBLE_REFERRALS = {
    "coordinator": set(REFERRALS),  # org_a and org_b at one end of each
    "desk_a": _A_SIDE,
    "desk_tabarka": {"a_to_b"},  # the others name people living outside Tabarka
    "caseworker_b": {"a_to_b", "b_to_a", "c_to_b"},
    "viewer_a": _A_SIDE,
    "controller_a": _A_SIDE,
    "trainer_a": _A_SIDE,
    "outsider": {"a_to_c", "c_to_b"},
    "operator": set(REFERRALS),
    "nobody": set(),
}
# The lists split them: received by one of the persona's organisations, or sent by one.
INCOMING_REFERRALS = {
    "coordinator": {"a_to_b", "b_to_a", "c_to_b"},
    "desk_a": {"b_to_a"},
    "desk_tabarka": set(),
    "caseworker_b": {"a_to_b", "c_to_b"},
    "viewer_a": {"b_to_a"},
    "controller_a": {"b_to_a"},
    "trainer_a": {"b_to_a"},
    "outsider": {"a_to_c"},
    "operator": set(REFERRALS),
    "nobody": set(),
}
OUTGOING_REFERRALS = {
    "coordinator": {"a_to_b", "a_to_c", "b_to_a"},
    "desk_a": {"a_to_b", "a_to_c"},
    "desk_tabarka": {"a_to_b"},
    "caseworker_b": {"b_to_a"},
    "viewer_a": {"a_to_b", "a_to_c"},
    "controller_a": {"a_to_b", "a_to_c"},
    "trainer_a": {"a_to_b", "a_to_c"},
    "outsider": {"c_to_b"},
    "operator": set(REFERRALS),
    "nobody": set(),
}
IMPORTS = ["desk_a", "desk_tabarka", "caseworker_b", "outsider"]  # who uploaded each
TODAY_MATRIX = timezone.localdate()
VISIBLE_IMPORTS = {
    "coordinator": {"desk_a", "desk_tabarka", "caseworker_b"},  # org_a's and org_b's
    "desk_a": {"desk_a"},
    "desk_tabarka": {"desk_tabarka"},
    "caseworker_b": {"caseworker_b"},
    "viewer_a": set(),
    "controller_a": set(),
    "trainer_a": set(),
    "outsider": {"outsider"},
    "operator": set(IMPORTS),
    "nobody": set(),
}


@dataclass
class CaseRecords:
    records: Records
    cases: dict
    referrals: dict
    imports: dict
    desk: object

    @property
    def world(self):
        return self.records.world


@pytest.fixture
def case_records(records) -> CaseRecords:
    w = records.world
    cases = {}
    for key, person in records.people.items():
        case = Case(person=person, organisation=person.organisation, opened_on=TODAY_MATRIX)
        case.save()
        cases[key] = case

    def referral(key, to_organisation):
        record = Referral(
            case=cases[key],
            from_organisation=cases[key].organisation,
            to_organisation=to_organisation,
            consent=records.consents[key],
            message="Needs a placement",
            deadline=TODAY_MATRIX + datetime.timedelta(days=7),
            sent_by=w.operator,
        )
        record.save()
        return record

    referrals = {
        "a_to_b": referral("tabarka", w.org_b),
        "a_to_c": referral("jendouba", w.org_c),
        "b_to_a": referral("kef", w.org_a),
        "c_to_b": referral("empoli", w.org_b),
    }
    uploads = {"desk_a": w.org_a, "desk_tabarka": w.org_a, "caseworker_b": w.org_b}
    uploads["outsider"] = w.org_c
    imports = {
        persona: ImportJob.objects.create(
            organisation=organisation,
            kind=ImportKind.PEOPLE,
            original_name=f"{persona}.csv",
            file_type="csv",
            status=ImportStatus.PREVIEWED,
            rows_total=1,
            report={"rows": 1, "error_count": 0},
            created_by=getattr(w, persona),
        )
        for persona, organisation in uploads.items()
    }
    desk = Desk.objects.create(
        network=w.net,
        organisation=w.org_a,
        code="desk",
        name={"en": "Desk"},
        kind=DeskKind.JOB_DESK,
    )
    return CaseRecords(records, cases, referrals, imports, desk)


def _case_world_snapshot() -> dict:
    return {
        **snapshot(),
        "cases": list(Case.objects.unscoped().order_by("pk").values()),
        "actions": list(PathwayAction.objects.order_by("pk").values()),
        "notes": list(CaseNote.objects.order_by("pk").values()),
        "intakes": list(Intake.objects.order_by("pk").values()),
        "referrals": list(Referral.objects.unscoped().order_by("pk").values()),
        "imports": list(ImportJob.objects.unscoped().order_by("pk").values()),
    }


def _case_keys(kind) -> list[str]:
    return {"case": CASES, "referral": REFERRALS, "import": IMPORTS}[kind]


def _case_visible(case_records, kind, persona) -> set[str]:
    if kind == "case":
        return case_records.records.visible_people(persona)
    if kind == "referral":
        return VISIBLE_REFERRALS[persona]
    return VISIBLE_IMPORTS[persona]


def _case_url(case_records, kind, template, key) -> str:
    record = {
        "case": case_records.cases,
        "referral": case_records.referrals,
        "import": case_records.imports,
    }[kind][key]
    return template.format(pk=record.pk)


CASE_LIST_APIS = [
    ("case", "/api/v1/cases/"),
    ("incoming", "/api/v1/referrals/?direction=incoming"),
    ("outgoing", "/api/v1/referrals/?direction=outgoing"),
    ("import", "/api/v1/imports/"),
]
CASE_API_READS = [
    ("case", "/api/v1/cases/{pk}/"),
    ("case", "/api/v1/cases/{pk}/actions/"),
    ("case", "/api/v1/cases/{pk}/notes/"),
    ("referral", "/api/v1/referrals/{pk}/"),
    ("import", "/api/v1/imports/{pk}/"),
]
CASE_PAGE_READS = [
    ("import", "/imports/{pk}/"),
    ("import", "/imports/{pk}/status/"),
]
CASE_API_WRITES = [
    ("case", "post", "/api/v1/cases/{pk}/notes/"),
    ("case", "post", "/api/v1/cases/{pk}/actions/"),
    ("case", "post", "/api/v1/cases/{pk}/diagnoses/"),
    ("case", "post", "/api/v1/cases/{pk}/referrals/"),
    ("case", "post", "/api/v1/cases/{pk}/close/"),
    ("referral", "post", "/api/v1/referrals/{pk}/answer/"),
    ("referral", "post", "/api/v1/referrals/{pk}/outcome/"),
    ("import", "post", "/api/v1/imports/{pk}/run/"),
    ("import", "post", "/api/v1/imports/{pk}/cancel/"),
]
CASE_PAGE_WRITES = [
    ("import", "post", "/imports/{pk}/run/"),
    ("import", "post", "/imports/{pk}/cancel/"),
]


def _case_payload(case_records, template) -> dict:
    w = case_records.world
    if template.endswith("/notes/"):
        return {"body": "A note", "confidentiality": "standard"}
    if template.endswith("/actions/"):
        kind = _action_type(w)
        return {"action_type": kind.pk, "responsible": "org-a", "status": "planned"}
    if template.endswith("/diagnoses/"):
        return {"diagnosed_on": TODAY_MATRIX.isoformat(), "levels": []}
    if template.endswith("/referrals/"):
        return {
            "to_organisation": "org-c",
            "message": "Please see her",
            "deadline": (TODAY_MATRIX + datetime.timedelta(days=7)).isoformat(),
        }
    if template.endswith("/close/"):
        return {"outcome": "employed"}
    if template.endswith("/answer/"):
        return {"accept": True}
    if template.endswith("/outcome/"):
        return {"outcome": "Placed"}
    return {}


def _action_type(w):
    kind, _created = ActionType.objects.get_or_create(
        network=w.net,
        code="internship",
        defaults={"name": {"en": "Internship"}, "family": ActionFamily.INTERNSHIP},
    )
    return kind


def _shown(case_records, kind, rows) -> set[str]:
    """The keys of the records a list answered with."""
    by_pk = {
        record.pk: key
        for key, record in {
            "case": case_records.cases,
            "incoming": case_records.referrals,
            "outgoing": case_records.referrals,
            "import": case_records.imports,
        }[kind].items()
    }
    assert {row["id"] for row in rows} <= set(by_pk), "a record outside the fixture is listed"
    return {by_pk[row["id"]] for row in rows}


@pytest.mark.parametrize("kind,url", CASE_LIST_APIS, ids=_ids(CASE_LIST_APIS))
@pytest.mark.parametrize("persona", PERSONAS)
def test_case_referral_and_import_lists_show_exactly_what_the_persona_may_see(
    api_for, case_records, persona, kind, url
):
    response = api_for(getattr(case_records.world, persona)).get(url)
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    expected = {
        "case": case_records.records.visible_people(persona),
        "incoming": INCOMING_REFERRALS[persona],
        "outgoing": OUTGOING_REFERRALS[persona],
        "import": VISIBLE_IMPORTS[persona],
    }[kind]
    assert _shown(case_records, kind, body["results"]) == expected


def test_the_referral_lists_together_are_the_referrals_each_persona_sees():
    """The oracle's own check: incoming and outgoing split the visible referrals."""
    for persona in PERSONAS:
        assert (
            INCOMING_REFERRALS[persona] | OUTGOING_REFERRALS[persona]
            == (VISIBLE_REFERRALS[persona])
        )


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_imports_page_lists_exactly_what_the_persona_may_see(client_for, case_records, persona):
    response = client_for(getattr(case_records.world, persona)).get("/imports/")
    assert response.status_code == 200
    by_pk = {job.pk: key for key, job in case_records.imports.items()}
    assert {by_pk[job.pk] for job in response.context["page"].items} == VISIBLE_IMPORTS[persona]
    html = response.content.decode()
    for key, job in case_records.imports.items():
        assert (f'href="/imports/{job.pk}/"' in html) == (key in VISIBLE_IMPORTS[persona])


@pytest.mark.parametrize(
    "persona,kind,template", _cases(CASE_API_READS), ids=_ids(_cases(CASE_API_READS))
)
def test_case_referral_and_import_api_is_404_outside_scope_and_200_inside(
    api_for, case_records, persona, kind, template
):
    api = api_for(getattr(case_records.world, persona))
    visible = _case_visible(case_records, kind, persona)
    answers = {
        key: api.get(_case_url(case_records, kind, template, key)).status_code
        for key in _case_keys(kind)
    }
    assert answers == {key: 200 if key in visible else 404 for key in _case_keys(kind)}


@pytest.mark.parametrize(
    "persona,kind,template", _cases(CASE_PAGE_READS), ids=_ids(_cases(CASE_PAGE_READS))
)
def test_import_page_is_404_outside_scope_and_200_inside(
    client_for, case_records, persona, kind, template
):
    client = client_for(getattr(case_records.world, persona))
    visible = _case_visible(case_records, kind, persona)
    answers = {
        key: client.get(_case_url(case_records, kind, template, key)).status_code
        for key in _case_keys(kind)
    }
    assert answers == {key: 200 if key in visible else 404 for key in _case_keys(kind)}


@pytest.mark.parametrize(
    "persona,kind,method,template", _cases(CASE_API_WRITES), ids=_ids(_cases(CASE_API_WRITES))
)
def test_case_referral_and_import_api_write_outside_scope_is_404_and_changes_nothing(
    api_for, case_records, persona, kind, method, template
):
    api = api_for(getattr(case_records.world, persona))
    hidden = set(_case_keys(kind)) - _case_visible(case_records, kind, persona)
    payload = _case_payload(case_records, template)
    before = _case_world_snapshot()
    for key in sorted(hidden):
        url = _case_url(case_records, kind, template, key)
        response = getattr(api, method)(url, payload, format="json")
        assert response.status_code == 404, (url, response.content)
    assert _case_world_snapshot() == before


@pytest.mark.parametrize(
    "persona,kind,method,template", _cases(CASE_PAGE_WRITES), ids=_ids(_cases(CASE_PAGE_WRITES))
)
def test_import_page_action_outside_scope_is_404_and_changes_nothing(
    client_for, case_records, persona, kind, method, template
):
    client = client_for(getattr(case_records.world, persona))
    hidden = set(_case_keys(kind)) - _case_visible(case_records, kind, persona)
    before = _case_world_snapshot()
    for key in sorted(hidden):
        response = client.post(_case_url(case_records, kind, template, key))
        assert response.status_code == 404
    assert _case_world_snapshot() == before


@pytest.mark.parametrize("kind,method,template", CASE_API_WRITES, ids=_ids(CASE_API_WRITES))
def test_case_referral_and_import_api_write_inside_scope_succeeds_for_an_entitled_role(
    api_for, case_records, kind, method, template
):
    """The requests refused above, by someone entitled to them: they are not malformed."""
    w = case_records.world
    persona, key = {
        "case": ("coordinator", "tabarka"),
        "referral": ("caseworker_b", "a_to_b"),
        "import": ("desk_a", "desk_a"),
    }[kind]
    if template.endswith("/diagnoses/"):
        dimension = DiagnosisDimension.objects.create(network=w.net, code="work", name={"en": "W"})
        payload = {
            "diagnosed_on": TODAY_MATRIX.isoformat(),
            "levels": [{"dimension": dimension.pk, "level": 1}],
        }
    else:
        payload = _case_payload(case_records, template)
    if template.endswith("/referrals/"):
        Consent.objects.filter(pk=case_records.records.consents["tabarka"].pk).update(
            purpose=ConsentPurpose.REFERRAL
        )
    if template.endswith("/outcome/"):
        api_for(w.caseworker_b).post(
            _case_url(case_records, "referral", "/api/v1/referrals/{pk}/answer/", key),
            {"accept": True},
            format="json",
        )
    if template.endswith("/run/"):
        job = case_records.imports[key]
        job.file.save("p.csv", ContentFile(b"given_name,residence\nSami,TN-32\n"))
    before = _case_world_snapshot()
    response = getattr(api_for(getattr(w, persona)), method)(
        _case_url(case_records, kind, template, key), payload, format="json"
    )
    assert response.status_code in (200, 201, 202), response.content
    assert _case_world_snapshot() != before


def test_anonymous_visitor_reaches_no_case_referral_or_import(client, api_for, case_records):
    api = api_for(None)
    for _kind, url in CASE_LIST_APIS:
        assert api.get(url).status_code in (401, 403)
    assert api.get("/api/v1/intakes/").status_code in (401, 403)
    for kind, template in CASE_API_READS:
        url = _case_url(case_records, kind, template, _case_keys(kind)[0])
        assert api.get(url).status_code in (401, 403), url
    before = _case_world_snapshot()
    for kind, method, template in CASE_API_WRITES:
        url = _case_url(case_records, kind, template, _case_keys(kind)[0])
        response = getattr(api, method)(url, _case_payload(case_records, template), format="json")
        assert response.status_code in (401, 403), url
    for kind, template in CASE_PAGE_READS:
        response = client.get(_case_url(case_records, kind, template, _case_keys(kind)[0]))
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert client.get("/imports/").status_code == 302
    assert _case_world_snapshot() == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_intakes_have_no_list_and_refuse_a_person_outside_scope(api_for, case_records, persona):
    """The intakes endpoint only records visits: there is nothing to list, and a person the
    caller may not see is refused as unknown, writing nothing."""
    records = case_records.records
    api = api_for(getattr(case_records.world, persona))
    assert api.get("/api/v1/intakes/").status_code == 405
    before = _case_world_snapshot()
    for key in sorted(set(PEOPLE) - records.visible_people(persona)):
        response = api.post(
            "/api/v1/intakes/",
            {"person": records.people[key].pk, "desk": case_records.desk.pk},
            format="json",
        )
        assert response.status_code == 400, response.content
        assert "person" in response.json()
        assert records.people[key].family_name not in response.content.decode()
    assert _case_world_snapshot() == before
