"""How the micro-projects dashboard and portfolio at risk scale: 100,000 projects, 5,000,000
repayments; each read measured against the single SQL aggregate it needs.

    .venv/bin/python bench/projects_scale.py [--reuse] [--engines sqlite,postgresql]
                                            [--projects 100000] [--repayments 5000000]
                                            [--people 100000] [--runs 30] [--explain]

For each engine it fills a database of its own (SQLite in ``<dir>/sqlite-projects/``,
PostgreSQL in the database ``tadamun_bench_projects`` on ``--pg``), dropping what an earlier run
left unless ``--reuse`` is given (a dataset of the same size is then kept). The generation
(``--generate``, in a process of its own) writes

* the people of ``bench/generate.py`` (``--people``, the promoters) and its small world: a
  network of four associations and one association outside it, ``bench_coordinator`` (the
  network's coordinator, whose scope is the whole network) and ``bench_desk``; plus
  ``bench_desk_tabarka``, a desk operator of the Jendouba association limited to Tabarka;
* ``--projects`` projects, each promoted by a person of its organisation in the territory where
  that person lives, 15 % of them collective (a group of the organisation), financed between
  2016 and a month ago, with a grant (70 %), a loan (60 %) and support in kind (15 %), at least
  one of them; their status, jobs and revenue of the last visit, and, for the projects that
  stopped, the months they lasted (``months_alive``);
* for each loan its repayment schedule (``services.loan_schedule``: the platform's own rounding
  rule) and about ``--repayments`` repayments in all: 72 % of borrowers pay every instalment
  due (a tenth of them repay early), 13 % are one or two instalments behind, 15 % stopped
  paying part-way (most projects that stopped are among them); each instalment paid is paid in
  one or more repayments, as many as needed to reach the number asked for. ``outstanding`` and
  ``oldest_unpaid_due_on`` of each loan are computed here, as ``repayment_record`` keeps them.

Rows are made in Python with a seeded random and written in chunks of 2,000 projects per
transaction (``COPY`` on PostgreSQL, ``executemany`` on SQLite), so memory stays flat whatever
the number of repayments; nothing goes through the services (no audit rows), then ANALYZE.

The measurement (``--measure``, one process per engine) runs, for the coordinator and for the
Tabarka desk, ``--runs`` times after three to warm up, alternating which side goes first:

* ``dashboard``        ``selectors.dashboard(user)`` (the user's scope computed afresh, as in a
                       request) against the ``dashboard_rows`` aggregate alone: the same SQL,
                       executed raw and fetched;
* ``portfolio``        ``selectors.portfolio_at_risk(user)`` against ``portfolio_rows``, likewise;
* ``dashboard page``   GET of the dashboard and portfolio pages through Django's test client,
  ``portfolio page``   signed in (``force_login``), against the same aggregates; only when the
                       pages exist (their URL names are looked up).

It prints the medians and their ratio (the goal is under 3), the statements each read runs,
the generation time and the size of each database. With ``--explain``, or when a ratio is over
3, it prints the plan of the aggregate and the statements of the read, each timed.

This is a benchmark, not a test: it prints figures measured in one run and asserts nothing but
that the pages answer 200.
"""

import argparse
import bisect
import datetime
import itertools
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

CHUNK = 2_000  # projects (with their financing, schedules and repayments) per transaction
WARM_UP = 3
DESK_TABARKA = "bench_desk_tabarka"
USERS = {"bench_coordinator": "coordinator", DESK_TABARKA: "desk (Tabarka)"}
# URL names the pages may have; the first that resolves is measured.
PAGES = {
    "dashboard page": ("projects:dashboard",),
    "portfolio page": ("projects:portfolio", "projects:portfolio_at_risk", "projects:par"),
}
AGGREGATE_OF = {
    "dashboard": "dashboard",
    "portfolio": "portfolio",
    "dashboard page": "dashboard",
    "portfolio page": "portfolio",
}
SECTORS = [
    ("agriculture", "Agriculture", "Agriculture", "فلاحة", 0.22),
    ("livestock", "Livestock", "Élevage", "تربية الماشية", 0.15),
    ("crafts", "Crafts", "Artisanat", "حرف", 0.14),
    ("textile", "Textile and sewing", "Textile et couture", "نسيج وخياطة", 0.10),
    ("food", "Food processing", "Transformation alimentaire", "صناعات غذائية", 0.12),
    ("trade", "Small trade", "Petit commerce", "تجارة صغرى", 0.15),
    ("services", "Services", "Services", "خدمات", 0.08),
    ("digital", "Digital", "Numérique", "رقمي", 0.04),
]
CURRENCY = {"TN": "TND", "IT": "EUR", "GR": "EUR"}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--projects", type=int, default=100_000)
    parser.add_argument("--repayments", type=int, default=5_000_000)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=2011)
    parser.add_argument("--reuse", action="store_true", help="keep a dataset of the same size")
    parser.add_argument("--explain", action="store_true", help="print every plan")
    parser.add_argument(
        "--dir",
        default="/tmp/tadamun-bench",  # noqa: S108 - throwaway data, outside the repository
        help="the SQLite database and its secret key go to <dir>/sqlite-projects",
    )
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432", help="server URL")
    parser.add_argument("--json", help="also write the figures to this file")
    # Internal: the two halves, each in the process of one engine's dataset.
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--drop", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# The orchestrator -----------------------------------------------------------------------------


def dataset_env(args, engine: str) -> dict:
    env = os.environ.copy()
    env.pop("DATABASE_URL", None)
    env["DJANGO_SETTINGS_MODULE"] = "tadamun.settings"
    env["TADAMUN_DATA_DIR"] = str(Path(args.dir) / f"{engine}-projects")
    env["ALLOWED_HOSTS"] = "testserver"
    env["DEBUG"] = "0"
    env["LOG_LEVEL"] = "ERROR"
    if engine == "postgresql":
        env["DATABASE_URL"] = f"{args.pg.rstrip('/')}/tadamun_bench_projects"
    return env


def run(command: list[str], env: dict, capture: bool = False) -> subprocess.CompletedProcess:
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        command, env=env, cwd=ROOT, text=True, capture_output=capture, check=False
    )
    if result.returncode:
        if capture:
            sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"failed ({result.returncode}): {' '.join(command)}")
    return result


def sizes_args(args) -> list[str]:
    return [
        f"--projects={args.projects}",
        f"--repayments={args.repayments}",
        f"--people={args.people}",
        f"--seed={args.seed}",
    ]


def orchestrate(args) -> int:
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    results = {}
    for engine in engines:
        env = dataset_env(args, engine)
        print(f"== {engine}: {args.projects:,} projects, about {args.repayments:,} repayments")
        command = [sys.executable, str(Path(__file__).resolve()), "--generate", *sizes_args(args)]
        if not args.reuse:
            command.append("--drop")
        began = time.monotonic()
        generated = run(command, env, capture=True).stdout
        print(generated, end="", flush=True)
        took = time.monotonic() - began
        print(f"== {engine}: measuring", flush=True)
        command = [sys.executable, str(Path(__file__).resolve()), "--measure"]
        command += [f"--runs={args.runs}"] + (["--explain"] if args.explain else [])
        output = run(command, env, capture=True).stdout
        results[engine] = json.loads(output.strip().splitlines()[-1])
        results[engine]["generation_s"] = took
        results[engine]["generation_log"] = generated
    report(args, engines, results)
    return 0


def report(args, engines, results) -> None:
    first = results[engines[0]]
    print()
    print(f"Machine: {first['machine']}")
    for engine in engines:
        counts = results[engine]["counts"]
        print(
            f"{engine}: {results[engine]['server']}; "
            + ", ".join(f"{n:,} {name}" for name, n in counts.items())
        )
    print(f"Median of {args.runs} runs after {WARM_UP} to warm up, in milliseconds.")
    print()
    head = (
        f"| {'engine':<10} | {'user':<14} | {'read':<14} | {'ms read':>8} | {'ms aggregate':>12} "
        f"| {'ratio':>5} | {'queries':>7} | {'groups':>6} |"
    )
    print(head)
    print("|" + "|".join("-" * len(cell) for cell in head.split("|")[1:-1]) + "|")
    rows, explain = [], []
    for engine in engines:
        figures = results[engine]["figures"]
        for username, label in USERS.items():
            for read, value in figures[username].items():
                if value is None:
                    continue
                if read.endswith("aggregate"):
                    continue
                aggregate = figures[username][AGGREGATE_OF[read] + " aggregate"]
                ratio = value["median_ms"] / aggregate["median_ms"]
                print(
                    f"| {engine:<10} | {label:<14} | {read:<14} | {value['median_ms']:8.1f} "
                    f"| {aggregate['median_ms']:12.1f} | {ratio:5.2f} | {value['queries']:>7} "
                    f"| {aggregate['rows']:>6} |"
                )
                rows.append(
                    {
                        "engine": engine,
                        "user": label,
                        "read": read,
                        "ms": value["median_ms"],
                        "ms_aggregate": aggregate["median_ms"],
                        "ratio": ratio,
                    }
                )
                if value.get("statements") and (ratio > 3 or args.explain):
                    explain.append((engine, label, read, ratio, value, aggregate))
    missing = {
        read
        for engine in engines
        for username in USERS
        for read, value in results[engine]["figures"][username].items()
        if value is None
    }
    if missing:
        print(f"\nNot measured (no such page yet): {', '.join(sorted(missing))}")
    print()
    for engine in engines:
        result = results[engine]
        print(
            f"{engine}: generation {result['generation_s']:.0f} s"
            f"{' (reused)' if 'already' in result['generation_log'] else ''}, "
            f"database {result['size_bytes'] / 1e9:.2f} GB"
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "results": results}, indent=2))
    for engine, label, read, ratio, value, aggregate in explain:
        print(f"\n### {engine}, {label}, {read}: ratio {ratio:.2f}")
        print(f"the aggregate ({aggregate['median_ms']:.1f} ms):\n{aggregate['plan']}")
        print("the statements of one read, each timed again:")
        for statement in value["statements"]:
            print(f"-- {statement['ms']:.1f} ms: {statement['sql'][:400]}")


# The generation -------------------------------------------------------------------------------


def generate(args) -> int:
    import generate as people_generator

    people_generator.prepare_database(args.drop)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tadamun.projects.models import Project, Repayment

    began = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0)
    present = Project.objects.unscoped().count()
    if present:
        if present == args.projects and Repayment.objects.exists():
            print(
                f"{connection.settings_dict['NAME']}: {present:,} projects already, "
                f"{Repayment.objects.count():,} repayments; nothing to do"
            )
            return 0
        print(
            f"{connection.settings_dict['NAME']} already holds {present:,} projects: "
            "run without --reuse to start again",
            file=sys.stderr,
        )
        return 2
    log = lambda message: print(message, flush=True)  # noqa: E731
    log(f"Generating {args.people:,} people into {connection.vendor}")
    people_generator.generate(args.people, args.seed, log)
    counts = write_projects(args, log)
    people_generator.analyze(log)
    took = time.monotonic() - began
    log(f"Done in {took:.0f} s: " + ", ".join(f"{n:,} {name}" for name, n in counts.items()))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    log(f"Peak memory of the generator: {peak:.0f} MB")
    return 0


def region_of(territory, by_pk: dict):
    """The governorate or region above a territory (``services._region_of``, without queries)."""
    current = territory
    while current.parent_id is not None and by_pk[current.parent_id].parent_id is not None:
        current = by_pk[current.parent_id]
    return current


def money_unit(currency: str) -> Decimal:
    from tadamun.core.money import currency_decimals

    return Decimal(1).scaleb(-currency_decimals(currency))


def draw_amount(rng, low: int, high: int, currency: str) -> Decimal:
    unit = money_unit(currency)
    whole = Decimal(rng.randint(low, high) * 10)
    return whole + (Decimal(rng.randint(0, 99)) * unit if rng.random() < 0.3 else 0)


def plan_projects(args, rng, world) -> tuple[list, int]:
    """Every project's parameters (small tuples), and the instalments their borrowers paid
    in full, to know how many repayments each instalment takes."""
    from tadamun.projects.services import add_months, months_between

    today = world["today"]
    start = datetime.date(2016, 1, 1)
    span = (today - datetime.timedelta(days=30) - start).days
    sector_weights = list(itertools.accumulate(s[4] for s in SECTORS))
    org_weights = list(itertools.accumulate(w for _o, w in world["org_shares"]))
    plans, paid_instalments = [], 0
    for index in range(args.projects):
        org_id = world["org_shares"][
            bisect.bisect_right(org_weights, rng.random() * org_weights[-1])
        ][0]
        promoter, residence = rng.choice(world["people"][org_id])
        currency = world["currency"][org_id]
        sector = world["sectors"][
            bisect.bisect_right(sector_weights, rng.random() * sector_weights[-1])
        ]
        group = None
        if rng.random() < 0.15 and world["groups"].get(org_id):
            group = rng.choice(world["groups"][org_id])
        financed_on = start + datetime.timedelta(days=int(span * index / args.projects))
        # Survival: a constant monthly hazard, a mean life of about six years.
        lasted = int(rng.expovariate(1 / 72))
        stopped_on = add_months(financed_on, lasted) if lasted < 400 else None
        if stopped_on is not None and stopped_on > today - datetime.timedelta(days=20):
            stopped_on = None
        status = "stopped" if stopped_on else ("struggling" if rng.random() < 0.1 else "active")
        if stopped_on:
            visited = stopped_on
        elif rng.random() < 0.9:
            since = max(0, (today - financed_on).days)
            visited = today - datetime.timedelta(days=rng.randint(0, min(since, 240)))
        else:
            visited = None
        parts = []
        wants = [rng.random() < 0.7, rng.random() < 0.6, rng.random() < 0.15]
        if not any(wants):
            wants[rng.randrange(3)] = True
        if wants[0]:
            parts.append(("grant", draw_amount(rng, 50, 500, currency), None))
        loan = None
        if wants[1]:
            instalments = rng.choice((12, 18, 24, 24, 36, 36, 48, 60))
            grace = rng.choice((0, 0, 1, 2, 3, 6))
            first_due = add_months(financed_on, grace + 1)
            due = 0 if first_due > today else min(instalments, months_between(first_due, today) + 1)
            roll = rng.random()
            defaulted = roll < 0.15 or (stopped_on is not None and rng.random() < 0.7)
            if defaulted:
                paid = int(due * rng.uniform(0, 0.8))
            elif roll < 0.28:
                paid = max(0, due - rng.randint(1, 2))
            elif rng.random() < 0.1:
                paid = instalments  # repaid early
            else:
                paid = due
            partial = rng.random() < 0.3 and paid < instalments  # part of the next one
            paid_instalments += paid
            loan = (instalments, grace, first_due, paid, partial)
            parts.append(("loan", draw_amount(rng, 100, 1500, currency), loan))
        if wants[2]:
            parts.append(("in_kind", draw_amount(rng, 20, 200, currency), None))
        plans.append(
            (
                org_id, promoter, residence, currency, sector, group, financed_on, status,
                stopped_on, months_between(financed_on, stopped_on) if stopped_on else None,
                visited, parts,
            )
        )  # fmt: skip
    return plans, paid_instalments


def write_projects(args, log) -> dict:
    import generate as people_generator
    from django.db import connection, transaction
    from django.db.models import Max

    from tadamun.accounts.models import Membership, Role, User
    from tadamun.organisations.models import Organisation
    from tadamun.projects.models import Financing, Instalment, Project, Repayment, Sector
    from tadamun.projects.services import loan_schedule
    from tadamun.registry.models import Group, Person
    from tadamun.territories.models import Territory

    rng = random.Random(args.seed + 1)
    vendor = connection.vendor
    today = datetime.date.today()
    territories = {t.pk: t for t in Territory.objects.all()}
    jendouba = Organisation.objects.get(slug="bench-jendouba")
    desk, created = User.objects.get_or_create(
        username=DESK_TABARKA, defaults={"first_name": DESK_TABARKA, "language": "en"}
    )
    if created:
        desk.set_unusable_password()
        desk.save()
    Membership.objects.get_or_create(
        user=desk,
        organisation=jendouba,
        role=Role.DESK_OPERATOR,
        territory=Territory.objects.get(code="TN-32-TBK"),
    )
    recorder = User.objects.get(username=people_generator.DESK)
    sectors = []
    for code, en, fr, ar, _weight in SECTORS:
        sector, _ = Sector.objects.get_or_create(
            code=code, defaults={"name": {"en": en, "fr": fr, "ar": ar}}
        )
        sectors.append(sector.pk)
    organisations = {o.slug: o for o in Organisation.objects.filter(slug__startswith="bench-")}
    shares = [(organisations[slug].pk, share) for slug, _n, _t, _net, share, _c in
              people_generator.ORGANISATIONS]  # fmt: skip
    people: dict[int, list] = {}
    for pk, org_id, residence in (
        Person.objects.unscoped("bench").filter(archived_at=None)
        .values_list("pk", "organisation_id", "residence_id").iterator(chunk_size=10_000)
    ):  # fmt: skip
        people.setdefault(org_id, []).append((pk, residence))
    groups: dict[int, list] = {}
    for pk, org_id in Group.objects.unscoped("bench").values_list("pk", "organisation_id"):
        groups.setdefault(org_id, []).append(pk)
    world = {
        "today": today,
        "org_shares": shares,
        "people": people,
        "groups": groups,
        "sectors": sectors,
        "currency": {o.pk: CURRENCY[o.country] for o in organisations.values()},
    }
    plans, paid_instalments = plan_projects(args, rng, world)
    per_instalment = max(1.0, args.repayments / max(paid_instalments, 1))
    log(
        f"  {len(plans):,} projects planned; {paid_instalments:,} instalments paid in full, "
        f"{per_instalment:.2f} repayments each"
    )

    if vendor == "sqlite":
        # A page cache of 200 MB (the people's generator asks for 1 GB).
        connection.connection.execute("PRAGMA cache_size=-200000")
        connection.connection.execute("PRAGMA synchronous=OFF")

        def day(value):
            return value.isoformat() if value is not None else None
    else:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")

        def day(value):
            return value

    def when(moment):
        return connection.ops.adapt_datetimefield_value(moment)

    Table = people_generator.Table  # noqa: N806 - a class
    projects = Table(
        connection,
        Project,
        [
            "id", "created_at", "updated_at", "code", "organisation_id", "kind", "promoter_id",
            "group_id", "territory_id", "region_id", "sector_id", "title", "currency",
            "financed_on", "amount_financed", "status", "stopped_on", "months_alive",
            "last_visit_on", "jobs_women", "jobs_men", "monthly_revenue",
        ],
    )  # fmt: skip
    financings = Table(
        connection,
        Financing,
        [
            "id", "project_id", "kind", "amount", "awarded_on", "grace_months", "instalments",
            "first_due_on", "outstanding", "oldest_unpaid_due_on",
        ],
    )  # fmt: skip
    instalments = Table(
        connection, Instalment, ["financing_id", "number", "due_on", "amount", "paid"]
    )
    repayments = Table(
        connection,
        Repayment,
        ["financing_id", "paid_on", "amount", "receipt", "recorded_by_id", "recorded_at"],
    )
    tables = [projects, financings, instalments, repayments]
    project_id = (Project.objects.unscoped("bench").aggregate(m=Max("id"))["m"] or 0) + 1
    financing_id = (Financing.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    regions = {pk: region_of(t, territories).pk for pk, t in territories.items()}
    counts = dict.fromkeys(("projects", "financings", "loans", "instalments", "repayments"), 0)
    whole, fraction = int(per_instalment), per_instalment - int(per_instalment)
    began = time.monotonic()
    for start in range(0, len(plans), CHUNK):
        for plan in plans[start : start + CHUNK]:
            (org_id, promoter, residence, currency, sector, group, financed_on, status,
             stopped_on, months_alive, visited, parts) = plan  # fmt: skip
            moment = when(
                datetime.datetime.combine(financed_on, datetime.time(9), tzinfo=datetime.UTC)
            )
            unit = money_unit(currency)
            total = sum((amount for _k, amount, _l in parts), Decimal(0))
            projects.add(
                (
                    project_id, moment, moment, f"BP{project_id:07d}", org_id,
                    "collective" if group else "individual", promoter, group, residence,
                    regions[residence], sector, f"Project {project_id}", currency, day(financed_on),
                    total, status, day(stopped_on), months_alive, day(visited),
                    rng.randint(0, 3), rng.randint(0, 3),
                    Decimal(rng.randint(10, 300) * 10) if visited else None,
                )
            )  # fmt: skip
            counts["projects"] += 1
            for kind, amount, loan in parts:
                if loan is None:
                    financings.add(
                        (financing_id, project_id, kind, amount, day(financed_on), 0, None, None,
                         Decimal(0), None)
                    )  # fmt: skip
                    financing_id += 1
                    counts["financings"] += 1
                    continue
                number_of, grace, first_due, paid_count, partial = loan
                schedule = loan_schedule(amount, currency, number_of, first_due)
                paid_total = Decimal(0)
                oldest = None
                sequence = 0
                for number, due_on, due_amount in schedule:
                    paid = Decimal(0)
                    if number <= paid_count:
                        paid = due_amount
                        pieces = whole + (1 if rng.random() < fraction else 0)
                    elif number == paid_count + 1 and partial:
                        paid = (due_amount * Decimal(rng.uniform(0.2, 0.8))).quantize(unit)
                        pieces = 1
                    if paid:
                        # The instalment paid in ``pieces`` repayments around its due date.
                        each = (paid / pieces).quantize(unit, rounding="ROUND_DOWN")
                        for piece in range(pieces):
                            value = each if piece < pieces - 1 else paid - each * (pieces - 1)
                            if value <= 0:
                                continue
                            paid_on = due_on + datetime.timedelta(
                                days=rng.randint(-12, 6) - 7 * (pieces - 1 - piece)
                            )
                            paid_on = min(max(paid_on, financed_on), today)
                            sequence += 1
                            repayments.add(
                                (financing_id, day(paid_on), value,
                                 f"R{financing_id}-{sequence:04d}", recorder.pk, moment)
                            )  # fmt: skip
                    if paid < due_amount and oldest is None:
                        oldest = due_on
                    paid_total += paid
                    instalments.add((financing_id, number, day(due_on), due_amount, paid))
                financings.add(
                    (financing_id, project_id, kind, amount, day(financed_on), grace, number_of,
                     day(first_due), amount - paid_total, day(oldest))
                )  # fmt: skip
                counts["financings"] += 1
                counts["loans"] += 1
                counts["instalments"] += len(schedule)
                counts["repayments"] += sequence
                financing_id += 1
            project_id += 1
        with transaction.atomic():
            for table in tables:
                table.flush()
        done = min(start + CHUNK, len(plans))
        if done % 20_000 == 0 or done == len(plans):
            log(
                f"  {done:>9,} projects  {counts['repayments']:>11,} repayments  "
                f"{time.monotonic() - began:6.1f} s"
            )
    if vendor == "postgresql":
        from django.core.management.color import no_style

        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(
                no_style(), [Project, Financing, Instalment, Repayment, Sector]
            ):
                cursor.execute(statement)
    return counts


# The measurement ------------------------------------------------------------------------------


def explain(connection, sql: str, params) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        rows = cursor.fetchall()
    depth = {0: 0}
    lines = []
    for node, parent, _unused, detail in rows:
        depth[node] = depth.get(parent, 0) + 1
        lines.append("  " * depth[node] + detail)
    return "\n".join(lines)


def timed_statements(connection, captured) -> list[dict]:
    """The statements of one read, each executed again and fetched, slowest first."""
    timed = []
    for query in captured:
        sql = query["sql"]
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            began = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            timed.append({"ms": (time.perf_counter() - began) * 1000, "sql": sql})
    return sorted(timed, key=lambda s: -s["ms"])


def measure(args) -> int:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch, reverse
    from django.utils import timezone

    from tadamun.access.scope import forget_scope
    from tadamun.accounts.models import User
    from tadamun.projects import selectors
    from tadamun.projects.models import Financing, Instalment, Project, Repayment

    counts = {
        "projects": Project.objects.unscoped("bench").count(),
        "loans": Financing.objects.filter(kind="loan").count(),
        "instalments": Instalment.objects.count(),
        "repayments": Repayment.objects.count(),
    }
    pages = {}
    for read, names in PAGES.items():
        for name in names:
            try:
                pages[read] = reverse(name)
                break
            except NoReverseMatch:
                continue

    figures: dict = {}
    for username in USERS:
        user = User.objects.get(username=username)
        today = timezone.localdate()

        def fresh(user=user):
            forget_scope(user)
            return user

        aggregates = {
            "dashboard": selectors.dashboard_rows(selectors.visible_projects(fresh()), today),
            "portfolio": selectors.portfolio_rows(selectors.visible_loans(fresh()), today),
        }
        reads = {
            "dashboard": lambda: selectors.dashboard(fresh()),
            "portfolio": lambda: selectors.portfolio_at_risk(fresh()),
        }
        client = Client()
        client.force_login(user)
        for read, path in pages.items():

            def get(path=path, client=client):
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)
                return response

            reads[read] = get
        compiled = {}
        for name, queryset in aggregates.items():
            sql, params = queryset.query.sql_with_params()
            compiled[name] = (sql, params)

            def raw(sql=sql, params=params):
                with connection.cursor() as cursor:
                    cursor.execute(sql, params)
                    return cursor.fetchall()

            reads[f"{name} aggregate"] = raw
        times: dict = {name: [] for name in reads}
        for name in reads:
            for _ in range(WARM_UP):
                reads[name]()
        for i in range(args.runs):
            order = list(reads) if i % 2 else list(reversed(reads))
            for name in order:
                began = time.perf_counter()
                reads[name]()
                times[name].append((time.perf_counter() - began) * 1000)
        result: dict = dict.fromkeys(PAGES)
        for name, call in reads.items():
            with CaptureQueriesContext(connection) as captured:
                value = call()
            entry = {
                "median_ms": statistics.median(times[name]),
                "min_ms": min(times[name]),
                "queries": len(captured.captured_queries),
            }
            if name.endswith("aggregate"):
                sql, params = compiled[name.removesuffix(" aggregate")]
                entry["rows"] = len(value)
                entry["plan"] = explain(connection, sql, params)
                entry["sql"] = sql
            else:
                entry["statements"] = timed_statements(connection, captured.captured_queries)
            result[name] = entry
        figures[username] = result
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT version(), pg_database_size(current_database())")
            version, size = cursor.fetchone()
        server = version.split(" on ")[0]
    else:
        import sqlite3

        server = f"SQLite {sqlite3.sqlite_version}"
        size = Path(connection.settings_dict["NAME"]).stat().st_size
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    machine += f", Django {django.get_version()}"
    print(
        json.dumps(
            {
                "counts": counts,
                "figures": figures,
                "server": server,
                "machine": machine,
                "size_bytes": size,
                "pages": pages,
            },
            default=str,
        )
    )
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.generate:
        return generate(args)
    if args.measure:
        return measure(args)
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main())
