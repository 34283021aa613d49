"""Likely duplicates of the people in an import file, in the file and in the whole registry.

One function, ``likely_duplicates``, with the matching engine (``tadamun.matching``) behind
it, so that names match across scripts and spellings (a row "Mohamed Ben Ali", 1985, is
likely محمد بن علي born in 1985), swapped, with a typo, and with 1 January or a year for a
date of birth:

* **in the registry**: ``matching.lookup.registered_matches``, the search of the desk's
  lookup for names known in full (the registry's ``PersonMatchKey`` index, the same model
  and prior), keeping people scored ``lookup.LIKELY`` or more;
* **in the file**: rows sharing a match key (``matching.keys.match_keys``: both names and
  the year, or one name and the full date) are scored against each other with
  ``matching.compare``; a row is a likely duplicate of an earlier row scored ``LIKELY`` or
  more. The prior is that of a registry the size of the file, never above its value at
  ``MIN_TRAINING_RECORDS`` rows (as the batch job does for small registries), and names are
  weighed by how many rows hold them only from that size on.

The whole registry is searched, whoever may see it: the report keeps only the person's id and
the organisation that registered them, and the pages and the API show a person's name only to
someone who may see that person (``report_duplicates`` in services.py); anyone else reads
"already registered by <organisation>".
"""

import dataclasses
from collections import Counter, defaultdict

from tadamun.matching.compare import DEFAULT_PARAMETERS, DEFAULT_PARAMETERS_RECORDS, Scorer
from tadamun.matching.keys import PersonRecord, features, match_keys
from tadamun.matching.lookup import LIKELY, registered_matches

MATCHES_PER_ROW = 5
ROWS_PER_KEY = 30  # rows of the file sharing a key beyond which it pairs none of them


def _text(row: dict, name: str) -> str:
    value = row.get(name)
    return "" if value is None else str(value)


def _record(row: dict) -> PersonRecord:
    birth_date = row.get("birth_date")
    birth_year = row.get("birth_year")
    residence = row.get("residence")
    return PersonRecord(
        given_name=_text(row, "given_name"),
        family_name=_text(row, "family_name"),
        given_name_latin=_text(row, "given_name_latin"),
        family_name_latin=_text(row, "family_name_latin"),
        birth_date=birth_date if hasattr(birth_date, "year") else None,
        birth_year=birth_year if isinstance(birth_year, int) else None,
        sex=_text(row, "sex"),
        phone=_text(row, "phone"),
        residence=getattr(residence, "pk", residence),
        document_number=_text(row, "document_number"),
        address=_text(row, "address"),
    )


def _file_scorer(typed: list) -> Scorer:
    from tadamun.matching.batch import MIN_TRAINING_RECORDS  # DuckDB: only when needed

    rows = len(typed)
    prior = DEFAULT_PARAMETERS.prior * DEFAULT_PARAMETERS_RECORDS / max(rows, MIN_TRAINING_RECORDS)
    parameters = dataclasses.replace(DEFAULT_PARAMETERS, prior=min(prior, 0.5))
    frequencies = None
    if rows >= MIN_TRAINING_RECORDS:
        pairs = Counter(f.name_pair for f in typed if f is not None)
        frequencies = {"name_pair": {pair: n / rows for pair, n in pairs.items()}}
    return Scorer(parameters, frequencies)


def _in_file(numbers: list[int], typed: list) -> dict[int, list[tuple[float, int]]]:
    """For each row, the earlier rows likely to be the same person, best first."""
    scorer = _file_scorer(typed)
    sharing: dict[str, list[int]] = defaultdict(list)  # key: indexes of the rows holding it
    for index, f in enumerate(typed):
        if f is None:
            continue
        for key in match_keys(f):
            # Both names and the year (or no year), or one name and the full date: rows with
            # only the names in common and years far apart are not compared.
            if key.startswith(("y:", "d:")):
                sharing[key].append(index)
    pairs: set[tuple[int, int]] = set()
    for indexes in sharing.values():
        # A key held by many rows tells them apart no better than chance (a family name and
        # a date shared by a whole file): its rows are paired through their other keys only.
        if 1 < len(indexes) <= ROWS_PER_KEY:
            for position, index in enumerate(indexes):
                pairs.update((index, other) for other in indexes[:position])
    found: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for index, other in pairs:
        probability = scorer.probability(typed[index], typed[other])
        if probability >= LIKELY:
            found[numbers[index]].append((probability, numbers[other]))
    for scored in found.values():
        scored.sort(key=lambda item: (-item[0], item[1]))
    return found


def likely_duplicates(user, rows: list[dict]) -> dict[int, list[dict]]:
    """``rows``: mappings with "row" (the row number) and the person's fields (given_name,
    family_name, given_name_latin, family_name_latin, birth_date, birth_year, sex, phone,
    residence ...).

    Returns, for each row with likely duplicates, up to five matches: ``{"person": id,
    "organisation": id}`` for a registered person, then ``{"row": n}`` for an earlier row of
    the file, each kind best first.
    """
    numbers: list[int] = []
    records: list[PersonRecord] = []
    for row in rows:
        record = _record(row)
        if not (record.given_name.strip() or record.family_name.strip()):
            continue
        numbers.append(row["row"])
        records.append(record)
    typed = [features(record) for record in records]
    usable = [f if (f.given.skeletons or f.family.skeletons) else None for f in typed]

    registered = registered_matches(typed, threshold=LIKELY, limit=MATCHES_PER_ROW)
    in_file = _in_file(numbers, usable)

    found: dict[int, list[dict]] = {}
    for number, matches in zip(numbers, registered, strict=True):
        entries = [{"person": pk, "organisation": org} for _p, pk, org in matches]
        entries += [{"row": other} for _p, other in in_file.get(number, [])]
        if entries:
            found[number] = entries[:MATCHES_PER_ROW]
    return found
