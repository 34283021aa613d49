"""The typing-time lookup: who already in the registry may be the person being registered.

    person_candidates(user=request.user, given_name="Mohammed", family_name="Benali",
                      birth_year=1985)

It searches the **whole registry** (``Person.objects.unscoped("duplicate check at the
desk")``), in any script and spelling, and tells the user only what they may know:

* a record the user may see (``Person.objects.visible_to(user)``) comes with its id and
  name;
* a record the user may not see comes with the names of the organisations holding it
  (``PersonShare``) to contact, and only when it is a *likely* match (``LIKELY``);
* each with its score (the model's probability, rounded down to two decimals), and nothing
  else: no date, no place, no phone, no id.

Users who cannot register people (viewers, trainers, controllers, people without a role)
get nothing: the lookup is for the desk (``may_look_up``). Because it reads the whole
registry, its callers record who looked up, when and how many candidates it answered
(``registry.services.person_lookup_record``; the desk does, once a minute per user).

Archived people are not candidates. A name still being typed ("Trab") counts as the
candidate's name it begins.

How candidates are found (``docs/decisions/0004-matching.md``): through the registry's
``PersonMatchKey`` (``keys.match_keys`` of each person, written by the registry's services
beside the name keys): one index range on the skeletons of the typed names (``n:`` keys, a
family name being typed is a prefix), narrowed to the years around the one typed for a
common name (``y:`` keys) and widened by the date typed (``d:`` keys). Figures at 1M people
are in ``bench/README.md`` ("Typing-time lookup"; ``bench/matching_lookup.py``).

The candidates are read with the fields the comparison needs and scored with
``compare.score`` (model ``compare.DEFAULT_PARAMETERS`` unless one is given), the prior being
one in the registry's size and agreement on a name weighed by how many people hold it.

``registered_matches(records)`` is the same search for many people at once, names known in
full (the import's preview): the people of the whole registry likely to be each of them,
with no disclosure rule of its own (its caller reports only ids and organisations).
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from collections import Counter
from dataclasses import dataclass, field

from django.db import router
from django.db.models import Max, Q

from .compare import DEFAULT_PARAMETERS, Parameters, Scorer, score
from .keys import Features, PersonRecord, features, typed_match_keys

__all__ = [
    "LIKELY",
    "POSSIBLE",
    "Candidate",
    "may_look_up",
    "person_candidates",
    "registered_matches",
]

LIKELY = 0.5  # a record the user cannot see is mentioned from this probability on
POSSIBLE = 0.05  # a record the user can see is shown from this probability on
CANDIDATES = 1500  # people read and scored at most; beyond, those born near the date typed
YEARS_AROUND = 2  # when the name is that common: years either side of the one typed
HOLDERS_COUNTED = 50_000  # people counted at most to know how common a name is


@dataclass(frozen=True)
class Candidate:
    """One possible match, as much as the user may know of it."""

    score: float
    visible: bool
    person_id: int | None = None  # only when visible
    name: str = ""  # only when visible
    organisations: tuple[str, ...] = field(default=())  # only when not visible


# --- The lookup -----------------------------------------------------------------------------


_FIELDS = (
    "pk",
    "given_name",
    "family_name",
    "given_name_latin",
    "family_name_latin",
    "birth_date",
    "birth_year",
    "sex",
    "phone",
    "residence_id",
)


def may_look_up(user) -> bool:
    """Whether ``user`` may look the registry up for duplicates: those who register people."""
    from tadamun.access.scope import scope_for

    scope = scope_for(user)
    return scope.is_operator or bool(scope.editing_organisation_ids())


class _MatchKeyIndex:
    """Candidates from ``PersonMatchKey`` (``keys.match_keys``): one index range for the
    names, narrowed by the year or widened by the date through their own keys."""

    def __init__(self, alias: str, model):
        self.alias = alias
        self.model = model

    def rows(self, people, typed_record: PersonRecord):
        prefixes, years, dates = typed_match_keys(typed_record, years_around=YEARS_AROUND)
        keys = self.model.objects.using(self.alias)
        by_name = Q()
        for prefix in sorted(prefixes):
            by_name |= Q(key__prefix=prefix)
        if not prefixes:
            return [], 0
        found = keys.filter(by_name).values_list("person_id", flat=True)
        ids = set(found[: CANDIDATES + 1])
        holders = len(ids)
        if holders > CANDIDATES:
            # A common name: how common (for its weight), then the years around the one typed
            # if any, else the newest.
            holders = found[:HOLDERS_COUNTED].count()
            if years:
                near = keys.filter(key__in=sorted(years)).values_list("person_id", flat=True)
                ids = set(near[:CANDIDATES])
            else:
                ids = set(found.order_by("-person_id")[:CANDIDATES])
        if dates:
            ids |= set(
                keys.filter(key__in=sorted(dates)).values_list("person_id", flat=True)[:CANDIDATES]
            )
        rows = list(
            people.filter(archived_at__isnull=True, pk__in=sorted(ids)).values_list(*_FIELDS)
        )
        return rows, max(holders, len(rows))


def _completed(typed: Features, candidate: Features, typing_family: bool) -> Features:
    """The typed names as the candidate's when the name being typed (the family name, else
    the given name) is the beginning of one of the candidate's names: "Trab" is on its way
    to Trabelsi, and should not count against it."""
    name = typed.family if typing_family else typed.given
    sk = name.skeleton
    if not sk:
        return typed
    for other in (candidate.family, candidate.given):
        if set(name.skeletons) & set(other.skeletons):
            return typed
    for other in (candidate.family, candidate.given):
        if any(s.startswith(sk) and s != sk for s in other.skeletons):
            field_name = "family" if typing_family else "given"
            return dataclasses.replace(typed, **{field_name: other})
    return typed


def _record(row) -> PersonRecord:
    return PersonRecord(
        given_name=row[1],
        family_name=row[2],
        given_name_latin=row[3],
        family_name_latin=row[4],
        birth_date=row[5],
        birth_year=row[6],
        sex=row[7],
        phone=row[8],
        residence=row[9],
    )


def person_candidates(
    *,
    user,
    given_name: str,
    family_name: str,
    birth_date: datetime.date | None = None,
    birth_year: int | None = None,
    phone: str = "",
    limit: int = 10,
    parameters: Parameters | None = None,
) -> list[Candidate]:
    """Possible matches in the whole registry for a person being registered, best first,
    disclosing only what ``user`` may know (see the module docstring)."""
    from tadamun.registry.models import Person, PersonMatchKey, PersonShare

    if not may_look_up(user) or not (given_name or "").strip() and not (family_name or "").strip():
        return []
    parameters = parameters or DEFAULT_PARAMETERS
    typed_record = PersonRecord(
        given_name=given_name or "",
        family_name=family_name or "",
        birth_date=birth_date,
        birth_year=birth_year,
        phone=phone or "",
    )
    typed = features(typed_record)
    alias = router.db_for_read(Person)
    people = Person.objects.unscoped("duplicate check at the desk").using(alias)
    rows, holders = _MatchKeyIndex(alias, PersonMatchKey).rows(people, typed_record)
    if not rows:
        return []
    # How common each name is, for the weight of agreeing on it (Splink's term frequencies):
    # the people holding the spellings typed, scaled to the registry's size.
    candidates = [(row[0], features(_record(row))) for row in rows]
    size = max(people.aggregate(last=Max("pk"))["last"] or 1, 1)
    # The prior: the person at the desk is a given record of the registry with odds of one in
    # its size (the largest id stands for the size: counting would read the whole table).
    parameters = dataclasses.replace(parameters, prior=min(0.5, 1 / size))
    scale = holders / len(candidates)
    pairs = Counter(f.name_pair for _pk, f in candidates)
    frequencies = {"name_pair": {pair: n * scale / size for pair, n in pairs.items()}}
    scored = []
    typing_family = bool((family_name or "").strip())
    for pk, candidate in candidates:
        as_typed = _completed(typed, candidate, typing_family)
        probability = score(as_typed, candidate, parameters, frequencies).probability
        if probability >= POSSIBLE:
            scored.append((probability, pk))
    scored.sort(key=lambda item: (-item[0], -item[1]))
    # The best ones: enough to fill the page after the unlikely hidden ones are left out.
    scored = scored[: max(limit * 10, 100)]
    if not scored:
        return []

    ids = [pk for _p, pk in scored]
    visible = set(
        Person.objects.visible_to(user).using(alias).filter(pk__in=ids).values_list("pk", flat=True)
    )
    hidden = [pk for p, pk in scored if pk not in visible and p >= LIKELY]
    holders_of: dict[int, list[str]] = {}
    shares = (
        PersonShare.objects.using(alias)
        .filter(person_id__in=hidden)
        .select_related("organisation")
        .order_by("organisation__slug")
    )
    for share in shares:
        holders_of.setdefault(share.person_id, []).append(str(share.organisation))
    names = {row[0]: " ".join(p for p in (row[1], row[2]) if p) for row in rows}
    out: list[Candidate] = []
    for probability, pk in scored:
        rounded = math.floor(probability * 100) / 100
        if pk in visible:
            out.append(Candidate(score=rounded, visible=True, person_id=pk, name=names[pk]))
        elif probability >= LIKELY and holders_of.get(pk):
            out.append(Candidate(score=rounded, visible=False, organisations=tuple(holders_of[pk])))
        if len(out) >= limit:
            break
    return out


# --- Many people at once (the import's preview) ---------------------------------------------

KEYS_PER_QUERY = 500
IDS_PER_QUERY = 900


def _holders_count(keys, wanted: set[str]) -> dict[str, int]:
    """How many people hold each key of ``wanted`` (none: absent)."""
    from django.db.models import Count

    counts: dict[str, int] = {}
    ordered = sorted(wanted)
    for start in range(0, len(ordered), KEYS_PER_QUERY):
        chunk = ordered[start : start + KEYS_PER_QUERY]
        rows = keys.filter(key__in=chunk).values("key").annotate(n=Count("person_id"))
        counts.update((row["key"], row["n"]) for row in rows.order_by())
    return counts


def _holders(keys, wanted: set[str]) -> dict[str, list[int]]:
    """The people holding each key of ``wanted``."""
    found: dict[str, list[int]] = {}
    ordered = sorted(wanted)
    for start in range(0, len(ordered), KEYS_PER_QUERY):
        chunk = ordered[start : start + KEYS_PER_QUERY]
        for key, pk in keys.filter(key__in=chunk).values_list("key", "person_id"):
            found.setdefault(key, []).append(pk)
    return found


def registered_matches(
    records: list[PersonRecord | Features],
    *,
    threshold: float = LIKELY,
    limit: int = 5,
    parameters: Parameters | None = None,
) -> list[list[tuple[float, int, int]]]:
    """For each record, the people of the whole registry (archived ones left out) who are
    likely the same person: ``(probability, person id, id of the organisation that registered
    them)``, best first, ``limit`` at most, probability at least ``threshold``.

    The search of ``person_candidates`` for names known in full: the ``n:`` keys of the
    names (exact, either order) when at most ``CANDIDATES`` people hold them, else, for a
    record with a year of birth, the ``y:`` keys of the years around it; and the ``d:`` keys of
    its date of birth. Candidates are scored with the same model, prior (one in the registry's
    size) and weight of each name by how many people hold it. It discloses nothing by itself:
    the caller decides what the user may read of a person. Records may be given as their
    ``keys.features`` already computed."""
    from tadamun.registry.models import Person, PersonMatchKey

    model = PersonMatchKey
    out: list[list[tuple[float, int, int]]] = [[] for _ in records]
    if not records:
        return out
    parameters = parameters or DEFAULT_PARAMETERS
    alias = router.db_for_read(Person)
    keys = model.objects.using(alias)
    people = Person.objects.unscoped("duplicate check of an import").using(alias)

    typed = [r if isinstance(r, Features) else features(r) for r in records]
    plans: list[tuple[set, set, set] | None] = []
    counted: set[str] = set()
    for f in typed:
        if not (f.given.skeletons or f.family.skeletons):
            plans.append(None)
            continue
        names, years, dates = typed_match_keys(f, years_around=YEARS_AROUND)
        plans.append((names, years, dates))
        counted |= names
        counted.add(f"n:{f.name_pair}"[:60])
    holders = _holders_count(keys, counted)

    # The keys each record reads its candidates from.
    reads: list[set[str]] = []
    for f, plan in zip(typed, plans, strict=True):
        if plan is None:
            reads.append(set())
            continue
        names, years, dates = plan
        read = set(dates)
        held = sum(holders.get(k, 0) for k in names)
        if 0 < held <= CANDIDATES:
            read |= {k for k in names if holders.get(k)}
        elif held and f.year is not None:
            read |= years
        reads.append(read)
    holding = _holders(keys, set().union(*reads))
    ids = sorted({pk for read in reads for key in read for pk in holding.get(key, ())})
    if not ids:
        return out

    found: dict[int, tuple[Features, int]] = {}
    for start in range(0, len(ids), IDS_PER_QUERY):
        chunk = ids[start : start + IDS_PER_QUERY]
        rows = people.filter(archived_at__isnull=True, pk__in=chunk).values_list(
            *_FIELDS, "organisation_id"
        )
        for row in rows:
            found[row[0]] = (features(_record(row)), row[-1])

    size = max(people.aggregate(last=Max("pk"))["last"] or 1, 1)
    parameters = dataclasses.replace(parameters, prior=min(0.5, 1 / size))
    pairs = {key[2:]: n / size for key, n in holders.items() if key.startswith("n:")}
    scorer = Scorer(parameters, {"name_pair": pairs})
    for index, (f, read) in enumerate(zip(typed, reads, strict=True)):
        candidates = {pk for key in read for pk in holding.get(key, ())}
        scored = []
        for pk in candidates:
            candidate = found.get(pk)
            if candidate is None:
                continue  # archived
            probability = scorer.probability(f, candidate[0])
            if probability >= threshold:
                scored.append((probability, pk, candidate[1]))
        scored.sort(key=lambda item: (-item[0], -item[1]))
        out[index] = scored[:limit]
    return out
