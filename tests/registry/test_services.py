"""The registry's services: who may change what, what is validated, what the audit keeps."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tadamun.core.errors import AccessDenied, DomainError
from tadamun.registry import services
from tadamun.registry.models import (
    Consent,
    Group,
    GroupMember,
    Person,
    PersonNameKey,
    PersonShare,
    ShareReason,
)

from ..helpers import snapshot


def _count() -> int:
    return Person.objects.unscoped().count()


def _latest(record):
    return record.history.order_by("-history_date", "-history_id").first()


# --- person_register ------------------------------------------------------------------------


def test_registering_a_person_makes_the_organisation_hold_the_record(world):
    person = services.person_register(
        user=world.desk_a,
        organisation=world.org_a,
        given_name="Sami",
        family_name="Gharbi",
        residence=world.jendouba,
        birth_date=datetime.date(1985, 3, 2),
    )
    assert Person.objects.visible_to(world.desk_a).filter(pk=person.pk).exists()
    assert list(person.shares.values_list("organisation_id", "reason")) == [
        (world.org_a.pk, ShareReason.REGISTERED)
    ]
    assert set(PersonNameKey.objects.filter(person=person).values_list("key", flat=True)) == {
        "sami",
        "gharbi",
    }
    assert person.birth_year == 1985
    assert (person.given_name_latin, person.family_name_latin) == ("Sami", "Gharbi")


def test_registering_leaves_a_history_entry_naming_the_user_and_the_reason(world):
    person = services.person_register(
        user=world.desk_a, organisation=world.org_a, given_name="Sami", residence=world.jendouba
    )
    entries = list(person.history.all())
    assert len(entries) == 1
    assert entries[0].history_type == "+"
    assert entries[0].history_user == world.desk_a
    assert entries[0].history_change_reason == "registered"


def test_an_arabic_name_gets_no_machine_latin_spelling(world):
    person = services.person_register(
        user=world.desk_a, organisation=world.org_a, given_name="محمد", residence=world.jendouba
    )
    assert person.given_name_latin == ""


@pytest.mark.parametrize(
    "persona,organisation",
    [
        ("desk_a", "org_b"),  # another organisation
        ("caseworker_b", "org_a"),
        ("outsider", "org_a"),
        ("viewer_a", "org_a"),  # read-only roles
        ("controller_a", "org_a"),
        ("trainer_a", "org_a"),
        ("nobody", "org_a"),
    ],
)
def test_registering_for_an_organisation_the_role_does_not_cover_is_refused(
    world, persona, organisation
):
    before = _count()
    with pytest.raises(AccessDenied):
        services.person_register(
            user=getattr(world, persona),
            organisation=getattr(world, organisation),
            given_name="Sami",
            residence=world.kef,
        )
    assert _count() == before


def test_a_coordinator_registers_for_a_member_of_the_network(world):
    person = services.person_register(
        user=world.coordinator, organisation=world.org_b, given_name="Sami", residence=world.kef
    )
    assert person in set(Person.objects.visible_to(world.caseworker_b))


def test_a_territory_desk_cannot_register_a_person_living_outside_its_territory(world):
    before = _count()
    with pytest.raises(AccessDenied) as refused:
        services.person_register(
            user=world.desk_tabarka,
            organisation=world.org_a,
            given_name="Sami",
            residence=world.kef,
        )
    assert "residence" in refused.value.message_dict
    assert _count() == before


def test_a_territory_desk_cannot_register_a_person_without_a_residence(world):
    """With no residence the record would fall outside the desk's own view."""
    with pytest.raises(AccessDenied) as refused:
        services.person_register(
            user=world.desk_tabarka, organisation=world.org_a, given_name="Sami"
        )
    assert "residence" in refused.value.message_dict


def test_a_territory_desk_registers_a_person_living_inside_its_territory(world):
    person = services.person_register(
        user=world.desk_tabarka,
        organisation=world.org_a,
        given_name="Sami",
        residence=world.tabarka,
    )
    assert person in set(Person.objects.visible_to(world.desk_tabarka))


def test_a_field_the_service_does_not_own_is_refused(world):
    before = _count()
    with pytest.raises(DomainError) as refused:
        services.person_register(
            user=world.desk_a, organisation=world.org_a, given_name="Sami", archived_at=None
        )
    assert "archived_at" in refused.value.message_dict
    assert _count() == before


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"given_name": ""}, "given_name"),
        ({"birth_date": datetime.date(2999, 1, 1)}, "birth_date"),
        ({"birth_date": datetime.date(1800, 1, 1)}, "birth_date"),
        ({"birth_year": 1800}, "birth_year"),
        ({"birth_year": 2999}, "birth_year"),
        ({"birth_date": datetime.date(1990, 1, 1), "birth_year": 1991}, "birth_year"),
        ({"given_name": "A" * 151}, "given_name"),
        ({"given_name": "Sa\u202emi"}, "given_name"),
        ({"given_name": "Sa\x00mi"}, "given_name"),
        ({"given_name": "<script>alert(1)</script>"}, "given_name"),
        ({"languages": "ar"}, "languages"),
        ({"languages": ["ar", 3]}, "languages"),
        ({"email": "not-an-email"}, "email"),
        ({"sex": "Q"}, "sex"),
    ],
)
def test_invalid_person_fields_are_refused_with_the_field_named(world, fields, field):
    fields = {"given_name": "Sami", **fields}
    before = _count()
    with pytest.raises(DomainError) as refused:
        services.person_register(
            user=world.desk_a, organisation=world.org_a, residence=world.jendouba, **fields
        )
    assert field in refused.value.message_dict
    assert _count() == before


def test_languages_are_kept_as_a_sorted_list_of_lower_case_codes(world):
    person = services.person_register(
        user=world.desk_a,
        organisation=world.org_a,
        given_name="Sami",
        residence=world.jendouba,
        languages=["FR", "ar", "fr"],
    )
    assert person.languages == ["ar", "fr"]


# --- person_update --------------------------------------------------------------------------


def test_updating_a_person_records_who_changed_what(world):
    person = services.person_register(
        user=world.desk_a, organisation=world.org_a, given_name="Sami", residence=world.jendouba
    )
    services.person_update(user=world.coordinator, person=person, phone="+216 1")
    person.refresh_from_db()
    assert person.phone == "+216 1"
    entry = _latest(person)
    assert (entry.history_type, entry.history_user, entry.history_change_reason) == (
        "~",
        world.coordinator,
        "updated",
    )
    assert entry.diff_against(entry.prev_record).changed_fields == ["phone"]
    assert person.history.count() == 2


def test_renaming_a_person_refreshes_the_search_keys(world):
    services.person_update(user=world.desk_a, person=world.p_jendouba, family_name="Jaziri")
    keys = set(PersonNameKey.objects.filter(person=world.p_jendouba).values_list("key", flat=True))
    assert "jaziri" in keys
    assert "trabelsi" not in keys


@pytest.mark.parametrize("persona", ["desk_a", "outsider", "nobody", "desk_tabarka"])
def test_updating_a_person_outside_scope_is_refused(world, persona):
    before = snapshot()
    with pytest.raises(AccessDenied):
        services.person_update(user=getattr(world, persona), person=world.p_kef, phone="1")
    assert snapshot() == before


@pytest.mark.parametrize("persona", ["viewer_a", "controller_a", "trainer_a"])
def test_a_read_only_role_cannot_update_a_person_it_sees(world, persona):
    before = snapshot()
    with pytest.raises(AccessDenied):
        services.person_update(user=getattr(world, persona), person=world.p_jendouba, phone="1")
    assert snapshot() == before


def test_a_territory_desk_cannot_move_a_person_out_of_its_territory(world):
    before = snapshot()
    with pytest.raises(AccessDenied):
        services.person_update(user=world.desk_tabarka, person=world.p_tabarka, residence=world.kef)
    assert snapshot() == before


def test_an_archived_person_cannot_be_changed_until_restored(world):
    services.person_archive(user=world.desk_a, person=world.p_jendouba)
    with pytest.raises(DomainError):
        services.person_update(user=world.desk_a, person=world.p_jendouba, phone="1")
    services.person_restore(user=world.desk_a, person=world.p_jendouba)
    assert services.person_update(user=world.desk_a, person=world.p_jendouba, phone="1").phone


def test_an_invalid_update_changes_nothing(world):
    before = snapshot()
    with pytest.raises(DomainError) as refused:
        services.person_update(
            user=world.desk_a,
            person=world.p_jendouba,
            family_name="X",
            birth_date=timezone.localdate() + datetime.timedelta(days=1),
        )
    assert "birth_date" in refused.value.message_dict
    assert snapshot() == before


# --- archive and restore ---------------------------------------------------------------------


def test_archiving_keeps_the_record_and_says_who_archived_it(world):
    person = services.person_archive(user=world.desk_a, person=world.p_jendouba)
    assert Person.objects.unscoped().filter(pk=world.p_jendouba.pk).exists()
    assert person.is_archived
    assert person.archived_by == world.desk_a
    entry = _latest(person)
    assert (entry.history_type, entry.history_user, entry.history_change_reason) == (
        "~",
        world.desk_a,
        "archived",
    )
    assert not person.history.filter(history_type="-").exists()
    # Still held, still visible (to find and restore), no longer in current lists.
    assert person.shares.exists()
    assert Person.objects.visible_to(world.desk_a).filter(pk=person.pk).exists()
    assert not Person.objects.visible_to(world.desk_a).current().filter(pk=person.pk).exists()


def test_restoring_clears_the_archive_and_is_audited(world):
    services.person_archive(user=world.desk_a, person=world.p_jendouba)
    person = services.person_restore(user=world.coordinator, person=world.p_jendouba)
    assert (person.archived_at, person.archived_by) == (None, None)
    entry = _latest(person)
    assert (entry.history_user, entry.history_change_reason) == (world.coordinator, "restored")


def test_archiving_twice_writes_no_second_entry(world):
    services.person_archive(user=world.desk_a, person=world.p_jendouba)
    entries = world.p_jendouba.history.count()
    services.person_archive(user=world.desk_a, person=world.p_jendouba)
    assert world.p_jendouba.history.count() == entries


@pytest.mark.parametrize("persona", ["viewer_a", "caseworker_b", "outsider", "nobody"])
def test_archiving_is_refused_without_rights(world, persona):
    before = snapshot()
    with pytest.raises(AccessDenied):
        services.person_archive(user=getattr(world, persona), person=world.p_jendouba)
    assert snapshot() == before


def test_restoring_is_refused_without_rights(world):
    services.person_archive(user=world.desk_a, person=world.p_jendouba)
    before = snapshot()
    with pytest.raises(AccessDenied):
        services.person_restore(user=world.viewer_a, person=world.p_jendouba)
    assert snapshot() == before


# --- consents -------------------------------------------------------------------------------


def test_recording_a_consent_names_the_organisation_and_the_user(world):
    consent = services.consent_record(
        user=world.desk_a,
        person=world.p_jendouba,
        purpose="contact",
        lawful_basis="consent",
        given_on=datetime.date(2024, 2, 1),
        note="signed form",
    )
    assert (consent.organisation, consent.recorded_by, consent.is_active) == (
        world.org_a,
        world.desk_a,
        True,
    )
    entry = _latest(consent)
    assert (entry.history_type, entry.history_user) == ("+", world.desk_a)
    assert entry.history_change_reason


def test_a_coordinator_records_a_consent_for_the_holding_member(world):
    consent = services.consent_record(
        user=world.coordinator,
        person=world.p_kef,
        purpose="registration",
        lawful_basis="consent",
        given_on=datetime.date(2024, 2, 1),
    )
    assert consent.organisation == world.org_b


def test_a_consent_dated_in_the_future_is_refused(world):
    with pytest.raises(DomainError) as refused:
        services.consent_record(
            user=world.desk_a,
            person=world.p_jendouba,
            purpose="contact",
            lawful_basis="consent",
            given_on=timezone.localdate() + datetime.timedelta(days=1),
        )
    assert "given_on" in refused.value.message_dict
    assert not Consent.objects.filter(person=world.p_jendouba).exists()


@pytest.mark.parametrize(
    "field,value", [("purpose", "marketing"), ("lawful_basis", "whim"), ("note", "a\u202eb")]
)
def test_a_consent_with_an_invalid_field_is_refused(world, field, value):
    fields = {"purpose": "contact", "lawful_basis": "consent", "note": "", field: value}
    with pytest.raises(DomainError) as refused:
        services.consent_record(
            user=world.desk_a, person=world.p_jendouba, given_on=datetime.date(2024, 2, 1), **fields
        )
    assert field in refused.value.message_dict
    assert not Consent.objects.filter(person=world.p_jendouba).exists()


@pytest.mark.parametrize("persona", ["viewer_a", "trainer_a", "caseworker_b", "nobody"])
def test_recording_a_consent_is_refused_without_rights(world, persona):
    with pytest.raises(AccessDenied):
        services.consent_record(
            user=getattr(world, persona),
            person=world.p_jendouba,
            purpose="contact",
            lawful_basis="consent",
            given_on=datetime.date(2024, 2, 1),
        )
    assert not Consent.objects.filter(person=world.p_jendouba).exists()


@pytest.fixture
def consent(world):
    return services.consent_record(
        user=world.desk_a,
        person=world.p_jendouba,
        purpose="contact",
        lawful_basis="consent",
        given_on=datetime.date(2024, 2, 1),
    )


def test_withdrawing_a_consent_keeps_it_and_records_who_withdrew(world, consent):
    services.consent_withdraw(
        user=world.desk_a, consent=consent, withdrawn_on=datetime.date(2024, 3, 1)
    )
    consent.refresh_from_db()
    assert (consent.withdrawn_on, consent.withdrawn_by, consent.is_active) == (
        datetime.date(2024, 3, 1),
        world.desk_a,
        False,
    )
    entry = _latest(consent)
    assert (entry.history_user, entry.history_change_reason) == (world.desk_a, "withdrawn")


def test_a_consent_cannot_be_withdrawn_twice(world, consent):
    services.consent_withdraw(user=world.desk_a, consent=consent)
    with pytest.raises(DomainError):
        services.consent_withdraw(user=world.desk_a, consent=consent)


def test_a_consent_cannot_be_withdrawn_before_it_was_given(world, consent):
    with pytest.raises(DomainError) as refused:
        services.consent_withdraw(
            user=world.desk_a, consent=consent, withdrawn_on=datetime.date(2024, 1, 1)
        )
    assert "withdrawn_on" in refused.value.message_dict
    consent.refresh_from_db()
    assert consent.is_active


@pytest.mark.parametrize("persona", ["viewer_a", "caseworker_b", "outsider"])
def test_withdrawing_is_refused_without_rights(world, consent, persona):
    with pytest.raises(AccessDenied):
        services.consent_withdraw(user=getattr(world, persona), consent=consent)
    consent.refresh_from_db()
    assert consent.is_active


# --- groups ---------------------------------------------------------------------------------


@pytest.fixture
def household(world):
    return services.group_create(
        user=world.desk_a,
        organisation=world.org_a,
        name="Ben Ali household",
        kind="household",
        territory=world.tabarka,
    )


def test_creating_a_group_is_audited(world, household):
    assert Group.objects.visible_to(world.desk_tabarka).filter(pk=household.pk).exists()
    entry = _latest(household)
    assert (entry.history_type, entry.history_user) == ("+", world.desk_a)
    assert entry.history_change_reason


@pytest.mark.parametrize(
    "persona,organisation,territory",
    [
        ("desk_a", "org_b", "kef"),
        ("viewer_a", "org_a", "jendouba"),
        ("desk_tabarka", "org_a", "kef"),
        ("desk_tabarka", "org_a", None),
        ("nobody", "org_a", "jendouba"),
    ],
)
def test_creating_a_group_is_refused_outside_the_role(world, persona, organisation, territory):
    with pytest.raises(AccessDenied):
        services.group_create(
            user=getattr(world, persona),
            organisation=getattr(world, organisation),
            name="Coop",
            kind="cooperative",
            territory=getattr(world, territory) if territory else None,
        )
    assert Group.objects.unscoped().count() == 0


def test_a_group_with_an_invalid_kind_or_name_is_refused(world):
    with pytest.raises(DomainError) as refused:
        services.group_create(
            user=world.desk_a, organisation=world.org_a, name="<b>Coop</b>", kind="gang"
        )
    assert {"name", "kind"} <= set(refused.value.message_dict)
    assert Group.objects.unscoped().count() == 0


def test_adding_a_member_is_audited(world, household):
    member = services.group_member_add(
        user=world.desk_tabarka, group=household, person=world.p_tabarka, role="head"
    )
    assert member.group == household
    entry = _latest(member)
    assert (entry.history_type, entry.history_user) == ("+", world.desk_tabarka)
    assert entry.history_change_reason


def test_a_person_outside_scope_cannot_be_added(world, household):
    with pytest.raises(AccessDenied) as refused:
        services.group_member_add(
            user=world.desk_tabarka, group=household, person=world.p_jendouba, role="member"
        )
    assert "person" in refused.value.message_dict
    assert not household.members.exists()


def test_a_current_member_cannot_be_added_twice(world, household):
    services.group_member_add(
        user=world.desk_a, group=household, person=world.p_tabarka, role="head"
    )
    with pytest.raises(DomainError) as refused:
        services.group_member_add(
            user=world.desk_a, group=household, person=world.p_tabarka, role="member"
        )
    assert "person" in refused.value.message_dict
    assert household.members.count() == 1


def test_members_shares_cannot_exceed_one_hundred_percent(world, household):
    services.group_member_add(
        user=world.desk_a,
        group=household,
        person=world.p_tabarka,
        role="president",
        share=Decimal("60"),
    )
    with pytest.raises(DomainError) as refused:
        services.group_member_add(
            user=world.desk_a,
            group=household,
            person=world.p_jendouba,
            role="member",
            share=Decimal("40.01"),
        )
    assert "share" in refused.value.message_dict
    assert household.members.count() == 1


def test_a_share_above_one_hundred_is_refused(world, household):
    with pytest.raises(DomainError) as refused:
        services.group_member_add(
            user=world.desk_a,
            group=household,
            person=world.p_tabarka,
            role="member",
            share=Decimal("150"),
        )
    assert "share" in refused.value.message_dict


@pytest.mark.parametrize("persona", ["viewer_a", "caseworker_b", "nobody"])
def test_adding_a_member_is_refused_without_rights(world, household, persona):
    with pytest.raises(AccessDenied):
        services.group_member_add(
            user=getattr(world, persona), group=household, person=world.p_tabarka, role="member"
        )
    assert not household.members.exists()


def test_a_member_leaves_and_the_link_is_kept(world, household):
    member = services.group_member_add(
        user=world.desk_a,
        group=household,
        person=world.p_tabarka,
        role="head",
        joined_on=datetime.date(2024, 1, 1),
    )
    services.group_member_remove(
        user=world.desk_a, member=member, left_on=datetime.date(2024, 6, 1)
    )
    member.refresh_from_db()
    assert member.left_on == datetime.date(2024, 6, 1)
    entry = _latest(member)
    assert (entry.history_user, entry.history_change_reason) == (world.desk_a, "left")
    # Having left, the person can join again.
    services.group_member_add(
        user=world.desk_a, group=household, person=world.p_tabarka, role="member"
    )
    assert household.members.count() == 2


def test_a_member_cannot_leave_before_joining(world, household):
    member = services.group_member_add(
        user=world.desk_a,
        group=household,
        person=world.p_tabarka,
        role="head",
        joined_on=datetime.date(2024, 1, 1),
    )
    with pytest.raises(DomainError) as refused:
        services.group_member_remove(
            user=world.desk_a, member=member, left_on=datetime.date(2023, 1, 1)
        )
    assert "left_on" in refused.value.message_dict
    member.refresh_from_db()
    assert member.left_on is None


def test_a_member_outside_scope_cannot_be_removed(world, household):
    """desk_tabarka sees the household but not its member who lives in Jendouba."""
    member = services.group_member_add(
        user=world.desk_a, group=household, person=world.p_jendouba, role="relative"
    )
    with pytest.raises(AccessDenied):
        services.group_member_remove(user=world.desk_tabarka, member=member)
    member.refresh_from_db()
    assert member.left_on is None


@pytest.mark.parametrize("persona", ["viewer_a", "caseworker_b"])
def test_removing_a_member_is_refused_without_rights(world, household, persona):
    member = services.group_member_add(
        user=world.desk_a, group=household, person=world.p_tabarka, role="head"
    )
    with pytest.raises(AccessDenied):
        services.group_member_remove(user=getattr(world, persona), member=member)
    member.refresh_from_db()
    assert member.left_on is None


def test_archiving_a_group_keeps_it_and_its_members(world, household):
    services.group_member_add(
        user=world.desk_a, group=household, person=world.p_tabarka, role="head"
    )
    group = services.group_archive(user=world.desk_tabarka, group=household)
    assert group.is_archived
    assert group.archived_by == world.desk_tabarka
    assert Group.objects.unscoped().filter(pk=household.pk).exists()
    assert GroupMember.objects.filter(group=household).count() == 1
    entry = _latest(group)
    assert (entry.history_user, entry.history_change_reason) == (world.desk_tabarka, "archived")
    group = services.group_archive(user=world.desk_a, group=household, restore=True)
    assert not group.is_archived
    assert _latest(group).history_change_reason == "restored"


@pytest.mark.parametrize("persona", ["viewer_a", "caseworker_b", "outsider"])
def test_archiving_a_group_is_refused_without_rights(world, household, persona):
    with pytest.raises(AccessDenied):
        services.group_archive(user=getattr(world, persona), group=household)
    household.refresh_from_db()
    assert not household.is_archived


def test_a_territory_desk_cannot_move_a_group_out_of_its_territory(world, household):
    with pytest.raises(AccessDenied):
        services.group_update(user=world.desk_tabarka, group=household, territory=world.kef)
    household.refresh_from_db()
    assert household.territory == world.tabarka


def test_updating_a_group_is_audited(world, household):
    group = services.group_update(user=world.desk_a, group=household, name="Ben Ali family")
    entry = _latest(group)
    assert (entry.history_type, entry.history_user) == ("~", world.desk_a)
    assert entry.history_change_reason


# --- bulk registration ----------------------------------------------------------------------


def _row(world, **fields):
    return {
        "organisation": world.org_a,
        "given_name": "Sami",
        "residence": world.jendouba,
        **fields,
    }


def test_bulk_registration_registers_every_row_with_history_shares_and_keys(world):
    rows = [_row(world, given_name=f"Person{i}", family_name="Bulk") for i in range(3)]
    people = services.person_bulk_register(user=world.desk_a, rows=rows)
    assert len(people) == 3
    pks = [p.pk for p in people]
    stored = Person.objects.visible_to(world.desk_a).filter(pk__in=pks)
    assert sorted(stored.values_list("given_name", flat=True)) == ["Person0", "Person1", "Person2"]
    assert PersonShare.objects.filter(person_id__in=pks, organisation=world.org_a).count() == 3
    assert PersonNameKey.objects.filter(person_id__in=pks, key="bulk").count() == 3
    entries = Person.history.filter(id__in=pks)
    assert entries.count() == 3
    assert {(e.history_user_id, e.history_change_reason) for e in entries} == {
        (world.desk_a.pk, "imported")
    }


def test_bulk_registration_is_all_or_nothing_and_names_each_bad_row(world):
    rows = [
        _row(world),
        _row(world, given_name=""),
        _row(world),
        _row(world, birth_date=datetime.date(2999, 1, 1)),
        _row(world, organisation=world.org_b, residence=world.kef),
        _row(world, shoe_size=42),
    ]
    before = snapshot()
    with pytest.raises(DomainError) as refused:
        services.person_bulk_register(user=world.desk_a, rows=rows)
    errors = refused.value.message_dict
    assert set(errors) == {"2:given_name", "4:birth_date", "5:organisation", "6:shoe_size"}
    assert all(errors[key] for key in errors)
    assert snapshot() == before


def test_bulk_registration_keeps_a_territory_desk_inside_its_territory(world):
    rows = [_row(world, residence=world.tabarka), _row(world, residence=world.kef)]
    before = _count()
    with pytest.raises(DomainError) as refused:
        services.person_bulk_register(user=world.desk_tabarka, rows=rows)
    assert set(refused.value.message_dict) == {"2:organisation"}
    assert _count() == before


def test_bulk_registration_needs_an_organisation_per_row(world):
    rows = [{"given_name": "Sami"}]
    with pytest.raises(DomainError) as refused:
        services.person_bulk_register(user=world.desk_a, rows=rows)
    assert set(refused.value.message_dict) == {"1:organisation"}
