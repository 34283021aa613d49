"""Comparing two people: one level per field, weighed as Fellegi and Sunter do.

Each field of two records is put in a *level* (the names agree exactly, agree as skeletons,
are swapped, are close, only the family name agrees ...). A level carries two probabilities:
``m``, how often records of the same person fall in it, and ``u``, how often records of two
different people do. The evidence of a pair is the sum of log2(m/u) over its fields, added to
the prior odds that two records are the same person; the probability follows.

The levels are written twice, side by side: in Python (``*_level`` functions, used by the
typing-time lookup on a few hundred candidates) and in SQL (``SQL_LEVELS``, used by Splink on
DuckDB for the batch job on millions of pairs). ``tests/matching/test_compare.py`` checks that
both put random pairs in the same level.

The default ``m`` and ``u`` (``DEFAULT_PARAMETERS``) were estimated without labels by the batch
job (Splink's expectation maximisation and random sampling) on the synthetic cross-script
registry of ``bench/matching_crossscript.py``; the batch job estimates its own on the data it
reads each time.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from .keys import Features, NameFeatures, PersonRecord, features

__all__ = [
    "COMPARISONS",
    "DEFAULT_PARAMETERS",
    "DEFAULT_PARAMETERS_RECORDS",
    "Comparison",
    "Parameters",
    "Scorer",
    "compare",
    "levels",
    "score",
]

NAME_JW = 0.9  # Jaro-Winkler of the Latin letters above which two names count as close
ADDRESS_JW = (0.9, 0.75)

# Levels per comparison, in the order they are tested; level 0 is "unknown" (a value is
# missing) and carries no evidence. Names are those Splink shows.
COMPARISONS: dict[str, tuple[str, ...]] = {
    "name": (
        "unknown",
        "exact",
        "skeleton",
        "other form",
        "close",
        "partial",
        "family only",
        "given only",
        "different",
    ),
    "birth": ("unknown", "exact", "same year, vague", "typo or same month", "year ±1", "different"),
    "sex": ("unknown", "same", "different"),
    "phone": ("unknown", "same, given names agree", "same, given names differ", "different"),
    "residence": ("unknown", "same", "different"),
    "document": ("unknown", "same", "one edit", "different"),
    "address": ("unknown", "same", "close", "similar", "different"),
}


# --- Python levels ---------------------------------------------------------------------------


def _has_name(x: NameFeatures) -> bool:
    return bool(x.skeletons)


def _one_edit(sx: str, sy: str) -> bool:
    """Damerau-Levenshtein distance at most one, for skeletons of three letters or more (the
    cheap necessary conditions first, as in SQL)."""
    return (
        len(sx) >= 3
        and len(sy) >= 3
        and abs(len(sx) - len(sy)) <= 1
        and (sx[0] == sy[0] or sx[-1] == sy[-1])
        and DamerauLevenshtein.distance(sx, sy, score_cutoff=1) <= 1
    )


def _similar(x: NameFeatures, y: NameFeatures) -> bool:
    if not (x.skeletons and y.skeletons):
        return False
    if not x.skeleton_set.isdisjoint(y.skeleton_set):
        return True
    if x.words and not x.words.isdisjoint(y.words):
        return True
    if _one_edit(x.skeletons[0], y.skeletons[0]):
        return True
    return bool(
        x.latin
        and y.latin
        and JaroWinkler.similarity(x.latin, y.latin, score_cutoff=NAME_JW) >= NAME_JW
    )


def name_level(a: Features, b: Features) -> int:
    ag, af, bg, bf = a.given, a.family, b.given, b.family
    if not (ag.skeletons or af.skeletons) or not (bg.skeletons or bf.skeletons):
        return 0
    if ag.latin and ag.latin == bg.latin and af.latin and af.latin == bf.latin:
        return 1
    if a.name_pair == b.name_pair:
        return 2
    ags, afs, bgs, bfs = ag.skeleton_set, af.skeleton_set, bg.skeleton_set, bf.skeleton_set
    if (not ags.isdisjoint(bgs) and not afs.isdisjoint(bfs)) or (
        not ags.isdisjoint(bfs) and not afs.isdisjoint(bgs)
    ):
        return 3
    given_similar = _similar(ag, bg)
    family_similar = _similar(af, bf)
    if given_similar and family_similar:
        return 4
    if _similar(ag, bf) and _similar(af, bg):
        return 4
    given_missing = not (ag.skeletons and bg.skeletons)
    family_missing = not (af.skeletons and bf.skeletons)
    if (given_missing and family_similar) or (family_missing and given_similar):
        return 5
    if family_similar:
        return 6
    if given_similar:
        return 7
    return 8


def _day(f: Features) -> str | None:
    return f.dob.strftime("%Y%m%d") if f.dob else None


def birth_level(a: Features, b: Features) -> int:
    if a.year is None or b.year is None:
        return 0
    if a.dob is not None and a.dob == b.dob:
        return 1
    if a.year == b.year and (a.placeholder or b.placeholder):
        return 2
    if a.dob is not None and b.dob is not None:
        x, y = a.dob, b.dob
        same_year = x.year == y.year
        swapped = x.month == y.day and x.day == y.month
        if same_year and (x.month == y.month or x.day == y.day or swapped):
            return 3
        if (x.month, x.day) == (y.month, y.day) and DamerauLevenshtein.distance(
            _day(a)[:4], _day(b)[:4]
        ) <= 1:
            return 3
    if abs(a.year - b.year) <= 1:
        return 4
    return 5


def _equal_level(x, y) -> int:
    if x is None or y is None:
        return 0
    return 1 if x == y else 2


def phone_level(a: Features, b: Features) -> int:
    """A shared phone says more when the given names agree too: the other people behind a
    household's number share its family name, not its given names."""
    if a.phone is None or b.phone is None:
        return 0
    if a.phone != b.phone:
        return 3
    if _similar(a.given, b.given) or _similar(a.given, b.family) or _similar(a.family, b.given):
        return 1
    return 2


def document_level(a: Features, b: Features) -> int:
    x, y = a.document, b.document
    if x is None or y is None:
        return 0
    if x == y:
        return 1
    ends = x[:3] == y[:3] or x[-3:] == y[-3:]
    if min(len(x), len(y)) >= 5 and ends and DamerauLevenshtein.distance(x, y) <= 1:
        return 2
    return 3


def address_level(a: Features, b: Features) -> int:
    x, y = a.address, b.address
    if x is None or y is None:
        return 0
    if x == y:
        return 1
    similarity = JaroWinkler.similarity(x, y)
    if similarity >= ADDRESS_JW[0]:
        return 2
    if similarity >= ADDRESS_JW[1]:
        return 3
    return 4


LEVEL_FUNCTIONS = {
    "name": name_level,
    "birth": birth_level,
    "sex": lambda a, b: _equal_level(a.sex, b.sex),
    "phone": phone_level,
    "residence": lambda a, b: _equal_level(a.residence, b.residence),
    "document": document_level,
    "address": address_level,
}


def levels(a: Features, b: Features, comparisons=None) -> dict[str, int]:
    return {name: LEVEL_FUNCTIONS[name](a, b) for name in comparisons or COMPARISONS}


# --- SQL levels (DuckDB, for Splink) ---------------------------------------------------------
# Columns prepared by batch.prepare(): <x>_sk (skeleton), <x>_sk2 (of the Latin form), <x>_lat
# (Latin letters), <x>_words (word skeletons) for x in g (given) and f (family); dob
# ('YYYYMMDD' or NULL), placeholder, yob, sex, phone, residence, document, address.


def _sql_skeletons_meet(x: str, y: str) -> str:
    """Some skeleton of l's name x is one of r's name y (each has one or two: <x>_sk and
    <x>_sk2; four comparisons of strings cost less than DuckDB's list functions)."""
    return (
        f"(l.{x}_sk = r.{y}_sk OR l.{x}_sk = r.{y}_sk2"
        f" OR l.{x}_sk2 = r.{y}_sk OR l.{x}_sk2 = r.{y}_sk2)"
    )


def _sql_similar(x: str, y: str) -> str:
    # No coalesce: inside CASE WHEN a NULL is "no", and DuckDB then stops at the first
    # operand that settles the row; the cheap tests come first, Jaro-Winkler last.
    return (
        f"({_sql_skeletons_meet(x, y)}"
        f" OR (length(l.{x}_sk) >= 3 AND length(r.{y}_sk) >= 3"
        f" AND abs(length(l.{x}_sk) - length(r.{y}_sk)) <= 1"
        # One edit keeps the first or the last letter of three or more (cheap, and
        # DuckDB's damerau_levenshtein is twenty times slower than jaro_winkler).
        f" AND (left(l.{x}_sk, 1) = left(r.{y}_sk, 1) OR right(l.{x}_sk, 1) = right(r.{y}_sk, 1))"
        f" AND damerau_levenshtein(l.{x}_sk, r.{y}_sk) <= 1)"
        f" OR jaro_winkler_similarity(l.{x}_lat, r.{y}_lat, {NAME_JW}) >= {NAME_JW}"
        f" OR list_has_any(l.{x}_words, r.{y}_words))"
    )


def _sql_has(side: str, x: str) -> str:
    return f"{side}.{x}_sk IS NOT NULL"


SQL_LEVELS: dict[str, list[str | None]] = {
    "name": [
        f"NOT ({_sql_has('l', 'g')} OR {_sql_has('l', 'f')})"
        f" OR NOT ({_sql_has('r', 'g')} OR {_sql_has('r', 'f')})",
        "l.g_lat = r.g_lat AND l.f_lat = r.f_lat",
        "l.name_pair = r.name_pair",
        f"({_sql_skeletons_meet('g', 'g')} AND {_sql_skeletons_meet('f', 'f')})"
        f" OR ({_sql_skeletons_meet('g', 'f')} AND {_sql_skeletons_meet('f', 'g')})",
        f"({_sql_similar('g', 'g')} AND {_sql_similar('f', 'f')})"
        f" OR ({_sql_similar('g', 'f')} AND {_sql_similar('f', 'g')})",
        f"(NOT ({_sql_has('l', 'g')} AND {_sql_has('r', 'g')}) AND {_sql_similar('f', 'f')})"
        f" OR (NOT ({_sql_has('l', 'f')} AND {_sql_has('r', 'f')})"
        f" AND {_sql_similar('g', 'g')})",
        _sql_similar("f", "f"),
        _sql_similar("g", "g"),
        None,
    ],
    "birth": [
        "l.yob IS NULL OR r.yob IS NULL",
        "l.dob = r.dob",
        "l.yob = r.yob AND (l.placeholder OR r.placeholder)",
        "(l.yob = r.yob AND (substr(l.dob, 5, 2) = substr(r.dob, 5, 2)"
        " OR substr(l.dob, 7, 2) = substr(r.dob, 7, 2)"
        " OR (substr(l.dob, 5, 2) = substr(r.dob, 7, 2)"
        " AND substr(l.dob, 7, 2) = substr(r.dob, 5, 2))))"
        " OR (substr(l.dob, 5, 4) = substr(r.dob, 5, 4)"
        " AND damerau_levenshtein(left(l.dob, 4), left(r.dob, 4)) <= 1)",
        "abs(l.yob - r.yob) <= 1",
        None,
    ],
    "sex": ["l.sex IS NULL OR r.sex IS NULL", "l.sex = r.sex", None],
    "phone": [
        "l.phone IS NULL OR r.phone IS NULL",
        f"l.phone = r.phone AND ({_sql_similar('g', 'g')} OR {_sql_similar('g', 'f')}"
        f" OR {_sql_similar('f', 'g')})",
        "l.phone = r.phone",
        None,
    ],
    "residence": ["l.residence IS NULL OR r.residence IS NULL", "l.residence = r.residence", None],
    "document": [
        "l.document IS NULL OR r.document IS NULL",
        "l.document = r.document",
        "least(length(l.document), length(r.document)) >= 5"
        " AND (left(l.document, 3) = left(r.document, 3)"
        " OR right(l.document, 3) = right(r.document, 3))"
        " AND damerau_levenshtein(l.document, r.document) <= 1",
        None,
    ],
    "address": [
        "l.address IS NULL OR r.address IS NULL",
        "l.address = r.address",
        f"jaro_winkler_similarity(l.address, r.address, {ADDRESS_JW[0]}) >= {ADDRESS_JW[0]}",
        f"jaro_winkler_similarity(l.address, r.address, {ADDRESS_JW[1]}) >= {ADDRESS_JW[1]}",
        None,
    ],
}

# Levels whose weight Splink adjusts to the frequency of the value (a rare name agreeing says
# more than "Mohamed Trabelsi" agreeing), and the column holding that value.
TF_COLUMNS: dict[tuple[str, int], str] = {("name", 1): "name_pair", ("name", 2): "name_pair"}
# The level that is exact agreement on each such column: its u is what the frequency replaces.
TF_EXACT_LEVEL: dict[str, tuple[str, int]] = {"name_pair": ("name", 2)}


# --- Weights ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameters:
    """m and u per level (level 0 excluded) and the prior probability of a match."""

    m: Mapping[str, tuple[float, ...]]
    u: Mapping[str, tuple[float, ...]]
    prior: float

    def weight(self, comparison: str, level: int) -> float:
        if level == 0 or comparison not in self.m:
            return 0.0
        m = self.m[comparison][level - 1]
        u = self.u[comparison][level - 1]
        return math.log2(max(m, 1e-9) / max(u, 1e-9))

    @property
    def prior_weight(self) -> float:
        return math.log2(self.prior / (1 - self.prior))

    @classmethod
    def from_splink(cls, model: Mapping) -> "Parameters":
        """From a Splink model (``linker.misc.save_model_to_json()``)."""
        m: dict[str, tuple[float, ...]] = {}
        u: dict[str, tuple[float, ...]] = {}
        for comparison in model["comparisons"]:
            name = comparison["output_column_name"]
            if name not in COMPARISONS:
                continue
            levels_ = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
            m[name] = tuple(float(lv.get("m_probability") or 1e-9) for lv in levels_)
            u[name] = tuple(float(lv.get("u_probability") or 1e-9) for lv in levels_)
        return cls(m=m, u=u, prior=float(model["probability_two_random_records_match"]))

    def as_dict(self) -> dict:
        return {"m": dict(self.m), "u": dict(self.u), "prior": self.prior}


@dataclass(frozen=True)
class Comparison:
    levels: dict[str, int]
    weights: dict[str, float] = field(repr=False)
    match_weight: float
    probability: float


def score(
    a: Features,
    b: Features,
    parameters: "Parameters | None" = None,
    frequencies: Mapping[str, Mapping[str, float]] | None = None,
) -> Comparison:
    """The levels, weights and probability of a pair. ``frequencies`` (share of records per
    value of ``name_pair`` and ``phone``) adjust agreement on a value as Splink does: the u of
    exact agreement is replaced by the value's frequency (the greater of the two)."""
    parameters = parameters or DEFAULT_PARAMETERS
    found = levels(a, b, [c for c in COMPARISONS if c in parameters.m])
    weights = {name: parameters.weight(name, level) for name, level in found.items()}
    if frequencies:
        for (comparison, level), column in TF_COLUMNS.items():
            table = frequencies.get(column)
            if table is None or found.get(comparison) != level:
                continue
            known = [f for f in (table.get(getattr(a, column)), table.get(getattr(b, column))) if f]
            if not known:
                continue
            exact_comparison, exact_level = TF_EXACT_LEVEL[column]
            u_exact = parameters.u[exact_comparison][exact_level - 1]
            weights[comparison] += math.log2(u_exact) - math.log2(max(known))
    total = parameters.prior_weight + sum(weights.values())
    probability = 1 / (1 + 2 ** (-total))
    return Comparison(levels=found, weights=weights, match_weight=total, probability=probability)


class Scorer:
    """``score(a, b).probability`` for many pairs: the weights of every level are looked up
    once (the batch job's clustering guard scores hundreds of thousands of pairs)."""

    def __init__(self, parameters: Parameters, frequencies=None, comparisons=None):
        names = [c for c in (comparisons or COMPARISONS) if c in parameters.m]
        self.functions = [LEVEL_FUNCTIONS[name] for name in names]
        self.tables = [
            [0.0] + [parameters.weight(name, level) for level in range(1, len(COMPARISONS[name]))]
            for name in names
        ]
        self.prior = parameters.prior_weight
        self.adjust = []  # (index of the comparison, its levels adjusted, column, log2 u exact)
        for (comparison, level), column in TF_COLUMNS.items():
            table = (frequencies or {}).get(column)
            if table is None or comparison not in names:
                continue
            exact_comparison, exact_level = TF_EXACT_LEVEL[column]
            u_exact = parameters.u[exact_comparison][exact_level - 1]
            self.adjust.append((names.index(comparison), level, column, math.log2(u_exact), table))

    def probability(self, a: Features, b: Features) -> float:
        total = self.prior
        found = []
        for function, table in zip(self.functions, self.tables, strict=True):
            level = function(a, b)
            found.append(level)
            total += table[level]
        for index, level, column, log_u, table in self.adjust:
            if found[index] != level:
                continue
            known = [f for f in (table.get(getattr(a, column)), table.get(getattr(b, column))) if f]
            if known:
                total += log_u - math.log2(max(known))
        return 1 / (1 + 2 ** (-total))


def compare(a: PersonRecord, b: PersonRecord, parameters: "Parameters | None" = None) -> Comparison:
    """Compare two people as the registry holds them."""
    return score(features(a), features(b), parameters)


# Estimated without labels by the batch job (Splink: u by random sampling, m by expectation
# maximisation, the prior from the EM sessions) on the synthetic cross-script registry of
# bench/matching_crossscript.py at 100k records (57,000 people, seed 7); document and address
# on FEBRL3, as is the name level "partial" (no name is missing in the synthetic registry).
# Reproduce with `bench/matching_crossscript.py --people 57000 --save-parameters`.
DEFAULT_PARAMETERS = Parameters(
    m={
        "name": (0.4049, 0.5012, 0.01514, 0.05306, 0.05076, 0.01297, 0.01183, 0.0008159),
        "birth": (0.4919, 0.3967, 0.09026, 0.01505, 0.006105),
        "sex": (0.9998, 0.0002354),
        "phone": (0.7353, 0.007808, 0.2569),
        "residence": (0.7526, 0.2474),
        "document": (0.8544, 0.07593, 0.06969),
        "address": (0.09447, 0.613, 0.2408, 0.05179),
    },
    u={
        "name": (5.71e-05, 0.0001347, 3.197e-06, 0.0004732, 0.001175, 0.01695, 0.01914, 0.9632),
        "birth": (2.285e-05, 0.007041, 0.001074, 0.03391, 0.958),
        "sex": (0.4954, 0.5046),
        "phone": (1.23e-05, 6.708e-06, 1),
        "residence": (0.03879, 0.9612),
        "document": (0.0004429, 5.524e-05, 0.9995),
        "address": (5.524e-05, 0.0003181, 0.002183, 0.9974),
    },
    prior=2.846e-05,
)
DEFAULT_PARAMETERS_RECORDS = 99_974  # the records they were estimated on, for the prior
