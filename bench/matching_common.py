"""Shared pieces of the matching benchmarks: scoring against the truth, plain Splink, memory.

Not a benchmark itself; imported by bench/matching_*.py.
"""

import os
import resource
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@dataclass
class Quality:
    precision: float
    recall: float
    f1: float
    true_pairs: int
    found_pairs: int
    correct_pairs: int
    people_true: int
    people_found: int

    @property
    def count_error(self) -> float:
        return (self.people_found - self.people_true) / self.people_true

    def row(self) -> str:
        return (
            f"{self.precision:9.4f} {self.recall:9.4f} {self.f1:9.4f}"
            f" {self.people_found:>9,} {self.people_true:>9,} {self.count_error:+8.1%}"
        )


HEADER = f"{'precision':>9} {'recall':>9} {'F1':>9} {'people':>9} {'true':>9} {'count err':>8}"


def _pairs(sizes) -> int:
    return sum(n * (n - 1) // 2 for n in sizes)


def cluster_quality(truth: list, found: list) -> Quality:
    """Pairwise precision and recall of a clustering: a pair of records is found when both
    records are in one group; it is true when they are one person."""
    assert len(truth) == len(found)
    true_pairs = _pairs(Counter(truth).values())
    found_pairs = _pairs(Counter(found).values())
    correct = _pairs(Counter(zip(truth, found, strict=True)).values())
    precision = correct / found_pairs if found_pairs else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Quality(
        precision,
        recall,
        f1,
        true_pairs,
        found_pairs,
        correct,
        len(set(truth)),
        len(set(found)),
    )


class PeakMemory:
    """Peak resident memory of this process (and its threads) while a block runs, sampled
    every 50 ms from /proc (``ru_maxrss`` cannot be reset between runs)."""

    def __init__(self):
        self.peak = 0
        self._stop = threading.Event()

    @staticmethod
    def rss() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _watch(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(0.05)

    def __enter__(self):
        self.peak = self.rss()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())

    @staticmethod
    def process_max() -> int:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


# --- Plain Splink, configured as its documentation shows ----------------------------------------


def plain_splink(
    df,
    *,
    link_type: str = "dedupe_only",
    other=None,
    threshold: float = 0.95,
    u_max_pairs: float = 2e6,
    em_max_pairs: float = 2e6,
    extra_comparisons=(),
    blocking=None,
):
    """Splink out of the box: the library's comparisons on the columns as they come, the
    blocking and training of its tutorials, connected components at 0.95.

    ``df`` (and ``other`` for linkage): pandas frames with unique_id, first_name, surname,
    dob (YYYY-MM-DD text), and any of sex, phone, city. Returns (ids, cluster ids) and
    timings; for linkage the ids are (source, unique_id) pairs."""
    import logging

    import duckdb
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    from splink import comparison_library as cl

    timings = {}
    started = time.perf_counter()
    frames = [df] if other is None else [df, other]
    columns = set(df.columns)
    comparisons = [
        cl.NameComparison("first_name"),
        cl.NameComparison("surname"),
        cl.DateOfBirthComparison("dob", input_is_string=True),
    ]
    for column in ("sex", "phone", "city"):
        if column in columns:
            comparisons.append(cl.ExactMatch(column))
    comparisons.extend(extra_comparisons)
    blocking = blocking or [
        block_on("first_name", "surname"),
        block_on("surname", "dob"),
        block_on("first_name", "dob"),
    ]
    settings = SettingsCreator(
        link_type=link_type,
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    db_api = DuckDBAPI(connection=con)
    names = ["a", "b"][: len(frames)]
    inputs = [
        db_api.register(f, dataset_display_name=n) for f, n in zip(frames, names, strict=True)
    ]
    linker = Linker(inputs if len(inputs) > 1 else inputs[0], settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "dob")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("first_name", "surname"), max_pairs=em_max_pairs
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("dob"), max_pairs=em_max_pairs
    )
    timings["train_seconds"] = time.perf_counter() - started
    predictions = linker.inference.predict(threshold_match_probability=0.5, warning_mode="never")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold
    )
    source = ", source_dataset" if other is not None else ""
    rows = con.execute(
        f"SELECT unique_id, cluster_id{source} FROM {clusters.physical_name}"  # noqa: S608
    ).fetchall()
    timings["total_seconds"] = time.perf_counter() - started
    con.close()
    if other is None:
        return [r[0] for r in rows], [r[1] for r in rows], timings
    return [(r[2], r[0]) for r in rows], [r[1] for r in rows], timings
