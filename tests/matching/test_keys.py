"""Features and keys: phones, dates, the registry's folded name keys, the lookup's keys."""

import datetime
import json
from pathlib import Path

import pytest

from tadamun.matching.keys import (
    PersonRecord,
    birth_parts,
    features,
    match_keys,
    name_features,
    phone_key,
    typed_match_keys,
)

NAMES = json.loads(
    (Path(__file__).resolve().parents[2] / "tadamun/demo/data/names.json").read_text()
)


@pytest.mark.parametrize(
    "written", ["+216 98 123 456", "0021698123456", "98 123 456", "98-123-456", "٩٨١٢٣٤٥٦"]
)
def test_a_phone_written_several_ways_has_one_key(written):
    assert phone_key(written) == "98123456"


@pytest.mark.parametrize("written", ["", "12", "n/a"])
def test_no_phone_key_without_enough_digits(written):
    assert phone_key(written) is None


def test_first_of_january_is_a_placeholder():
    assert birth_parts(datetime.date(1985, 1, 1), None) == (None, True, 1985)
    assert birth_parts(None, 1985) == (None, True, 1985)
    assert birth_parts(datetime.date(1985, 3, 12), 1985) == (
        datetime.date(1985, 3, 12),
        False,
        1985,
    )
    assert birth_parts(None, None) == (None, False, None)


def test_name_features_hold_both_scripts():
    f = name_features("Γεώργιος", "Giorgos")
    assert f.skeletons == ("JRJS", "JRKS")
    assert f.latin == "giorgos"


def test_arabic_only_names_are_compared_in_arabic_letters():
    assert name_features("فاطمة", "").latin == "فاطمة"
    assert name_features("أحمد", "").latin == "احمد"  # alef forms made one


def test_a_name_of_vowels_is_still_a_name():
    assert name_features("Aya", "").skeletons == ("_",)


def test_particles_are_not_words_of_a_name():
    assert name_features("Ben Ali", "").words == {"L"}
    assert name_features("بن علي", "").words == {"L"}


def test_match_keys_in_both_orders_and_with_the_year():
    record = PersonRecord(
        given_name="محمد", family_name="بن علي", birth_date=datetime.date(1990, 5, 17)
    )
    keys = match_keys(record)
    assert {
        "n:MHMT|BNL",
        "n:BNL|MHMT",
        "y:BNL|MHMT|1990",
        "d:MHMT|19900517",
        "d:BNL|19900517",
    } <= keys
    assert all(len(k) <= 60 for k in keys)


def test_typed_keys_meet_the_stored_ones_across_scripts():
    stored = match_keys(
        PersonRecord(given_name="محمد", family_name="بن علي", birth_date=datetime.date(1990, 5, 17))
    )
    typed = PersonRecord(given_name="Μπεν Αλί", family_name="Μοχάμεντ", birth_year=1991)
    prefixes, years, dates = typed_match_keys(typed)
    assert any(k.startswith(p) for p in prefixes for k in stored)
    assert years & stored
    assert not dates


def test_a_person_without_a_date_is_found_by_year_keys_too():
    keys = match_keys(PersonRecord(given_name="Salma", family_name="Trabelsi"))
    assert "y:SLM|TRBLS|-" in keys


def test_features_of_a_record():
    f = features(
        PersonRecord(
            given_name="Mohamed",
            family_name="Trabelsi",
            birth_date=datetime.date(1985, 1, 1),
            sex="U",
            phone="+216 98 123 456",
            residence=7,
        )
    )
    assert f.name_pair == "MHMT|TRBLS"
    assert (f.dob, f.placeholder, f.year) == (None, True, 1985)
    assert f.sex is None
    assert f.phone == "98123456"
    assert f.residence == "7"
