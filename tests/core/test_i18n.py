"""Languages, writing direction, Maghreb month names, money and time zones."""

import datetime
import re
from decimal import Decimal
from html import unescape

import pytest
from django.test import Client
from django.utils import translation

from tadamun.core.money import currency_decimals, format_money, quantize
from tadamun.organisations.models import Organisation
from tadamun.programmes.models import ParticipantRole, Programme, ProgrammeParticipant
from tadamun.registry.models import Consent, Person
from tadamun.territories.models import Territory

LANGUAGES = ["ar", "fr", "it", "el", "en"]
RTL_CSS = "bootstrap.rtl.min.css"
LTR_CSS = "bootstrap.min.css"


def _html_tag(html: str) -> dict:
    tag = re.search(r"<html\b([^>]*)>", html).group(1)
    return dict(re.findall(r'(\w+)="([^"]*)"', tag))


def _choose(client, language, next_url="/people/"):
    response = client.post("/i18n/language/", {"language": language, "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == next_url
    return response


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_chosen_language_sets_lang_dir_and_stylesheet(client_for, world, language):
    client = client_for(world.desk_a)
    _choose(client, language)
    html = client.get("/people/").content.decode()
    attributes = _html_tag(html)
    assert attributes["lang"] == language
    assert attributes["dir"] == ("rtl" if language == "ar" else "ltr")
    assert (RTL_CSS in html) == (language == "ar")
    assert (f"/{LTR_CSS}" in html) == (language != "ar")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_chosen_language_translates_the_page(client_for, world, language):
    client = client_for(world.desk_a)
    _choose(client, language)
    response = client.get("/people/")
    with translation.override(language):
        people, register = translation.gettext("People"), translation.gettext("Register a person")
    if language != "en":
        assert people != "People", f"no {language} translation of the menu"
    html = response.content.decode()
    assert f">{people}</a>" in html
    assert register in html
    assert response["Content-Language"] == language


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_choice_is_kept_on_the_user_and_sticks_in_a_new_session(client_for, world, language):
    _choose(client_for(world.desk_a), language)
    world.desk_a.refresh_from_db()
    assert world.desk_a.language == language
    fresh = Client()  # another browser: no cookie, a new session
    fresh.force_login(world.desk_a)
    attributes = _html_tag(fresh.get("/").content.decode())
    assert attributes["lang"] == language
    assert attributes["dir"] == ("rtl" if language == "ar" else "ltr")


def test_an_unknown_language_changes_nothing(client_for, world):
    client = client_for(world.desk_a)
    _choose(client, "fr")
    _choose(client, "xx")
    _choose(client, "ar-dz")  # the Maghreb variant is chosen by country, not by hand
    world.desk_a.refresh_from_db()
    assert world.desk_a.language == "fr"


def test_the_language_switch_refuses_to_redirect_elsewhere(client_for, world):
    response = client_for(world.desk_a).post(
        "/i18n/language/", {"language": "fr", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_a_visitor_choice_lives_in_a_cookie_until_sign_in(client):
    response = client.post("/i18n/language/", {"language": "ar", "next": "/accounts/login/"})
    assert response.cookies["tadamun_language"].value == "ar"
    attributes = _html_tag(client.get("/accounts/login/").content.decode())
    assert (attributes["lang"], attributes["dir"]) == ("ar", "rtl")


# --- Maghreb month names --------------------------------------------------------------------


@pytest.fixture
def february(world):
    """A programme and a consent dated in February, seen by org_a (TN) and org_c (IT)."""
    programme = Programme(
        code="feb",
        title={"en": "February"},
        start=datetime.date(2024, 2, 15),
        end=datetime.date(2025, 2, 28),
        currency="TND",
        budget=Decimal("1234.5"),
    )
    programme.save()
    for organisation in (world.org_a, world.org_c):
        ProgrammeParticipant.objects.create(
            programme=programme, organisation=organisation, role=ParticipantRole.PARTNER
        )
    for person in (world.p_jendouba, world.p_empoli):
        Consent.objects.create(
            person=person,
            purpose="registration",
            lawful_basis="consent",
            organisation=person.organisation,
            given_on=datetime.date(2024, 2, 15),
            recorded_by=world.operator,
        )
    return programme


MAGHREB_FEBRUARY, MASHRIQ_FEBRUARY = "فيفري", "فبراير"


def test_a_tunisian_user_in_arabic_reads_maghreb_month_names(client_for, world, february):
    client = client_for(world.desk_a)
    _choose(client, "ar")
    for url in ("/programmes/feb/", f"/people/{world.p_jendouba.pk}/"):
        html = client.get(url).content.decode()
        assert MAGHREB_FEBRUARY in html, url
        assert MASHRIQ_FEBRUARY not in html, url
        assert _html_tag(html)["lang"] == "ar"


def test_an_arabic_user_of_an_italian_organisation_reads_standard_month_names(
    client_for, world, february
):
    client = client_for(world.outsider)
    _choose(client, "ar")
    for url in ("/programmes/feb/", f"/people/{world.p_empoli.pk}/"):
        html = client.get(url).content.decode()
        assert MASHRIQ_FEBRUARY in html, url
        assert MAGHREB_FEBRUARY not in html, url


def test_maghreb_month_names_do_not_leak_into_other_languages(client_for, world, february):
    client = client_for(world.desk_a)
    _choose(client, "fr")
    html = client.get("/programmes/feb/").content.decode()
    assert "février" in html
    assert MAGHREB_FEBRUARY not in html


# --- money ----------------------------------------------------------------------------------


def _decimals(text: str) -> int:
    return len(re.findall(r"[.,](\d+)", text)[-1])


@pytest.mark.parametrize("currency,decimals", [("TND", 3), ("EUR", 2), ("MAD", 2)])
def test_each_currency_keeps_its_own_decimals(currency, decimals):
    assert currency_decimals(currency) == decimals
    assert currency_decimals(currency.lower()) == decimals
    assert quantize(Decimal("1.23456"), currency) == Decimal("1.23456").quantize(
        Decimal(1).scaleb(-decimals)
    )
    for language in LANGUAGES:
        text = format_money(Decimal("1234.5"), currency, language)
        assert _decimals(text) == decimals, (language, text)
        assert "1" in text and "234" in text


def test_rounding_is_to_the_nearest_even_minor_unit():
    assert quantize(Decimal("0.125"), "EUR") == Decimal("0.12")
    assert quantize(Decimal("0.135"), "EUR") == Decimal("0.14")
    assert quantize(Decimal("0.0005"), "TND") == Decimal("0.000")
    assert quantize(Decimal("0.0015"), "TND") == Decimal("0.002")


@pytest.mark.parametrize(
    "language,number",
    [("en", "1,234.500"), ("fr", "1\u202f234,500"), ("it", "1.234,500"), ("ar", "1.234,500")],
)
def test_money_follows_the_locale_separators(language, number):
    assert number in format_money(Decimal("1234.5"), "TND", language)


def test_no_amount_formats_as_nothing():
    assert format_money(None, "TND") == ""


def test_a_programme_budget_is_shown_in_its_currency(client_for, world, february):
    client = client_for(world.desk_a)
    _choose(client, "en")
    html = client.get("/programmes/feb/").content.decode()
    budget = re.search(r'data-testid="budget">([^<]*)<', html).group(1)
    assert "1,234.500" in budget
    assert "TND" in budget


# --- time zones -----------------------------------------------------------------------------


SUMMER_NIGHT = datetime.datetime(2024, 7, 15, 22, 30, tzinfo=datetime.UTC)


def _stamp(person):
    """Date the person's record and its history entry at the same UTC instant."""
    Person.objects.unscoped().filter(pk=person.pk).update(created_at=SUMMER_NIGHT)
    person.history.update(history_date=SUMMER_NIGHT)


@pytest.mark.parametrize(
    "persona,person,iso,day",
    [
        # Tunis is UTC+1 all year; Rome is UTC+2 in summer: the same instant is another day.
        ("desk_a", "p_jendouba", "2024-07-15T23:30:00+01:00", "July 15, 2024"),
        ("outsider", "p_empoli", "2024-07-16T00:30:00+02:00", "July 16, 2024"),
        ("operator", "p_empoli", "2024-07-15T22:30:00+00:00", "July 15, 2024"),
    ],
)
def test_times_are_shown_in_the_organisation_time_zone(
    client_for, world, persona, person, iso, day
):
    person = getattr(world, person)
    _stamp(person)
    client = client_for(getattr(world, persona))
    _choose(client, "en")
    history = client.get(f"/people/{person.pk}/history/").content.decode()
    assert f'datetime="{iso}"' in history
    detail = client.get(f"/people/{person.pk}/").content.decode()
    assert day in detail


def test_a_user_time_zone_wins_over_the_organisation(client_for, world):
    world.desk_a.time_zone = "Asia/Tokyo"
    world.desk_a.save()
    _stamp(world.p_jendouba)
    history = client_for(world.desk_a).get(f"/people/{world.p_jendouba.pk}/history/")
    assert 'datetime="2024-07-16T07:30:00+09:00"' in history.content.decode()


# --- no interface text left untranslated ----------------------------------------------------


@pytest.mark.parametrize("language", ["ar", "el"])
def test_pages_in_a_non_latin_language_show_no_untranslated_interface_text(
    client_for, world, february, language
):
    """In Arabic or Greek any word in Latin letters is either data or a string that missed its
    translation hook: the data is taken out, and nothing may be left."""
    from tadamun.registry.models import Group

    group = Group(
        name="Coop", kind="cooperative", organisation=world.org_a, territory=world.tabarka
    )
    group.save()
    client = client_for(world.desk_a)
    _choose(client, language)
    person = world.p_jendouba.pk
    urls = [
        "/",
        "/people/",
        "/groups/",
        "/programmes/",
        "/organisations/",
        "/territories/",
        "/territories/TN/",
        f"/people/{person}/",
        f"/people/{person}/edit/",
        f"/people/{person}/history/",
        f"/groups/{group.pk}/",
        f"/groups/{group.pk}/edit/",
        "/people/new/",
        "/groups/new/",
        "/programmes/feb/",
        "/programmes/feb/history/",
        "/organisations/org-a/",
    ]
    people = Person.objects.unscoped()
    data = (
        {str(o) for o in Organisation.objects.all()}
        | {p.full_name for p in people}
        | {p.latin_name for p in people}
        | {str(t) for t in Territory.objects.all()}
        | {"Africa/Tunis", "February", "Coop", world.desk_a.first_name, world.operator.username}
    )
    # The language menu names each language in itself; the brand is a name.
    allowed = {"Tadamun", "English", "italiano", "français"}
    if language == "el":
        allowed |= {"Email", "email"}  # Greek writes the loanword in Latin letters
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        text = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
        text = unescape(re.sub(r"<[^>]+>", " ", text))
        for value in sorted(filter(None, data), key=len, reverse=True):
            text = text.replace(value, " ")
        leftovers = set(re.findall(r"[A-Za-z\u00c0-\u024f]{4,}", text)) - allowed
        assert not leftovers, (url, sorted(leftovers))
