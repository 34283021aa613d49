"""The import's preview finds likely duplicates with the matching engine: across scripts and
spellings, swapped, with a typo or a placeholder date, in the registry and in the file; and
discloses a person only to whoever may see them."""

import datetime

import pytest

from tadamun.imports import duplicates, services
from tadamun.registry.models import Person

from .. import factories as f
from .conftest import csv_bytes, upload

HEADER = ["given_name", "family_name", "sex", "birth_date", "residence", "phone"]


def _preview(world, rows, *, user=None, organisation=None):
    job = services.import_upload(
        user=user or world.desk_a,
        organisation=organisation or world.org_a,
        file=upload("people.csv", csv_bytes([HEADER, *rows])),
    )
    return services.import_preview(user=user or world.desk_a, job=job)


def _found(job) -> dict[int, list[dict]]:
    return {entry["row"]: entry["matches"] for entry in job.report["duplicates"]}


@pytest.fixture
def registered(world):
    """محمد بن علي, born in 1985, registered by org_b in Kef: desk_a (org_a) may not see him."""
    return f.person(
        world.org_b,
        world.kef,
        given_name="محمد",
        family_name="بن علي",
        birth_date=datetime.date(1985, 6, 12),
        sex="M",
    )


@pytest.mark.parametrize(
    ("given", "family", "born"),
    [
        ("Mohamed", "Ben Ali", "1985"),  # Latin spelling, the year only
        ("Mohammed", "Benali", "12/06/1985"),  # another spelling, the full date
        ("Ben Ali", "Mohamed", "1985"),  # swapped
        ("Μοχάμεντ", "Μπεν Αλί", "01/01/1985"),  # Greek script, 1 January for the year
        ("Mohamed", "Ben Aly", "12/06/1985"),  # a typo
    ],
)
def test_a_row_in_another_script_or_spelling_is_a_likely_duplicate(
    world, registered, given, family, born
):
    job = _preview(world, [[given, family, "M", born, "TN-33", ""]])
    assert _found(job) == {2: [{"person": registered.pk, "organisation": world.org_b.pk}]}
    assert job.report["duplicate_count"] == 1
    # desk_a may not see him: only the organisation to contact, no name.
    (entry,) = services.report_duplicates(world.desk_a, job)
    (match,) = entry["matches"]
    assert match["person"] is None and match["name"] == ""
    assert "Organisation org-b" in match["message"]
    assert "محمد" not in match["message"]


def test_the_coordinator_who_may_see_him_reads_his_name(world, registered):
    job = _preview(
        world,
        [["Mohamed", "Ben Ali", "M", "1985", "TN-33", ""]],
        user=world.coordinator,
        organisation=world.org_b,
    )
    (entry,) = services.report_duplicates(world.coordinator, job)
    assert entry["matches"][0]["person"] == registered.pk
    assert entry["matches"][0]["name"] == "محمد بن علي"


@pytest.mark.parametrize(
    ("given", "family", "born"),
    [
        ("Mohamed", "Ben Ali", "1950"),  # another generation
        ("Karim", "Ben Ali", "1970"),  # a relative: another given name and generation
        ("Mohamed", "Trabelsi", "1985"),  # another family name
    ],
)
def test_other_people_are_not_duplicates(world, registered, given, family, born):
    job = _preview(world, [[given, family, "M", born, "TN-33", ""]])
    assert registered.pk not in {
        m.get("person") for matches in _found(job).values() for m in matches
    }


def test_archived_people_are_not_duplicates(world, registered):
    Person.objects.unscoped().filter(pk=registered.pk).update(archived_at=registered.created_at)
    job = _preview(world, [["Mohamed", "Ben Ali", "M", "1985", "TN-33", ""]])
    assert _found(job) == {}


def test_rows_of_the_file_in_two_scripts_are_duplicates_of_each_other(world):
    rows = [
        ["نور الدين", "الحمامي", "M", "03/03/1992", "TN-32", ""],
        ["Noureddine", "Hammami", "M", "1992-03-03", "TN-32", ""],
        ["Hammami", "Noureddine", "M", "1992", "TN-32", ""],  # swapped, the year only
        ["Noureddine", "Hammami", "M", "1960", "TN-32", ""],  # another generation
        ["Sami", "Hammami", "M", "14/08/1995", "TN-32", ""],  # a brother
    ]
    found = _found(_preview(world, rows))
    assert found[3] == [{"row": 2}]
    assert {m["row"] for m in found[4]} == {2, 3}
    assert 5 not in found and 6 not in found
    assert 2 not in found  # the first of them is not a duplicate of a later one


def test_registered_people_come_before_rows_of_the_file(world, registered):
    rows = [
        ["Mohamed", "Ben Ali", "M", "12/06/1985", "TN-33", ""],
        ["محمد", "بن علي", "M", "12/06/1985", "TN-33", ""],
    ]
    found = _found(_preview(world, rows))
    assert found[3] == [
        {"person": registered.pk, "organisation": world.org_b.pk},
        {"row": 2},
    ]


def test_likely_duplicates_reads_rows_as_the_import_gives_them(world, registered):
    rows = [
        {
            "row": 7,
            "given_name": "Mohamed",
            "family_name": "Ben Ali",
            "birth_year": 1985,
            "residence": world.kef,
            "sex": "M",
        },
        {"row": 8, "family_name": ""},  # no name: nothing to compare
        {"row": 9, "given_name": "Zacharias", "family_name": "Oxley", "birth_date": None},
    ]
    assert duplicates.likely_duplicates(world.desk_a, rows) == {
        7: [{"person": registered.pk, "organisation": world.org_b.pk}]
    }


def test_a_key_the_whole_file_shares_still_lets_a_duplicate_be_found(world, monkeypatch):
    """Forty brothers and cousins born the same day share a family name and a date: that key
    pairs none of them, and the one recorded twice is still found through his names."""
    monkeypatch.setattr(duplicates, "ROWS_PER_KEY", 30)
    given = [
        "Karim",
        "Sami",
        "Nabil",
        "Hedi",
        "Walid",
        "Faouzi",
        "Lotfi",
        "Mourad",
        "Tarek",
        "Youssef",
        "Anis",
        "Bilel",
        "Chokri",
        "Fathi",
        "Habib",
        "Imed",
        "Jamel",
        "Khaled",
        "Lassaad",
        "Mehdi",
        "Nizar",
        "Omar",
        "Radhouane",
        "Taoufik",
        "Wassim",
        "Zied",
        "Adel",
        "Bechir",
        "Fares",
        "Ghassen",
        "Ilyes",
        "Kamel",
        "Lamine",
        "Marwen",
        "Oussama",
        "Rafik",
        "Sofiene",
        "Riadh",
        "Slim",
        "Kais",
    ]
    rows = [[name, "Hammami", "M", "03/03/1992", "TN-32", ""] for name in given]
    rows.append(["Hammami", "Mourad", "M", "1992", "TN-32", ""])
    found = _found(_preview(world, rows))
    mourad = given.index("Mourad") + 2
    assert found[len(rows) + 1] == [{"row": mourad}]
