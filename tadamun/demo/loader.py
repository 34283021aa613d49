"""Loads the demo: the five seed programmes with their organisations, territories, users and
a few thousand synthetic people. Idempotent: what exists already is left as it is."""

import datetime
import json
import random
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from simple_history.utils import bulk_create_with_history

from tadamun.accounts.models import Membership, User
from tadamun.organisations.models import NetworkMembership, Organisation
from tadamun.programmes import services as programme_services
from tadamun.programmes.models import Component, Programme
from tadamun.registry import services as registry_services
from tadamun.registry.models import (
    Consent,
    ConsentPurpose,
    Group,
    GroupKind,
    GroupMember,
    LawfulBasis,
    MemberRole,
    Person,
    Sex,
)
from tadamun.territories.models import Territory
from tadamun.territories.services import territory_save

from .accounts import DEMO_PASSWORD, account_specs

DATA = Path(__file__).parent / "data"


def _read(name: str):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def operator() -> User:
    user = User.objects.filter(username="operator").first()
    if user is None:
        user = User.objects.create_superuser(
            "operator",
            email="operator@tadamun.invalid",
            password=DEMO_PASSWORD,
            first_name="Platform",
            last_name="Operator",
            language="en",
        )
    return user


def load_territories() -> int:
    existing = set(Territory.objects.values_list("code", flat=True))
    by_code = {t.code: t for t in Territory.objects.all()}
    created = 0
    for row in _read("territories.json"):
        if row["code"] in existing:
            continue
        territory = Territory(
            code=row["code"],
            level=row["level"],
            name=row["name"],
            parent=by_code.get(row["parent"]) if row["parent"] else None,
        )
        by_code[row["code"]] = territory_save(territory=territory, reason="demo")
        created += 1
    return created


def load_organisations(user) -> int:
    territories = {t.code: t for t in Territory.objects.all()}
    rows = _read("organisations.json")
    existing = set(Organisation.objects.values_list("slug", flat=True))
    created = 0
    for row in rows:
        if row["slug"] in existing:
            continue
        organisation = Organisation(
            slug=row["slug"],
            name=row["name"],
            short_name=row.get("short_name", "") or "",
            kind=row["kind"],
            country=row["country"],
            time_zone=row["time_zone"],
            territory=territories.get(row.get("territory")),
        )
        organisation.full_clean()
        organisation._history_user = user
        organisation.save()
        created += 1
    by_slug = {o.slug: o for o in Organisation.objects.all()}
    for row in rows:
        for link in row.get("networks", []):
            NetworkMembership.objects.get_or_create(
                network=by_slug[link["network"]],
                member=by_slug[row["slug"]],
                defaults={
                    "role": link["role"],
                    "joined_on": datetime.date.fromisoformat(link["joined_on"])
                    if link.get("joined_on")
                    else None,
                },
            )
    return created


def load_programmes(user) -> int:
    by_slug = {o.slug: o for o in Organisation.objects.all()}
    territories = {t.code: t for t in Territory.objects.all()}
    created = 0
    for row in _read("programmes.json"):
        if Programme.objects.unscoped().filter(code=row["code"]).exists():
            continue
        programme = programme_services.programme_create(
            user=user,
            lead=by_slug[row["lead"]],
            funders=[by_slug[s] for s in row.get("funders", [])],
            implementers=[by_slug[s] for s in row.get("implementers", [])],
            partners=[by_slug[s] for s in row.get("partners", [])],
            territories=[territories[c] for c in row.get("territories", []) if c in territories],
            code=row["code"],
            title=row["title"],
            description=row.get("description", {}),
            status=row["status"],
            start=datetime.date.fromisoformat(row["start"]) if row.get("start") else None,
            end=datetime.date.fromisoformat(row["end"]) if row.get("end") else None,
            budget=Decimal(row["budget"]) if row.get("budget") else None,
            currency=row["currency"],
        )
        for order, component in enumerate(row.get("components", []), start=1):
            Component.objects.create(
                programme=programme, code=component["code"], title=component["title"], order=order
            )
        created += 1
    return created


def load_users() -> int:
    organisations = {o.slug: o for o in Organisation.objects.all()}
    territories = {t.code: t for t in Territory.objects.all()}
    created = 0
    for spec in account_specs():
        user, made = User.objects.get_or_create(
            username=spec["username"],
            defaults={
                "first_name": spec["first_name"],
                "last_name": spec["last_name"],
                "language": spec["language"],
                "email": f"{spec['username']}@demo.tadamun.invalid",
            },
        )
        if made:
            user.set_password(DEMO_PASSWORD)
            user.save()
            created += 1
        for slug, role, territory in spec["roles"]:
            Membership.objects.get_or_create(
                user=user,
                organisation=organisations[slug],
                role=role,
                defaults={"territory": territories.get(territory) if territory else None},
            )
    return created


# Who registers people in the demo, where they live, and which name pool they come from.
# Shares of the total number of people asked for.
_POPULATIONS = [
    # (share, network or organisation slug, name pool, residence codes prefix filter)
    (
        0.45,
        "utss",
        "TN",
        ["TN-32", "TN-33", "TN-31", "TN-23", "TN-11", "TN-82", "TN-61", "TN-41", "TN-42", "TN-34"],
    ),
    (0.09, "act4community", "MA", ["MA-SAF"]),
    (0.27, "win-empoli", "IT", ["IT-FI-"]),
    (
        0.11,
        "rete-solidarieta-sostenibilita",
        "IT",
        ["IT-TO-TOR", "IT-FI-FIR", "IT-PG-PER", "IT-LE-LEC", "IT-MI-MIL", "IT-RM", "IT-NA"],
    ),
    (0.08, "serres", "GR", ["GR-B-SER"]),
]
_PHONE = {
    "TN": "+216 {a}{b} {c:03d} {d:03d}",
    "MA": "+212 6{a}{b} {c:03d} {d:03d}",
    "IT": "+39 3{a}{b} {c:03d} {d:04d}",
    "GR": "+30 69{a} {c:03d} {d:04d}",
}
_LANGS = {"TN": ["ar", "fr"], "MA": ["ar", "fr"], "IT": ["it"], "GR": ["el"]}


def _weighted(rng: random.Random, pool: list[dict]) -> dict:
    return rng.choices(pool, weights=[p.get("w", 1) for p in pool])[0]


def _person_row(rng: random.Random, country: str, names: dict) -> dict:
    sex = rng.choice([Sex.FEMALE, Sex.MALE])
    given = _weighted(rng, names["given_female" if sex == Sex.FEMALE else "given_male"])
    family = _weighted(rng, names["family"])
    row: dict = {"sex": sex, "languages": list(_LANGS[country])}
    if country in ("TN", "MA"):
        row.update(
            given_name=given["ar"],
            family_name=family["ar"],
            given_name_latin=given["latin"][0],
            family_name_latin=family["latin"][0],
        )
    elif country == "GR":
        female = sex == Sex.FEMALE
        row.update(
            given_name=given["el"],
            family_name=family["el_female" if female else "el_male"],
            given_name_latin=given["latin"][0],
            family_name_latin=family["latin_female" if female else "latin_male"][0],
        )
    else:
        row.update(given_name=given["latin"][0], family_name=family["latin"][0])
    age = rng.randint(18, 72)
    born = datetime.date(2024 - age, rng.randint(1, 12), rng.randint(1, 28))
    if rng.random() < 0.1:
        row["birth_year"] = born.year
    else:
        row["birth_date"] = born
    row["phone"] = _PHONE[country].format(
        a=rng.randint(2, 9),
        b=rng.randint(0, 9),
        c=rng.randint(0, 999),
        d=rng.randint(0, 9999) if country in ("IT", "GR") else rng.randint(0, 999),
    )
    row["_variants"] = (given, family)
    return row


def _duplicate_of(rng: random.Random, row: dict, country: str) -> dict:
    """The same person registered again elsewhere, as desks really write them: another
    spelling, names swapped, a placeholder birth date."""
    twin = {k: v for k, v in row.items() if not k.startswith("_")}
    given, family = row["_variants"]
    if country in ("TN", "MA"):
        twin["given_name_latin"] = rng.choice(given["latin"])
        twin["family_name_latin"] = rng.choice(family["latin"])
        if rng.random() < 0.3:
            twin["given_name"], twin["family_name"] = twin["family_name"], twin["given_name"]
            twin["given_name_latin"], twin["family_name_latin"] = (
                twin["family_name_latin"],
                twin["given_name_latin"],
            )
    elif country == "IT" and rng.random() < 0.5:
        twin["given_name"], twin["family_name"] = row["family_name"], row["given_name"]
    elif country == "GR":
        twin["given_name_latin"] = rng.choice(given["latin"])
    year = row.get("birth_date").year if row.get("birth_date") else row.get("birth_year")
    twin.pop("birth_date", None)
    twin.pop("birth_year", None)
    if rng.random() < 0.5:
        twin["birth_date"] = datetime.date(year, 1, 1)
    else:
        twin["birth_year"] = year
    if rng.random() < 0.5:
        twin["phone"] = ""
    return twin


def load_people(user, total: int, progress: Callable[[str], None] = print) -> int:
    if Person.objects.unscoped().exists():
        return 0
    rng = random.Random(2016)  # the year of WIN's published figures: the demo is reproducible
    names = _read("names.json")
    organisations = {o.slug: o for o in Organisation.objects.all()}
    territories = list(Territory.objects.all())
    network_members = {}
    for link in NetworkMembership.objects.select_related("member"):
        network_members.setdefault(link.network.slug, []).append(link.member)
    rows: list[dict] = []
    for share, owner, country, places in _POPULATIONS:
        registrars = [
            o
            for o in network_members.get(owner, [])
            if o.kind in ("association", "cooperative", "network", "public_body")
        ] or [organisations[owner]]
        if owner in network_members and owner in organisations:
            registrars.append(organisations[owner])
        homes = [t for t in territories if any(t.code.startswith(p) for p in places)]
        count = max(1, round(total * share))
        for _index in range(count):
            registrar = rng.choice(registrars)
            # Regional unions register the people of their own governorate.
            local = (
                [
                    t
                    for t in homes
                    if registrar.territory and t.path.startswith(registrar.territory.path)
                ]
                if registrar.territory and owner == "utss"
                else []
            )
            home = rng.choice(local or homes) if homes else None
            row = _person_row(rng, country, names[country])
            row["organisation"] = registrar
            row["residence"] = home
            rows.append(row)
            if rng.random() < 0.04:
                twin = _duplicate_of(rng, row, country)
                twin["organisation"] = rng.choice(registrars)
                twin["residence"] = home
                rows.append(twin)
    clean = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    people: list[Person] = []
    for start in range(0, len(clean), 1000):
        with transaction.atomic():
            people += registry_services.person_bulk_register(
                user=user, rows=clean[start : start + 1000], reason="demo"
            )
        progress(f"  people: {len(people)} of {len(clean)}")
    _load_consents(rng, user, people)
    _load_groups(rng, user, people)
    return len(people)


def _load_consents(rng: random.Random, user, people: list[Person]) -> None:
    consents = []
    for person in people:
        given_on = datetime.date(2016, 1, 1) + datetime.timedelta(days=rng.randint(0, 3200))
        public = person.organisation.kind in ("partner_city", "public_body")
        consents.append(
            Consent(
                person=person,
                purpose=ConsentPurpose.REGISTRATION,
                lawful_basis=LawfulBasis.PUBLIC_TASK if public else LawfulBasis.CONSENT,
                organisation_id=person.organisation_id,
                given_on=given_on,
                recorded_by=user,
            )
        )
        if rng.random() < 0.6:
            withdrawn = rng.random() < 0.08
            consents.append(
                Consent(
                    person=person,
                    purpose=ConsentPurpose.NETWORK_SHARING,
                    lawful_basis=LawfulBasis.CONSENT,
                    organisation_id=person.organisation_id,
                    given_on=given_on,
                    recorded_by=user,
                    withdrawn_on=given_on + datetime.timedelta(days=rng.randint(30, 600))
                    if withdrawn
                    else None,
                    withdrawn_by=user if withdrawn else None,
                )
            )
        if rng.random() < 0.1:
            consents.append(
                Consent(
                    person=person,
                    purpose=ConsentPurpose.PHOTOS,
                    lawful_basis=LawfulBasis.CONSENT,
                    organisation_id=person.organisation_id,
                    given_on=given_on,
                    recorded_by=user,
                )
            )
    bulk_create_with_history(consents, Consent, batch_size=1000, default_user=user)


_COLLECTIVES = [
    ("TN-32", GroupKind.COOPERATIVE, "مجمع الحرفيات بطبرقة", "TN-32-TBK"),
    ("TN-32", GroupKind.COLLECTIVE, "مشروع تربية النحل بعين دراهم", "TN-32-AID"),
    ("TN-33", GroupKind.COOPERATIVE, "تعاضدية الفلاحين بالكاف", None),
    ("TN-31", GroupKind.COLLECTIVE, "مشروع الخياطة بباجة", None),
    ("TN-23", GroupKind.ASSOCIATION, "جمعية صيادي بنزرت", None),
    ("MA-SAF", GroupKind.COOPERATIVE, "تعاونية نسيج عبدة", None),
    ("MA-SAF", GroupKind.COLLECTIVE, "Collectif numérique des jeunes de Safi", None),
    ("IT-FI-", GroupKind.COLLECTIVE, "Orto sociale di Pontorme", "IT-FI-EMP"),
    ("IT-FI-", GroupKind.ASSOCIATION, "Gruppo di mutuo aiuto Vinci", "IT-FI-VIN"),
    ("GR-B-SER", GroupKind.COLLECTIVE, "Ομάδα εθελοντών γειτονιάς Σερρών", None),
]


def _load_groups(rng: random.Random, user, people: list[Person]) -> None:
    by_place: dict[str, list[Person]] = {}
    for person in people:
        if person.residence_id:
            by_place.setdefault(person.residence.code, []).append(person)
    groups, members = [], []
    # Households: people sharing a family name and a place.
    families: dict[tuple, list[Person]] = {}
    for person in people:
        families.setdefault((person.family_name, person.residence_id), []).append(person)
    households = [g for g in families.values() if 2 <= len(g) <= 6]
    rng.shuffle(households)
    for family in households[: max(1, len(people) // 25)]:
        head = family[0]
        groups.append(
            Group(
                name=f"{head.family_name} · {head.residence}",
                kind=GroupKind.HOUSEHOLD,
                organisation_id=head.organisation_id,
                territory_id=head.residence_id,
            )
        )
        members.append(
            [
                (
                    p,
                    MemberRole.HEAD
                    if i == 0
                    else rng.choice([MemberRole.SPOUSE, MemberRole.CHILD, MemberRole.RELATIVE]),
                    None,
                )
                for i, p in enumerate(family)
            ]
        )
    territories = {t.code: t for t in Territory.objects.all()}
    for prefix, kind, name, place in _COLLECTIVES:
        pool = [p for code, ps in by_place.items() if code.startswith(prefix) for p in ps]
        if len(pool) < 3:
            continue
        chosen = rng.sample(pool, min(len(pool), rng.randint(4, 9)))
        territory = territories.get(place) if place else chosen[0].residence
        groups.append(
            Group(
                name=name, kind=kind, organisation_id=chosen[0].organisation_id, territory=territory
            )
        )
        share = (Decimal(100) / len(chosen)).quantize(Decimal("0.01"))
        roles = [MemberRole.PRESIDENT, MemberRole.TREASURER, MemberRole.SECRETARY]
        members.append(
            [
                (
                    p,
                    roles[i] if i < 3 else MemberRole.MEMBER,
                    share if kind != GroupKind.ASSOCIATION else None,
                )
                for i, p in enumerate(chosen)
            ]
        )
    groups = bulk_create_with_history(groups, Group, batch_size=500, default_user=user)
    rows = [
        GroupMember(
            group=group,
            person=person,
            role=role,
            share=share,
            joined_on=datetime.date(2019, 1, 1) + datetime.timedelta(days=rng.randint(0, 1500)),
        )
        for group, group_members in zip(groups, members, strict=True)
        for person, role, share in group_members
    ]
    bulk_create_with_history(rows, GroupMember, batch_size=1000, default_user=user)


def load_demo(people: int = 3000, progress: Callable[[str], None] = print) -> dict:
    with transaction.atomic():
        user = operator()
        counts = {
            "territories": load_territories(),
            "organisations": load_organisations(user),
        }
        counts["programmes"] = load_programmes(user)
        counts["users"] = load_users()
    counts["people"] = load_people(user, people, progress)
    from .cases import load_cases

    counts["cases"] = load_cases(user, random.Random(367))
    from .projects import load_projects

    counts["projects"] = load_projects(user, progress=progress)
    return counts
