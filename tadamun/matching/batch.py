"""Batch deduplication and linkage of people: Splink on DuckDB with cross-script keys.

    result = deduplicate(records)          # one list: who is the same person?
    result = link(records_a, records_b)    # two lists: which records are the same person?
    result.groups()                        # the probable duplicates, for review

Records are dicts (or a pandas DataFrame, or a pyarrow Table) with ``unique_id`` and any of
the registry's fields: ``given_name``, ``family_name``, ``given_name_latin``,
``family_name_latin``, ``birth_date``, ``birth_year``, ``sex``, ``phone``, ``residence``,
``document_number``, ``address``. Fields absent or empty everywhere are not compared.

How it works:

1. **Prepare** (DuckDB, Python only per distinct name): the name features of
   ``keys.name_features`` for each distinct (name, Latin name) pair, joined back; birth date
   split into trusted date, placeholder and year; phone to its last eight digits.
2. **Block**: pairs are only scored when they share a key: the name skeleton pair (either
   order) and the year, the day and month, or the phone; one name skeleton and the full
   date; the phone alone (unless thirty records share it); the document number; residence
   and date. A record without a year meets the records of its name pair in its residence.
3. **Score**: a Fellegi-Sunter model in Splink with the levels of ``compare.SQL_LEVELS``;
   u from random pairs, m by expectation maximisation in two sessions (blocked on both
   names and the phone, else the document number, else the residence, to learn the other
   fields; blocked on the date to learn the names), the prior from the EM sessions.
   Agreement on a name is adjusted to how common it is (term frequencies). Under 2,000
   records nothing is estimated: ``compare.DEFAULT_PARAMETERS`` is used.
   **No label is read anywhere.**
4. **Threshold**: a pair is a probable match when the model's posterior probability is at
   least ``threshold`` (0.5: the Bayes decision when a missed and a false match cost the same).
5. **Cluster**: links are merged strongest first (union-find); a merge of two groups is
   refused when the mean probability of the pairs across them, scored by the same model in
   Python, is below the threshold (average linkage), or, for linkage, when it would put two
   records of one source in a group. One wrong link does not chain two people's groups, as
   it does in plain connected components.
"""

from __future__ import annotations

import dataclasses
import datetime
import gc
import logging
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from .compare import (
    COMPARISONS,
    DEFAULT_PARAMETERS,
    DEFAULT_PARAMETERS_RECORDS,
    SQL_LEVELS,
    TF_COLUMNS,
    Parameters,
    Scorer,
)
from .keys import Features, NameFeatures, name_features

__all__ = ["MatchResult", "deduplicate", "link", "prepare", "registry_duplicates"]

logger = logging.getLogger(__name__)

FIELDS = (
    "given_name",
    "family_name",
    "given_name_latin",
    "family_name_latin",
    "birth_date",
    "birth_year",
    "sex",
    "phone",
    "residence",
    "document_number",
    "address",
)
_TEXT = {f for f in FIELDS if f not in ("birth_date", "birth_year")}

# The columns each comparison reads: it is used when one of them holds a value.
_NEEDS = {
    "name": ("g_sk", "f_sk"),
    "birth": ("yob",),
    "sex": ("sex",),
    "phone": ("phone",),
    "residence": ("residence",),
    "document": ("document",),
    "address": ("address",),
}

BLOCKING_RULES = [
    "l.name_pair = r.name_pair AND l.yob = r.yob",
    "l.name_pair = r.name_pair AND l.mmdd = r.mmdd",
    "l.name_pair = r.name_pair AND l.phone = r.phone",
    "l.name_pair_undated = r.name_pair AND l.residence = r.residence",
    "l.name_pair = r.name_pair_undated AND l.residence = r.residence",
    "l.f_sk = r.f_sk AND l.dob = r.dob",
    "l.g_sk = r.g_sk AND l.dob = r.dob",
    "l.phone_block = r.phone_block",
    "l.document = r.document",
    "l.residence = r.residence AND l.dob = r.dob",
]
# Below this many records the model is not estimated from the data (too few pairs for
# expectation maximisation) but taken from compare.DEFAULT_PARAMETERS.
MIN_TRAINING_RECORDS = 2_000
# A phone held by more records than this is not used alone to find pairs (an association's
# own number written for everyone without one).
PHONE_BLOCK_MAX = 30

# Expectation maximisation needs blocked pairs that are mostly matches and does not learn the
# fields its blocking rule reads. The first session is blocked on both names and a field that
# rarely agrees by chance (phone, else document number, else residence) and learns the date,
# sex and the rest; the second is blocked on the date and learns the names. Blocking on the
# names alone would pair every "Mohamed Trabelsi" with every other, and the model would learn
# that a person's records often disagree on the date of birth.
EM_NAME_RULE = "l.g_sk = r.g_sk AND l.f_sk = r.f_sk AND l.{column} = r.{column}"
EM_NAME_RULE_COLUMNS = ("phone", "document", "residence")
EM_DATE_RULE = "l.dob = r.dob"


@dataclass
class MatchResult:
    ids: list  # every record's unique_id
    cluster: list  # its cluster (the smallest unique_id of the group), same order
    pairs: list[tuple[Any, Any, float]]  # (id, id, probability) at or above the threshold
    threshold: float
    parameters: Parameters | None
    model: dict | None
    stats: dict = field(default_factory=dict)

    @property
    def unique_people(self) -> int:
        return len(set(self.cluster))

    def groups(self) -> list[list]:
        """Groups of two or more records found to be one person, largest first."""
        by_cluster: dict[Any, list] = {}
        for uid, cluster in zip(self.ids, self.cluster, strict=True):
            by_cluster.setdefault(cluster, []).append(uid)
        found = [sorted(members) for members in by_cluster.values() if len(members) > 1]
        return sorted(found, key=lambda g: (-len(g), g[0]))


# --- Preparation -----------------------------------------------------------------------------


def _as_arrow(records) -> pa.Table:
    if isinstance(records, pa.Table):
        table = records
    elif hasattr(records, "to_dict") and hasattr(records, "columns"):  # pandas
        table = pa.Table.from_pandas(records, preserve_index=False)
    else:
        rows = list(records)
        columns = {"unique_id": [r["unique_id"] for r in rows]}
        for name in FIELDS:
            columns[name] = [r.get(name) for r in rows]
        table = pa.table(columns)
    missing = [f for f in FIELDS if f not in table.column_names]
    for name in missing:
        kind = pa.int32() if name == "birth_year" else pa.string()
        table = table.append_column(name, pa.nulls(len(table), kind))
    return table


def _name_table(con: duckdb.DuckDBPyConnection) -> None:
    pairs = con.execute(
        """
        SELECT DISTINCT name, latin FROM (
            SELECT coalesce(given_name, '') AS name, coalesce(given_name_latin, '') AS latin
            FROM raw
            UNION ALL
            SELECT coalesce(family_name, ''), coalesce(family_name_latin, '') FROM raw
        )
        """
    ).fetchall()
    names, latins, sk, sk2, lat, words = [], [], [], [], [], []
    for name, latin in pairs:
        f = name_features(name, latin)
        names.append(name)
        latins.append(latin)
        sk.append(f.skeleton or None)
        sk2.append(f.skeletons[1] if len(f.skeletons) > 1 else None)
        lat.append(f.latin or None)
        words.append(sorted(f.words))
    table = pa.table(
        {
            "name": names,
            "latin": latins,
            "sk": pa.array(sk, pa.string()),
            "sk2": pa.array(sk2, pa.string()),
            "lat": pa.array(lat, pa.string()),
            "words": pa.array(words, pa.list_(pa.string())),
        }
    )
    con.register("name_features_arrow", table)
    con.execute("CREATE OR REPLACE TABLE name_features AS SELECT * FROM name_features_arrow")
    con.unregister("name_features_arrow")


_ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹"


def _address_table(con) -> None:
    from tadamun.registry.names import fold

    values = con.execute(
        "SELECT DISTINCT address FROM raw WHERE address IS NOT NULL AND address <> ''"
    ).fetchall()
    originals = [v for (v,) in values]
    table = pa.table({"address": originals, "folded": [fold(v) or None for v in originals]})
    con.register("address_arrow", table)
    con.execute("CREATE OR REPLACE TABLE address_features AS SELECT * FROM address_arrow")
    con.unregister("address_arrow")


def prepare(con: duckdb.DuckDBPyConnection, records, table: str = "people") -> list[str]:
    """Load ``records`` into DuckDB as ``table`` with the columns the comparisons read.
    Returns the comparisons the data can feed (those with a value somewhere)."""
    raw = _as_arrow(records)
    con.register("raw_arrow", raw)
    casts = ", ".join(
        f"CAST(NULLIF(trim(CAST({f} AS VARCHAR)), '') AS VARCHAR) AS {f}" for f in sorted(_TEXT)
    )
    sql = f"""
        CREATE OR REPLACE TEMP TABLE raw AS
        SELECT unique_id, {casts},
               TRY_CAST(birth_date AS DATE) AS birth_date,
               TRY_CAST(birth_year AS INTEGER) AS birth_year
        FROM raw_arrow
        """  # noqa: S608 - column names of the code
    con.execute(sql)
    con.unregister("raw_arrow")
    _name_table(con)
    has_address = con.execute("SELECT count(address) FROM raw").fetchall()[0][0] > 0
    if has_address:
        _address_table(con)
    address_join = "LEFT JOIN address_features a ON a.address = r.address" if has_address else ""
    address_col = "a.folded" if has_address else "CAST(NULL AS VARCHAR)"
    digits = "0123456789" * 2
    sql = f"""
        CREATE OR REPLACE TABLE {table} AS
        WITH base AS (
            SELECT r.unique_id,
                g.sk AS g_sk, g.sk2 AS g_sk2, g.lat AS g_lat, coalesce(g.words, []) AS g_words,
                f.sk AS f_sk, f.sk2 AS f_sk2, f.lat AS f_lat, coalesce(f.words, []) AS f_words,
                CASE WHEN r.birth_date IS NOT NULL
                      AND NOT (month(r.birth_date) = 1 AND day(r.birth_date) = 1)
                     THEN strftime(r.birth_date, '%Y%m%d') END AS dob,
                (r.birth_date IS NOT NULL AND month(r.birth_date) = 1
                  AND day(r.birth_date) = 1)
                  OR (r.birth_date IS NULL AND r.birth_year IS NOT NULL) AS placeholder,
                coalesce(year(r.birth_date), r.birth_year) AS yob,
                CASE WHEN r.sex IN ('F', 'M', 'X') THEN r.sex END AS sex,
                regexp_replace(translate(coalesce(r.phone, ''), '{_ARABIC_DIGITS}', '{digits}'),
                               '[^0-9]', '', 'g') AS phone_digits,
                r.residence AS residence,
                NULLIF(upper(regexp_replace(coalesce(r.document_number, ''),
                                            '[^0-9A-Za-z]', '', 'g')), '') AS document,
                {address_col} AS address
            FROM raw r
            LEFT JOIN name_features g
              ON g.name = coalesce(r.given_name, '') AND g.latin = coalesce(r.given_name_latin, '')
            LEFT JOIN name_features f
              ON f.name = coalesce(r.family_name, '')
             AND f.latin = coalesce(r.family_name_latin, '')
            {address_join}
        )
        SELECT * EXCLUDE (phone_digits),
            CASE WHEN length(phone_digits) >= 6 THEN right(phone_digits, 8) END AS phone,
            substr(dob, 5, 4) AS mmdd,
            CASE WHEN g_sk IS NULL AND f_sk IS NULL THEN NULL
                 ELSE array_to_string(list_sort([coalesce(g_sk, ''), coalesce(f_sk, '')]), '|')
            END AS name_pair,
            CASE WHEN yob IS NULL AND NOT (g_sk IS NULL AND f_sk IS NULL)
                 THEN array_to_string(list_sort([coalesce(g_sk, ''), coalesce(f_sk, '')]), '|')
            END AS name_pair_undated
        FROM base
        """  # noqa: S608 - table and column names of the code
    con.execute(sql)
    con.execute("DROP TABLE raw")
    sql = f"""
        CREATE OR REPLACE TABLE {table} AS
        SELECT *, CASE WHEN count(phone) OVER (PARTITION BY phone) <= {PHONE_BLOCK_MAX}
                       THEN phone END AS phone_block
        FROM {table}
        """  # noqa: S608 - a table name of the code
    con.execute(sql)
    present = []
    for comparison, columns in _NEEDS.items():
        counts = con.execute(
            f"SELECT {', '.join(f'count({c})' for c in columns)} FROM {table}"  # noqa: S608
        ).fetchall()[0]
        if any(counts):
            present.append(comparison)
    return present


# --- The Splink model ------------------------------------------------------------------------


_SIDE = re.compile(r"\b([lr])\.(\w+)")


def _suffixed(sql: str) -> str:
    """Splink names the two records' columns ``x_l`` and ``x_r`` in comparisons."""
    return _SIDE.sub(r"\2_\1", sql)


def _comparison(name: str, term_frequencies: bool = True, parameters: Parameters | None = None):
    from splink import comparison_library as cl

    labels = COMPARISONS[name]
    conditions = SQL_LEVELS[name]
    levels = []
    for index, (label, condition) in enumerate(zip(labels, conditions, strict=True)):
        level: dict[str, Any] = {
            "sql_condition": _suffixed(condition) if condition is not None else "ELSE",
            "label_for_charts": label,
        }
        if index == 0:
            level["is_null_level"] = True
        if index and parameters is not None and name in parameters.m:
            level["m_probability"] = parameters.m[name][index - 1]
            level["u_probability"] = parameters.u[name][index - 1]
        tf_column = TF_COLUMNS.get((name, index)) if term_frequencies else None
        if tf_column:
            level["tf_adjustment_column"] = tf_column
            level["tf_adjustment_weight"] = 1.0
        levels.append(level)
    return cl.CustomComparison(comparison_levels=levels, output_column_name=name)


def _settings(
    comparisons: list[str],
    link_type: str,
    blocking_rules: list[str],
    term_frequencies: bool,
    parameters: Parameters | None,
):
    from splink import SettingsCreator

    extra = {}
    if parameters is not None:
        extra["probability_two_random_records_match"] = parameters.prior
    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name="unique_id",
        comparisons=[_comparison(name, term_frequencies, parameters) for name in comparisons],
        **extra,
        blocking_rules_to_generate_predictions=blocking_rules,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        max_iterations=20,
    )


@dataclass
class Options:
    threshold: float = 0.5
    u_max_pairs: float = 2e6
    em_max_pairs: float = 2e6
    threads: int | None = None
    memory_limit: str | None = None
    seed: int = 1  # of the random pairs u is estimated on
    parameters: Parameters | None = None  # skip training and use these
    one_to_one: bool = False  # linkage: a person at most once per source
    term_frequencies: bool = True  # adjust agreement on a name to how common it is
    blocking_rules: list[str] = field(default_factory=lambda: list(BLOCKING_RULES))


def _connect(options: Options) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    if options.threads:
        con.execute(f"SET threads = {int(options.threads)}")
    if options.memory_limit:
        con.execute(f"SET memory_limit = '{options.memory_limit}'")
    con.execute("SET preserve_insertion_order = false")
    return con


def _usable_rules(rules: list[str], con, tables: list[str]) -> list[str]:
    """Blocking rules whose columns hold a value somewhere (an empty rule costs a join)."""
    usable = []
    for rule in rules:
        columns = {part.split(".", 1)[1].split()[0] for part in rule.split() if "." in part}
        empty = False
        for column in columns:
            filled = sum(
                con.execute(f"SELECT count({column}) FROM {t}").fetchall()[0][0]  # noqa: S608
                for t in tables
            )
            empty = empty or filled == 0
        if not empty:
            usable.append(rule)
    return usable


def _train(linker, comparisons: list[str], options: Options, stats: dict) -> None:
    started = time.perf_counter()
    linker.training.estimate_u_using_random_sampling(
        max_pairs=options.u_max_pairs, seed=options.seed
    )
    stats["u_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    rules = []
    if "name" in comparisons:
        column = next((c for c in EM_NAME_RULE_COLUMNS if c in comparisons), None)
        if column:
            rules.append(EM_NAME_RULE.format(column=column))
    if "birth" in comparisons:
        rules.append(EM_DATE_RULE)
    for index, rule in enumerate(rules):
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule,
            max_pairs=options.em_max_pairs,
            populate_probability_two_random_records_match_from_trained_values=index
            == len(rules) - 1,
        )
    stats["em_seconds"] = time.perf_counter() - started


def _run(
    tables: list[tuple[str, Any]], link_type: str, options: Options
) -> tuple[duckdb.DuckDBPyConnection, list, str, Parameters | None, dict | None, dict]:
    from splink import DuckDBAPI, Linker

    stats: dict[str, Any] = {}
    started = time.perf_counter()
    con = _connect(options)
    comparisons: list[str] = []
    for name, records in tables:
        present = prepare(con, records, name)
        comparisons = sorted(set(comparisons) | set(present), key=list(COMPARISONS).index)
    stats["prepare_seconds"] = time.perf_counter() - started
    records = sum(
        con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]  # noqa: S608
        for name, _ in tables
    )
    stats["records"] = records
    if options.parameters is None and records < MIN_TRAINING_RECORDS:
        # Too few records to estimate a model from: the one estimated on the benchmark's,
        # its prior scaled to the number of records (matching pairs grow with the records,
        # pairs with their square) but never above its value at MIN_TRAINING_RECORDS: in a
        # handful of records, the benchmark's rate of duplicates is no safe guess.
        # Nor are frequencies of names in so few records (a name held by two of seven is not
        # common), so agreement is not adjusted to them.
        prior = DEFAULT_PARAMETERS.prior * DEFAULT_PARAMETERS_RECORDS / MIN_TRAINING_RECORDS
        options.parameters = dataclasses.replace(DEFAULT_PARAMETERS, prior=prior)
        options.term_frequencies = False
    if options.parameters is not None:
        comparisons = [c for c in comparisons if c in options.parameters.m]
    rules = _usable_rules(options.blocking_rules, con, [t for t, _ in tables])
    db_api = DuckDBAPI(connection=con)
    inputs = [db_api.register(name, dataset_display_name=name) for name, _ in tables]
    linker = Linker(
        inputs if len(inputs) > 1 else inputs[0],
        _settings(comparisons, link_type, rules, options.term_frequencies, options.parameters),
        log_level=logging.WARNING,
    )
    if options.parameters is None:
        _train(linker, comparisons, options, stats)
    model = linker.misc.save_model_to_json()
    parameters = Parameters.from_splink(model)
    started = time.perf_counter()
    predictions = linker.inference.predict(
        threshold_match_probability=options.threshold, warning_mode="never"
    )
    id_l, id_r = "unique_id_l", "unique_id_r"
    sources = ", source_dataset_l, source_dataset_r" if len(tables) > 1 else ""
    sql = (
        f"SELECT {id_l}, {id_r}, match_probability{sources} FROM {predictions.physical_name}"  # noqa: S608
        " ORDER BY match_probability DESC, unique_id_l, unique_id_r"
    )
    edges = con.execute(sql).fetchall()
    stats["predict_seconds"] = time.perf_counter() - started
    stats["pairs_above_threshold"] = len(edges)
    return con, edges, predictions.physical_name, parameters, model, stats


# --- Clustering with a guard against chaining -------------------------------------------------


def _skeletons(first, second) -> tuple[str, ...]:
    return tuple(s for s in (first, second) if s)


def _words(text) -> frozenset[str]:
    return frozenset(text.split()) if text else frozenset()


def _features_from_row(row: tuple) -> Features:
    (g_sk, g_sk2, g_lat, g_words, f_sk, f_sk2, f_lat, f_words, dob, placeholder, yob, sex,
     phone, residence, document, address) = row  # fmt: skip
    return Features(
        given=NameFeatures(_skeletons(g_sk, g_sk2), g_lat or "", _words(g_words)),
        family=NameFeatures(_skeletons(f_sk, f_sk2), f_lat or "", _words(f_words)),
        dob=datetime.date(int(dob[:4]), int(dob[4:6]), int(dob[6:8])) if dob else None,
        placeholder=bool(placeholder),
        year=yob,
        sex=sex,
        phone=phone,
        residence=residence,
        document=document,
        address=address,
    )


_FEATURE_NAMES = [
    "g_sk",
    "g_sk2",
    "g_lat",
    "g_words",
    "f_sk",
    "f_sk2",
    "f_lat",
    "f_words",
    "dob",
    "placeholder",
    "yob",
    "sex",
    "phone",
    "residence",
    "document",
    "address",
]
# Word lists as text: Arrow turns a column of strings into Python far faster than lists.
_FEATURE_COLUMNS = ", ".join(
    f"array_to_string({c}, ' ') AS {c}" if c.endswith("_words") else c for c in _FEATURE_NAMES
)


class _Groups:
    """Union-find where two groups merge only if, on average, the model finds the pairs
    across them a match (average linkage at the same threshold as the links).

    The first link between two records always merges them (Splink scored it above the
    threshold). When a link would join two groups, the pairs across them are scored with the
    same model in Python (``compare.Scorer``, with Splink's parameters and frequencies) and
    the merge is refused when their mean probability is below the threshold: one strong link
    between two groups that are otherwise different people does not chain them. Scoring
    stops as soon as the mean is settled either way."""

    def __init__(self, threshold, scorer, features, known, one_to_one):
        self.parent: dict = {}
        self.members: dict = {}
        self.threshold = threshold
        self.scorer = scorer
        self.features = features  # node → Features, built on first use
        self.known = known  # (a, b) with a < b → Splink's probability for the links
        self.one_to_one = one_to_one

    def find(self, node):
        parent = self.parent
        root = parent.get(node)
        if root is None:
            parent[node] = node
            self.members[node] = [node]
            return node
        while parent[root] != root:
            root = parent[root]
        while parent[node] != root:
            parent[node], node = root, parent[node]
        return root

    def _close_enough(self, left: list, right: list) -> bool:
        """Whether the mean probability across the groups reaches the threshold. The links
        already scored by Splink are summed first; the other pairs are scored only until
        the answer is certain."""
        pairs = len(left) * len(right)
        needed = self.threshold * pairs
        known = self.known
        total = 0.0
        unknown = []
        for x in left:
            for y in right:
                p = known.get((x, y) if x < y else (y, x))
                if p is None:
                    unknown.append((x, y))
                else:
                    total += p
        if total >= needed:
            return True
        remaining = len(unknown)
        if total + remaining < needed:
            return False
        probability, features = self.scorer.probability, self.features
        for x, y in unknown:
            total += probability(features(x), features(y))
            remaining -= 1
            if total >= needed:
                return True
            if total + remaining < needed:
                return False
        return total >= needed

    def union(self, a, b) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        left, right = self.members[ra], self.members[rb]
        if self.one_to_one and {m[0] for m in left} & {m[0] for m in right}:
            return False
        if len(left) * len(right) > 1 and not self._close_enough(left, right):
            return False
        if len(left) < len(right):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra].extend(self.members.pop(rb))
        return True


def _frequencies(con, tables: list[str], columns=("name_pair", "phone")) -> dict:
    """Share of records per value, over all tables, as Splink computes its term frequencies,
    for the values of the records in links."""
    out = {}
    for column in columns:
        union = " UNION ALL ".join(
            f"SELECT {column} AS v, unique_id, '{t}' AS source FROM {t}"  # noqa: S608
            f" WHERE {column} IS NOT NULL"
            for t in tables
        )
        rows = con.execute(
            f"""
            WITH all_values AS ({union}),
            linked AS (
                SELECT DISTINCT v FROM all_values JOIN edge_ids USING (source, unique_id)
            )
            SELECT v, count(*) / sum(count(*)) OVER () AS share FROM all_values
            GROUP BY v QUALIFY v IN (SELECT v FROM linked)
            """  # noqa: S608
        ).fetchall()
        out[column] = dict(rows)
    return out


def _cluster(
    con, tables: list[str], edges: list, parameters: Parameters, options: Options
) -> tuple[list, list, int]:
    """Groups from the links (``edges``: id, id, probability[, source, source], strongest
    first). Nodes are unique ids, or (source, unique id) when linking two tables."""
    linking = len(tables) > 1
    keyed = [((e[3], e[0]), (e[4], e[1]), e[2]) for e in edges] if linking else edges
    # The linked records' features, column by column (Arrow converts a column at once, far
    # faster than row tuples); a record's Features are built when the guard first needs them.
    position: dict = {}
    columns: list[list] = [[] for _ in _FEATURE_NAMES]
    for table in tables:
        found = con.sql(
            f"SELECT unique_id, {_FEATURE_COLUMNS} FROM {table}"  # noqa: S608
            f" WHERE unique_id IN (SELECT unique_id FROM edge_ids WHERE source = '{table}')"
        ).to_arrow_table()
        start = len(columns[0])
        uids = found.column(0).to_pylist()
        nodes = [(table, uid) for uid in uids] if linking else uids
        position.update(zip(nodes, range(start, start + len(uids)), strict=True))
        for index, name in enumerate(_FEATURE_NAMES):
            columns[index].extend(found.column(name).to_pylist())
    rows = list(zip(*columns, strict=True))
    del columns
    frequencies = _frequencies(con, tables) if options.term_frequencies else None
    scorer = Scorer(parameters, frequencies)
    built: dict = {}

    def features(node):
        feature = built.get(node)
        if feature is None:
            feature = built[node] = _features_from_row(rows[position[node]])
        return feature

    known = {(e[0], e[1]) if e[0] < e[1] else (e[1], e[0]): e[2] for e in keyed}
    groups = _Groups(options.threshold, scorer, features, known, options.one_to_one)
    refused = 0
    collecting = gc.isenabled()
    gc.disable()  # hundreds of thousands of small objects that live to the end
    try:
        for a, b, _p in keyed:
            if not groups.union(a, b):
                refused += 1
    finally:
        if collecting:
            gc.enable()
    # Each group is named by its smallest member; everyone else is a group of one.
    name: dict = {}
    for members in groups.members.values():
        smallest = min(members)
        for member in members:
            name[member] = smallest
    ids: list = []
    for table in tables:
        column = con.sql(f"SELECT unique_id FROM {table}").to_arrow_table()  # noqa: S608
        uids = column.column(0).to_pylist()
        ids.extend(((table, uid) for uid in uids) if linking else uids)
    cluster = [name.get(node, node) for node in ids]
    return ids, cluster, refused


def _register_edge_ids(con, predictions: str, tables: list[str]) -> None:
    """The records in links, as (source, unique_id), from Splink's table of predictions."""
    if len(tables) > 1:
        left, right = "source_dataset_l", "source_dataset_r"
    else:
        left = right = f"'{tables[0]}'"
    sql = f"""
        CREATE OR REPLACE TEMP TABLE edge_ids AS
        SELECT {left} AS source, unique_id_l AS unique_id FROM {predictions}
        UNION
        SELECT {right}, unique_id_r FROM {predictions}
        """  # noqa: S608 - Splink's table and our table names
    con.execute(sql)


def _finish(con, tables, edges, predictions, parameters, model, stats, options) -> MatchResult:
    started = time.perf_counter()
    _register_edge_ids(con, predictions, tables)
    ids, cluster, refused = _cluster(con, tables, edges, parameters, options)
    stats["cluster_seconds"] = time.perf_counter() - started
    stats["merges_refused"] = refused
    pairs = [(e[0], e[1], float(e[2])) for e in edges]
    con.close()
    return MatchResult(
        ids=ids,
        cluster=cluster,
        pairs=pairs,
        threshold=options.threshold,
        parameters=parameters,
        model=model,
        stats=stats,
    )


def deduplicate(records, **options) -> MatchResult:
    """Find the records of one list that are the same person (see the module docstring)."""
    opts = Options(**options)
    started = time.perf_counter()
    con, edges, predictions, parameters, model, stats = _run(
        [("people", records)], "dedupe_only", opts
    )
    result = _finish(con, ["people"], edges, predictions, parameters, model, stats, opts)
    result.stats["total_seconds"] = time.perf_counter() - started
    return result


def link(records_a, records_b, *, one_to_one: bool = True, **options) -> MatchResult:
    """Find the records of two lists that are the same person. ``ids`` and ``cluster`` hold
    (source, unique_id) pairs, source being "a" or "b"."""
    opts = Options(one_to_one=one_to_one, **options)
    started = time.perf_counter()
    con, edges, predictions, parameters, model, stats = _run(
        [("a", records_a), ("b", records_b)], "link_only", opts
    )
    result = _finish(con, ["a", "b"], edges, predictions, parameters, model, stats, opts)
    result.stats["total_seconds"] = time.perf_counter() - started
    return result


# --- The registry job ------------------------------------------------------------------------


def registry_records(batch_size: int = 20_000) -> Iterable[Mapping]:
    """Every current person of the registry, as the records ``deduplicate`` reads.

    This is system work over the whole registry (the access layer is asked for it by name);
    what it finds is shown to each reviewer through the access layer again."""
    from tadamun.registry.models import Person

    people = (
        Person.objects.unscoped("duplicate detection job")
        .filter(archived_at__isnull=True)
        .values_list(
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
            "document_number",
        )
    )
    for row in people.iterator(chunk_size=batch_size):
        yield {
            "unique_id": row[0],
            "given_name": row[1],
            "family_name": row[2],
            "given_name_latin": row[3],
            "family_name_latin": row[4],
            "birth_date": row[5],
            "birth_year": row[6],
            "sex": row[7],
            "phone": row[8],
            "residence": row[9],
            "document_number": row[10],
        }


def registry_duplicates(**options) -> MatchResult:
    """The batch job: probable duplicate people across the whole registry, for review.
    ``result.groups()`` lists person ids; ``result.pairs`` the scored links between them."""
    return deduplicate(registry_records(), **options)
