"""Comparing two people: levels, weights, and the same levels in Python and in DuckDB."""

import datetime
import random

import duckdb
import pytest

from tadamun.matching.batch import _suffixed, prepare
from tadamun.matching.compare import (
    COMPARISONS,
    DEFAULT_PARAMETERS,
    SQL_LEVELS,
    Scorer,
    compare,
    levels,
    score,
)
from tadamun.matching.keys import PersonRecord, features

BORN = datetime.date(1985, 3, 12)


def person(**fields) -> PersonRecord:
    fields.setdefault("given_name", "محمد")
    fields.setdefault("family_name", "بن علي")
    return PersonRecord(**fields)


def level(a: PersonRecord, b: PersonRecord, comparison: str) -> str:
    return COMPARISONS[comparison][levels(features(a), features(b), [comparison])[comparison]]


@pytest.mark.parametrize(
    ("given", "family", "expected"),
    [
        ("محمد", "بن علي", "exact"),
        ("Mohamed", "Ben Ali", "skeleton"),
        ("Μοχάμεντ", "Μπεν Αλί", "skeleton"),
        ("Ben Ali", "Mohamed", "skeleton"),  # swapped: the pair of skeletons is the same
        ("Mohamed", "Ben Alli", "skeleton"),
        ("Mohamed", "Ben Aly", "skeleton"),
        ("Mohamed", "Bel Ali", "close"),  # one consonant differs
        ("Karim", "Ben Ali", "family only"),
        ("Mohamed", "Trabelsi", "given only"),
        ("Salma", "Trabelsi", "different"),
    ],
)
def test_name_levels(given, family, expected):
    assert level(person(), person(given_name=given, family_name=family), "name") == expected


def test_a_name_in_another_script_on_one_side_only():
    a = person(given_name_latin="Mohamed", family_name_latin="Ben Ali")
    b = person(given_name="Mohammed", family_name="Benali")
    assert level(a, b, "name") == "skeleton"


def test_other_forms_of_the_name_count():
    # Giorgos is another name than Γεώργιος (Georgios), but the record holds it too.
    a = PersonRecord(given_name="Γεώργιος", family_name="Παπαδόπουλος", given_name_latin="Giorgos")
    b = PersonRecord(given_name="Giorgos", family_name="Papadopulos")
    assert level(a, b, "name") == "other form"


def test_a_missing_name_is_partial():
    a = PersonRecord(given_name="", family_name="Trabelsi")
    assert level(a, PersonRecord(given_name="Salma", family_name="Trabelsi"), "name") == "partial"


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        ({"birth_date": BORN}, "exact"),
        ({"birth_date": datetime.date(1985, 1, 1)}, "same year, vague"),
        ({"birth_year": 1985}, "same year, vague"),
        ({"birth_date": datetime.date(1985, 12, 3)}, "typo or same month"),  # day and month swapped
        ({"birth_date": datetime.date(1985, 3, 21)}, "typo or same month"),
        ({"birth_date": datetime.date(1958, 3, 12)}, "typo or same month"),  # digits of the year
        ({"birth_date": datetime.date(1986, 7, 30)}, "year ±1"),
        ({"birth_date": datetime.date(1990, 7, 30)}, "different"),
        ({}, "unknown"),
    ],
)
def test_birth_levels(other, expected):
    assert level(person(birth_date=BORN), person(**other), "birth") == expected


def test_two_placeholders_of_one_year_are_vague_not_exact():
    placeholder = datetime.date(1985, 1, 1)
    a, b = person(birth_date=placeholder), person(birth_date=placeholder)
    assert level(a, b, "birth") == "same year, vague"


def test_a_shared_phone_says_more_when_the_given_names_agree():
    a = person(phone="+216 98 123 456")
    assert level(a, person(phone="0021698123456"), "phone") == "same, given names agree"
    sibling = person(given_name="Salma", phone="98123456")
    assert level(a, sibling, "phone") == "same, given names differ"
    assert level(a, person(phone="22 333 444"), "phone") == "different"
    assert level(a, person(), "phone") == "unknown"


def test_the_same_person_across_scripts_is_a_likely_match():
    registered = person(birth_date=BORN, sex="M", phone="+216 98 123 456", residence=3)
    typed = PersonRecord(
        given_name="Μοχάμεντ", family_name="Μπεν Αλί", birth_date=BORN, sex="M", residence=3
    )
    assert compare(registered, typed).probability > 0.99


def test_a_household_member_is_not_a_match():
    head = person(birth_date=BORN, sex="M", phone="98123456", residence=3)
    daughter = person(
        given_name="سلمى",
        birth_date=datetime.date(2010, 6, 2),
        sex="F",
        phone="98123456",
        residence=3,
    )
    assert compare(head, daughter).probability < 0.01


def test_a_namesake_born_elsewhere_and_another_year_is_not_a_match():
    a = person(birth_date=BORN, sex="M", residence=3)
    b = person(birth_date=datetime.date(1962, 9, 30), sex="M", residence=8)
    assert compare(a, b).probability < 0.01


def test_weights_add_up_to_the_match_weight():
    result = compare(person(birth_date=BORN), person(birth_year=1985))
    expected = DEFAULT_PARAMETERS.prior_weight + sum(result.weights.values())
    assert result.match_weight == pytest.approx(expected)


# --- Python and DuckDB agree ---------------------------------------------------------------------

SPELLINGS = [
    ("محمد", "بن علي", "", ""),
    ("محمد", "بن علي", "Mohamed", "Ben Ali"),
    ("Mohammed", "Benali", "Mohammed", "Benali"),
    ("Μοχάμεντ", "Μπεν Αλί", "Mochament", "Mpen Ali"),
    ("Ben Ali", "Mohamed", "Ben Ali", "Mohamed"),
    ("Mohamed Ali", "Trabelsi", "Mohamed Ali", "Trabelsi"),
    ("Mohmed", "Trablsi", "Mohmed", "Trablsi"),
    ("فاطمة الزهراء", "العلوي", "Fatima Zahra", "El Alaoui"),
    ("Fatima", "Alaoui", "Fatima", "Alaoui"),
    ("Γεώργιος", "Παπαδόπουλος", "Giorgos", "Papadopoulos"),
    ("Georgios", "Papadopoulos", "Georgios", "Papadopoulos"),
    ("", "Trabelsi", "", "Trabelsi"),
    ("Salma", "", "Salma", ""),
    ("Aya", "Rossi", "Aya", "Rossi"),
]
DATES = [
    None,
    datetime.date(1985, 3, 12),
    datetime.date(1985, 1, 1),
    datetime.date(1985, 12, 3),
    datetime.date(1958, 3, 12),
    datetime.date(1986, 3, 12),
    datetime.date(1990, 5, 1),
]
PHONES = ["", "+216 98 123 456", "98123456", "22 333 444"]


def _random_records(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for index in range(n):
        g, f, gl, fl = rng.choice(SPELLINGS)
        birth_date = rng.choice(DATES)
        out.append(
            {
                "unique_id": index,
                "given_name": g,
                "family_name": f,
                "given_name_latin": gl,
                "family_name_latin": fl,
                "birth_date": birth_date,
                "birth_year": rng.choice([None, 1985]) if birth_date is None else None,
                "sex": rng.choice(["M", "F", "U"]),
                "phone": rng.choice(PHONES),
                "residence": rng.choice(["", "3", "8"]),
                "document_number": rng.choice(["", "AB123456", "AB123465", "ZZ999999"]),
                "address": rng.choice(["", "12 rue de Rome", "12 rue de Rom", "3 via Roma"]),
            }
        )
    return out


def test_python_and_sql_levels_agree():
    records = _random_records(120, seed=3)
    con = duckdb.connect()
    prepare(con, records, "people")
    cases = ", ".join(
        "CASE "
        + " ".join(f"WHEN {_suffixed(c)} THEN {i}" for i, c in enumerate(conditions) if c)
        + f" ELSE {len(conditions) - 1} END AS {name}"
        for name, conditions in SQL_LEVELS.items()
    )
    columns = [row[0] for row in con.execute("DESCRIBE people").fetchall()]
    sides = ", ".join(f"l.{c} AS {c}_l, r.{c} AS {c}_r" for c in columns)
    sql = (
        f"SELECT unique_id_l, unique_id_r, {cases} FROM (SELECT {sides} FROM people l, people r"  # noqa: S608
        " WHERE l.unique_id < r.unique_id)"
    )
    rows = con.execute(sql).fetchall()
    con.close()
    by_id = {
        r["unique_id"]: features(PersonRecord(**{k: v for k, v in r.items() if k != "unique_id"}))
        for r in records
    }
    assert len(rows) == 120 * 119 // 2
    for left, right, *sql_levels in rows:
        python = levels(by_id[left], by_id[right], list(SQL_LEVELS))
        assert list(python.values()) == sql_levels, (records[left], records[right])


def test_the_fast_scorer_gives_the_same_probability():
    records = [
        features(PersonRecord(**{k: v for k, v in r.items() if k != "unique_id"}))
        for r in _random_records(40, seed=5)
    ]
    frequencies = {"name_pair": {f.name_pair: 0.001 * (i + 1) for i, f in enumerate(records)}}
    scorer = Scorer(DEFAULT_PARAMETERS, frequencies)
    for a in records:
        for b in records:
            expected = score(a, b, DEFAULT_PARAMETERS, frequencies).probability
            assert scorer.probability(a, b) == pytest.approx(expected, rel=1e-12)
