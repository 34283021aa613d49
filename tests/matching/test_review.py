"""Searching for duplicates and reviewing the pairs: the background run, what each reviewer
is shown (both people in their scope, checked again when shown), decisions remembered across
runs, the pages and the API.

The world of tests/conftest.py plus two people registered twice: Salma Trabelsi (org_a, then
org_b: both in the coordinator's network) and Giulia Rossi (org_c, twice: outside it).
"""

import datetime

import pytest
from django.urls import reverse

from tadamun.core.errors import AccessDenied
from tadamun.matching import services
from tadamun.matching.models import Decision, DuplicatePair, DuplicateRun, PersonMerge, RunStatus
from tadamun.registry.models import Person, PersonShare

from .. import factories as f


@pytest.fixture
def w(world):
    w = world
    for person in (w.p_jendouba, w.p_empoli):
        person.phone = "+216 98 123 456" if person == w.p_jendouba else "+39 333 123 4567"
        person.birth_year = 1990
        person.save()
    w.dup = f.person(
        w.org_b,
        w.jendouba,
        given_name="Salma",
        family_name="Trabelsi",
        birth_date=datetime.date(1990, 5, 17),
        birth_year=1990,
        phone="98123456",
        email="salma@example.org",
    )
    w.dup_empoli = f.person(
        w.org_c,
        w.empoli,
        given_name="Giulia",
        family_name="Rossi",
        birth_date=datetime.date(1990, 5, 17),
        birth_year=1990,
        phone="3331234567",
    )
    return w


def _pair_ids(run) -> set:
    return set(DuplicatePair.objects.unscoped().filter(run=run).values_list("person_a", "person_b"))


def _ordered(a, b) -> tuple:
    return (a.pk, b.pk) if a.pk < b.pk else (b.pk, a.pk)


def test_a_run_keeps_only_pairs_whose_two_people_the_coordinator_sees(w):
    run = services.duplicate_run_start(user=w.coordinator)
    assert run.status == RunStatus.DONE, run.error
    assert run.organisation == w.net
    assert run.started_at and run.finished_at and run.seconds is not None
    assert _pair_ids(run) == {_ordered(w.p_jendouba, w.dup)}
    assert run.pairs_stored == 1 and run.pairs_found == 1
    assert run.people_compared == 4  # p_tabarka, p_jendouba, p_kef and the second Salma
    pair = DuplicatePair.objects.unscoped().get(run=run)
    assert pair.probability >= 0.5 and pair.decision == Decision.PENDING

    # The outsider (org_c) started nothing and sees nothing of it.
    assert not DuplicateRun.objects.visible_to(w.outsider).exists()
    assert not DuplicatePair.objects.visible_to(w.outsider).exists()
    # The operator's own run, over the whole platform, finds both pairs.
    run = services.duplicate_run_start(user=w.operator)
    assert run.organisation is None
    assert _pair_ids(run) == {_ordered(w.p_jendouba, w.dup), _ordered(w.p_empoli, w.dup_empoli)}


def test_the_api_lists_a_search_s_pairs_best_first(w, api_for):
    run = services.duplicate_run_start(user=w.operator)
    pairs = api_for(w.operator).get("/api/v1/duplicate-pairs/", {"run": run.pk}).json()
    probabilities = [p["probability"] for p in pairs["results"]]
    assert len(probabilities) == 2
    assert probabilities == sorted(probabilities, reverse=True)


def test_only_coordinators_start_a_run(w):
    for persona in ("desk_a", "viewer_a", "caseworker_b", "nobody"):
        with pytest.raises(AccessDenied):
            services.duplicate_run_start(user=getattr(w, persona))
    with pytest.raises(AccessDenied) as error:
        services.duplicate_run_start(user=w.coordinator, organisation=w.org_c)
    assert "organisation" in error.value.message_dict
    with pytest.raises(services.MatchingError) as error:
        services.duplicate_run_start(user=w.coordinator, threshold=1.5)
    assert "threshold" in error.value.message_dict
    assert not DuplicateRun.objects.unscoped().exists()


def test_the_review_list_checks_the_scope_again_when_shown(w, client_for):
    run = services.duplicate_run_start(user=w.coordinator)
    pair = DuplicatePair.objects.unscoped().get(run=run)
    client = client_for(w.coordinator)
    page = client.get(reverse("matching:run_detail", args=[run.pk]))
    assert f'data-pair="{pair.pk}"' in page.content.decode()
    # The second Salma leaves the network's scope (org_c holds her record instead).
    PersonShare.objects.filter(person=w.dup).update(organisation=w.org_c)
    page = client.get(reverse("matching:run_detail", args=[run.pk]))
    assert page.status_code == 200
    assert f'data-pair="{pair.pk}"' not in page.content.decode()
    assert "Trabelsi" not in page.content.decode()
    response = client.post(
        reverse("matching:pair_decide", args=[pair.pk]), {"decision": Decision.NOT_SAME}
    )
    assert response.status_code == 404
    response = client.post(
        reverse("matching:pair_merge", args=[pair.pk]), {"keep": w.p_jendouba.pk}
    )
    assert response.status_code == 404
    assert not Person.objects.unscoped().get(pk=w.dup.pk).is_archived


def test_a_pair_decided_not_the_same_is_not_proposed_again(w):
    first = services.duplicate_run_start(user=w.coordinator)
    pair = DuplicatePair.objects.unscoped().get(run=first)
    services.pair_decide(user=w.coordinator, pair=pair, decision=Decision.NOT_SAME)
    pair.refresh_from_db()
    assert pair.decided_by == w.coordinator and pair.decided_at is not None

    second = services.duplicate_run_start(user=w.coordinator)
    assert second.status == RunStatus.DONE
    assert _pair_ids(second) == set()
    assert second.pairs_found == 1 and second.pairs_already_decided == 1
    # Whoever searches next (here the operator) is not proposed it either.
    third = services.duplicate_run_start(user=w.operator)
    assert _ordered(w.p_jendouba, w.dup) not in _pair_ids(third)


def test_a_pair_decided_later_comes_back(w):
    first = services.duplicate_run_start(user=w.coordinator)
    pair = DuplicatePair.objects.unscoped().get(run=first)
    services.pair_decide(user=w.coordinator, pair=pair, decision=Decision.DEFERRED)
    second = services.duplicate_run_start(user=w.coordinator)
    assert _pair_ids(second) == {_ordered(w.p_jendouba, w.dup)}


def test_deciding_needs_a_coordinator_and_a_review_decision(w):
    run = services.duplicate_run_start(user=w.coordinator)
    pair = DuplicatePair.objects.unscoped().get(run=run)
    with pytest.raises(AccessDenied):
        services.pair_decide(user=w.desk_a, pair=pair, decision=Decision.NOT_SAME)
    with pytest.raises(services.MatchingError) as error:
        services.pair_decide(user=w.coordinator, pair=pair, decision=Decision.SAME)
    assert "decision" in error.value.message_dict
    pair.refresh_from_db()
    assert pair.decision == Decision.PENDING


def test_merging_from_the_review_decides_the_pair_and_undo_reopens_it(w, client_for):
    run = services.duplicate_run_start(user=w.coordinator)
    pair = DuplicatePair.objects.unscoped().get(run=run)
    client = client_for(w.coordinator)
    response = client.post(
        reverse("matching:pair_merge", args=[pair.pk]), {"keep": w.dup.pk, "reason": "Same ID"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:person_detail", args=[w.dup.pk])
    pair.refresh_from_db()
    assert pair.decision == Decision.SAME and pair.merge.keep_id == w.dup.pk
    assert Person.objects.unscoped().get(pk=w.p_jendouba.pk).is_archived
    # The merged pair leaves the list to review; the merged tab lists it.
    page = client.get(reverse("matching:run_detail", args=[run.pk]))
    assert 'data-testid="no-pairs"' in page.content.decode()
    page = client.get(reverse("matching:run_detail", args=[run.pk]), {"decision": "same"})
    assert f'data-pair="{pair.pk}"' in page.content.decode()

    response = client.post(reverse("matching:merge_undo", args=[pair.merge_id]))
    assert response.status_code == 302
    pair.refresh_from_db()
    assert pair.decision == Decision.PENDING and pair.merge is None
    assert not Person.objects.unscoped().get(pk=w.p_jendouba.pk).is_archived


def test_pages_of_the_review(w, client_for):
    client = client_for(w.coordinator)
    home = client.get(reverse("home")).content.decode()
    assert reverse("matching:run_list") in home  # in the navigation
    page = client.get(reverse("matching:run_list"))
    assert 'data-testid="run-start-form"' in page.content.decode()
    response = client.post(reverse("matching:run_list"), {"threshold": "0.5"})
    run = DuplicateRun.objects.unscoped().get()
    assert response.status_code == 302
    assert response["Location"] == reverse("matching:run_detail", args=[run.pk])
    html = client.get(response["Location"]).content.decode()
    assert 'data-status="done"' in html
    assert 'data-differs="true"' in html or 'data-one-side="true"' in html
    # The phones differ only in writing: both are shown, and the email only on one side.
    assert 'data-field="email" class="table-info"' in html

    # A bad threshold is refused next to its field.
    page = client.post(reverse("matching:run_list"), {"threshold": "7"})
    assert page.status_code == 200
    assert 'data-field-error="threshold"' in page.content.decode()

    # HTMX: "not the same" swaps the card for a short notice.
    pair = DuplicatePair.objects.unscoped().get(run=run)
    response = client.post(
        reverse("matching:pair_decide", args=[pair.pk]),
        {"decision": Decision.NOT_SAME},
        HTTP_HX_REQUEST="true",
    )
    assert 'data-testid="pair-decided"' in response.content.decode()
    pair.refresh_from_db()
    assert pair.decision == Decision.NOT_SAME

    # Others: no link, no form, and another network's run is not found.
    for persona in ("viewer_a", "desk_a"):
        other = client_for(getattr(w, persona))
        assert reverse("matching:run_list") not in other.get(reverse("home")).content.decode()
        page = other.get(reverse("matching:run_list"))
        assert 'data-testid="run-start-form"' not in page.content.decode()
        assert other.get(reverse("matching:run_detail", args=[run.pk])).status_code == 404


def test_the_status_polls_while_the_search_waits_for_the_worker(w, client_for, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    run = services.duplicate_run_start(user=w.coordinator)
    assert run.status == RunStatus.QUEUED
    client = client_for(w.coordinator)
    html = client.get(reverse("matching:run_results", args=[run.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in html and 'data-status="queued"' in html
    # One search at a time for a network.
    with pytest.raises(services.MatchingError) as error:
        services.duplicate_run_start(user=w.coordinator)
    assert "organisation" in error.value.message_dict
    services.duplicate_run_execute(run_id=run.pk)
    html = client.get(reverse("matching:run_results", args=[run.pk])).content.decode()
    assert "hx-trigger" not in html and 'data-status="done"' in html


def test_a_failed_search_says_so(w, monkeypatch):
    def broken(**options):
        raise RuntimeError("boom")

    monkeypatch.setattr("tadamun.matching.batch.registry_duplicates", broken)
    run = services.duplicate_run_start(user=w.coordinator)
    assert run.status == RunStatus.FAILED
    assert run.error and "boom" not in run.error
    assert not DuplicatePair.objects.unscoped().exists()


# --- API -------------------------------------------------------------------------------------


def test_api_runs_pairs_decisions_merges_and_undo(w, api_for):
    api = api_for(w.coordinator)
    response = api.post("/api/v1/duplicate-runs/", {"threshold": 0.5}, format="json")
    assert response.status_code == 201, response.json()
    run = response.json()
    assert run["status"] == "done" and run["pairs_stored"] == 1 and run["organisation"] == "net"
    assert api.get(f"/api/v1/duplicate-runs/{run['id']}/").json()["id"] == run["id"]
    assert [r["id"] for r in api.get("/api/v1/duplicate-runs/").json()["results"]] == [run["id"]]

    pairs = api.get("/api/v1/duplicate-pairs/", {"run": run["id"]}).json()["results"]
    assert len(pairs) == 1
    pair = pairs[0]
    assert {pair["person_a"], pair["person_b"]} == {w.p_jendouba.pk, w.dup.pk}

    response = api.post(
        f"/api/v1/duplicate-pairs/{pair['id']}/decide/", {"decision": "deferred"}, format="json"
    )
    assert response.status_code == 200 and response.json()["decision"] == "deferred"

    response = api.post(
        "/api/v1/person-merges/",
        {"keep": w.p_jendouba.pk, "drop": w.dup.pk, "pair": pair["id"], "reason": "Same phone"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    merge = response.json()
    assert merge["other_values"] == {"phone": "98123456"}  # the same number, written otherwise
    assert merge["filled"]["email"] == "salma@example.org"
    assert {m["model"] for m in merge["moved"]} == {"registry.PersonShare"}
    assert api.get(f"/api/v1/duplicate-pairs/{pair['id']}/").json()["decision"] == "same"
    assert api.get(f"/api/v1/person-merges/{merge['id']}/").json()["reason"] == "Same phone"

    response = api.post(f"/api/v1/person-merges/{merge['id']}/undo/")
    assert response.status_code == 200 and response.json()["undone_at"]
    response = api.post(f"/api/v1/person-merges/{merge['id']}/undo/")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_api_errors_are_4xx_naming_the_field(w, api_for):
    api = api_for(w.coordinator)
    bad = api.post("/api/v1/duplicate-runs/", {"threshold": 2}, format="json")
    assert bad.status_code == 400 and "threshold" in bad.json()
    bad = api.post("/api/v1/duplicate-runs/", {"organisation": "org-c"}, format="json")
    assert bad.status_code == 403 and "organisation" in bad.json()
    bad = api.post("/api/v1/duplicate-runs/", {"colour": "red"}, format="json")
    assert bad.status_code == 400 and "colour" in bad.json()

    same = api.post(
        "/api/v1/person-merges/", {"keep": w.p_kef.pk, "drop": w.p_kef.pk}, format="json"
    )
    assert same.status_code == 400 and "drop" in same.json()
    # Someone outside the scope answers as an id that does not exist.
    outside = api.post(
        "/api/v1/person-merges/", {"keep": w.p_kef.pk, "drop": w.p_empoli.pk}, format="json"
    )
    missing = api.post(
        "/api/v1/person-merges/", {"keep": w.p_kef.pk, "drop": 999999}, format="json"
    )
    assert outside.status_code == missing.status_code == 400
    assert "drop" in outside.json() and "drop" in missing.json()
    assert not Person.objects.unscoped().get(pk=w.p_empoli.pk).is_archived
    assert not PersonMerge.objects.unscoped().exists()

    services.duplicate_run_start(user=w.coordinator)
    pair = DuplicatePair.objects.unscoped().get()
    bad = api.post(
        f"/api/v1/duplicate-pairs/{pair.pk}/decide/", {"decision": "same"}, format="json"
    )
    assert bad.status_code == 400 and "decision" in bad.json()
    assert (
        api_for(w.outsider)
        .post(f"/api/v1/duplicate-pairs/{pair.pk}/decide/", {"decision": "not_same"}, format="json")
        .status_code
        == 404
    )
    # The viewer sees both people of a pair in org_a, but may not merge them.
    viewer = api_for(w.viewer_a).post(
        "/api/v1/person-merges/",
        {"keep": w.p_jendouba.pk, "drop": w.p_tabarka.pk},
        format="json",
    )
    assert viewer.status_code == 403
    assert not Person.objects.unscoped().get(pk=w.p_tabarka.pk).is_archived
    assert api_for(w.viewer_a).post("/api/v1/duplicate-runs/", {}, format="json").status_code == 403
