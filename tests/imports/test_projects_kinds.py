"""Importing micro-projects financed before the platform, and the repayments of their loans:
one row per project (promoter by number or registered with it, collective, financing, schedule
of a loan, last visit), one row per repayment (the rules of ``repayment_record``, counted
across the whole file). Every file is written whole or not at all; access follows the roles.
"""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from tadamun.accounts.models import Role
from tadamun.core.errors import AccessDenied
from tadamun.imports import engine, services
from tadamun.imports.kinds import get
from tadamun.imports.models import ImportKind, ImportStatus
from tadamun.imports.parsing import CellError
from tadamun.imports.projects import amount
from tadamun.projects.models import (
    Financing,
    FinancingKind,
    Instalment,
    Project,
    ProjectStatus,
    Repayment,
    Sector,
)
from tadamun.projects.services import add_months
from tadamun.registry.models import Group, GroupKind, GroupMember, MemberRole, Person

from .. import factories as f
from ..helpers import snapshot
from .conftest import csv_bytes, upload, xlsx_bytes

TODAY = timezone.localdate()


@pytest.fixture
def world(world):
    """The world of tests/conftest.py with two sectors and a collective of org_a in Tabarka."""
    world.crafts = Sector.objects.create(
        code="crafts", name={"en": "Crafts", "fr": "Artisanat", "ar": "الحرف"}
    )
    world.farming = Sector.objects.create(code="farming", name={"en": "Farming"})
    world.weavers = Group.objects.create(
        name="Tabarka weavers",
        kind=GroupKind.COOPERATIVE,
        organisation=world.org_a,
        territory=world.tabarka,
    )
    GroupMember.objects.create(group=world.weavers, person=world.p_tabarka, role="president")
    return world


def _upload(world, kind, rows=None, *, user=None, organisation=None, name="file.csv", data=None,
            **options):  # fmt: skip
    user = user or world.coordinator
    if data is None:
        data = csv_bytes(rows, **options)
    job = services.import_upload(
        user=user, organisation=organisation or world.org_a, file=upload(name, data), kind=kind
    )
    return services.import_preview(user=user, job=job)


def _run(world, job, user=None):
    return services.import_run(user=user or world.coordinator, job=job)


def _errors(job) -> list:
    return [(e["row"], e["letter"], e["field"]) for e in job.report["errors"]]


def _messages(job) -> str:
    return " ".join(m for e in job.report["errors"] for m in e["messages"])


def project_snapshot() -> dict:
    """Projects, financing, schedules, repayments and their history, and the registry."""
    return {
        "registry": snapshot(),
        "projects": list(Project.objects.unscoped().order_by("pk").values()),
        "financings": list(Financing.objects.order_by("pk").values()),
        "instalments": list(Instalment.objects.order_by("pk").values()),
        "repayments": list(Repayment.objects.order_by("pk").values()),
        "history": [m.history.count() for m in (Project, Financing, Repayment, Group, GroupMember)],
    }


# --- projects -------------------------------------------------------------------------------

HEADER = [
    "code", "promoter", "given_name", "family_name", "sex", "birth_date", "kind", "group",
    "members", "territory", "sector", "title", "financed_on", "currency", "grant_amount",
    "loan_amount", "loan_instalments", "grace_months", "in_kind_amount", "status",
    "last_visit_on", "jobs_women", "jobs_men", "monthly_revenue",
]  # fmt: skip


def _row(**cells) -> list:
    return [cells.get(name, "") for name in HEADER]


def _five(world) -> list[list]:
    """Five projects: by a registered promoter with a grant and a loan; by new promoters (one
    stopped, one collective with a new collective, one in kind); in an existing collective."""
    return [
        HEADER,
        _row(
            code="PRJ-1",
            promoter=str(world.p_jendouba.pk),
            territory="TN-32",
            sector="crafts",
            title="Sewing workshop",
            financed_on="15/03/2021",
            currency="TND",
            grant_amount="1500",
            loan_amount="3000",
            loan_instalments="7",
            grace_months="2",
            status="Active",
            last_visit_on="2024-05-02",
            jobs_women="2",
            jobs_men="1",
            monthly_revenue="850,500",
        ),  # fmt: skip
        _row(
            code="PRJ-2",
            given_name="Nour",
            family_name="Jlassi",
            sex="F",
            birth_date="1990",
            territory="Tabarka",
            sector="Farming",
            title="Goats",
            financed_on="2020-06-01",
            currency="tnd",
            grant_amount="2000.250",
            status="arrêté",
            last_visit_on="10.1.2023",
            jobs_women="1",
        ),  # fmt: skip
        _row(
            code="PRJ-3",
            given_name="فاطمة",
            family_name="الزين",
            sex="أنثى",
            birth_date="1985",
            kind="collective",
            group="Tabarka bakers",
            members=str(world.p_tabarka.pk),
            territory="TN-32-TBK",
            sector="crafts",
            title="Bakery",
            financed_on="2022-09-30",
            currency="TND",
            loan_amount="4 500,000",
            loan_instalments="12",
            in_kind_amount="300",
            status="Struggling",
        ),  # fmt: skip
        _row(
            code="PRJ-4",
            promoter=str(world.p_tabarka.pk),
            group="tabarka WEAVERS",
            territory="TN-32-TBK",
            sector="crafts",
            title="Looms",
            financed_on="2023-01-31",
            currency="TND",
            loan_amount="1000",
            loan_instalments="3",
        ),  # fmt: skip
        _row(
            code="PRJ-5",
            given_name="Hedi",
            family_name="Ben Salah",
            sex="M",
            birth_date="01/02/1988",
            territory="TN-32",
            sector="crafts",
            title="Tools",
            financed_on="44270",
            currency="TND",
            in_kind_amount="750",
        ),  # fmt: skip
    ]


def _projects(world, rows=None, **options):
    job = _upload(world, ImportKind.PROJECTS, rows or _five(world), **options)
    assert job.error_count == 0, job.report["errors"]
    job = _run(world, job)
    assert job.status == ImportStatus.DONE, job.report
    return job


def test_a_file_of_projects_writes_projects_financing_schedules_promoters_and_collectives(world):
    people_before = Person.objects.unscoped().count()
    job = _upload(world, ImportKind.PROJECTS, _five(world))
    assert job.status == ImportStatus.PREVIEWED and job.rows_total == 5
    assert job.error_count == 0, job.report["errors"]
    assert not Project.objects.unscoped().exists()  # the preview writes nothing

    job = _run(world, job)

    assert job.status == ImportStatus.DONE and job.report["written"] == 5
    found = {p.code: p for p in Project.objects.unscoped().select_related("promoter", "group")}
    assert sorted(found) == ["PRJ-1", "PRJ-2", "PRJ-3", "PRJ-4", "PRJ-5"]
    assert all(p.application is None and p.organisation == world.org_a for p in found.values())
    assert Person.objects.unscoped().count() == people_before + 3
    one, two, three, four, five = (found[f"PRJ-{n}"] for n in range(1, 6))

    # Amounts, currency, dates, regions and the last visit
    assert [p.amount_financed for p in (one, two, three, four, five)] == [
        Decimal("4500.000"), Decimal("2000.250"), Decimal("4800.000"), Decimal("1000.000"),
        Decimal("750.000"),
    ]  # fmt: skip
    assert two.currency == "TND"
    assert one.financed_on == datetime.date(2021, 3, 15)
    assert five.financed_on == datetime.date(2021, 3, 15)  # an Excel serial number
    assert one.region == world.jendouba and two.region == world.jendouba
    assert two.territory == world.tabarka  # by name
    assert one.promoter == world.p_jendouba and one.kind == "individual"
    assert (one.status, one.jobs_women, one.jobs_men) == (ProjectStatus.ACTIVE, 2, 1)
    assert one.monthly_revenue == Decimal("850.500")
    assert one.last_visit_on == datetime.date(2024, 5, 2)
    assert two.status == ProjectStatus.STOPPED
    assert two.stopped_on == datetime.date(2023, 1, 10) and two.months_alive == 31
    assert three.status == ProjectStatus.STRUGGLING and five.status == ProjectStatus.ACTIVE

    # Promoters registered with their project, through the registry
    assert (two.promoter.given_name, two.promoter.birth_year) == ("Nour", 1990)
    assert two.promoter.residence == world.tabarka  # the project's territory
    assert two.promoter.organisation == world.org_a
    assert three.promoter.family_name == "الزين" and three.promoter.sex == "F"
    assert five.promoter.birth_date == datetime.date(1988, 2, 1)

    # Collectives: a new one with the promoter presiding, and an existing one
    assert three.kind == "collective" and three.group.name == "Tabarka bakers"
    roles = dict(three.group.members.values_list("person_id", "role"))
    assert roles == {three.promoter.pk: MemberRole.PRESIDENT, world.p_tabarka.pk: "member"}
    assert four.kind == "collective" and four.group == world.weavers
    assert world.weavers.members.count() == 1  # the promoter presides it already

    # Financing and schedules, as project_award writes them
    kinds = {p.code: sorted(p.financings.values_list("kind", "amount")) for p in found.values()}
    assert kinds["PRJ-1"] == [("grant", Decimal("1500.000")), ("loan", Decimal("3000.000"))]
    assert kinds["PRJ-3"] == [("in_kind", Decimal("300.000")), ("loan", Decimal("4500.000"))]
    assert kinds["PRJ-5"] == [("in_kind", Decimal("750.000"))]
    loans = Financing.objects.filter(kind=FinancingKind.LOAN).select_related("project")
    assert loans.count() == 3
    for loan in loans:
        schedule = list(loan.schedule.order_by("number"))
        assert len(schedule) == loan.instalments
        assert sum(i.amount for i in schedule) == loan.amount
        assert loan.outstanding == loan.amount
        assert loan.first_due_on == add_months(loan.awarded_on, loan.grace_months + 1)
        assert loan.oldest_unpaid_due_on == schedule[0].due_on == loan.first_due_on
        assert schedule[-1].due_on == add_months(loan.first_due_on, loan.instalments - 1)
        assert loan.awarded_on == loan.project.financed_on
    first = Financing.objects.get(project=one, kind="loan")
    assert (first.grace_months, first.instalments) == (2, 7)
    assert first.first_due_on == datetime.date(2021, 6, 15)
    assert [i.amount for i in first.schedule.order_by("number")][-2:] == [
        Decimal("428.571"), Decimal("428.574"),
    ]  # fmt: skip
    assert Instalment.objects.count() == 7 + 12 + 3

    # Audit: each project and financing has its entry naming the user
    assert Project.history.filter(history_user=world.coordinator).count() == 5
    assert Financing.history.filter(history_user=world.coordinator).count() == 7


def test_one_bad_row_writes_nothing_and_names_its_row_and_column(world):
    rows = _five(world)
    rows[3][HEADER.index("loan_amount")] = "4500.0001"  # row 4: four decimals in TND
    rows[5][HEADER.index("financed_on")] = (TODAY + datetime.timedelta(days=3)).isoformat()
    before = project_snapshot()

    job = _upload(world, ImportKind.PROJECTS, rows)

    assert _errors(job) == [(4, "P", "loan_amount"), (6, "M", "financed_on")]
    assert "at most 3 decimals" in _messages(job) and "future" in _messages(job)
    assert job.report["errors"][0]["column"] == "loan_amount"
    assert not job.can_run
    with pytest.raises(services.ImportJobError):
        _run(world, job)
    assert project_snapshot() == before


def test_a_row_refused_when_the_run_checks_again_writes_nothing(world):
    """A project with the same code registered between the preview and the run."""
    job = _upload(world, ImportKind.PROJECTS, _five(world))
    assert job.can_run
    Project.objects.create(
        code="PRJ-4", organisation=world.org_b, kind="individual", promoter=world.p_kef,
        territory=world.kef, region=world.kef, sector=world.crafts, title="Other",
        currency="TND", financed_on=TODAY,
    )  # fmt: skip
    before = project_snapshot()

    job = _run(world, job)

    assert job.status == ImportStatus.FAILED
    assert _errors(job) == [(5, "A", "code")]
    assert "exists already" in _messages(job)
    assert project_snapshot() == before


def test_the_rules_of_a_project_row(world):
    rows = [
        HEADER,
        # row 2: a loan without instalments, instalments on no loan's row below
        _row(code="A", promoter=str(world.p_jendouba.pk), territory="TN-32", sector="crafts",
             title="t", financed_on="2021-01-01", currency="TND", loan_amount="100"),
        # row 3: no amount at all, an unknown currency
        _row(code="B", promoter=str(world.p_jendouba.pk), territory="TN-32", sector="crafts",
             title="t", financed_on="2021-01-01", currency="XYZ"),
        # row 4: instalments without a loan; the code of row 2 again
        _row(code="a", promoter=str(world.p_jendouba.pk), territory="TN-32", sector="crafts",
             title="t", financed_on="2021-01-01", currency="TND", grant_amount="5",
             loan_instalments="12"),
        # row 5: stopped with no visit; a visit before the financing
        _row(code="C", promoter=str(world.p_jendouba.pk), territory="TN-32", sector="crafts",
             title="t", financed_on="2021-01-01", currency="TND", grant_amount="5",
             status="stopped"),
        _row(code="D", promoter=str(world.p_jendouba.pk), territory="TN-32", sector="crafts",
             title="t", financed_on="2021-01-01", currency="TND", grant_amount="5",
             last_visit_on="2020-12-31"),
        # row 7: collective without its collective; members named on an individual project
        _row(code="E", promoter=str(world.p_jendouba.pk), kind="collective", territory="TN-32",
             sector="crafts", title="t", financed_on="2021-01-01", currency="TND",
             grant_amount="5"),
        _row(code="F", promoter=str(world.p_jendouba.pk), members=str(world.p_tabarka.pk),
             territory="TN-32", sector="crafts", title="t", financed_on="2021-01-01",
             currency="TND", grant_amount="5"),
        # row 9: no promoter at all; a formula for a title; an unknown sector
        _row(code="G", territory="TN-32", sector="fishing", title="=HYPERLINK(\"x\")",
             financed_on="2021-01-01", currency="TND", grant_amount="5"),
    ]  # fmt: skip

    job = _upload(world, ImportKind.PROJECTS, rows)

    assert _errors(job) == [
        (2, "Q", "loan_instalments"),
        (3, "N", "currency"),
        (4, "A", "code"),
        (4, "Q", "loan_instalments"),
        (5, "U", "last_visit_on"),
        (6, "U", "last_visit_on"),
        (7, "H", "group"),
        (8, "I", "members"),
        (9, "B", "promoter"),
        (9, "K", "sector"),
        (9, "L", "title"),
    ]
    assert "earlier row" in job.report["errors"][2]["messages"][0]
    assert "formula" in job.report["errors"][-1]["messages"][0]


def test_promoters_by_number_are_looked_up_in_the_users_scope_only(world):
    rows = [
        HEADER,
        _row(code="A", promoter=str(world.p_empoli.pk), territory="TN-32", sector="crafts",
             title="t", financed_on="2021-01-01", currency="TND", grant_amount="5"),
        _row(code="B", promoter=str(world.p_jendouba.pk), given_name="Someone", sex="M",
             territory="TN-32", sector="crafts", title="t", financed_on="2021-01-01",
             currency="TND", grant_amount="5"),
        _row(code="C", given_name="Amira", birth_date="1890", territory="TN-32",
             sector="crafts", title="t", financed_on="2021-01-01", currency="TND",
             grant_amount="5"),
    ]  # fmt: skip

    job = _upload(world, ImportKind.PROJECTS, rows)

    assert _errors(job) == [
        (2, "B", "promoter"),
        (3, "C", "given_name"),
        (3, "E", "sex"),
        (4, "F", "birth_date"),  # the registry's own rule on births
    ]
    assert "Rossi" not in _messages(job) and "Giulia" not in _messages(job)


def test_files_in_windows_1256_latin_1_and_xlsx(world):
    arabic = [
        ["رمز المشروع", "الاسم", "اللقب", "الجنس", "سنة الولادة", "الولاية", "القطاع",
         "عنوان المشروع", "تاريخ التمويل", "العملة", "منحة", "الحالة"],
        ["AR-1", "فاطمة", "الزين", "أنثى", "1985", "TN-32", "الحرف", "مخبزة", "15/03/2021",
         "TND", "1200", "نشط"],
    ]  # fmt: skip
    job = _upload(world, ImportKind.PROJECTS, arabic, encoding="cp1256", separator=";")
    assert job.encoding == "cp1256" and job.separator == ";"
    assert job.error_count == 0, job.report["errors"]

    french = [
        ["Code du projet", "Prénom", "Nom", "Sexe", "Année de naissance", "Gouvernorat",
         "Secteur", "Intitulé", "Date de financement", "Devise", "Prêt", "Échéances",
         "Différé", "Statut", "Dernière visite"],
        ["FR-1", "Hélène", "Gharbi", "Femme", "1991", "Jendouba", "Artisanat", "Épicerie",
         "15.3.2021", "TND", "1 500,500", "10", "3", "Arrêté", "01/06/2023"],
    ]  # fmt: skip
    job_fr = _upload(world, ImportKind.PROJECTS, french, encoding="latin-1", separator="\t")
    assert job_fr.encoding in ("cp1252", "latin-1") and job_fr.separator == "\t"
    assert job_fr.error_count == 0, job_fr.report["errors"]

    workbook = xlsx_bytes(
        [
            [
                "code",
                "promoter",
                "territory",
                "sector",
                "title",
                "financed_on",
                "currency",
                "loan_amount",
                "loan_instalments",
                "jobs_women",
                "monthly_revenue",
            ],
            [
                "XL-1",
                world.p_jendouba.pk,
                "TN-32",
                "crafts",
                "Shop",
                datetime.date(2022, 2, 28),
                "TND",
                2400.5,
                6,
                3,
                700,
            ],
            [
                "XL-2",
                world.p_jendouba.pk,
                "TN-32",
                "crafts",
                "=A1",
                datetime.date(2022, 2, 28),
                "TND",
                100,
                2,
                0,
                0,
            ],
        ]  # fmt: skip
    )
    job_xl = _upload(world, ImportKind.PROJECTS, name="p.xlsx", data=workbook)
    assert _errors(job_xl) == [(3, "E", "title")]

    for checked in (job, job_fr):
        _run(world, checked)
    projects = {p.code: p for p in Project.objects.unscoped().select_related("promoter")}
    assert projects["AR-1"].promoter.given_name == "فاطمة"
    assert projects["AR-1"].amount_financed == Decimal("1200")
    assert projects["AR-1"].sector == world.crafts and projects["AR-1"].status == "active"
    hel = projects["FR-1"]
    assert hel.promoter.given_name == "Hélène" and hel.status == ProjectStatus.STOPPED
    assert hel.financed_on == datetime.date(2021, 3, 15)
    loan = hel.financings.get()
    assert (loan.amount, loan.instalments, loan.grace_months) == (Decimal("1500.500"), 10, 3)
    assert sum(loan.schedule.values_list("amount", flat=True)) == Decimal("1500.500")


@pytest.mark.parametrize(
    ("written", "expected"),
    [("4500", "4500"), ("4500.5", "4500.5"), ("4 500,500", "4500.500"), ("١٢٠٠", "1200"),
     (2400.5, "2400.5"), (12, "12"), ("1,500", "1.500")],
)  # fmt: skip
def test_amounts_as_spreadsheets_write_them(written, expected):
    assert amount(written) == Decimal(expected)


@pytest.mark.parametrize("written", ["1,500.25", "12 EUR", "1.2.3", "-5", "abc"])
def test_amounts_that_are_refused(written):
    with pytest.raises(CellError):
        amount(written)


# --- repayments -----------------------------------------------------------------------------

PAY = ["project", "financing", "paid_on", "amount"]


def test_repayments_are_allocated_oldest_first_and_keep_the_loans_figures(world):
    _projects(world)
    rows = [
        PAY,
        ["PRJ-1", "loan", "01/07/2021", "500"],
        ["PRJ-1", "", "2021-08-01", "1000,000"],
        ["PRJ-4", "Prêt 1", "2023-03-01", "400"],
        ["PRJ-4", "1", "2023-04-01", "600"],
        ["PRJ-3", "", "2023-01-15", "375"],
    ]
    job = _upload(world, ImportKind.REPAYMENTS, rows, user=world.desk_a)
    assert job.error_count == 0, job.report["errors"]
    job = _run(world, job, user=world.desk_a)
    assert job.status == ImportStatus.DONE and job.report["written"] == 5

    one = Financing.objects.get(project__code="PRJ-1", kind="loan")
    assert one.outstanding == Decimal("1500.000")
    paid = list(one.schedule.order_by("number").values_list("paid", flat=True))
    assert paid == [Decimal("428.571")] * 3 + [Decimal("214.287"), 0, 0, 0]
    assert one.oldest_unpaid_due_on == add_months(one.first_due_on, 3)
    four = Financing.objects.get(project__code="PRJ-4")
    assert four.outstanding == 0 and four.oldest_unpaid_due_on is None
    assert all(i.paid == i.amount for i in four.schedule.all())
    three = Financing.objects.get(project__code="PRJ-3", kind="loan")
    assert three.outstanding == Decimal("4125.000")
    assert three.oldest_unpaid_due_on == add_months(three.first_due_on, 1)  # one of 375 paid
    repayments = Repayment.objects.order_by("pk")
    assert [(r.financing_id, r.amount, r.paid_on) for r in repayments][:2] == [
        (one.pk, Decimal("500.000"), datetime.date(2021, 7, 1)),
        (one.pk, Decimal("1000.000"), datetime.date(2021, 8, 1)),
    ]
    assert len({r.receipt for r in repayments}) == 5
    assert {r.recorded_by for r in repayments} == {world.desk_a}
    assert Repayment.history.filter(history_user=world.desk_a).count() == 5
    assert Financing.history.filter(history_change_reason="repayment").count() == 3


def test_a_file_repaying_more_than_a_loan_owes_is_refused_whole_across_batches(world, monkeypatch):
    _projects(world)
    monkeypatch.setattr(engine, "CHUNK", 2)  # rows 2-3, 4-5, 6: the total spans the batches
    rows = [
        PAY,
        ["PRJ-1", "loan", "2021-07-01", "500"],
        ["PRJ-4", "loan", "2023-03-01", "600"],
        ["PRJ-1", "loan", "2021-08-01", "500"],
        ["PRJ-4", "loan", "2023-04-01", "300"],
        ["PRJ-4", "loan", "2023-05-01", "100.001"],  # 1000.001 in all: more than owed
    ]
    before = project_snapshot()

    job = _upload(world, ImportKind.REPAYMENTS, rows)

    assert _errors(job) == [(6, "D", "amount")]
    assert "more than the loan still owes (100.000)" in _messages(job)
    with pytest.raises(services.ImportJobError):
        _run(world, job)
    assert project_snapshot() == before

    # The whole balance, exactly, is accepted.
    rows[-1][3] = "100"
    job = _run(world, _upload(world, ImportKind.REPAYMENTS, rows))
    assert job.status == ImportStatus.DONE
    assert Financing.objects.get(project__code="PRJ-4").outstanding == 0


def test_a_repayment_over_the_balance_refused_when_the_run_checks_again(world):
    """A repayment recorded on the page between the preview and the run."""
    from tadamun.projects import services as project_services

    _projects(world)
    job = _upload(world, ImportKind.REPAYMENTS, [PAY, ["PRJ-4", "", "2023-03-01", "800"]])
    assert job.can_run
    loan = Financing.objects.get(project__code="PRJ-4")
    project_services.repayment_record(user=world.desk_a, financing=loan, amount="300")
    before = project_snapshot()

    job = _run(world, job)

    assert job.status == ImportStatus.FAILED
    assert _errors(job) == [(2, "D", "amount")]
    assert project_snapshot() == before


def test_the_rules_of_a_repayment_row(world):
    _projects(world)
    rows = [
        PAY,
        ["PRJ-2", "", "2021-07-01", "5"],  # a grant only
        ["PRJ-1", "grant", "2021-07-01", "5"],  # not a loan
        ["PRJ-1", "loan 2", "2021-07-01", "5"],  # it has one loan
        ["PRJ-1", "", "2021-03-14", "5"],  # before the award
        ["PRJ-1", "", (TODAY + datetime.timedelta(days=1)).isoformat(), "5"],
        ["PRJ-1", "", "2021-07-01", "0"],
        ["PRJ-1", "", "2021-07-01", "5.0005"],
        ["NOPE", "", "2021-07-01", "5"],
        ["PRJ-1", "", "2021-07", "5"],
    ]

    job = _upload(world, ImportKind.REPAYMENTS, rows)

    assert _errors(job) == [
        (2, "B", "financing"),
        (3, "B", "financing"),
        (4, "B", "financing"),
        (5, "C", "paid_on"),
        (6, "C", "paid_on"),
        (7, "D", "amount"),
        (8, "D", "amount"),
        (9, "A", "project"),
        (10, "C", "paid_on"),
    ]
    messages = [e["messages"][0] for e in job.report["errors"]]
    assert messages[0] == "This project has no loan."
    assert messages[1] == "Only loans are repaid."
    assert "1 loans only" in messages[2]
    assert messages[3] == "This date is before the award."
    assert messages[4] == "This date is in the future."


def test_a_project_with_two_loans_needs_the_loan_named(world):
    from tadamun.projects.services import loan_schedule

    _projects(world)
    project = Project.objects.unscoped().get(code="PRJ-1")
    second = Financing.objects.create(
        project=project, kind="loan", amount=Decimal("200"), awarded_on=project.financed_on,
        instalments=2, first_due_on=datetime.date(2021, 4, 15), outstanding=Decimal("200"),
        oldest_unpaid_due_on=datetime.date(2021, 4, 15),
    )  # fmt: skip
    for number, due, value in loan_schedule(Decimal("200"), "TND", 2, second.first_due_on):
        Instalment.objects.create(financing=second, number=number, due_on=due, amount=value)

    job = _upload(world, ImportKind.REPAYMENTS, [PAY, ["PRJ-1", "", "2021-07-01", "50"]])
    assert _errors(job) == [(2, "B", "financing")]
    assert "2 loans" in _messages(job)

    job = _run(
        world, _upload(world, ImportKind.REPAYMENTS, [PAY, ["PRJ-1", "loan 2", "2021-07-01", "50"]])
    )
    second.refresh_from_db()
    assert job.status == ImportStatus.DONE and second.outstanding == Decimal("150.000")


# --- access ---------------------------------------------------------------------------------


def test_projects_are_imported_by_coordinators_only_and_never_for_another_network(world):
    other_network = f.network("net-2", [world.org_c])
    coordinator_2 = f.UserFactory(username="coordinator_other")
    f.membership(coordinator_2, other_network, Role.COORDINATOR)
    data = csv_bytes(_five(world))
    kind = get(ImportKind.PROJECTS)
    for user in (coordinator_2, world.outsider, world.desk_a, world.caseworker_b, world.viewer_a):
        with pytest.raises(AccessDenied):
            services.import_upload(
                user=user, organisation=world.org_a, file=upload("p.csv", data),
                kind=ImportKind.PROJECTS,
            )  # fmt: skip
        assert not kind.organisations(user).filter(pk=world.org_a.pk).exists()
    assert kind.organisations(coordinator_2).filter(pk=world.org_c.pk).exists()
    assert kind.may_import(world.coordinator, world.org_a)
    assert not Project.objects.unscoped().exists()


def test_repayments_by_the_desk_within_its_territory_only(world):
    _projects(world)
    rows = [PAY, ["PRJ-4", "", "2023-03-01", "10"], ["PRJ-1", "", "2021-07-01", "10"]]

    job = _upload(world, ImportKind.REPAYMENTS, rows, user=world.desk_tabarka)

    # PRJ-1 is in Jendouba, outside Tabarka: for this desk it does not exist.
    assert _errors(job) == [(3, "A", "project")]
    assert "No project of" in _messages(job)
    with pytest.raises(AccessDenied):
        _upload(world, ImportKind.REPAYMENTS, rows, user=world.caseworker_b)
    with pytest.raises(AccessDenied):
        _upload(world, ImportKind.REPAYMENTS, rows, user=world.viewer_a)
    other = _upload(
        world, ImportKind.REPAYMENTS, rows, user=world.caseworker_b, organisation=world.org_b
    )
    assert _errors(other) == [(2, "A", "project"), (3, "A", "project")]


# --- templates ------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ar", "fr", "it", "el", "en"])
@pytest.mark.parametrize("extension", ["xlsx", "csv"])
def test_the_templates_in_each_language_import_their_example_rows(
    world, client_for, language, extension
):
    world.coordinator.language = language
    world.coordinator.save()
    client = client_for(world.coordinator)
    files = {}
    for kind in (ImportKind.PROJECTS, ImportKind.REPAYMENTS):
        response = client.get(f"/imports/template/{kind}.{extension}")
        assert response.status_code == 200
        assert "attachment" in response["Content-Disposition"]
        files[kind] = response.content
    with translation.override(language):
        for kind in (ImportKind.PROJECTS, ImportKind.REPAYMENTS):
            job = _upload(world, kind, name=f"template.{extension}", data=files[kind])
            assert job.rows_total == 1
            assert job.report["error_count"] == 0, job.report["errors"]
            assert len(job.report["columns"]) == len(get(kind).columns)
            assert job.report["ignored"] == []
            assert _run(world, job).status == ImportStatus.DONE
    project = Project.objects.unscoped().get(code="PRJ-2019-0001")
    assert project.promoter.given_name == "Amina" and project.territory == world.jendouba
    loan = project.financings.get(kind="loan")
    assert loan.outstanding == Decimal("3000") - Decimal("125.500")
