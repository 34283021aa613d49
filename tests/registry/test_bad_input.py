"""Bad input through the pages and the API: always a 4xx naming the field, never a 500, and
nothing written."""

import datetime
import json

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tadamun.programmes import services as programme_services
from tadamun.programmes.models import Programme
from tadamun.registry.models import Person

from ..helpers import snapshot

TOMORROW = timezone.localdate() + datetime.timedelta(days=1)
LONG_NAME = "Sami" * 2500  # 10,000 characters


def _people() -> int:
    return Person.objects.unscoped().count()


# --- people through the pages ---------------------------------------------------------------


def _form(world, **changes) -> dict:
    data = {
        "organisation": world.org_a.pk,
        "given_name": "Sami",
        "family_name": "Gharbi",
        "sex": "U",
        "residence": world.jendouba.pk,
        "languages": ["ar"],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


PAGE_CASES = [
    ("missing given name", {"given_name": ""}, "given_name"),
    ("birth date in the future", {"birth_date": TOMORROW.isoformat()}, "birth_date"),
    ("impossible date", {"birth_date": "2023-02-30"}, "birth_date"),
    ("not a date", {"birth_date": "yesterday"}, "birth_date"),
    ("birth year 1800", {"birth_year": "1800"}, "birth_year"),
    ("birth year 2999", {"birth_year": "2999"}, "birth_year"),
    ("birth year not a number", {"birth_year": "nineteen"}, "birth_year"),
    ("10,000-character name", {"given_name": LONG_NAME}, "given_name"),
    ("control character", {"given_name": "Sa\x07mi"}, "given_name"),
    ("null character", {"given_name": "Sa\x00mi"}, "given_name"),
    ("line break", {"family_name": "Gha\nrbi"}, "family_name"),
    ("bidi override", {"given_name": "Sa\u202emi"}, "given_name"),
    ("bidi isolate", {"family_name": "\u2067Gharbi"}, "family_name"),
    ("script", {"given_name": "<script>alert(1)</script>"}, "given_name"),
    ("unknown residence", {"residence": "999999"}, "residence"),
    ("residence not a number", {"residence": "TN-32"}, "residence"),
    ("unknown language", {"languages": ["klingon"]}, "languages"),
    ("unknown sex", {"sex": "Q"}, "sex"),
    ("bad email", {"email": "not-an-email"}, "email"),
    ("organisation not the user's", {"organisation": "999999"}, "organisation"),
]


def test_a_valid_registration_through_the_page_is_saved(client_for, world):
    """The control for the cases below: the same form, valid, registers the person."""
    before = _people()
    response = client_for(world.desk_a).post("/people/new/", _form(world))
    assert response.status_code == 302
    assert _people() == before + 1


@pytest.mark.parametrize(
    "changes,field", [c[1:] for c in PAGE_CASES], ids=[c[0] for c in PAGE_CASES]
)
def test_bad_input_on_the_registration_page_is_shown_next_to_the_field(
    client_for, world, changes, field
):
    before = snapshot()
    response = client_for(world.desk_a).post("/people/new/", _form(world, **changes))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-field-error="{field}"' in html
    assert 'name="given_name"' in html  # the form is shown again
    assert snapshot() == before


@pytest.mark.parametrize(
    "changes,field",
    [c[1:] for c in PAGE_CASES if c[2] not in ("organisation", "languages")],
    ids=[c[0] for c in PAGE_CASES if c[2] not in ("organisation", "languages")],
)
def test_bad_input_on_the_edit_page_is_shown_next_to_the_field(client_for, world, changes, field):
    data = _form(world, **changes)
    data.pop("organisation")
    before = snapshot()
    response = client_for(world.desk_a).post(f"/people/{world.p_jendouba.pk}/edit/", data)
    assert response.status_code == 200
    assert f'data-field-error="{field}"' in response.content.decode()
    assert snapshot() == before


def test_markup_typed_in_a_name_is_shown_back_escaped(client_for, world):
    response = client_for(world.desk_a).post(
        "/people/new/", _form(world, given_name="<script>alert(1)</script>")
    )
    html = response.content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html


def test_a_territory_desk_is_told_to_choose_a_residence_inside_its_territory(client_for, world):
    before = _people()
    response = client_for(world.desk_tabarka).post(
        "/people/new/", _form(world, residence=world.kef.pk)
    )
    assert response.status_code == 200
    assert 'data-field-error="residence"' in response.content.decode()
    assert _people() == before


def test_several_errors_are_shown_at_once(client_for, world):
    response = client_for(world.desk_a).post(
        "/people/new/",
        _form(world, given_name="", birth_date="2023-02-30", residence="999999"),
    )
    html = response.content.decode()
    for field in ("given_name", "birth_date", "residence"):
        assert f'data-field-error="{field}"' in html


# --- people through the API -----------------------------------------------------------------

BASE = {"organisation": "org-a", "given_name": "Sami", "residence": "TN-32"}
MISSING = object()

API_CASES = [
    ("missing given name", {"given_name": MISSING}, "given_name"),
    ("empty given name", {"given_name": ""}, "given_name"),
    ("blank given name", {"given_name": "   "}, "given_name"),
    ("null given name", {"given_name": None}, "given_name"),
    ("birth date in the future", {"birth_date": TOMORROW.isoformat()}, "birth_date"),
    ("impossible date", {"birth_date": "2023-02-30"}, "birth_date"),
    ("birth date before 1900", {"birth_date": "1800-01-01"}, "birth_date"),
    ("birth year 1800", {"birth_year": 1800}, "birth_year"),
    ("birth year 2999", {"birth_year": 2999}, "birth_year"),
    ("negative birth year", {"birth_year": -5}, "birth_year"),
    ("year and date disagree", {"birth_date": "1990-01-01", "birth_year": 1991}, "birth_year"),
    ("10,000-character name", {"given_name": LONG_NAME}, "given_name"),
    ("control character", {"given_name": "Sa\x07mi"}, "given_name"),
    ("null character", {"given_name": "Sa\x00mi"}, "given_name"),
    ("bidi override", {"given_name": "Sa\u202emi"}, "given_name"),
    (
        "bidi override in the Latin name",
        {"family_name_latin": "\u202eilA neB"},
        "family_name_latin",
    ),
    ("script", {"given_name": "<script>alert(1)</script>"}, "given_name"),
    ("given name as a number", {"given_name": 123}, "given_name"),
    ("given name as a boolean", {"given_name": True}, "given_name"),
    ("given name as a list", {"given_name": ["Sami"]}, "given_name"),
    ("given name as an object", {"given_name": {"en": "Sami"}}, "given_name"),
    ("phone as a number", {"phone": 21698123456}, "phone"),
    ("languages as a string", {"languages": "ar"}, "languages"),
    ("languages holding a number", {"languages": ["ar", 7]}, "languages"),
    ("languages not codes", {"languages": ["a r"]}, "languages"),
    ("birth date as an integer", {"birth_date": 20230101}, "birth_date"),
    ("birth year as text", {"birth_year": "nineteen"}, "birth_year"),
    ("unknown field", {"shoe_size": 42}, "shoe_size"),
    ("read-only field", {"archived_at": "2024-01-01T00:00:00Z", "x_ray": 1}, "x_ray"),
    ("unknown residence", {"residence": "XX-99"}, "residence"),
    ("residence as a number", {"residence": 12}, "residence"),
    ("unknown organisation", {"organisation": "org-zz"}, "organisation"),
    ("unknown sex", {"sex": "Q"}, "sex"),
    ("bad email", {"email": "not-an-email"}, "email"),
    ("unknown document type", {"document_type": "library_card"}, "document_type"),
]


def _payload(changes) -> dict:
    data = {**BASE, **changes}
    return {k: v for k, v in data.items() if v is not MISSING}


def test_a_valid_registration_through_the_api_is_saved(api_for, world):
    before = _people()
    response = api_for(world.desk_a).post("/api/v1/people/", BASE, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["given_name"] == "Sami"
    assert _people() == before + 1


@pytest.mark.parametrize("changes,field", [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES])
def test_bad_input_through_the_api_is_400_naming_the_field(api_for, world, changes, field):
    before = snapshot()
    response = api_for(world.desk_a).post("/api/v1/people/", _payload(changes), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert snapshot() == before


@pytest.mark.parametrize(
    "changes,field",
    [c[1:] for c in API_CASES if c[2] not in ("organisation",) and c[1] != {"given_name": MISSING}],
    ids=[
        c[0] for c in API_CASES if c[2] not in ("organisation",) and c[1] != {"given_name": MISSING}
    ],
)
def test_bad_input_in_a_change_through_the_api_is_400_naming_the_field(
    api_for, world, changes, field
):
    before = snapshot()
    response = api_for(world.desk_a).patch(
        f"/api/v1/people/{world.p_jendouba.pk}/", changes, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert snapshot() == before


@pytest.mark.parametrize(
    "body",
    ["[]", '"Sami"', "42", "null", "{not json", '{"given_name": "Sa'],
    ids=["list", "string", "number", "null", "broken", "truncated"],
)
def test_a_body_that_is_not_an_object_is_400(api_for, world, body):
    before = _people()
    response = api_for(world.desk_a).post("/api/v1/people/", body, content_type="application/json")
    assert response.status_code == 400
    assert _people() == before


def test_a_territory_desk_registering_outside_its_territory_is_refused_naming_residence(
    api_for, world
):
    before = _people()
    response = api_for(world.desk_tabarka).post(
        "/api/v1/people/", {**BASE, "residence": "TN-33"}, format="json"
    )
    assert response.status_code == 403
    assert "residence" in response.json()
    assert _people() == before


def test_a_territory_desk_registers_inside_its_territory_through_the_api(api_for, world):
    response = api_for(world.desk_tabarka).post(
        "/api/v1/people/", {**BASE, "residence": "TN-32-TBK"}, format="json"
    )
    assert response.status_code == 201, response.content


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=st.text(max_size=200))
@example(name="Sa\u202emi")
@example(name="<b>Sami</b>")
@example(name="  Sami  ")
@example(name="محمد الهادي")
@example(name="Μοχάμεντ")
@example(name="\u01c6" * 150)  # one Latin letter that transliterates to two
@example(name="Sami\x1f")
def test_any_text_as_a_name_is_saved_as_typed_or_refused(api_for, world, name):
    api = api_for(world.desk_a)
    before = _people()
    response = api.post("/api/v1/people/", {**BASE, "given_name": name}, format="json")
    assert response.status_code in (201, 400), (name, response.status_code)
    if response.status_code == 201:
        stored = Person.objects.unscoped().get(pk=response.json()["id"])
        # Surrounding white space is trimmed; everything else is kept as typed.
        assert stored.given_name == name.strip()
        assert response.json()["given_name"] == name.strip()
        assert _people() == before + 1
    else:
        assert "given_name" in response.json()
        assert _people() == before


# --- programmes -----------------------------------------------------------------------------


PROGRAMME = {
    "code": "prog-new",
    "title": {"en": "New programme"},
    "lead": "org-a",
    "start": "2024-01-01",
    "end": "2025-12-31",
    "budget": "1000.500",
    "currency": "TND",
}

PROGRAMME_CASES = [
    ("end before start", {"start": "2025-01-01", "end": "2024-12-31"}, "end"),
    ("negative budget", {"budget": "-1.000"}, "budget"),
    ("TND budget with 4 decimals", {"budget": "1000.1234"}, "budget"),
    ("EUR budget with 3 decimals", {"budget": "1000.125", "currency": "EUR"}, "budget"),
    ("MAD budget with 3 decimals", {"budget": "10.001", "currency": "MAD"}, "budget"),
    ("unknown currency", {"currency": "XYZ"}, "currency"),
    ("currency too long", {"currency": "EURO"}, "currency"),
    ("budget as text", {"budget": "a lot"}, "budget"),
    ("code with spaces", {"code": "prog new"}, "code"),
    ("code as a number", {"code": 42}, "code"),
    ("title in an unknown language", {"title": {"xx": "New"}}, "title"),
    ("title as text", {"title": "New"}, "title"),
    ("empty title", {"title": {"en": ""}}, "title"),
    ("impossible date", {"start": "2023-02-30"}, "start"),
    ("unknown status", {"status": "dreaming"}, "status"),
    ("unknown field", {"colour": "blue"}, "colour"),
    ("unknown territory", {"territories": ["XX-99"]}, "territories"),
]


def _programmes() -> int:
    return Programme.objects.unscoped().count()


def test_a_valid_programme_through_the_api_is_saved(api_for, world):
    response = api_for(world.coordinator).post("/api/v1/programmes/", PROGRAMME, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["budget"] == "1000.500"


@pytest.mark.parametrize(
    "changes,field", [c[1:] for c in PROGRAMME_CASES], ids=[c[0] for c in PROGRAMME_CASES]
)
def test_bad_programme_input_through_the_api_is_400_naming_the_field(
    api_for, world, changes, field
):
    before = snapshot()
    response = api_for(world.coordinator).post(
        "/api/v1/programmes/", {**PROGRAMME, **changes}, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("lead", ["org_a", "org_c"], ids=["visible", "hidden"])
def test_a_duplicate_programme_code_is_400_even_when_the_other_is_hidden(api_for, world, lead):
    programme_services.programme_create(
        user=world.operator, lead=getattr(world, lead), code="prog-new", title={"en": "First"}
    )
    before = _programmes()
    response = api_for(world.coordinator).post("/api/v1/programmes/", PROGRAMME, format="json")
    assert response.status_code == 400
    assert "code" in response.json()
    assert _programmes() == before


def _programme_form(world, **changes) -> dict:
    data = {
        "code": "prog-new",
        "lead": world.net.pk,
        "title_4": "New programme",
        "status": "planned",
        "start": "2024-01-01",
        "end": "2025-12-31",
        "budget": "1000.500",
        "currency": "TND",
    }
    data.update(changes)
    return data


def test_a_valid_programme_through_the_page_is_saved(client_for, world):
    before = _programmes()
    response = client_for(world.coordinator).post("/programmes/new/", _programme_form(world))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert _programmes() == before + 1


PROGRAMME_PAGE_CASES = [
    ("end before start", {"start": "2025-01-01", "end": "2024-12-31"}, "end"),
    ("negative budget", {"budget": "-1"}, "budget"),
    ("TND budget with 4 decimals", {"budget": "1000.1234"}, "budget"),
    ("EUR budget with 3 decimals", {"budget": "1000.125", "currency": "EUR"}, "budget"),
    ("unknown currency", {"currency": "XYZ"}, "currency"),
    ("empty title", {"title_4": ""}, "title"),
    ("code with spaces", {"code": "prog new"}, "code"),
]


@pytest.mark.parametrize(
    "changes,field", [c[1:] for c in PROGRAMME_PAGE_CASES], ids=[c[0] for c in PROGRAMME_PAGE_CASES]
)
def test_bad_programme_input_on_the_page_is_shown_next_to_the_field(
    client_for, world, changes, field
):
    before = snapshot()
    response = client_for(world.coordinator).post(
        "/programmes/new/", _programme_form(world, **changes)
    )
    assert response.status_code == 200
    assert f'data-field-error="{field}"' in response.content.decode()
    assert snapshot() == before


def test_a_duplicate_programme_code_on_the_page_is_shown_next_to_the_code(client_for, world):
    programme_services.programme_create(
        user=world.operator, lead=world.org_c, code="prog-new", title={"en": "First"}
    )
    before = _programmes()
    response = client_for(world.coordinator).post("/programmes/new/", _programme_form(world))
    assert response.status_code == 200
    assert 'data-field-error="code"' in response.content.decode()
    assert _programmes() == before


def test_a_programme_change_with_bad_input_changes_nothing(api_for, world):
    programme_services.programme_create(
        user=world.operator,
        lead=world.org_a,
        code="prog-new",
        title={"en": "First"},
        currency="TND",
    )
    before = snapshot()
    response = api_for(world.coordinator).patch(
        "/api/v1/programmes/prog-new/", {"budget": "5.1234"}, format="json"
    )
    assert response.status_code == 400
    assert "budget" in response.json()
    assert snapshot() == before
    assert json.loads(response.content)  # a JSON body, not an HTML error page


# --- group members through the page --------------------------------------------------------


@pytest.mark.parametrize("share", ["150", "-1", "abc", "100.001"])
def test_a_bad_member_share_on_the_page_is_refused_with_a_readable_message(
    client_for, world, share
):
    from tadamun.registry.models import Group

    group = Group(
        name="Coop", kind="cooperative", organisation=world.org_a, territory=world.jendouba
    )
    group.save()
    before = snapshot()
    response = client_for(world.desk_a).post(
        f"/groups/{group.pk}/members/",
        {"person": world.p_jendouba.pk, "role": "member", "share": share},
        follow=True,
    )
    assert response.status_code == 200
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert errors
    assert not any("Constraint" in e for e in errors), errors
    assert snapshot() == before


def test_a_member_added_through_the_page_is_saved(client_for, world):
    from tadamun.registry.models import Group

    group = Group(
        name="Coop", kind="cooperative", organisation=world.org_a, territory=world.jendouba
    )
    group.save()
    response = client_for(world.desk_a).post(
        f"/groups/{group.pk}/members/",
        {"person": world.p_jendouba.pk, "role": "member", "share": "40"},
    )
    assert response.status_code == 302
    assert list(group.members.values_list("person_id", "share")) == [(world.p_jendouba.pk, 40)]


@pytest.mark.parametrize("share", ["150", "-1", -0.5, "abc", "100.001", [50]])
def test_a_bad_member_share_through_the_api_is_400(api_for, world, share):
    from tadamun.registry.models import Group

    group = Group(
        name="Coop", kind="cooperative", organisation=world.org_a, territory=world.jendouba
    )
    group.save()
    before = snapshot()
    response = api_for(world.desk_a).post(
        f"/api/v1/groups/{group.pk}/members/",
        {"person": world.p_jendouba.pk, "role": "member", "share": share},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "share" in response.json()
    assert snapshot() == before


# --- NUL characters (PostgreSQL refuses them in text: they must never reach a query) -------

NUL_PAGES = [
    "/people/?territory=TN%00",
    "/people/?organisation=org-a%00",
    "/people/?q=Sa%00mi",
    "/people/pick/?q=Sa%00mi",
    "/groups/?q=Co%00op",
    "/organisations/?q=org%00",
    "/territories/TN%00/",
]
NUL_API = [
    "/api/v1/people/?territory=TN%00",
    "/api/v1/people/?q=Sa%00mi",
    "/api/v1/territories/?within=TN%00",
    "/api/v1/territories/TN%00/",
    "/api/v1/organisations/org-a%00/",
    "/api/v1/programmes/prog%00/",
    "/api/v1/people/1%00/",
]


@pytest.mark.parametrize("url", NUL_PAGES)
def test_a_nul_character_in_a_page_address_is_never_a_server_error(client_for, world, url):
    response = client_for(world.desk_a).get(url)
    assert response.status_code in (200, 400, 404)
    # The request left the database usable (a failed query would abort the transaction).
    assert Person.objects.unscoped().count() == 4


@pytest.mark.parametrize("url", NUL_API)
def test_a_nul_character_in_an_api_address_is_never_a_server_error(api_for, world, url):
    response = api_for(world.coordinator).get(url)
    assert response.status_code in (200, 400, 404)
    assert Person.objects.unscoped().count() == 4


@pytest.mark.parametrize("field", ["organisation", "residence"])
def test_a_nul_character_in_a_code_through_the_api_is_400(api_for, world, field):
    before = _people()
    response = api_for(world.desk_a).post(
        "/api/v1/people/", {**BASE, field: "org-a\x00"}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert _people() == before


def test_a_nul_character_in_a_programme_lead_or_territory_is_400(api_for, world):
    for changes, field in (
        ({"lead": "org-a\x00"}, "lead"),
        ({"territories": ["TN\x00"]}, "territories"),
    ):
        response = api_for(world.coordinator).post(
            "/api/v1/programmes/", {**PROGRAMME, **changes}, format="json"
        )
        assert response.status_code == 400
        assert field in response.json()
    assert _programmes() == 0
