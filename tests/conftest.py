"""A small world with named personas, so each test says who acts and what they should see.

Tunisia (TN) ── Jendouba (TN-32) ── Tabarka (TN-32-TBK)
            └─ Kef (TN-33)
Italy (IT) ── Empoli (IT-FI-EMP)

network "net" with members org_a (Jendouba) and org_b (Kef); org_c (Empoli) outside it.

people: p_tabarka and p_jendouba registered by org_a, p_kef by org_b, p_empoli by org_c.
"""

from dataclasses import dataclass

import pytest

from tadamun.accounts.models import Role
from tadamun.territories.models import TerritoryLevel

from . import factories as f


@dataclass
class World:
    tn: object
    jendouba: object
    tabarka: object
    kef: object
    it: object
    empoli: object
    org_a: object
    org_b: object
    org_c: object
    net: object
    coordinator: object
    desk_a: object
    desk_tabarka: object
    caseworker_b: object
    viewer_a: object
    controller_a: object
    trainer_a: object
    outsider: object
    operator: object
    nobody: object
    p_tabarka: object
    p_jendouba: object
    p_kef: object
    p_empoli: object

    def visible_people(self, persona: str) -> set:
        """Who each persona must see: the oracle of the access tests."""
        return {
            "coordinator": {self.p_tabarka, self.p_jendouba, self.p_kef},
            "desk_a": {self.p_tabarka, self.p_jendouba},
            "desk_tabarka": {self.p_tabarka},
            "caseworker_b": {self.p_kef},
            "viewer_a": {self.p_tabarka, self.p_jendouba},
            "controller_a": {self.p_tabarka, self.p_jendouba},
            "trainer_a": {self.p_tabarka, self.p_jendouba},
            "outsider": {self.p_empoli},
            "operator": {self.p_tabarka, self.p_jendouba, self.p_kef, self.p_empoli},
            "nobody": set(),
        }[persona]


PERSONAS = [
    "coordinator",
    "desk_a",
    "desk_tabarka",
    "caseworker_b",
    "viewer_a",
    "controller_a",
    "trainer_a",
    "outsider",
    "operator",
    "nobody",
]


@pytest.fixture(autouse=True)
def _english_between_tests():
    """A request leaves its language active in the thread; each test starts in English."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.activate("en")


@pytest.fixture
def world(db) -> World:
    tn = f.territory("TN", "Tunisia")
    jendouba = f.territory("TN-32", "Jendouba", tn, TerritoryLevel.GOVERNORATE)
    tabarka = f.territory("TN-32-TBK", "Tabarka", jendouba, TerritoryLevel.DELEGATION)
    kef = f.territory("TN-33", "Kef", tn, TerritoryLevel.GOVERNORATE)
    it = f.territory("IT", "Italy")
    empoli = f.territory("IT-FI-EMP", "Empoli", it, TerritoryLevel.MUNICIPALITY)
    org_a = f.OrganisationFactory(slug="org-a", territory=jendouba)
    org_b = f.OrganisationFactory(slug="org-b", territory=kef)
    org_c = f.OrganisationFactory(
        slug="org-c", territory=empoli, country="IT", time_zone="Europe/Rome"
    )
    net = f.network("net", [org_a, org_b])

    def user(name, org=None, role=None, territory=None, **extra):
        u = f.UserFactory(username=name, **extra)
        if org is not None:
            f.membership(u, org, role, territory)
        return u

    return World(
        tn=tn,
        jendouba=jendouba,
        tabarka=tabarka,
        kef=kef,
        it=it,
        empoli=empoli,
        org_a=org_a,
        org_b=org_b,
        org_c=org_c,
        net=net,
        coordinator=user("coordinator", net, Role.COORDINATOR),
        desk_a=user("desk_a", org_a, Role.DESK_OPERATOR),
        desk_tabarka=user("desk_tabarka", org_a, Role.DESK_OPERATOR, tabarka),
        caseworker_b=user("caseworker_b", org_b, Role.CASE_WORKER),
        viewer_a=user("viewer_a", org_a, Role.VIEWER),
        controller_a=user("controller_a", org_a, Role.CONTROLLER),
        trainer_a=user("trainer_a", org_a, Role.TRAINER),
        outsider=user("outsider", org_c, Role.DESK_OPERATOR),
        operator=user("operator", is_superuser=True, is_staff=True),
        nobody=user("nobody"),
        p_tabarka=f.person(
            org_a,
            tabarka,
            given_name="محمد",
            family_name="بن علي",
            given_name_latin="Mohamed",
            family_name_latin="Ben Ali",
        ),
        p_jendouba=f.person(org_a, jendouba, given_name="Salma", family_name="Trabelsi"),
        p_kef=f.person(org_b, kef, given_name="Karim", family_name="Mejri"),
        p_empoli=f.person(org_c, empoli, given_name="Giulia", family_name="Rossi"),
    )


@pytest.fixture
def client_for(client):
    """``client_for(user)``: the test client signed in as that user."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def api_for():
    """``api_for(user)``: a DRF client authenticated with the user's token."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def make(user):
        api = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return api

    return make
