"""The API describes itself, its documentation works offline, and it keeps its word: generated
requests never make it fail (5xx) and its answers match the schema it publishes."""

import re

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tadamun.wsgi import application


def test_the_schema_is_served_to_anyone_as_openapi(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    for path in (
        "/api/v1/people/",
        "/api/v1/people/{id}/",
        "/api/v1/groups/{id}/members/",
        "/api/v1/programmes/{code}/",
        "/api/v1/organisations/",
        "/api/v1/territories/{code}/",
    ):
        assert path in paths


def test_the_schema_says_the_api_needs_a_token(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    schemes = schema["components"]["securitySchemes"]
    assert any(
        s.get("scheme", "").lower() == "token"
        or "Token" in s.get("description", "")
        or s.get("name") == "Authorization"
        for s in schemes.values()
    )


def test_the_docs_page_works_offline(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger" in html.lower()
    external = re.findall(r"""(?:src|href)\s*=\s*["'](https?://[^"']+)""", html)
    assert external == [], external
    assert not re.search(r"https?://(cdn|unpkg|cdnjs|fonts)\.", html)
    # The scripts it loads are served by the application itself.
    for asset in re.findall(r"""(?:src|href)\s*=\s*["'](/static/[^"']+)""", html):
        served = client.get(asset)
        served.close()  # a file response: close it, or the file stays open
        assert served.status_code == 200, asset


def test_health_check_answers_ok(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response["Cache-Control"].startswith("max-age=0")


# --- generated requests ---------------------------------------------------------------------


@pytest.fixture
def wsgi_in_test_transaction():
    """Run the real WSGI application inside the test's transaction: Django closes the database
    connection at the start and end of each request, which would end the transaction (the test
    client disconnects the same handler)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield application
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def coordinator_token(world):
    token, _ = Token.objects.get_or_create(user=world.coordinator)
    return f"Token {token.key}"


# Reading the schema needs no database and no sign-in (it says what exists, not what is stored).
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
schema.config.generation.update(modes=list(GenerationMode), max_examples=8)
schema.config.phases.update(phases=["examples", "fuzzing"])


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests_never_fail_and_match_the_schema(
    case, coordinator_token, wsgi_in_test_transaction
):
    case.call_and_validate(
        headers={"Authorization": coordinator_token},
        checks=[not_a_server_error, response_schema_conformance],
    )
