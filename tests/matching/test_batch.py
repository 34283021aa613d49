"""Batch deduplication and linkage (Splink on DuckDB), on small lists with known answers."""

import datetime

from tadamun.matching.batch import deduplicate, link, registry_duplicates
from tadamun.matching.compare import DEFAULT_PARAMETERS

from .. import factories as f

BORN = datetime.date(1990, 5, 17)


def _records():
    rows = [
        ("محمد", "بن علي", "", "", BORN, None, "M", "98123456", "3"),
        ("Mohamed", "Ben Ali", "Mohamed", "Ben Ali", BORN, None, "M", "", "3"),
        ("Μοχάμεντ", "Μπεν Αλί", "Mochament", "Mpen Ali", None, 1990, "M", "+216 98 123 456", ""),
        ("سلمى", "بن علي", "", "", datetime.date(2012, 2, 2), None, "F", "98123456", "3"),
        ("Giulia", "Rossi", "Giulia", "Rossi", datetime.date(1980, 1, 20), None, "F", "", "9"),
        ("Guilia", "Rossi", "Guilia", "Rossi", datetime.date(1980, 1, 20), None, "F", "", "9"),
        ("Karim", "Mejri", "Karim", "Mejri", datetime.date(1975, 7, 7), None, "M", "", "4"),
    ]
    fields = ("given_name", "family_name", "given_name_latin", "family_name_latin",
              "birth_date", "birth_year", "sex", "phone", "residence")  # fmt: skip
    return [
        {"unique_id": i + 1, **dict(zip(fields, row, strict=True))} for i, row in enumerate(rows)
    ]


def test_deduplicate_groups_one_person_across_scripts_and_not_the_household():
    result = deduplicate(_records(), parameters=DEFAULT_PARAMETERS, term_frequencies=False)
    assert result.groups() == [[1, 2, 3], [5, 6]]
    assert result.unique_people == 4
    assert all(p >= result.threshold for _a, _b, p in result.pairs)


def test_a_small_list_is_scored_with_the_default_parameters():
    result = deduplicate(_records())
    assert result.parameters.m == {
        name: m for name, m in DEFAULT_PARAMETERS.m.items() if name in result.parameters.m
    }
    assert result.groups() == [[1, 2, 3], [5, 6]]


def test_link_two_lists_one_to_one():
    records = _records()
    left = [records[0], records[4], records[6]]
    right = [records[1], records[5], records[3]]
    result = link(left, right, parameters=DEFAULT_PARAMETERS, term_frequencies=False)
    groups = result.groups()
    assert sorted(groups) == [[("a", 1), ("b", 2)], [("a", 5), ("b", 6)]]


def test_the_registry_job_finds_a_person_registered_twice(world):
    copy = f.person(
        world.org_b,
        world.kef,
        given_name="Μοχάμεντ",
        family_name="Μπεν Αλί",
        given_name_latin="Mochament",
        family_name_latin="Mpen Ali",
    )
    archived = f.person(world.org_c, world.empoli, given_name="Mohamed", family_name="Ben Ali")
    archived.archived_at = archived.created_at
    archived.save()
    result = registry_duplicates()
    assert result.groups() == [sorted([world.p_tabarka.pk, copy.pk])]


def test_the_job_runs_as_a_task(world):
    from tadamun.matching.tasks import find_duplicate_people

    again = f.person(world.org_c, world.empoli, given_name="Giulia", family_name="Rossi")
    result = find_duplicate_people.enqueue().return_value
    assert result["records"] == 5
    assert result["groups"] == [sorted([world.p_empoli.pk, again.pk])]
    assert result["people"] == 4
