"""Fill a database with N synthetic people, for the scale benchmark.

    .venv/bin/python bench/generate.py 1000000 [--drop] [--if-present] [--seed 2016]

The database is the one the settings name: ``DATABASE_URL`` (PostgreSQL) or SQLite in
``TADAMUN_DATA_DIR``. ``--drop`` starts from an empty database (the SQLite file is deleted,
the PostgreSQL database dropped and created again); ``--if-present`` does nothing when the
database already holds exactly N people from an earlier run.

What it writes, beside a small world (territories, a network of four organisations and one
organisation outside it, a coordinator of the network ``bench_coordinator`` and a desk operator
of one member ``bench_desk``):

* N people, with names drawn from ``tadamun/demo/data/names.json`` (Arabic with Latin
  transliteration, Italian, Greek) weighted as there; 2 % of them archived;
* their name keys (``PersonNameKey``) folded exactly as the registry folds them, and their match
  keys (``PersonMatchKey``, ``tadamun.matching.keys.match_keys``) as the services write them;
* one ``PersonShare`` each (the registering organisation) and a second one for 3 % of them;
* about 1.5 consents each, about one group per 20 people with 2 to 6 members each;
* one history row each (``HistoricalPerson``, "+" created), as a person page reads it.
  The history tables of shares, consents, groups and members stay empty: no page measured
  reads them.

Rows are made in Python with a seeded random and written straight to the tables, 10,000
people (and their rows) per transaction: ``executemany`` on SQLite, ``COPY`` on PostgreSQL.
Nothing goes through the services or simple-history, so no rule is checked: the data is
valid by construction. Afterwards it runs ANALYZE (VACUUM ANALYZE on PostgreSQL).
"""

import argparse
import bisect
import datetime
import itertools
import json
import os
import random
import sys
import time
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tadamun.settings")

CHUNK = 10_000  # people per transaction

COORDINATOR = "bench_coordinator"
DESK = "bench_desk"

# (slug, name, territory code, in the network, share of the people, countries of their names)
ORGANISATIONS = [
    ("bench-jendouba", "Association of Jendouba", "TN-32", True, 0.30, {"TN": 1.0}),
    ("bench-kef", "Association of Kef", "TN-33", True, 0.20, {"TN": 1.0}),
    ("bench-tunis", "Association of Tunis", "TN-11", True, 0.20, {"TN": 0.6, "MA": 0.4}),
    ("bench-empoli", "Associazione di Empoli", "IT-FI-EMP", True, 0.15, {"IT": 0.8, "MA": 0.2}),
    ("bench-serres", "Σύλλογος Σερρών", "GR-B-SER", False, 0.15, {"GR": 0.9, "IT": 0.1}),
]
NETWORK = "bench-net"
DESK_ORGANISATION = "bench-jendouba"

# (code, name, parent code, level)
TERRITORIES = [
    ("TN", "Tunisia", None, "country"),
    ("TN-11", "Tunis", "TN", "governorate"),
    ("TN-11-BAR", "Bardo", "TN-11", "delegation"),
    ("TN-11-MED", "Medina", "TN-11", "delegation"),
    ("TN-32", "Jendouba", "TN", "governorate"),
    ("TN-32-TBK", "Tabarka", "TN-32", "delegation"),
    ("TN-32-AID", "Ain Draham", "TN-32", "delegation"),
    ("TN-32-JEN", "Jendouba Nord", "TN-32", "delegation"),
    ("TN-33", "Kef", "TN", "governorate"),
    ("TN-33-KEF", "Kef Est", "TN-33", "delegation"),
    ("TN-33-DAH", "Dahmani", "TN-33", "delegation"),
    ("IT", "Italy", None, "country"),
    ("IT-FI", "Firenze", "IT", "province"),
    ("IT-FI-EMP", "Empoli", "IT-FI", "municipality"),
    ("IT-FI-VIN", "Vinci", "IT-FI", "municipality"),
    ("GR", "Greece", None, "country"),
    ("GR-B", "Central Macedonia", "GR", "region"),
    ("GR-B-SER", "Serres", "GR-B", "regional_unit"),
]

PHONES = {
    "TN": "+216 {a}{b} {c:03d} {d:03d}",
    "MA": "+212 6{a}{b} {c:03d} {d:03d}",
    "IT": "+39 3{a}{b} {c:03d} {d:03d}4",
    "GR": "+30 69{a} {c:03d} {d:03d}5",
}
LANGUAGES = {"TN": '["ar", "fr"]', "MA": '["ar", "fr"]', "IT": '["it"]', "GR": '["el"]'}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("people", type=int, help="how many people, e.g. 1000 or 1000000")
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument("--drop", action="store_true", help="start from an empty database")
    parser.add_argument(
        "--if-present",
        action="store_true",
        help="do nothing if the database already holds exactly this many people",
    )
    parser.add_argument("--quiet", action="store_true")
    return parser.parse_args(argv)


# The database, before Django starts ----------------------------------------------------------


def database_url() -> str | None:
    return os.environ.get("DATABASE_URL") or None


def prepare_database(drop: bool) -> None:
    """Create (or, with ``drop``, re-create) the database the settings will use."""
    url = database_url()
    if url is None:
        data_dir = Path(os.environ.get("TADAMUN_DATA_DIR", Path.cwd() / "data")).resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        if drop:
            for suffix in ("", "-wal", "-shm"):
                (data_dir / f"tadamun.sqlite3{suffix}").unlink(missing_ok=True)
        return
    import dj_database_url
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(url)
    name = config["NAME"]
    admin = psycopg.connect(
        dbname="postgres",
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
        autocommit=True,
    )
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and drop:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# Writing rows ---------------------------------------------------------------------------------


class Table:
    """Rows of one model written in bulk: the columns given, the others at their default."""

    def __init__(self, connection, model, attnames: list[str]):
        from django.db.models import AutoField

        self.connection = connection
        self.table = model._meta.db_table
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        missing = [a for a in attnames if a not in by_attname]
        if missing:
            raise SystemExit(f"{model.__name__} has no field {missing}: update bench/generate.py")
        columns = [by_attname[a].column for a in attnames]
        defaults = []
        for field in model._meta.concrete_fields:
            if field.attname in attnames or isinstance(field, AutoField):
                continue
            # The field's default; "" for text fields without one.
            value = field.get_db_prep_save(field.get_default(), connection)
            if value is None and not field.null:
                raise SystemExit(
                    f"bench/generate.py does not fill {model.__name__}.{field.name}: add it"
                )
            columns.append(field.column)
            defaults.append(value)
        self.columns = columns
        self.defaults = tuple(defaults)
        self.rows: list[tuple] = []
        quote = connection.ops.quote_name
        names = ", ".join(quote(c) for c in columns)
        if connection.vendor == "postgresql":
            self.sql = f"COPY {quote(self.table)} ({names}) FROM STDIN"
        else:
            marks = ", ".join("?" for _ in columns)
            # Names from the models, values as parameters.
            self.sql = f"INSERT INTO {quote(self.table)} ({names}) VALUES ({marks})"  # noqa: S608

    def add(self, row: tuple) -> None:
        self.rows.append(row + self.defaults if self.defaults else row)

    def flush(self) -> int:
        if not self.rows:
            return 0
        raw = self.connection.connection
        if self.connection.vendor == "postgresql":
            with raw.cursor() as cursor, cursor.copy(self.sql) as copy:
                for row in self.rows:
                    copy.write_row(row)
        else:
            raw.executemany(self.sql, self.rows)
        count = len(self.rows)
        self.rows = []
        return count


def weighted(pool: list[dict]):
    """A chooser drawing from ``pool`` by its weights ``w``, faster than random.choices."""
    cumulative = list(itertools.accumulate(p.get("w", 1) for p in pool))
    total = cumulative[-1]

    def choose(rng: random.Random) -> dict:
        return pool[bisect.bisect_right(cumulative, rng.random() * total)]

    return choose


@cache
def keys_of(given: str, family: str, given_latin: str, family_latin: str) -> tuple[str, ...]:
    from tadamun.registry.names import name_keys

    return tuple(sorted(name_keys(given, family, given_latin, family_latin)))


def match_keys_of(given, family, given_latin, family_latin, birth_date, birth_year):
    from tadamun.matching.keys import PersonRecord, match_keys

    record = PersonRecord(
        given_name=given,
        family_name=family,
        given_name_latin=given_latin,
        family_name_latin=family_latin,
        birth_date=birth_date,
        birth_year=birth_year,
    )
    return sorted(match_keys(record))


@cache
def latin_of(name: str) -> str:
    from tadamun.registry.names import transliterate

    return transliterate(name)


class NameMaker:
    """Names as the demo makes them: script and Latin spelling, sex-dependent Greek surnames."""

    def __init__(self, pools: dict):
        self.pools = {
            country: {kind: weighted(names[kind]) for kind in names}
            for country, names in pools.items()
        }

    def __call__(self, rng: random.Random, country: str, female: bool):
        pool = self.pools[country]
        given = pool["given_female" if female else "given_male"](rng)
        family = pool["family"](rng)
        # Mostly the usual spelling, sometimes another one the pool knows.
        spell = 0 if rng.random() < 0.8 else None
        if country in ("TN", "MA"):
            latin = given["latin"] if spell is None else given["latin"][:1]
            return (
                given["ar"],
                family["ar"],
                rng.choice(latin),
                rng.choice(family["latin"] if spell is None else family["latin"][:1]),
            )
        if country == "GR":
            family_latin = family["latin_female" if female else "latin_male"]
            return (
                given["el"],
                family["el_female" if female else "el_male"],
                rng.choice(given["latin"] if spell is None else given["latin"][:1]),
                family_latin[0],
            )
        # Latin-script names: the registry fills the Latin fields itself, as here.
        given, family = given["latin"][0], family["latin"][0]
        return given, family, latin_of(given), latin_of(family)


# The world ------------------------------------------------------------------------------------


def make_world():
    from tadamun.accounts.models import Membership, Role, User
    from tadamun.organisations.models import NetworkMembership, Organisation, OrganisationKind
    from tadamun.territories.models import Territory
    from tadamun.territories.services import territory_save

    territories = {}
    for code, name, parent, level in TERRITORIES:
        territory = Territory.objects.filter(code=code).first()
        if territory is None:
            territory = territory_save(
                territory=Territory(
                    code=code, name={"en": name}, parent=territories.get(parent), level=level
                ),
                reason="bench",
            )
        territories[code] = territory
    countries = {"TN": ("TN", "Africa/Tunis"), "IT": ("IT", "Europe/Rome")}
    countries["GR"] = ("GR", "Europe/Athens")

    def organisation(slug, name, kind, territory_code):
        country, zone = countries[territory_code[:2]]
        org, _ = Organisation.objects.get_or_create(
            slug=slug,
            defaults={
                "name": {"en": name},
                "kind": kind,
                "country": country,
                "time_zone": zone,
                "territory": territories[territory_code],
            },
        )
        return org

    network = organisation(NETWORK, "Bench network", OrganisationKind.NETWORK, "TN")
    organisations = {}
    for slug, name, territory_code, in_network, _share, _names in ORGANISATIONS:
        org = organisation(slug, name, OrganisationKind.ASSOCIATION, territory_code)
        organisations[slug] = org
        if in_network:
            NetworkMembership.objects.get_or_create(network=network, member=org)

    def user(username, org, role):
        account, created = User.objects.get_or_create(
            username=username, defaults={"first_name": username, "language": "en"}
        )
        if created:
            account.set_unusable_password()
            account.save()
        Membership.objects.get_or_create(user=account, organisation=org, role=role)
        return account

    coordinator = user(COORDINATOR, network, Role.COORDINATOR)
    desk = user(DESK, organisations[DESK_ORGANISATION], Role.DESK_OPERATOR)
    return territories, network, organisations, coordinator, desk


# The people -----------------------------------------------------------------------------------


def generate(total: int, seed: int, log) -> dict:
    from django.db import connection, transaction
    from django.db.models import Max

    from tadamun.registry.models import (
        Consent,
        ConsentPurpose,
        Group,
        GroupKind,
        GroupMember,
        LawfulBasis,
        MemberRole,
        Person,
        PersonMatchKey,
        PersonNameKey,
        PersonShare,
        ShareReason,
    )

    territories, _network, organisations, coordinator, desk = make_world()
    connection.ensure_connection()
    vendor = connection.vendor
    if vendor == "sqlite":
        connection.connection.execute("PRAGMA cache_size=-1000000")
        connection.connection.execute("PRAGMA synchronous=OFF")
    else:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")

    rng = random.Random(seed)
    names = NameMaker(json.loads((ROOT / "tadamun/demo/data/names.json").read_text()))
    HistoricalPerson = Person.history.model  # noqa: N806 - a model class

    def next_id(model) -> int:
        return (model._base_manager.aggregate(last=Max("id"))["last"] or 0) + 1

    def when(moment: datetime.datetime):
        """A datetime as the database column wants it (UTC)."""
        return connection.ops.adapt_datetimefield_value(moment)

    if vendor == "sqlite":

        def day(value: datetime.date | None):
            return value.isoformat() if value is not None else None
    else:

        def day(value: datetime.date | None):
            return value

    person_fields = [
        "id", "created_at", "updated_at", "archived_at", "archived_by_id", "given_name",
        "family_name", "given_name_latin", "family_name_latin", "sex", "birth_date", "birth_year",
        "phone", "languages", "residence_id", "organisation_id",
    ]  # fmt: skip
    people = Table(connection, Person, person_fields)
    history = Table(
        connection,
        HistoricalPerson,
        [f for f in person_fields if f != "updated_at"]
        + ["history_date", "history_change_reason", "history_type", "history_user_id"],
    )
    shares = Table(
        connection, PersonShare, ["person_id", "organisation_id", "reason", "created_at"]
    )
    keys = Table(connection, PersonNameKey, ["person_id", "key"])
    match_keys = Table(connection, PersonMatchKey, ["person_id", "key"])
    consents = Table(
        connection,
        Consent,
        [
            "person_id", "purpose", "lawful_basis", "organisation_id", "given_on",
            "recorded_by_id", "recorded_at", "withdrawn_on", "withdrawn_by_id",
        ],
    )  # fmt: skip
    groups = Table(
        connection,
        Group,
        ["id", "created_at", "updated_at", "name", "kind", "organisation_id", "territory_id"],
    )
    members = Table(connection, GroupMember, ["group_id", "person_id", "role", "joined_on"])
    tables = [people, history, shares, keys, match_keys, consents, groups, members]

    # Each organisation's people live in the territories below its own.
    homes = {
        slug: [t for t in territories.values() if t.path.startswith(org.territory.path)]
        for slug, org in organisations.items()
    }
    org_rows = [
        (organisations[slug], homes[slug], list(countries.items()))
        for slug, _n, _t, _net, _share, countries in ORGANISATIONS
    ]
    org_cumulative = list(itertools.accumulate(share for *_, share, _c in ORGANISATIONS))
    place_names = {t.pk: str(t.name) for t in territories.values()}
    network_ids = [organisations[o[0]].pk for o in ORGANISATIONS if o[3]]

    person_id = next_id(Person)
    group_id = next_id(Group)
    start = datetime.datetime(2016, 1, 1, tzinfo=datetime.UTC)
    span = (datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC) - start).total_seconds()
    counts = dict.fromkeys(
        ("people", "shares", "keys", "match keys", "consents", "groups", "members"), 0
    )
    began = time.monotonic()
    done = 0
    while done < total:
        size = min(CHUNK, total - done)
        chunk_people: dict[int, list] = {}  # organisation id: [(person id, family, home id)]
        for index in range(size):
            pid = person_id + index
            org, places, countries = org_rows[
                bisect.bisect_right(org_cumulative, rng.random() * org_cumulative[-1])
            ]
            roll = rng.random()
            country = countries[-1][0]
            for code, weight in countries:
                if roll < weight:
                    country = code
                    break
                roll -= weight
            female = rng.random() < 0.5
            given, family, given_latin, family_latin = names(rng, country, female)
            home = rng.choice(places)
            created = start + datetime.timedelta(seconds=span * (done + index) / total)
            created_db = when(created)
            archived = rng.random() < 0.02
            born = datetime.date(rng.randint(1950, 2006), rng.randint(1, 12), rng.randint(1, 28))
            exact_date = rng.random() < 0.9
            phone = ""
            if rng.random() < 0.7:
                phone = PHONES[country].format(
                    a=rng.randint(2, 9),
                    b=rng.randint(0, 9),
                    c=rng.randint(0, 999),
                    d=rng.randint(0, 999),
                )
            row = (
                pid,
                created_db,
                created_db,
                created_db if archived else None,
                desk.pk if archived else None,
                given,
                family,
                given_latin,
                family_latin,
                "F" if female else "M",
                day(born) if exact_date else None,
                born.year,
                phone,
                LANGUAGES[country],
                home.pk,
                org.pk,
            )
            people.add(row)
            history.add(
                (*row[:2], *row[3:], created_db, "bench", "+", desk.pk if archived else None)
            )
            shares.add((pid, org.pk, ShareReason.REGISTERED, created_db))
            if rng.random() < 0.03:
                other = rng.choice(network_ids)
                if other != org.pk:
                    shares.add((pid, other, ShareReason.SHARED, created_db))
            for key in keys_of(given, family, given_latin, family_latin):
                keys.add((pid, key))
            for key in match_keys_of(
                given, family, given_latin, family_latin, born if exact_date else None, born.year
            ):
                match_keys.add((pid, key))
            given_on = day(created.date())
            public = org.pk == organisations["bench-tunis"].pk
            basis = LawfulBasis.PUBLIC_TASK if public else LawfulBasis.CONSENT
            consents.add(
                (pid, ConsentPurpose.REGISTRATION, basis, org.pk, given_on, desk.pk, created_db)
                + (None, None)
            )
            if rng.random() < 0.45:
                withdrawn = rng.random() < 0.08
                consents.add(
                    (pid, ConsentPurpose.NETWORK_SHARING, LawfulBasis.CONSENT, org.pk, given_on)
                    + (desk.pk, created_db)
                    + ((day(created.date() + datetime.timedelta(days=90)), desk.pk) if withdrawn
                       else (None, None))
                )  # fmt: skip
            if rng.random() < 0.05:
                consents.add(
                    (pid, ConsentPurpose.PHOTOS, LawfulBasis.CONSENT, org.pk, given_on, desk.pk)
                    + (created_db, None, None)
                )
            chunk_people.setdefault(org.pk, []).append((pid, family, home.pk, created))
        # About one group per 20 people, of people registered by the same organisation.
        for _ in range(max(1, size // 20)):
            org_id = rng.choice(list(chunk_people))
            pool = chunk_people[org_id]
            chosen = rng.sample(pool, min(len(pool), rng.randint(2, 6)))
            head_id, head_family, head_home, head_created = chosen[0]
            household = rng.random() < 0.7
            created_db = when(head_created)
            groups.add(
                (
                    group_id,
                    created_db,
                    created_db,
                    f"{head_family} · {place_names[head_home]}"
                    if household
                    else f"Cooperative {group_id}",
                    GroupKind.HOUSEHOLD if household else GroupKind.COOPERATIVE,
                    org_id,
                    head_home,
                )
            )
            for position, (member_id, *_rest) in enumerate(chosen):
                if household:
                    role = MemberRole.HEAD if position == 0 else MemberRole.RELATIVE
                else:
                    role = MemberRole.PRESIDENT if position == 0 else MemberRole.MEMBER
                members.add((group_id, member_id, role, day(head_created.date())))
            group_id += 1
        counts["people"] += len(people.rows)
        counts["shares"] += len(shares.rows)
        counts["keys"] += len(keys.rows)
        counts["match keys"] += len(match_keys.rows)
        counts["consents"] += len(consents.rows)
        counts["groups"] += len(groups.rows)
        counts["members"] += len(members.rows)
        with transaction.atomic():
            for table in tables:
                table.flush()
        person_id += size
        done += size
        if done % 100_000 == 0 or done == total:
            log(f"  {done:>9,} people  {time.monotonic() - began:6.1f} s")
    if vendor == "postgresql":
        from django.core.management.color import no_style

        models = [
            Person,
            HistoricalPerson,
            PersonShare,
            PersonNameKey,
            PersonMatchKey,
            Consent,
            Group,
            GroupMember,
        ]
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(statement)
    return counts


def analyze(log) -> float:
    from django.db import connection

    began = time.monotonic()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
    took = time.monotonic() - began
    log(f"  {'VACUUM ANALYZE' if connection.vendor == 'postgresql' else 'ANALYZE'}: {took:.1f} s")
    return took


def main(argv=None) -> int:
    args = parse_args(argv)

    def log(message: str) -> None:
        if not args.quiet:
            print(message, flush=True)

    prepare_database(args.drop)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tadamun.registry.models import Person

    began = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0)
    present = Person.objects.unscoped().count()
    if present and args.if_present and present == args.people:
        log(f"{connection.settings_dict['NAME']}: {present:,} people already, nothing to do")
        return 0
    if present:
        print(
            f"{connection.settings_dict['NAME']} already holds {present:,} people: "
            "use --drop to start again",
            file=sys.stderr,
        )
        return 2
    log(f"Generating {args.people:,} people into {connection.vendor} "
        f"{connection.settings_dict['NAME']}")  # fmt: skip
    counts = generate(args.people, args.seed, log)
    analyze(log)
    took = time.monotonic() - began
    summary = ", ".join(f"{v:,} {k}" for k, v in counts.items())
    log(f"Done in {took:.1f} s: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
