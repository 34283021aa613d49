"""The typing-time lookup (``tadamun.matching.lookup.person_candidates``) against the datasets
of ``bench/generate.py``, which hold the registry's ``PersonMatchKey`` as the services write it.

    .venv/bin/python bench/matching_lookup.py                          # SQLite, 1M, 1,000 queries
    .venv/bin/python bench/matching_lookup.py --engines sqlite,postgresql --sizes 1000,1000000

Each dataset is the one ``bench/people_scale.py`` uses (``/tmp/tadamun-bench/<engine>-<size>``,
the PostgreSQL database ``tadamun_bench_<size>``); it is generated first when missing
(``generate.py --if-present``: an existing dataset is only migrated, which fills the match keys of
a dataset generated before they existed). One child process per dataset.

Queries are people drawn at random from the dataset, typed as a desk operator would
(``_typed``): the name in another script or spelling than stored
(40 %), with a typo (10 %), swapped (5 %), the family name cut short while typing (15 %); a
full date of birth (50 %), a year (30 %) or nothing. Each query is timed whole as the desk
operator of the dataset (Python, SQL, scoring, the access check), after 20 to warm up. Goal:
p95 under 100 ms. Recall@10 asks, as the platform operator, whether the person drawn is among
the results.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
WARM_UP = 20


def label(size: int) -> str:
    for unit, name in ((1_000_000, "m"), (1_000, "k")):
        if size >= unit and size % unit == 0:
            return f"{size // unit}{name}"
    return str(size)


def dataset_env(args, engine: str, size: int) -> dict:
    env = os.environ.copy()
    env.pop("DATABASE_URL", None)
    env["DJANGO_SETTINGS_MODULE"] = "tadamun.settings"
    env["TADAMUN_DATA_DIR"] = str(Path(args.dir) / f"{engine}-{label(size)}")
    env["DEBUG"] = "0"
    env["LOG_LEVEL"] = "ERROR"
    if engine == "postgresql":
        env["DATABASE_URL"] = f"{args.pg.rstrip('/')}/tadamun_bench_{label(size)}"
    return env


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


def child(mode: str, queries: int, seed: int) -> dict:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(BENCH))
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Max

    from tadamun.accounts.models import User
    from tadamun.matching import lookup
    from tadamun.registry.models import Person, PersonMatchKey

    rng = random.Random(seed)
    people = Person.objects.unscoped("bench")
    last = people.aggregate(last=Max("pk"))["last"]
    fields = ("pk", "given_name", "family_name", "given_name_latin", "family_name_latin",
              "birth_date", "birth_year")  # fmt: skip
    drawn = []
    while len(drawn) < queries + WARM_UP:
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
        if index >= WARM_UP:
            timings.append(elapsed * 1000)
            results = lookup.person_candidates(user=operator, **query)
            found[kind][0] += any(c.person_id == pk for c in results)
            found[kind][1] += 1
    timings.sort()
    return {
        "engine": connection.vendor,
        "people": people.count(),
        "match_keys": PersonMatchKey.objects.count(),
        "mode": mode,
        "queries": len(timings),
        "p50": statistics.median(timings),
        "p95": timings[int(0.95 * len(timings)) - 1],
        "max": timings[-1],
        "recall": sum(f[0] for f in found.values()) / len(timings),
        "recall_by_kind": {k: f[0] / max(f[1], 1) for k, f in found.items()},
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite")
    parser.add_argument("--sizes", default="1000000")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--dir", default="/tmp/tadamun-bench")  # noqa: S108 - throwaway data
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, queries, seed = args.child
        print(json.dumps(child(mode, int(queries), int(seed))))
        return 0

    modes = ["match keys"]
    results = []
    for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
        for size in sorted(int(s) for s in args.sizes.split(",")):
            env = dataset_env(args, engine, size)
            began = time.monotonic()
            subprocess.run(  # noqa: S603 - our own interpreter and script
                [sys.executable, str(BENCH / "generate.py"), str(size), "--if-present"],
                env=env,
                cwd=ROOT,
                check=True,
            )
            print(f"{engine} {label(size)} ready ({time.monotonic() - began:.0f} s)", flush=True)
            for mode in modes:
                output = subprocess.run(  # noqa: S603 - our own interpreter and script
                    [sys.executable, __file__, "--child", mode, str(args.queries), str(args.seed)],
                    env=env,
                    cwd=ROOT,
                    check=True,
                    capture_output=True,
                    text=True,
                )
                result = json.loads(output.stdout.strip().splitlines()[-1])
                result["size"] = size
                results.append(result)
    print()
    print(
        f"{'engine':10} {'people':>9} {'candidates from':15} {'p50 ms':>7} {'p95 ms':>7}"
        f" {'max ms':>7} {'recall@10':>9} {'with date':>9} {'year':>6} {'no date':>7}"
    )
    for r in results:
        kinds = r["recall_by_kind"]
        print(
            f"{r['engine']:10} {r['people']:>9,} {r['mode']:15} {r['p50']:7.1f} {r['p95']:7.1f}"
            f" {r['max']:7.1f} {r['recall']:9.1%} {kinds['date']:9.1%} {kinds['year']:6.1%}"
            f" {kinds['none']:7.1%}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
