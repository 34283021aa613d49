"""Likely duplicates of the people in an import file, in the file and in the whole registry.

One function, ``likely_duplicates``, so that a better matching engine (across scripts and
spellings) can take its place without the import noticing. The check here is simple and uses
the indexes the name search uses: a row is a likely duplicate of a person born the same year
who holds every folded name key of the row (PersonNameKey), and of an earlier row of the file
with the same keys and year.

The whole registry is searched, whoever may see it: the report keeps only the person's id and
the organisation that registered them, and the pages and the API show a person's name only to
someone who may see that person (``report_duplicates`` in services.py); anyone else reads
"already registered by <organisation>".
"""

from collections import defaultdict

from django.db.models import Q

from tadamun.registry.models import Person, PersonNameKey
from tadamun.registry.names import name_keys

from .kinds import chunked

MATCHES_PER_ROW = 5
_CHUNK = 500


def _year(row: dict) -> int | None:
    born = row.get("birth_date")
    return getattr(born, "year", None) or row.get("birth_year") or None


def likely_duplicates(user, rows: list[dict]) -> dict[int, list[dict]]:
    """``rows``: mappings with "row" (the row number) and the person's fields (given_name,
    family_name, given_name_latin, family_name_latin, birth_date, birth_year).

    Returns, for each row with likely duplicates, up to five matches: ``{"row": n}`` for an
    earlier row of the file, ``{"person": id, "organisation": id}`` for a registered person.
    """
    signatures: dict[int, tuple[frozenset, int]] = {}
    for row in rows:
        keys = frozenset(
            name_keys(
                *(
                    str(row.get(name) or "")
                    for name in (
                        "given_name",
                        "family_name",
                        "given_name_latin",
                        "family_name_latin",
                    )
                )
            )
        )
        year = _year(row)
        if keys and isinstance(year, int):
            signatures[row["row"]] = (keys, year)

    found: dict[int, list[dict]] = defaultdict(list)
    first_row: dict[tuple[frozenset, int], int] = {}
    for number, signature in signatures.items():
        earlier = first_row.setdefault(signature, number)
        if earlier != number:
            found[number].append({"row": earlier})

    for chunk in chunked(signatures.items(), _CHUNK):
        # The longest key of a row is the likeliest to be rare: it finds the candidates through
        # the (key, person) index, and the person's other keys confirm them.
        drivers = {number: max(sorted(keys), key=len) for number, (keys, _year) in chunk}
        years = {year for _number, (_keys, year) in chunk}
        candidates = (
            Person.objects.unscoped("likely duplicates: discloses the registering organisation")
            .filter(name_keys__key__in=set(drivers.values()))
            # The services keep the year beside the date; older records may hold the date only.
            .filter(Q(birth_year__in=years) | Q(birth_date__year__in=years))
            .values_list("pk", "name_keys__key", "birth_year", "birth_date", "organisation_id")
        )
        by_key: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
        for pk, key, year, born, organisation_id in candidates:
            by_key[(key, born.year if born else year)].append((pk, organisation_id))
        person_ids = {pk for holders in by_key.values() for pk, _org in holders}
        keys_of: dict[int, set[str]] = defaultdict(set)
        for ids in chunked(sorted(person_ids), 900):
            for pk, key in PersonNameKey.objects.filter(person_id__in=ids).values_list(
                "person_id", "key"
            ):
                keys_of[pk].add(key)
        for number, (keys, year) in chunk:
            for pk, organisation_id in sorted(by_key.get((drivers[number], year), [])):
                if keys <= keys_of[pk] and len(found[number]) < MATCHES_PER_ROW:
                    found[number].append({"person": pk, "organisation": organisation_id})
    return {number: matches for number, matches in found.items() if matches}
