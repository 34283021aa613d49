"""The access matrix: every persona against every page and API endpoint.

Lists show exactly what the persona may see; a record outside the persona's scope is "not
found" (404) on every detail page, history, edit page and action, never "forbidden" (which
would confirm it exists) and never shown; a record inside it is shown. Read-only roles see
but cannot change.
"""

import datetime
from dataclasses import dataclass

import pytest

from tadamun.programmes.models import ParticipantRole, Programme, ProgrammeParticipant
from tadamun.registry.models import Consent, Group, GroupKind, GroupMember, Person
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
