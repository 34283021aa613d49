"""Merging two records of one person, and undoing it.

The world of tests/conftest.py, plus ``dup``: Salma Trabelsi registered a second time by
org_b, in Jendouba, with a phone, an email, a document and a different address; her second
record has a visit at the network's desk, a case of org_b, a consent, a group membership,
and org_a holds it too (shared), as it holds the first record.
"""

import datetime

import pytest
from django.urls import reverse

from tadamun.cases.models import Case, Desk, DeskKind, Intake
from tadamun.core.errors import AccessDenied
from tadamun.matching import services
from tadamun.matching.models import PersonMerge
from tadamun.matching.services import MatchingError, person_merge, person_merge_undo
from tadamun.registry import services as registry_services
from tadamun.registry.models import (
    Consent,
    ConsentPurpose,
    Group,
    GroupKind,
    GroupMember,
    Person,
    PersonNameKey,
    PersonShare,
    ShareReason,
)

from .. import factories as f

try:  # the keys of the duplicate check, where the registry has them
    from tadamun.registry.models import PersonMatchKey
except ImportError:  # pragma: no cover
    PersonMatchKey = None


def _people():
    return Person.objects.unscoped("tests")


def add_duplicate(w):
    """Salma's second record and the rows that point at it (see the module docstring)."""
    w.p_jendouba.address = "12 rue de Tunis"
    w.p_jendouba.birth_year = 1990
    w.p_jendouba.save()
    w.dup = f.person(
        w.org_b,
        w.jendouba,
        given_name="Salma",
        family_name="Trabelsi",
        birth_year=1990,
        sex="F",
        phone="+216 98 123 456",
        email="salma@example.org",
        address="Cité Ennour",
        document_type="national_id",
        document_number="01234567",
    )
    PersonShare.objects.create(person=w.dup, organisation=w.org_a, reason=ShareReason.SHARED)
    w.desk = Desk.objects.create(
        network=w.net,
        organisation=w.org_a,
        code="jendouba-desk",
        name={"en": "Jendouba desk"},
        kind=DeskKind.JOB_DESK,
        territory=w.jendouba,
    )
    w.intake = Intake.objects.create(
        person=w.dup, desk=w.desk, organisation=w.org_a, recorded_by=w.desk_a, reason="Work"
    )
    w.case = Case.objects.create(person=w.dup, organisation=w.org_b)
    w.consent = Consent.objects.create(
        person=w.dup,
        purpose=ConsentPurpose.REFERRAL,
        organisation=w.org_b,
        given_on=datetime.date(2024, 3, 1),
        recorded_by=w.caseworker_b,
    )
    w.group = Group.objects.create(
        name="Coopérative Ennour", kind=GroupKind.COOPERATIVE, organisation=w.org_b
    )
    w.member = GroupMember.objects.create(group=w.group, person=w.dup)
    return w


@pytest.fixture
def w(world):
    return add_duplicate(world)


def _pointers(w):
    """Who each row points at now."""
    return {
        "intake": Intake.objects.get(pk=w.intake.pk).person_id,
        "case": Case.objects.unscoped().get(pk=w.case.pk).person_id,
        "consent": Consent.objects.get(pk=w.consent.pk).person_id,
        "member": GroupMember.objects.get(pk=w.member.pk).person_id,
        "shares": sorted(PersonShare.objects.values_list("person_id", "organisation_id", "reason")),
    }


def _fields(person_id):
    person = _people().get(pk=person_id)
    values = services.snapshot(person)
    values["name_keys"] = sorted(
        PersonNameKey.objects.filter(person_id=person_id).values_list("key", flat=True)
    )
    if PersonMatchKey is not None:
        values["match_keys"] = sorted(
            PersonMatchKey.objects.filter(person_id=person_id).values_list("key", flat=True)
        )
    return values


def test_every_foreign_key_to_a_person_is_moved_except_derived_keys():
    labels = {r.label for r in services.person_relations()}
    assert {
        "registry.PersonShare",
        "registry.Consent",
        "registry.GroupMember",
        "cases.Case",
        "cases.Intake",
    } <= labels
    assert not labels & {"registry.PersonNameKey", "registry.PersonMatchKey"}
    assert not any(label.startswith("matching.") for label in labels)
    # Whatever a capability adds later is found the same way.
    # (a many-to-many relation through the rows of its table)
    expected = {
        (r.through if r.many_to_many else r.related_model)._meta.label
        for r in Person._meta.related_objects
        if r.related_model._meta.label not in services.DERIVED
    }
    assert labels == expected


def test_merge_moves_every_row_to_the_kept_person(w):
    merge = person_merge(user=w.coordinator, keep=w.p_jendouba, drop=w.dup, reason="Same ID")

    keep = w.p_jendouba.pk
    pointers = _pointers(w)
    assert pointers["intake"] == keep
    assert pointers["case"] == keep
    assert pointers["consent"] == keep
    assert pointers["member"] == keep
    # org_b's share moved; org_a held both records: its share of the kept record stays the
    # only one, the other is left with the archived record and remembered.
    assert (keep, w.org_b.pk, ShareReason.REGISTERED) in pointers["shares"]
    assert (w.dup.pk, w.org_a.pk, ShareReason.SHARED) in pointers["shares"]
    assert PersonShare.objects.filter(person_id=keep, organisation=w.org_a).count() == 1
    assert merge.left == [
        {
            "model": "registry.PersonShare",
            "pk": PersonShare.objects.get(person=w.dup, organisation=w.org_a).pk,
            "field": "person",
            "kept": PersonShare.objects.get(person_id=keep, organisation=w.org_a).pk,
        }
    ]
    moved = {(m["model"], m["pk"]) for m in merge.moved}
    assert moved == {
        ("cases.Intake", w.intake.pk),
        ("cases.Case", w.case.pk),
        ("registry.Consent", w.consent.pk),
        ("registry.GroupMember", w.member.pk),
        ("registry.PersonShare", PersonShare.objects.get(person_id=keep, organisation=w.org_b).pk),
    }
    # The merged record is archived, pointing at the kept one through the merge.
    dup = _people().get(pk=w.dup.pk)
    assert dup.is_archived and dup.archived_by == w.coordinator
    assert merge.keep_id == keep and merge.drop_id == dup.pk
    assert merge.merged_by == w.coordinator and merge.reason == "Same ID"
    # Every change names the user.
    intake_change = Intake.history.filter(id=w.intake.pk).latest("history_date")
    assert intake_change.history_user == w.coordinator
    assert "merge" in intake_change.history_change_reason
    assert _people().get(pk=keep).history.latest("history_date").history_user == w.coordinator
    assert dup.history.latest("history_date").history_user == w.coordinator


def test_values_are_filled_in_never_overwritten(w):
    merge = person_merge(user=w.coordinator, keep=w.p_jendouba, drop=w.dup)
    keep = _people().get(pk=w.p_jendouba.pk)
    # What the kept record lacked comes from the other.
    assert keep.phone == "+216 98 123 456"
    assert keep.email == "salma@example.org"
    assert keep.sex == "F"
    assert (keep.document_type, keep.document_number) == ("national_id", "01234567")
    # What both had, differently, stays as the kept record has it; the other is recorded.
    assert keep.address == "12 rue de Tunis"
    assert merge.other_values == {"address": "Cité Ennour"}
    assert set(merge.filled) == {"sex", "phone", "email", "document_type", "document_number"}
    # The name keys of the kept record were written again (and still find it).
    assert PersonNameKey.objects.filter(person=keep, key="trabelsi").exists()


def test_a_date_of_birth_fills_a_year_it_agrees_with_and_is_recorded_otherwise(world):
    w = world
    year_only = f.person(w.org_a, w.jendouba, given_name="Nadia", birth_date=None, birth_year=1990)
    dated = f.person(w.org_a, w.jendouba, given_name="Nadia", birth_date=datetime.date(1990, 2, 3))
    merge = person_merge(user=w.coordinator, keep=year_only, drop=dated)
    year_only.refresh_from_db()
    assert year_only.birth_date == datetime.date(1990, 2, 3)
    assert merge.filled == {"birth_date": "1990-02-03"}

    other_year = f.person(w.org_a, w.jendouba, given_name="Rim", birth_date=None, birth_year=1989)
    dated = f.person(w.org_a, w.jendouba, given_name="Rim", birth_date=datetime.date(1990, 2, 3))
    merge = person_merge(user=w.coordinator, keep=other_year, drop=dated)
    other_year.refresh_from_db()
    assert (other_year.birth_date, other_year.birth_year) == (None, 1989)
    assert merge.other_values == {"birth_date": "1990-02-03", "birth_year": 1990}
    assert merge.filled == {}


def test_the_kept_person_page_shows_the_other_values_and_the_merged_one_points_to_it(w, client_for):
    merge = person_merge(user=w.coordinator, keep=w.p_jendouba, drop=w.dup)
    client = client_for(w.coordinator)
    page = client.get(reverse("registry:person_detail", args=[w.p_jendouba.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Other values recorded at merge" in html
    assert "Cité Ennour" in html
    assert reverse("matching:merge_detail", args=[merge.pk]) in html
    assert f"Record {w.dup.pk} merged into this one" in html  # in the timeline
    # The archived record (org_a still holds it) says where it went.
    page = client.get(reverse("registry:person_detail", args=[w.dup.pk]))
    assert 'data-testid="merged-into"' in page.content.decode()
    assert reverse("registry:person_detail", args=[w.p_jendouba.pk]) in page.content.decode()
    # The merge page lists both records before the merge.
    page = client.get(reverse("matching:merge_detail", args=[merge.pk]))
    assert page.status_code == 200
    assert "Cité Ennour" in page.content.decode() and "12 rue de Tunis" in page.content.decode()


def test_undo_restores_both_records_and_every_row_exactly(w):
    before = {
        "pointers": _pointers(w),
        "keep": _fields(w.p_jendouba.pk),
        "drop": _fields(w.dup.pk),
    }
    merge = person_merge(user=w.coordinator, keep=w.p_jendouba, drop=w.dup)
    assert _pointers(w) != before["pointers"]
    assert _fields(w.p_jendouba.pk) != before["keep"]

    person_merge_undo(user=w.coordinator, merge=merge)

    assert _pointers(w) == before["pointers"]
    assert _fields(w.p_jendouba.pk) == before["keep"]
    assert _fields(w.dup.pk) == before["drop"]
    merge.refresh_from_db()
    assert merge.is_undone and merge.undone_by == w.coordinator
    assert not _people().get(pk=w.dup.pk).is_archived
    change = Intake.history.filter(id=w.intake.pk).latest("history_date")
    assert change.history_user == w.coordinator and "undone" in change.history_change_reason
    # An undone merge cannot be undone twice.
    with pytest.raises(MatchingError):
        person_merge_undo(user=w.coordinator, merge=merge)


def test_undo_keeps_what_changed_since_on_other_fields_and_rows(w):
    merge = person_merge(user=w.coordinator, keep=w.p_jendouba, drop=w.dup)
    registry_services.person_update(
        user=w.coordinator, person=w.p_jendouba, family_name="Trabelsi-Ayari"
    )
    registry_services.consent_withdraw(
        user=w.coordinator, consent=Consent.objects.get(pk=w.consent.pk)
    )
    person_merge_undo(user=w.coordinator, merge=merge)
    keep = _people().get(pk=w.p_jendouba.pk)
    assert keep.family_name == "Trabelsi-Ayari"  # not part of the merge: kept
    assert keep.phone == ""  # filled by the merge: taken out again
    consent = Consent.objects.get(pk=w.consent.pk)
    assert consent.person_id == w.dup.pk and not consent.is_active


def test_undo_is_refused_when_a_filled_value_changed_since(w):
    merge = person_merge(user=w.coordinator, keep=w.p_jendouba, drop=w.dup)
    registry_services.person_update(
        user=w.coordinator, person=w.p_jendouba, phone="+216 20 000 000"
    )
    with pytest.raises(MatchingError) as error:
        person_merge_undo(user=w.coordinator, merge=merge)
    assert "phone" in error.value.message_dict
    assert "Changed since the merge" in error.value.message_dict["phone"][0]
    # Nothing moved back.
    assert Intake.objects.get(pk=w.intake.pk).person_id == w.p_jendouba.pk
    assert _people().get(pk=w.dup.pk).is_archived


def test_undo_is_refused_when_a_moved_row_now_belongs_to_someone_else(w):
    merge = person_merge(user=w.coordinator, keep=w.p_jendouba, drop=w.dup)
    Consent.objects.filter(pk=w.consent.pk).update(person=w.p_tabarka)
    with pytest.raises(MatchingError) as error:
        person_merge_undo(user=w.coordinator, merge=merge)
    assert f"consent number {w.consent.pk}" in str(error.value)
    assert "belongs to another person" in str(error.value)
    assert Intake.objects.get(pk=w.intake.pk).person_id == w.p_jendouba.pk
    merge.refresh_from_db()
    assert not merge.is_undone


def test_undo_is_refused_while_a_later_merge_of_the_same_people_stands(w):
    first = person_merge(user=w.coordinator, keep=w.p_jendouba, drop=w.dup)
    third = f.person(w.org_a, w.jendouba, given_name="Salma", family_name="Trabelsy")
    second = person_merge(user=w.coordinator, keep=third, drop=w.p_jendouba)
    with pytest.raises(MatchingError, match="undo that merge first"):
        person_merge_undo(user=w.coordinator, merge=first)
    person_merge_undo(user=w.coordinator, merge=second)
    person_merge_undo(user=w.coordinator, merge=first)
    assert Intake.objects.get(pk=w.intake.pk).person_id == w.dup.pk


def test_a_person_outside_the_scope_cannot_be_merged_and_nothing_changes(w, client_for):
    before = (_pointers(w), _fields(w.p_jendouba.pk), _fields(w.p_kef.pk))
    # desk_a (org_a) does not see p_kef (org_b): refused as "not in your scope".
    with pytest.raises(AccessDenied) as error:
        person_merge(user=w.desk_a, keep=w.p_jendouba, drop=w.p_kef)
    assert "drop" in error.value.message_dict
    with pytest.raises(AccessDenied):
        person_merge(user=w.outsider, keep=w.p_kef, drop=w.p_jendouba)
    assert (_pointers(w), _fields(w.p_jendouba.pk), _fields(w.p_kef.pk)) == before
    assert not PersonMerge.objects.unscoped().exists()
    # A merge record is "not found" for whoever sees neither person.
    merge = person_merge(user=w.coordinator, keep=w.p_kef, drop=w.dup)
    response = client_for(w.outsider).get(reverse("matching:merge_detail", args=[merge.pk]))
    assert response.status_code == 404
    response = client_for(w.outsider).post(reverse("matching:merge_undo", args=[merge.pk]))
    assert response.status_code == 404
    assert not PersonMerge.objects.unscoped().get(pk=merge.pk).is_undone


def test_a_viewer_cannot_merge(w):
    with pytest.raises(AccessDenied):
        person_merge(user=w.viewer_a, keep=w.p_jendouba, drop=w.p_tabarka)
    assert not _people().get(pk=w.p_tabarka.pk).is_archived
    assert not PersonMerge.objects.unscoped().exists()


def test_merging_needs_rights_for_every_organisation_holding_either_record(w):
    # desk_a may change org_a's people, not org_b's, which holds the second record.
    with pytest.raises(AccessDenied, match="Regional|org-b|every organisation"):
        person_merge(user=w.desk_a, keep=w.p_jendouba, drop=w.dup)
    assert Intake.objects.get(pk=w.intake.pk).person_id == w.dup.pk
    assert not _people().get(pk=w.dup.pk).is_archived


def test_a_record_is_not_merged_with_itself_nor_when_archived(w):
    with pytest.raises(MatchingError) as error:
        person_merge(user=w.coordinator, keep=w.p_jendouba, drop=w.p_jendouba)
    assert "drop" in error.value.message_dict
    registry_services.person_archive(user=w.coordinator, person=w.p_tabarka)
    with pytest.raises(MatchingError) as error:
        person_merge(user=w.coordinator, keep=w.p_jendouba, drop=w.p_tabarka)
    assert "drop" in error.value.message_dict


def test_a_viewer_cannot_undo(w):
    merge = person_merge(user=w.coordinator, keep=w.p_jendouba, drop=w.dup)
    with pytest.raises(AccessDenied):
        person_merge_undo(user=w.viewer_a, merge=merge)
    merge.refresh_from_db()
    assert not merge.is_undone
