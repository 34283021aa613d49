"""Matching speed: batch deduplication at 100k and 1M records, ours beside plain Splink. (The
typing-time lookup is measured by ``bench/matching_lookup.py``.)

    .venv/bin/python bench/matching_speed.py                      # both sizes (about 20 min)
    .venv/bin/python bench/matching_speed.py --sizes 100000

**Batch.** The synthetic cross-script registry of ``bench/matching_crossscript.py`` is
generated once per size (``/tmp/tadamun-bench/matching/*.parquet``). Each run is a fresh
child process (so that its peak memory is its own), alternating ours and plain Splink for
each size; both get two threads and the same sampling budgets (2M pairs for u, 2M for each
EM session). The time is the wall time of the call, from the table in memory to the final
groups; the memory is the child's peak resident set (``ru_maxrss``), which includes the
table itself (about 0.1 GiB at 1M). Quality is printed too. Goal: ours at most 1.5 times
Splink's time, and under 8 GB at 1M.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path("/tmp/tadamun-bench")  # noqa: S108 - where bench/README.md says
SOURCE_1M = BENCH / "sqlite-1m"
COPY_1M = BENCH / "matching" / "sqlite-1m"


# --- Batch ------------------------------------------------------------------------------------


def people_for(records: int) -> int:
    return round(records / 1.77) + 50


def batch_child(engine: str, size: int) -> dict:
    sys.path.insert(0, str(ROOT / "bench"))
    import matching_crossscript as mc
    from matching_common import cluster_quality, plain_splink

    table = mc.cached(people_for(size)).slice(0, size)
    ids, people = table.column("unique_id").to_pylist(), table.column("person").to_pylist()
    truth = dict(zip(ids, people, strict=True))
    if engine == "ours":
        from tadamun.matching.batch import deduplicate

        data = table.drop(["person"])
        started = time.perf_counter()
        result = deduplicate(data, threads=2)
        seconds = time.perf_counter() - started
        ids, clusters, stats = result.ids, result.cluster, result.stats
    else:
        frame = mc.splink_frame(table)
        started = time.perf_counter()
        ids, clusters, stats = plain_splink(frame)
        seconds = time.perf_counter() - started
    quality = cluster_quality([truth[i] for i in ids], clusters)
    return {
        "engine": engine,
        "size": size,
        "seconds": seconds,
        "peak_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "precision": quality.precision,
        "recall": quality.recall,
        "f1": quality.f1,
        "count_error": quality.count_error,
        "stats": {k: v for k, v in stats.items() if isinstance(v, int | float)},
    }


def run_child(args: list[str], env=None) -> dict:
    output = subprocess.run(  # noqa: S603 - this script, with arguments it wrote
        [sys.executable, __file__, *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def batch(sizes: list[int], repeat: int = 1) -> list[dict]:
    sys.path.insert(0, str(ROOT / "bench"))
    import matching_crossscript as mc

    for size in sizes:
        started = time.perf_counter()
        mc.cached(people_for(size))
        print(f"data for {size:,} records ready ({time.perf_counter() - started:.0f} s)")
    results = []
    for size in sizes:
        for round_ in range(repeat):
            # Alternate which engine goes first, so that load from other jobs falls on both.
            engines = ("ours", "splink") if round_ % 2 == 0 else ("splink", "ours")
            for engine in engines:
                result = run_child(["--child-batch", engine, str(size)])
                result["round"] = round_
                results.append(result)
                print(
                    f"  {engine:6} {size:>9,} round {round_ + 1}: {result['seconds']:7.1f} s,"
                    f" {result['peak_bytes'] / 2**30:5.2f} GiB, F1 {result['f1']:.3f},"
                    f" count {result['count_error']:+.1%}",
                    flush=True,
                )
    print()
    print(
        f"{'records':>9} {'engine':7} {'seconds':>8} {'peak GiB':>9} {'time/splink':>12}"
        f" {'precision':>9} {'recall':>7} {'F1':>6} {'count err':>9}"
    )
    for size in sizes:
        runs = {
            engine: [r for r in results if r["size"] == size and r["engine"] == engine]
            for engine in ("ours", "splink")
        }
        ratios = [
            o["seconds"] / s["seconds"] for o, s in zip(runs["ours"], runs["splink"], strict=True)
        ]
        for engine in ("ours", "splink"):
            r = runs[engine][0]
            seconds = statistics.median(x["seconds"] for x in runs[engine])
            peak = max(x["peak_bytes"] for x in runs[engine])
            ratio = statistics.median(ratios) if engine == "ours" else 1.0
            print(
                f"{size:>9,} {engine:7} {seconds:8.1f} {peak / 2**30:9.2f} {ratio:12.2f}"
                f" {r['precision']:9.3f} {r['recall']:7.3f} {r['f1']:6.3f}"
                f" {r['count_error']:+9.1%}"
            )
    if repeat > 1:
        print(
            f"(median of {repeat} rounds; time/splink is the median of the rounds' ratios;"
            " peak memory the largest)"
        )
    return results


# --- Lookup -----------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", action="store_true", help="(the default, kept for scripts)")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeat", type=int, default=1, help="batch rounds per size")
    parser.add_argument("--child-batch", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_batch:
        print(json.dumps(batch_child(args.child_batch[0], int(args.child_batch[1]))))
        return
    batch([int(s) for s in args.sizes.split(",")], args.repeat)


if __name__ == "__main__":
    main()
