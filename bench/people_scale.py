"""How the people pages scale: the time at 1M people divided by the time at 1k.

    .venv/bin/python bench/people_scale.py [--reuse] [--engines sqlite,postgresql]
                                          [--sizes 1000,1000000] [--requests 30] [--explain]

For each engine and size it fills a database of its own with ``bench/generate.py`` (SQLite in
``<dir>/sqlite-<size>/``, PostgreSQL in the database ``tadamun_bench_<size>`` on ``--pg``),
dropping what an earlier run left unless ``--reuse`` is given. Then one process per engine
runs ANALYZE on each dataset and measures them all, with Django's test client signed in
(``force_login``) as the network coordinator and as a desk operator of one member
organisation, requesting

* ``list``           GET /people/                     (first page)
* ``search common``  GET /people/?q=Mohamed Trabelsi  (a common given and family name)
* ``search rare``    GET /people/?q=Mabrouka Hassoumi (a rare pair: 24 people in 1M)
* ``person``         GET /people/<pk>/                (a different visible person each time)

a few times to warm up, then ``--requests`` times, each request on one size followed by the
same request on the other (so that whatever else the machine does weighs on both sides of the
ratio alike); the figure is the median. The table gives the medians at the smallest and
largest size and their ratio (the goal is under 2). When a ratio is over 2 (or with
``--explain``) the slowest SQL statements of that request at the largest size are printed
with their plan (EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL), so the cause
is visible.

This is a benchmark, not a test: it prints figures measured in one run and asserts nothing
but that the pages answer 200.
"""

import argparse
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
PERSON_LINK = re.compile(r'href="/people/(\d+)/"')

COMMON_NAME = "Mohamed Trabelsi"
RARE_NAME = "Mabrouka Hassoumi"
USERS = ("bench_coordinator", "bench_desk")
USER_LABELS = {"bench_coordinator": "coordinator", "bench_desk": "desk"}
OPERATIONS = ("list", "search common", "search rare", "person")
SLOWEST = 3  # statements explained per request
EXPLAIN_FROM = 100_000  # people: plans are kept for the large datasets only
WARM_UP = 5


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--sizes", default="1000,1000000")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="keep datasets already generated")
    parser.add_argument("--explain", action="store_true", help="print every plan at the top size")
    parser.add_argument(
        "--dir",
        default="/tmp/tadamun-bench",  # noqa: S108 - throwaway data, outside the repository
        help="SQLite databases and secret keys, one folder per dataset",
    )
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432", help="server URL")
    parser.add_argument("--json", help="also write the figures to this file")
    # Internal: measure the dataset the environment names and print JSON.
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dataset", action="append", default=[], help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# The orchestrator -----------------------------------------------------------------------------


def dataset_env(args, engine: str, size: int) -> dict:
    env = os.environ.copy()
    env.pop("DATABASE_URL", None)
    env["DJANGO_SETTINGS_MODULE"] = "tadamun.settings"
    env["TADAMUN_DATA_DIR"] = str(Path(args.dir) / f"{engine}-{label(size)}")
    env["ALLOWED_HOSTS"] = "testserver"
    env["DEBUG"] = "0"
    env["LOG_LEVEL"] = "ERROR"
    if engine == "postgresql":
        env["DATABASE_URL"] = f"{args.pg.rstrip('/')}/tadamun_bench_{label(size)}"
    return env


def label(size: int) -> str:
    for unit, name in ((1_000_000, "m"), (1_000, "k")):
        if size >= unit and size % unit == 0:
            return f"{size // unit}{name}"
    return str(size)


def run(command: list[str], env: dict, capture: bool = False) -> subprocess.CompletedProcess:
    result = subprocess.run(  # noqa: S603 - our own interpreter and scripts
        command, env=env, cwd=ROOT, text=True, capture_output=capture, check=False
    )
    if result.returncode:
        if capture:
            sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"failed ({result.returncode}): {' '.join(command)}")
    return result


def dataset_name(env: dict) -> str:
    """What the settings call this dataset's database: a file (SQLite) or a database name."""
    if "DATABASE_URL" in env:
        return env["DATABASE_URL"].rsplit("/", 1)[-1]
    return str(Path(env["TADAMUN_DATA_DIR"]) / "tadamun.sqlite3")


def orchestrate(args) -> int:
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    sizes = sorted(int(s) for s in args.sizes.split(","))
    results: dict = {}
    generated: dict = {}
    for engine in engines:
        for size in sizes:
            env = dataset_env(args, engine, size)
            print(f"== {engine}, {size:,} people", flush=True)
            began = time.monotonic()
            flag = "--if-present" if args.reuse else "--drop"
            run([sys.executable, str(BENCH / "generate.py"), str(size), flag], env)
            generated[(engine, size)] = time.monotonic() - began
        # One process measures every size, request by request in turn, so that whatever
        # else the machine does at a moment weighs on both sides of the ratio alike.
        print(f"== {engine}: measuring", flush=True)
        command = [sys.executable, str(Path(__file__).resolve()), "--measure"]
        command += ["--requests", str(args.requests)]
        for size in sizes:
            command += ["--dataset", f"{size}={dataset_name(dataset_env(args, engine, size))}"]
        output = run(command, dataset_env(args, engine, sizes[0]), capture=True).stdout
        measured = json.loads(output.strip().splitlines()[-1])
        for size in sizes:
            results[(engine, size)] = {**measured, "figures": measured["figures"][str(size)]}
    report(args, engines, sizes, results, generated)
    return 0


def report(args, engines, sizes, results, generated) -> None:
    small, large = sizes[0], sizes[-1]
    first = results[(engines[0], small)]
    print()
    print(f"Machine: {first['machine']}")
    for engine in engines:
        print(f"{engine}: {results[(engine, large)]['server']}")
    print(f"Median of {args.requests} requests after {WARM_UP} to warm up, in milliseconds.")
    print()
    head = (
        f"| {'engine':<10} | {'user':<11} | {'operation':<13} | {'ms at ' + label(small):>9} "
        f"| {'ms at ' + label(large):>9} | {'ratio':>5} | {'queries':>7} |"
    )
    print(head)
    print("|" + "|".join("-" * (len(cell)) for cell in head.split("|")[1:-1]) + "|")
    rows, explain = [], []
    for engine in engines:
        for user in USERS:
            for operation in OPERATIONS:
                a = results[(engine, small)]["figures"][user][operation]
                b = results[(engine, large)]["figures"][user][operation]
                ratio = b["median_ms"] / a["median_ms"]
                queries = f"{a['queries']}/{b['queries']}" if a["queries"] != b["queries"] else (
                    str(a["queries"])
                )  # fmt: skip
                print(
                    f"| {engine:<10} | {USER_LABELS[user]:<11} | {operation:<13} "
                    f"| {a['median_ms']:9.1f} | {b['median_ms']:9.1f} | {ratio:5.2f} "
                    f"| {queries:>7} |"
                )
                rows.append(
                    {
                        "engine": engine,
                        "user": USER_LABELS[user],
                        "operation": operation,
                        "ms_small": a["median_ms"],
                        "ms_large": b["median_ms"],
                        "ratio": ratio,
                        "rows_small": a["rows"],
                        "rows_large": b["rows"],
                    }
                )
                if ratio > 2 or args.explain:
                    explain.append((engine, user, operation, ratio, b["slowest"]))
    print()
    print("Rows shown on the page (small / large):", end=" ")
    print(", ".join(f"{r['operation']} {r['rows_small']}/{r['rows_large']}" for r in rows[:4]))
    note = " (reused: checked and migrated only)" if args.reuse else ""
    print(
        f"Dataset generation{note}, seconds: "
        + ", ".join(f"{e} {label(s)} {t:.0f}" for (e, s), t in generated.items())
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "results": _plain(results)}, indent=2))
    for engine, user, operation, ratio, slowest in explain:
        print()
        print(
            f"### {engine}, {USER_LABELS[user]}, {operation}: ratio {ratio:.2f}; at {label(large)}"
        )
        print("the slowest statements of one request, with their plans:")
        for statement in slowest:
            print(f"\n-- {statement['ms']:.1f} ms\n{statement['sql']}\n{statement['plan']}")


def _plain(results: dict) -> dict:
    return {f"{engine}-{size}": value for (engine, size), value in results.items()}


# The measurement, in a process of its own per dataset -----------------------------------------


def explain(connection, sql: str) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        rows = cursor.fetchall()
    # (id, parent, notused, detail): indent each step under its parent.
    depth = {0: 0}
    lines = []
    for node, parent, _unused, detail in rows:
        depth[node] = depth.get(parent, 0) + 1
        lines.append("  " * depth[node] + detail)
    return "\n".join(lines)


def measure(args) -> int:
    import copy

    import django

    django.setup()
    from django.db import DEFAULT_DB_ALIAS, connection, connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tadamun.accounts.models import User
    from tadamun.registry.models import Person

    # One database connection per dataset, put in place as "default" before each request.
    base = connections[DEFAULT_DB_ALIAS]
    datasets = {}
    for spec in args.dataset:
        size, name = spec.split("=", 1)
        settings_dict = copy.deepcopy(base.settings_dict)
        settings_dict["NAME"] = name
        datasets[int(size)] = base.__class__(settings_dict, DEFAULT_DB_ALIAS)
    sizes = sorted(datasets)

    def use(size: int) -> None:
        connections[DEFAULT_DB_ALIAS] = datasets[size]

    rng = random.Random(7)
    clients: dict = {}
    paths: dict = {}
    totals: dict = {}
    for size in sizes:
        use(size)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        totals[size] = Person.objects.unscoped().count()
        top = Person.objects.unscoped().order_by("-pk").values_list("pk", flat=True).first()
        for username in USERS:
            user = User.objects.get(username=username)
            visible = Person.objects.visible_to(user).filter(archived_at=None)
            pks: list[int] = []
            while len(pks) < args.requests + WARM_UP:
                candidates = [rng.randint(1, top) for _ in range(200)]
                pks += list(visible.filter(pk__in=candidates).values_list("pk", flat=True))
            rng.shuffle(pks)
            paths[size, username] = {
                "list": lambda _i: "/people/",
                "search common": lambda _i: "/people/?" + urlencode({"q": COMMON_NAME}),
                "search rare": lambda _i: "/people/?" + urlencode({"q": RARE_NAME}),
                "person": lambda i, pks=pks: f"/people/{pks[i]}/",
            }
            client = Client()
            client.force_login(user)
            clients[size, username] = client

    def get(size, username, operation, i):
        use(size)
        path = paths[size, username][operation](i)
        response = clients[size, username].get(path)
        assert response.status_code == 200, (size, path, response.status_code)
        return response

    figures: dict = {str(size): {username: {} for username in USERS} for size in sizes}
    for username in USERS:
        for operation in OPERATIONS:
            for i in range(WARM_UP):
                for size in sizes:
                    get(size, username, operation, args.requests + i)
            times: dict = {size: [] for size in sizes}
            for i in range(args.requests):
                # Alternate which size goes first.
                for size in sizes if i % 2 else reversed(sizes):
                    began = time.perf_counter()
                    get(size, username, operation, i)
                    times[size].append((time.perf_counter() - began) * 1000)
            for size in sizes:
                # One more, recording its statements, to count them and explain the slowest.
                use(size)
                with CaptureQueriesContext(connection) as captured:
                    response = get(size, username, operation, 0)
                statements = [q["sql"] for q in captured.captured_queries]
                slowest = []
                if totals[size] >= EXPLAIN_FROM:
                    slowest = explain_slowest(connection, statements)
                shown = len(set(PERSON_LINK.findall(response.content.decode())))
                figures[str(size)][username][operation] = {
                    "median_ms": statistics.median(times[size]),
                    "min_ms": min(times[size]),
                    "queries": len(statements),
                    "rows": shown if operation != "person" else 1,
                    "slowest": slowest,
                }
    use(sizes[-1])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            server = cursor.fetchone()[0].split(" on ")[0]
    else:
        import sqlite3

        server = f"SQLite {sqlite3.sqlite_version}"
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    machine += f", Django {django.get_version()}"
    print(json.dumps({"people": totals, "figures": figures, "server": server, "machine": machine}))
    return 0


def explain_slowest(connection, statements: list[str]) -> list[dict]:
    """The slowest SELECTs, timed again to the last row (SQLite computes rows as they are
    fetched), with their plans."""
    timed = []
    for sql in statements:
        if not sql.lstrip().startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            began = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            timed.append(((time.perf_counter() - began) * 1000, sql))
    timed.sort(key=lambda pair: -pair[0])
    return [{"ms": ms, "sql": sql, "plan": explain(connection, sql)} for ms, sql in timed[:SLOWEST]]


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.measure:
        return measure(args)
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main())
