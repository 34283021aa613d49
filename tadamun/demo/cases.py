"""Demo cases: WIN's desks and pathways, with 2016 records from which the report reproduces
the published figures (367 diagnoses, 70 job-placement accompaniment starts, 2 business
creations, 30 returns to training, 63 job-placement projects, 1 fixed-term hire, 10 care
pathways with the health authority), plus the years around it and UTSS's desks."""

import datetime
import random
from decimal import Decimal

from django.db import models, transaction
from django.utils import timezone

from tadamun.accounts.models import User
from tadamun.cases import services
from tadamun.cases.models import (
    ActionFamily,
    ActionStatus,
    ActionType,
    Case,
    CaseOutcome,
    Confidentiality,
    ContractType,
    Desk,
    DeskKind,
    DiagnosisDimension,
    Situation,
)
from tadamun.organisations.models import Organisation
from tadamun.registry.models import ConsentPurpose, Person

WIN_2016 = {
    "diagnoses": 367,
    ActionFamily.JOB_ACCOMPANIMENT: 70,
    ActionFamily.BUSINESS_CREATION: 2,
    ActionFamily.RETURN_TO_TRAINING: 30,
    ActionFamily.JOB_PLACEMENT: 63,
    ActionFamily.HIRE: 1,
    ActionFamily.CARE_PATHWAY: 10,
}

_WIN_DESKS = [
    ("tavolo-empoli", DeskKind.TERRITORIAL_TABLE, "Tavolo territoriale di Empoli", "IT-FI-EMP"),
    (
        "tavolo-castelfiorentino",
        DeskKind.TERRITORIAL_TABLE,
        "Tavolo territoriale di Castelfiorentino",
        "IT-FI-CFI",
    ),
    ("tavolo-certaldo", DeskKind.TERRITORIAL_TABLE, "Tavolo territoriale di Certaldo", "IT-FI-CER"),
    (
        "tavolo-fucecchio",
        DeskKind.TERRITORIAL_TABLE,
        "Tavolo territoriale di Fucecchio",
        "IT-FI-FUC",
    ),
    (
        "tavolo-montelupo",
        DeskKind.TERRITORIAL_TABLE,
        "Tavolo territoriale di Montelupo",
        "IT-FI-MTL",
    ),
    ("tavolo-vinci", DeskKind.TERRITORIAL_TABLE, "Tavolo territoriale di Vinci", "IT-FI-VIN"),
    (
        "tavolo-montespertoli",
        DeskKind.TERRITORIAL_TABLE,
        "Tavolo territoriale di Montespertoli",
        "IT-FI-MSP",
    ),
    (
        "tavolo-cerreto",
        DeskKind.TERRITORIAL_TABLE,
        "Tavolo territoriale di Cerreto Guidi",
        "IT-FI-CGU",
    ),
    ("sportello-lavoro", DeskKind.JOB_DESK, "Sportello lavoro", "IT-FI-EMP"),
    ("sportello-counselor", DeskKind.COUNSELLING_DESK, "Sportello counselor", "IT-FI-EMP"),
]
_DIMENSIONS = [
    ("work", {"en": "Work", "it": "Lavoro", "fr": "Travail", "ar": "الشغل", "el": "Εργασία"}, 0),
    (
        "income",
        {"en": "Income", "it": "Reddito", "fr": "Revenu", "ar": "الدخل", "el": "Εισόδημα"},
        0,
    ),
    (
        "housing",
        {"en": "Housing", "it": "Casa", "fr": "Logement", "ar": "السكن", "el": "Στέγαση"},
        0,
    ),
    ("health", {"en": "Health", "it": "Salute", "fr": "Santé", "ar": "الصحة", "el": "Υγεία"}, 1),
    (
        "relations",
        {
            "en": "Family and relations",
            "it": "Relazioni familiari",
            "fr": "Famille et relations",
            "ar": "العلاقات الأسرية",
            "el": "Οικογένεια και σχέσεις",
        },
        0,
    ),
    (
        "education",
        {
            "en": "Education and skills",
            "it": "Istruzione e competenze",
            "fr": "Éducation et compétences",
            "ar": "التعليم والمهارات",
            "el": "Εκπαίδευση και δεξιότητες",
        },
        0,
    ),
]
_ACTION_TYPES = [
    (
        "tirocinio",
        ActionFamily.INTERNSHIP,
        {"en": "Internship", "it": "Tirocinio", "fr": "Stage", "ar": "تربص", "el": "Πρακτική"},
        3,
    ),
    (
        "voucher-formativo",
        ActionFamily.TRAINING_VOUCHER,
        {
            "en": "Training voucher",
            "it": "Voucher formativo",
            "fr": "Chèque formation",
            "ar": "صك تكوين",
            "el": "Επιταγή κατάρτισης",
        },
        None,
    ),
    (
        "accompagnamento",
        ActionFamily.JOB_ACCOMPANIMENT,
        {
            "en": "Job-placement accompaniment",
            "it": "Accompagnamento all'inserimento lavorativo",
            "fr": "Accompagnement vers l'emploi",
            "ar": "مرافقة نحو التشغيل",
            "el": "Συνοδεία ένταξης στην εργασία",
        },
        6,
    ),
    (
        "inserimento",
        ActionFamily.JOB_PLACEMENT,
        {
            "en": "Job-placement project",
            "it": "Progetto di inserimento lavorativo",
            "fr": "Projet d'insertion professionnelle",
            "ar": "مشروع إدماج مهني",
            "el": "Σχέδιο εργασιακής ένταξης",
        },
        6,
    ),
    (
        "creazione-impresa",
        ActionFamily.BUSINESS_CREATION,
        {
            "en": "Business creation",
            "it": "Creazione d'impresa",
            "fr": "Création d'entreprise",
            "ar": "بعث مشروع",
            "el": "Δημιουργία επιχείρησης",
        },
        12,
    ),
    (
        "rientro-formazione",
        ActionFamily.RETURN_TO_TRAINING,
        {
            "en": "Return to training or education",
            "it": "Rientro in formazione/istruzione",
            "fr": "Retour en formation",
            "ar": "العودة إلى التكوين أو الدراسة",
            "el": "Επιστροφή στην εκπαίδευση",
        },
        None,
    ),
    (
        "percorso-asl",
        ActionFamily.CARE_PATHWAY,
        {
            "en": "Care pathway with ASL 11",
            "it": "Percorso assistenziale con ASL 11",
            "fr": "Parcours de soins avec l'ASL 11",
            "ar": "مسار رعاية مع المصالح الصحية",
            "el": "Πορεία φροντίδας με την ASL 11",
        },
        6,
    ),
    (
        "assunzione",
        ActionFamily.HIRE,
        {"en": "Hire", "it": "Assunzione", "fr": "Embauche", "ar": "انتداب", "el": "Πρόσληψη"},
        None,
    ),
]


def _setup_network(network, runner, desks, territories):
    for code, kind, name, place in desks:
        Desk.objects.get_or_create(
            network=network,
            code=code,
            defaults={
                "organisation": runner,
                "kind": kind,
                "name": {"it": name, "en": name},
                "territory": territories.get(place),
            },
        )
    for order, (code, name, health) in enumerate(_DIMENSIONS):
        DiagnosisDimension.objects.get_or_create(
            network=network,
            code=code,
            defaults={"name": name, "order": order, "is_health": bool(health)},
        )
    for code, family, name, months in _ACTION_TYPES:
        ActionType.objects.get_or_create(
            network=network,
            code=code,
            defaults={
                "family": family,
                "name": name,
                "default_months": months,
                "is_health": family == ActionFamily.CARE_PATHWAY,
            },
        )


def _day(rng: random.Random, year: int, first_month: int = 1, last_month: int = 12):
    start = datetime.date(year, first_month, 1)
    end = datetime.date(year, last_month, 28)
    return start + datetime.timedelta(days=rng.randint(0, (end - start).days))


@transaction.atomic
def load_cases(user, rng: random.Random) -> int:
    from tadamun.territories.models import Territory

    organisations = {o.slug: o for o in Organisation.objects.all()}
    win, vnp = organisations.get("win-empoli"), organisations.get("vnp-empoli")
    if win is None or vnp is None:
        return 0
    territories = {t.code: t for t in Territory.objects.all()}
    _setup_network(win, vnp, _WIN_DESKS, territories)
    utss = organisations.get("utss")
    if utss is not None:
        utss_desks = [
            (
                f"guichet-{o.slug}",
                DeskKind.WALK_IN,
                f"Guichet {o.short_name or o.slug}",
                o.territory.code if o.territory else None,
            )
            for o in Organisation.objects.filter(network_links__network=utss)
        ]
        for code, kind, name, place in utss_desks:
            Desk.objects.get_or_create(
                network=utss,
                code=code[:40],
                defaults={
                    "organisation": Organisation.objects.get(slug=code[8:]),
                    "kind": kind,
                    "name": {"fr": name, "en": name},
                    "territory": territories.get(place),
                },
            )
    if Case.objects.unscoped().filter(organisation=vnp).exists():
        return 0

    desks = list(Desk.objects.filter(network=win))
    weights = [
        6 if d.kind == DeskKind.TERRITORIAL_TABLE else 25 if d.kind == DeskKind.JOB_DESK else 15
        for d in desks
    ]
    dimensions = list(DiagnosisDimension.objects.filter(network=win))
    types = {t.family: t for t in ActionType.objects.filter(network=win)}
    caseworker = User.objects.filter(username="win-caseworker").first()
    asl = organisations.get("asl11-empoli", vnp)
    hosts = list(Organisation.objects.filter(kind="company", country="IT")) or [vnp]
    people = list(
        Person.objects.unscoped("demo")
        .filter(residence__code__startswith="IT-FI-", organisation__network_links__network=win)
        .distinct()
        .order_by("pk")
    )
    rng.shuffle(people)
    if len(people) < WIN_2016["diagnoses"] + 60:
        return 0
    cohort, before, after = people[:367], people[367:397], people[397:427]

    def open_case(person, opened_on, tutor=None):
        desk = rng.choices(desks, weights=weights)[0]
        visit = services.intake_record(
            user=user,
            person=person,
            desk=desk,
            reason="",
            occurred_at=datetime.datetime.combine(
                opened_on, datetime.time(10), tzinfo=datetime.UTC
            ),
        )
        case = services.case_open(
            user=user,
            person=person,
            organisation=vnp,
            desk=desk,
            tutor=tutor,
            opened_on=opened_on,
            intake=visit,
        )
        services.diagnosis_record(
            user=user,
            case=case,
            diagnosed_on=min(
                opened_on + datetime.timedelta(days=rng.randint(0, 20)),
                datetime.date(opened_on.year, 12, 31),
            ),
            levels={
                d: (rng.choice([0, 1, 2, 2, 3]), "")
                for d in dimensions
                if not d.is_health or rng.random() < 0.3
            },
        )
        return case

    cases = {}
    for person in cohort:
        cases[person.pk] = open_case(
            person, _day(rng, 2016, 1, 11), caseworker if rng.random() < 0.6 else None
        )
    for person in before:
        open_case(person, _day(rng, 2015))
    for person in after:
        open_case(person, _day(rng, 2017, 1, 6))

    def start_actions(family, count, extra_rows=0, **fields):
        chosen = rng.sample(cohort, count)
        for index, person in enumerate(chosen + chosen[:extra_rows]):
            case = cases[person.pk]
            start = max(
                case.opened_on + datetime.timedelta(days=rng.randint(10, 40)), case.opened_on
            )
            start = min(start, datetime.date(2016, 12, 20))
            services.action_add(
                user=user,
                case=Case.objects.unscoped().get(pk=case.pk),
                action_type=types[family],
                responsible=asl if family == ActionFamily.CARE_PATHWAY else vnp,
                status=ActionStatus.COMPLETED if index % 3 == 0 else ActionStatus.ONGOING,
                start=start,
                **fields,
            )

    start_actions(ActionFamily.JOB_ACCOMPANIMENT, WIN_2016[ActionFamily.JOB_ACCOMPANIMENT])
    start_actions(ActionFamily.BUSINESS_CREATION, WIN_2016[ActionFamily.BUSINESS_CREATION])
    start_actions(ActionFamily.RETURN_TO_TRAINING, WIN_2016[ActionFamily.RETURN_TO_TRAINING])
    # Four people had a second placement project the same year: the report counts people.
    start_actions(
        ActionFamily.JOB_PLACEMENT,
        WIN_2016[ActionFamily.JOB_PLACEMENT],
        extra_rows=4,
        host=rng.choice(hosts),
    )
    start_actions(
        ActionFamily.HIRE,
        WIN_2016[ActionFamily.HIRE],
        contract_type=ContractType.FIXED_TERM,
        host=rng.choice(hosts),
    )
    start_actions(ActionFamily.CARE_PATHWAY, WIN_2016[ActionFamily.CARE_PATHWAY])
    # Internships are not among the published figures; a few planned for 2017 show the plan.
    for person in rng.sample(cohort, 12):
        case = Case.objects.unscoped().get(pk=cases[person.pk].pk)
        services.action_add(
            user=user,
            case=case,
            action_type=types[ActionFamily.INTERNSHIP],
            responsible=vnp,
            host=rng.choice(hosts),
            start=datetime.date(2017, 2, 1),
            monthly_stipend=Decimal("500"),
            currency="EUR",
        )

    # Closures in 2017 with follow-ups, a few referrals, notes.
    for person in rng.sample(cohort, 90):
        case = Case.objects.unscoped().get(pk=cases[person.pk].pk)
        services.case_close(
            user=user,
            case=case,
            closed_on=_day(rng, 2017, 1, 10),
            outcome=rng.choice(
                [
                    CaseOutcome.EMPLOYED,
                    CaseOutcome.EMPLOYED,
                    CaseOutcome.TRAINING,
                    CaseOutcome.LOST_CONTACT,
                    CaseOutcome.NO_LONGER_NEEDED,
                ]
            ),
        )
        for follow_up in case.follow_ups.all()[: rng.randint(0, 2)]:
            services.follow_up_record(
                user=user,
                follow_up=follow_up,
                situation=rng.choice(list(Situation.values)),
                done_on=follow_up.due_on,
            )
    # The demo's partner case worker (Il Mosaico) receives some of them.
    first = models.Case(models.When(slug="cooperativa-sociale-il-mosaico", then=0), default=1)
    partners = list(
        Organisation.objects.filter(network_links__network=win, kind="cooperative").order_by(
            first, "slug"
        )[:6]
    )
    sharing = [
        p
        for p in cohort
        if p.consents.filter(
            purpose=ConsentPurpose.NETWORK_SHARING, withdrawn_on__isnull=True
        ).exists()
    ]
    for index, person in enumerate(sharing[:24]):
        case = Case.objects.unscoped().get(pk=cases[person.pk].pk)
        if case.status != "open":
            continue
        referral = services.referral_send(
            user=user,
            case=case,
            to_organisation=partners[index % len(partners)],
            message="Percorso di inserimento: disponibilità immediata, patente B.",
            deadline=timezone.localdate() + datetime.timedelta(days=rng.randint(1, 20)),
        )
        if index % 3 == 2 and index % 2 == 0:
            # Time has passed in the demo: some referrals wait beyond their deadline.
            type(referral).objects.unscoped("demo").filter(pk=referral.pk).update(
                deadline=timezone.localdate() - datetime.timedelta(days=5)
            )
        if index % 3 == 0:
            services.referral_answer(user=user, referral=referral, accept=True)
            if index % 2 == 0:
                services.referral_return_outcome(
                    user=user,
                    referral=referral,
                    outcome="Inserita in cooperativa con tirocinio di tre mesi.",
                )
        elif index % 3 == 1:
            services.referral_answer(
                user=user,
                referral=referral,
                accept=False,
                reason="Nessun posto disponibile questo trimestre.",
            )
    for person in rng.sample(cohort, 40):
        case = Case.objects.unscoped().get(pk=cases[person.pk].pk)
        if case.status == "open":
            services.note_add(user=user, case=case, body="Colloquio di verifica del percorso.")
    for person in rng.sample(cohort, 8):
        case = Case.objects.unscoped().get(pk=cases[person.pk].pk)
        if case.status == "open":
            services.note_add(
                user=user,
                case=case,
                confidentiality=Confidentiality.HEALTH,
                body="Segnalazione al servizio sociosanitario (ASL 11).",
            )
    return len(cases) + len(before) + len(after)
