"""Matching speed: batch deduplication at 100k and 1M records, ours beside plain Splink, and
the typing-time lookup against the 1M-people SQLite database.

    .venv/bin/python bench/matching_speed.py                      # everything (about 25 min)
    .venv/bin/python bench/matching_speed.py --batch --sizes 100000
    .venv/bin/python bench/matching_speed.py --lookup --queries 1000

**Batch.** The synthetic cross-script registry of ``bench/matching_crossscript.py`` is
generated once per size (``/tmp/tadamun-bench/matching/*.parquet``). Each run is a fresh
child process (so that its peak memory is its own), alternating ours and plain Splink for
each size; both get two threads and the same sampling budgets (2M pairs for u, 2M for each
EM session). The time is the wall time of the call, from the table in memory to the final
groups; the memory is the child's peak resident set (``ru_maxrss``), which includes the
table itself (about 0.1 GiB at 1M). Quality is printed too. Goal: ours at most 1.5 times
Splink's time, and under 8 GB at 1M.

**Lookup.** ``tadamun.matching.lookup.person_candidates`` as the desk operator of
``bench/generate.py``'s 1M dataset (``/tmp/tadamun-bench/sqlite-1m``, read only; generate it
first, see bench/README.md). Queries are people drawn at random from the database, typed as a
desk operator would: the name in another script or spelling than stored (40 %), with a typo
(10 %), given and family swapped (5 %), the family name cut short while typing (15 %); a full
date of birth (50 %), a year (30 %) or nothing. Each query is timed whole (Python, SQL,
scoring, the access check). Two ways to find candidates are measured:

* ``name keys``: the registry's existing ``PersonNameKey`` table (what runs today);
* ``match keys``: the ``PersonMatchKey`` table proposed in docs/decisions/0004-matching.md,
  created and filled (``keys.match_keys``) in a copy of the database
  (``/tmp/tadamun-bench/matching/sqlite-1m``), as the migration would.

Goal: p95 under 100 ms. Recall@10 (the person drawn is among the results, asked as the
platform operator, who sees every record) is printed beside, overall and by what was typed of
the birth: the generator draws 1M people from a few hundred names (about 2,300 are "Mohamed
Trabelsi"), so without a date the right one is often one of many the names cannot tell apart.
"""

import argparse
import json
import os
import random
import resource
import shutil
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


def _django(data_dir: Path):
    os.environ["TADAMUN_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tadamun.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _match_key_model():
    """The proposed model, declared here (unmanaged) until the registry has it."""
    from django.apps import apps
    from django.db import models

    try:
        return apps.get_model("registry", "PersonMatchKey")
    except LookupError:
        pass

    class PersonMatchKey(models.Model):  # noqa: DJ008
        person = models.ForeignKey(
            "registry.Person", on_delete=models.CASCADE, related_name="match_keys"
        )
        key = models.CharField(max_length=60)

        class Meta:
            app_label = "registry"
            managed = False
            db_table = "registry_personmatchkey"

    return PersonMatchKey


def prepare_copy() -> None:
    """Copy the 1M database and add the PersonMatchKey table, filled as a migration would."""
    done = COPY_1M / "match-keys-done"
    if done.exists():
        return
    COPY_1M.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for name in ("tadamun.sqlite3", "secret_key"):
        shutil.copyfile(SOURCE_1M / name, COPY_1M / name)
    print(f"copied the 1M database ({time.perf_counter() - started:.0f} s)", flush=True)
    filled = run_child(["--child-fill"], env={"TADAMUN_DATA_DIR": str(COPY_1M)})
    print(
        f"PersonMatchKey filled: {filled['keys']:,} keys for {filled['people']:,} people"
        f" in {filled['seconds']:.0f} s (keys.match_keys, executemany, then the indexes)",
        flush=True,
    )
    done.write_text("ok")


def fill_child() -> dict:
    _django(COPY_1M)
    from django.db import connection, transaction

    from tadamun.matching.keys import PersonRecord, match_keys
    from tadamun.registry.models import Person

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS registry_personmatchkey")
        cursor.execute(
            "CREATE TABLE registry_personmatchkey (id integer NOT NULL PRIMARY KEY AUTOINCREMENT,"
            ' "key" varchar(60) NOT NULL, person_id bigint NOT NULL'
            " REFERENCES registry_person (id) DEFERRABLE INITIALLY DEFERRED)"
        )
    fields = ("pk", "given_name", "family_name", "given_name_latin", "family_name_latin",
              "birth_date", "birth_year", "sex", "phone")  # fmt: skip
    rows = []
    total = 0
    people = Person.objects.unscoped("bench").values_list(*fields)
    raw = connection.connection
    for pk, g, f, gl, fl, bd, by, sex, phone in people.iterator(chunk_size=20_000):
        record = PersonRecord(g, f, gl, fl, bd, by, sex, phone)
        rows.extend((key, pk) for key in match_keys(record))
        if len(rows) > 200_000:
            with transaction.atomic():
                raw.executemany(
                    'INSERT INTO registry_personmatchkey ("key", person_id) VALUES (?, ?)', rows
                )
            total += len(rows)
            rows = []
    with transaction.atomic():
        raw.executemany(
            'INSERT INTO registry_personmatchkey ("key", person_id) VALUES (?, ?)', rows
        )
    total += len(rows)
    with connection.cursor() as cursor:
        cursor.execute(
            'CREATE UNIQUE INDEX match_key_person ON registry_personmatchkey ("key", person_id)'
        )
        cursor.execute("CREATE INDEX match_key_of_person ON registry_personmatchkey (person_id)")
        cursor.execute("ANALYZE registry_personmatchkey")
    people_count = Person.objects.unscoped("bench").count()
    return {"keys": total, "people": people_count, "seconds": time.perf_counter() - started}


def _typed(row, rng: random.Random) -> dict:
    """How a desk operator might type this person."""
    from tadamun.matching.phonetic import script_of

    pk, g, f, gl, fl, bd, by = row
    # Another script or spelling than the one stored, when the record has one.
    if rng.random() < 0.4 and (gl or fl) and script_of(g + f) != "latin":
        g, f = gl or g, fl or f
    if rng.random() < 0.1:
        word = g if rng.random() < 0.5 else f
        if len(word) > 3:
            k = rng.randrange(1, len(word) - 1)
            word2 = word[:k] + word[k + 1 :]
            g, f = (word2, f) if word == g else (g, word2)
    if rng.random() < 0.05:
        g, f = f, g
    if rng.random() < 0.15 and len(f) > 3:
        f = f[: rng.randint(3, len(f) - 1)]
    roll = rng.random()
    year = bd.year if bd else by
    birth_date = bd if roll < 0.5 else None
    birth_year = year if 0.5 <= roll < 0.8 else None
    return {
        "pk": pk,
        "given_name": g,
        "family_name": f,
        "birth_date": birth_date,
        "birth_year": birth_year,
    }


def lookup_child(mode: str, queries: int, seed: int) -> dict:
    _django(COPY_1M if mode == "match keys" else SOURCE_1M)
    from django.db.models import Max

    from tadamun.accounts.models import User
    from tadamun.matching import lookup
    from tadamun.registry.models import Person

    if mode == "match keys":
        _match_key_model()
    else:
        lookup._match_key_model = lambda: None
    rng = random.Random(seed)
    people = Person.objects.unscoped("bench")
    last = people.aggregate(last=Max("pk"))["last"]
    fields = ("pk", "given_name", "family_name", "given_name_latin", "family_name_latin",
              "birth_date", "birth_year")  # fmt: skip
    drawn = []
    while len(drawn) < queries + 20:
        row = people.filter(pk=rng.randint(1, last), archived_at__isnull=True).values_list(*fields)
        drawn.extend(_typed(r, rng) for r in row)
    desk = User.objects.get(username="bench_desk")
    operator = User(username="bench-operator", is_superuser=True)
    operator.pk = -1
    timings = []
    found = {"date": [0, 0], "year": [0, 0], "none": [0, 0]}
    for index, query in enumerate(drawn):
        pk = query.pop("pk")
        kind = "date" if query["birth_date"] else "year" if query["birth_year"] else "none"
        started = time.perf_counter()
        lookup.person_candidates(user=desk, **query)
        elapsed = time.perf_counter() - started
        if index >= 20:  # the first ones warm the caches (and build the catalogue)
            timings.append(elapsed * 1000)
            results = lookup.person_candidates(user=operator, **query)
            found[kind][0] += any(c.person_id == pk for c in results)
            found[kind][1] += 1
    timings.sort()
    return {
        "mode": mode,
        "queries": len(timings),
        "p50": statistics.median(timings),
        "p95": timings[int(0.95 * len(timings)) - 1],
        "max": timings[-1],
        "recall": sum(f[0] for f in found.values()) / len(timings),
        "recall_by_kind": {k: f[0] / max(f[1], 1) for k, f in found.items()},
    }


def lookups(queries: int, seed: int) -> list[dict]:
    if not (SOURCE_1M / "tadamun.sqlite3").exists():
        raise SystemExit(f"{SOURCE_1M} is missing: see bench/README.md to generate it")
    prepare_copy()
    results = []
    for mode in ("name keys", "match keys"):
        env = {"TADAMUN_DATA_DIR": str(COPY_1M if mode == "match keys" else SOURCE_1M)}
        results.append(run_child(["--child-lookup", mode, str(queries), str(seed)], env=env))
    print()
    print(
        f"{'candidates from':16} {'queries':>7} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}"
        f" {'recall@10':>9} {'with date':>9} {'year':>6} {'no date':>7}"
    )
    for r in results:
        kinds = r["recall_by_kind"]
        print(
            f"{r['mode']:16} {r['queries']:7} {r['p50']:7.1f} {r['p95']:7.1f} {r['max']:7.1f}"
            f" {r['recall']:9.1%} {kinds['date']:9.1%} {kinds['year']:6.1%} {kinds['none']:7.1%}"
        )
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", action="store_true")
    parser.add_argument("--lookup", action="store_true")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeat", type=int, default=1, help="batch rounds per size")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--child-batch", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--child-lookup", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--child-fill", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_batch:
        print(json.dumps(batch_child(args.child_batch[0], int(args.child_batch[1]))))
        return
    if args.child_lookup:
        mode, queries, seed = args.child_lookup
        print(json.dumps(lookup_child(mode, int(queries), int(seed))))
        return
    if args.child_fill:
        print(json.dumps(fill_child()))
        return
    everything = not (args.batch or args.lookup)
    if args.batch or everything:
        batch([int(s) for s in args.sizes.split(",")], args.repeat)
    if args.lookup or everything:
        lookups(args.queries, args.seed)


if __name__ == "__main__":
    main()
