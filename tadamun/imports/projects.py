"""Importing micro-projects financed before the platform, and the repayments of their loans.

**Projects.** One row is one financed project: its code, its promoter, individual or
collective, territory, sector, title, date of financing, currency, the amounts of its grant,
loan and support in kind (a loan with its instalments and grace period), and what the last
follow-up visit found (status, jobs, revenue). The promoter is named by their number (as the
people page shows it, and only if the importing user may see them), or by the people import's
own columns, in which case they are registered with the project through the registry's
validation (``person_bulk_validate``). A collective project names its collective: one of the
organisation's groups, or a new one registered with the promoter as president and the members
listed by number. The projects are written by ``project_import_check`` and
``project_import_write`` (tadamun/projects/services.py): a project, its financing and, for a
loan, its repayment schedule and outstanding amount, without an application.

**Repayments.** One row is one repayment of a loan of a project of the organisation: the
project's code, which loan (when it has several), the date and the amount. Each goes through
the rules of ``repayment_record``; the amounts a file repays are counted loan by loan across
the whole file, so that no loan is repaid more than it owes.

As for every import, the file is checked whole first and written all or nothing.
"""

import dataclasses
import datetime
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from tadamun.access.scope import scope_for
from tadamun.core.errors import DomainError
from tadamun.organisations.models import Organisation
from tadamun.projects import services as projects
from tadamun.projects.models import (
    ROLES_MANAGING_CALLS,
    ROLES_WORKING_PROJECTS,
    ApplicationKind,
    FinancingKind,
    Project,
    ProjectStatus,
    Repayment,
    Sector,
)
from tadamun.registry import services as registry
from tadamun.registry.models import Group, GroupKind, MemberRole, Person, PersonNameKey
from tadamun.registry.names import name_keys
from tadamun.territories.models import Territory

from . import duplicates, engine, parsing, people
from .kinds import Column, Kind, register
from .models import ImportKind
from .parsing import CellError, Choices, normalise

NAME_FIELDS = ("given_name", "family_name", "given_name_latin", "family_name_latin")
PERSON_FIELDS = tuple(c.field for c in people.COLUMNS)


class ProjectImportError(DomainError):
    pass


# --- cells --------------------------------------------------------------------------------

_KIND_WORDS = {
    ApplicationKind.INDIVIDUAL: ["individuel", "individuale", "فردي", "ατομικο"],
    ApplicationKind.COLLECTIVE: [
        "collectif",
        "collettivo",
        "group",
        "groupe",
        "cooperative",
        "جماعي",
        "συλλογικο",
    ],
}
_STATUS_WORDS = {
    ProjectStatus.ACTIVE: ["actif", "attivo", "open", "running", "نشط", "ناشط", "ενεργο"],
    ProjectStatus.STRUGGLING: [
        "en difficulte",
        "in difficolta",
        "difficulty",
        "متعثر",
        "σε δυσκολια",
    ],
    ProjectStatus.STOPPED: [
        "arrete",
        "ferme",
        "fermo",
        "chiuso",
        "closed",
        "متوقف",
        "مغلق",
        "σταματησε",
        "κλειστο",
    ],
}
_FINANCING_WORDS = {
    FinancingKind.LOAN: ["pret", "prestito", "قرض", "δανειο", "credit", "microcredit"],
    FinancingKind.GRANT: ["subvention", "don", "contributo", "منحة", "επιχορηγηση"],
    FinancingKind.IN_KIND: ["en nature", "in natura", "عيني", "σε ειδος"],
}


@lru_cache(maxsize=4)
def _choices(name: str) -> Choices:
    enum, words = {
        "kind": (ApplicationKind, _KIND_WORDS),
        "status": (ProjectStatus, _STATUS_WORDS),
        "financing": (FinancingKind, _FINANCING_WORDS),
    }[name]
    choices = Choices()
    for value, _label in enum.choices:
        choices.add(value, value)
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                choices.add(str(enum(value).label), value)
        for word in words.get(value, []):
            choices.add(word, value)
    return choices


def _text(value, context) -> str:
    return parsing.text(value).strip()


def _date(value, context) -> datetime.date:
    found = parsing.date_or_year(value)
    if isinstance(found, int):
        raise CellError(_("Write the whole date: the day, the month and the year."))
    return found


def _kind(value, context) -> str:
    return _choices("kind")(value)


def _status(value, context) -> str:
    return _choices("status")(value)


_SPACES = re.compile(r"[\s\u00a0\u202f']+")
_AMOUNT = re.compile(r"^\d+(?:[.,]\d+)?$")


def amount(value, context=None) -> Decimal:
    """An amount as spreadsheets write it: 4500, 4500.500, 4500,500 or 4 500,500 (a point or
    a comma before the decimals, spaces between thousands). "1,500" is one and a half: a comma
    is never read as a thousands separator."""
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    written = _SPACES.sub("", parsing.digits(parsing.text(value)))
    if not _AMOUNT.match(written):
        raise CellError(
            _("%(value)s is not an amount: write it as 4500.500 or 4500,500.") % {"value": value}
        )
    try:
        return Decimal(written.replace(",", "."))
    except InvalidOperation:
        raise CellError(_("%(value)s is not an amount.") % {"value": value}) from None


def _whole(value, context) -> int:
    if isinstance(value, int | float) and int(value) == value:
        return int(value)
    written = parsing.digits(parsing.text(value)).strip()
    if written.isdigit() and len(written) < 7:
        return int(written)
    raise CellError(_("%(value)s is not a whole number.") % {"value": value})


def _one_of(key: str, missing):
    """A lookup of the context's records by code or by name."""

    def convert(value, context):
        written = parsing.text(value)
        found = context[key].get(normalise(written), [])
        if len(found) == 1:
            return found[0]
        if found:
            raise CellError(
                _("Several entries are called %(value)s: write the code instead.")
                % {"value": written}
            )
        raise CellError(str(missing) % {"value": written})

    return convert


_sector = _one_of("sectors", gettext_lazy("No sector has the code or name %(value)s."))


def _code(value, context) -> str:
    """A project's code, once per file (the rows are checked in batches: this sees them all)."""
    written = parsing.text(value).strip()
    seen = context["codes"]
    if written.casefold() in seen:
        raise CellError(_("An earlier row of this file has this code already."))
    seen.add(written.casefold())
    return written


_NUMBER_SPLIT = re.compile(r"[\s,;/|]+")


def _person_number(written: str) -> int | None:
    digits = parsing.digits(written).lstrip("#").strip()
    return int(digits) if digits.isdigit() and len(digits) < 12 else None


def _person_reference(value, context) -> int:
    written = parsing.text(value).strip()
    number = _person_number(written)
    if number is None:
        raise CellError(_("%(value)s is not a person's number.") % {"value": written})
    return number


def _person_numbers(value, context) -> list[int]:
    numbers = []
    for part in _NUMBER_SPLIT.split(parsing.text(value)):
        if not part:
            continue
        number = _person_number(part)
        if number is None:
            raise CellError(
                _("%(value)s is not a person's number: separate the numbers with commas.")
                % {"value": part}
            )
        numbers.append(number)
    return numbers


def _label(model, name: str):
    return model._meta.get_field(name).verbose_name


# --- the projects' columns -----------------------------------------------------------------


def _territory_example(context):
    """The organisation's territory; for a network without one, its first member's."""
    organisation = context.get("organisation")
    territory = getattr(organisation, "territory", None)
    if territory is None and organisation is not None:
        territory = (
            Territory.objects.filter(
                organisations__network_links__network=organisation,
                organisations__network_links__left_on__isnull=True,
            )
            .order_by("path")
            .first()
        )
    return territory.code if territory is not None else ""


def _sector_example(context):
    sector = Sector.objects.order_by("code").first()
    return sector.code if sector is not None else ""


# The project's territory takes these words; the person's residence keeps its others.
_TERRITORY_WORDS = ("territory", "territoire", "territorio", "المنطقة", "περιοχη")


def _person_columns() -> tuple[Column, ...]:
    columns = []
    for column in people.COLUMNS:
        if column.required:
            column = dataclasses.replace(
                column,
                required=False,
                help=gettext_lazy("Required to register the promoter. In any script."),
            )
        if column.field == "residence":
            column = dataclasses.replace(
                column,
                aliases=tuple(
                    a
                    for a in column.aliases
                    if normalise(a) not in set(map(normalise, _TERRITORY_WORDS))
                ),
                help=gettext_lazy(
                    "The promoter's territory (code or name); the project's when empty."
                ),
            )
        columns.append(column)
    return tuple(columns)


def _money_help(what):
    return gettext_lazy(
        "%(what)s, in the currency's units: 4500.500 or 4500,500, without thousands separators "
        "other than spaces."
    ) % {"what": what}


PROJECT_COLUMNS = (
    Column(
        "code",
        _label(Project, "code"),
        _code,
        aliases=(
            "project code",
            "project",
            "code du projet",
            "codice progetto",
            "codice",
            "رمز المشروع",
            "الرمز",
            "κωδικος",
            "κωδικος εργου",
        ),
        required=True,
        example="PRJ-2019-0001",
        help=gettext_lazy(
            "Required. The project's code in your records, once per project; repayments name "
            "the project by it."
        ),
    ),
    Column(
        "promoter",
        gettext_lazy("promoter number"),
        _person_reference,
        aliases=(
            "promoter",
            "promoter id",
            "person number",
            "promoteur",
            "numero du promoteur",
            "promotore",
            "numero del promotore",
            "الباعث",
            "رقم الباعث",
            "αριθμος φορεα",
        ),
        help=gettext_lazy(
            "The number of the promoter if already registered, as their page shows it. Leave it "
            "empty to register the promoter with the columns that follow."
        ),
    ),
    *_person_columns(),
    Column(
        "kind",
        _label(Project, "kind"),
        _kind,
        aliases=("project kind", "type", "type de projet", "tipo", "نوع المشروع", "ειδος"),
        example=lambda context: str(ApplicationKind.INDIVIDUAL.label),
        help=gettext_lazy("Individual or Collective; collective when a collective is named."),
    ),
    Column(
        "group",
        _label(Project, "group"),
        _text,
        aliases=(
            "group",
            "group name",
            "collective name",
            "groupement",
            "nom du groupe",
            "gruppo",
            "المجموعة",
            "ομαδα",
        ),
        help=gettext_lazy(
            "For a collective project: the name of one of your organisation's groups, or of a "
            "new one, registered with the promoter as its president."
        ),
    ),
    Column(
        "members",
        gettext_lazy("members of the collective"),
        _person_numbers,
        aliases=("members", "membres", "membri", "الاعضاء", "μελη"),
        help=gettext_lazy(
            "The numbers of registered people who join the collective with the promoter, "
            "separated by commas."
        ),
    ),
    Column(
        "territory",
        _label(Project, "territory"),
        people._residence,
        aliases=(
            *_TERRITORY_WORDS,
            "governorate",
            "gouvernorat",
            "delegation",
            "provincia",
            "الولاية",
            "المعتمدية",
        ),
        required=True,
        example=_territory_example,
        help=gettext_lazy("Required. The code of the governorate or delegation, or its name."),
    ),
    Column(
        "sector",
        _label(Project, "sector"),
        _sector,
        aliases=("secteur", "settore", "القطاع", "τομεας"),
        required=True,
        example=_sector_example,
        help=gettext_lazy("Required. The code or name of a sector of activity."),
    ),
    Column(
        "title",
        gettext_lazy("project title"),
        _text,
        aliases=(
            "title",
            "titre",
            "intitule",
            "titolo",
            "عنوان المشروع",
            "τιτλος",
        ),
        required=True,
        example="Weaving workshop",
        help=gettext_lazy("Required."),
    ),
    Column(
        "financed_on",
        _label(Project, "financed_on"),
        _date,
        aliases=(
            "financed",
            "date of financing",
            "date de financement",
            "data di finanziamento",
            "تاريخ التمويل",
            "ημερομηνια χρηματοδοτησης",
        ),
        required=True,
        example=datetime.date(2019, 3, 15),
        help=gettext_lazy("Required. Such as 15/03/2019 or 2019-03-15; not in the future."),
    ),
    Column(
        "currency",
        _label(Project, "currency"),
        _text,
        aliases=("devise", "monnaie", "valuta", "العملة", "νομισμα"),
        required=True,
        example="TND",
        help=gettext_lazy("Required. The code of the currency, such as TND, MAD or EUR."),
    ),
    Column(
        "grant_amount",
        gettext_lazy("grant"),
        amount,
        aliases=(
            "grant",
            "grant amount",
            "subvention",
            "montant de la subvention",
            "contributo",
            "منحة",
            "επιχορηγηση",
        ),
        example="1500",
        help=_money_help(gettext_lazy("The grant")),
    ),
    Column(
        "loan_amount",
        gettext_lazy("loan"),
        amount,
        aliases=("loan", "loan amount", "pret", "montant du pret", "prestito", "قرض", "δανειο"),
        example="3000",
        help=_money_help(gettext_lazy("The loan")),
    ),
    Column(
        "loan_instalments",
        gettext_lazy("loan instalments"),
        _whole,
        aliases=(
            "instalments",
            "installments",
            "echeances",
            "nombre d'echeances",
            "rate",
            "الاقساط",
            "δοσεις",
        ),
        example=24,
        help=gettext_lazy("For a loan: the number of monthly instalments, 1 to 240."),
    ),
    Column(
        "grace_months",
        gettext_lazy("grace period (months)"),
        _whole,
        aliases=(
            "grace",
            "grace months",
            "differe",
            "mois de differe",
            "preammortamento",
            "فترة الامهال",
            "περιοδος χαριτος",
        ),
        example=3,
        help=gettext_lazy(
            "For a loan: months before the first instalment, 0 to 60; the first instalment "
            "falls one month after them."
        ),
    ),
    Column(
        "in_kind_amount",
        gettext_lazy("support in kind"),
        amount,
        aliases=("in kind", "in-kind amount", "en nature", "in natura", "عيني", "σε ειδος"),
        help=_money_help(gettext_lazy("The value of the support in kind")),
    ),
    Column(
        "status",
        _label(Project, "status"),
        _status,
        aliases=("etat", "statut", "stato", "الحالة", "κατασταση"),
        example=lambda context: str(ProjectStatus.ACTIVE.label),
        help=gettext_lazy(
            "Active, Struggling or Stopped, as the last visit found it; active when empty."
        ),
    ),
    Column(
        "last_visit_on",
        _label(Project, "last_visit_on"),
        _date,
        aliases=(
            "last visit",
            "last visit date",
            "derniere visite",
            "date de la derniere visite",
            "ultima visita",
            "اخر زيارة",
            "τελευταια επισκεψη",
        ),
        example=datetime.date(2024, 5, 2),
        help=gettext_lazy(
            "Not before the financing. Required for a stopped project: it stopped then."
        ),
    ),
    Column(
        "jobs_women",
        _label(Project, "jobs_women"),
        _whole,
        aliases=("jobs women", "women jobs", "emplois femmes", "posti donne", "مواطن شغل نساء"),
        example=2,
    ),
    Column(
        "jobs_men",
        _label(Project, "jobs_men"),
        _whole,
        aliases=("jobs men", "men jobs", "emplois hommes", "posti uomini", "مواطن شغل رجال"),
        example=1,
    ),
    Column(
        "monthly_revenue",
        _label(Project, "monthly_revenue"),
        amount,
        aliases=(
            "revenue",
            "chiffre d'affaires mensuel",
            "revenu mensuel",
            "fatturato mensile",
            "الدخل الشهري",
            "μηνιαια εσοδα",
        ),
        example="850",
        help=_money_help(gettext_lazy("The monthly revenue found at the last visit")),
    ),
)


# --- who may import ------------------------------------------------------------------------


def _organisation_ids(user, roles) -> set[int] | None:
    """Organisations the user holds one of ``roles`` for (anywhere in them); None: all."""
    scope = scope_for(user)
    if scope.is_operator:
        return None
    ids: set[int] = set()
    for grant in scope.grants_with(roles):
        ids |= grant.organisation_ids
    return ids


def _organisations_for(roles):
    def organisations(user):
        ids = _organisation_ids(user, roles)
        found = Organisation.objects.active()
        return found if ids is None else found.filter(pk__in=ids)

    return organisations


def _may_import_for(roles):
    def may_import(user, organisation) -> bool:
        ids = _organisation_ids(user, roles)
        return ids is None or organisation.pk in ids

    return may_import


# --- projects: checking and writing --------------------------------------------------------


def _by_code_and_name(records) -> dict[str, list]:
    found: dict[str, list] = {}
    for record in records:
        data = getattr(record.name, "data", None)
        spellings = data.values() if isinstance(data, dict) else [str(record.name)]
        for key in {normalise(record.code), *(normalise(s) for s in spellings if s)}:
            if key and record not in found.setdefault(key, []):
                found[key].append(record)
    return found


def _project_context(organisation) -> dict:
    return {
        **people.PEOPLE.context(organisation),
        "sectors": _by_code_and_name(Sector.objects.all()),
        "codes": set(),
    }


def _project_prepare(values: dict) -> tuple[dict, dict]:
    """The people import's own preparation of the promoter's cells."""
    return people.PEOPLE.prepare(values)


@dataclasses.dataclass
class _Plan:
    row: int
    project: projects.ImportedProject
    new_person: Person | None = None
    new_group: Group | None = None
    members: list = dataclasses.field(default_factory=list)


class _Errors:
    """Errors of a batch of rows, keyed "<row>:<field>" as the engine reads them."""

    def __init__(self):
        self.errors: dict[str, list] = {}
        self.rows: set[int] = set()

    def add(self, number: int, field: str, messages) -> None:
        if not isinstance(messages, list | tuple):
            messages = [messages]
        self.errors.setdefault(f"{number}:{field}", []).extend(str(m) for m in messages)
        self.rows.add(number)

    def add_keyed(self, error: DomainError, skip=lambda number, name: False) -> None:
        for key, messages in error.message_dict.items():
            number, _sep, name = key.partition(":")
            if not skip(int(number), name):
                self.add(int(number), name, messages)


def _group_key(name: str) -> str:
    return normalise(name)


def _project_validate(*, user, organisation, rows: list[dict], numbers: list[int]) -> list[_Plan]:
    """Check the rows without writing: the promoters (by number, or registered with the
    project through the registry's validation), the collectives, then the projects through
    ``project_import_check``. Returns the plans ``_project_write`` carries out."""
    report = _Errors()
    wanted = {row["promoter"] for row in rows if row.get("promoter")}
    wanted |= {n for row in rows for n in row.get("members") or []}
    visible = {
        p.pk: p
        for p in Person.objects.visible_to(user)
        .filter(pk__in=wanted)
        .only("pk", "archived_at", "organisation_id", *NAME_FIELDS)
    }
    keys_of: dict[int, set[str]] = {}
    for pk, key in PersonNameKey.objects.filter(person_id__in=visible).values_list(
        "person_id", "key"
    ):
        keys_of.setdefault(pk, set()).add(key)
    names = {_group_key(row["group"]) for row in rows if row.get("group")}
    groups: dict[str, list[Group]] = {}
    if names:
        for group in Group.objects.visible_to(user).filter(
            organisation=organisation, archived_at__isnull=True
        ):
            if _group_key(group.name) in names:
                groups.setdefault(_group_key(group.name), []).append(group)
    person_failed: set[int] = set()
    service_rows, service_numbers, plans = [], [], []
    for number, row in zip(numbers, rows, strict=True):
        plan = _Plan(row=number, project=None)
        # The promoter: by number, or registered with the project
        given = [name for name in PERSON_FIELDS if row.get(name) not in (None, "", [])]
        promoter = None
        if row.get("promoter"):
            promoter = visible.get(row["promoter"])
            if promoter is None:
                report.add(
                    number,
                    "promoter",
                    _("No person with the number %(value)s is in your scope.")
                    % {"value": row["promoter"]},
                )
            elif promoter.is_archived:
                report.add(
                    number, "promoter", _("This person's record is archived; restore it first.")
                )
                promoter = None
            else:
                for name in given:
                    if name not in NAME_FIELDS:
                        report.add(
                            number,
                            name,
                            _("Leave this empty: the row names a registered promoter by number."),
                        )
                written = name_keys(*(str(row.get(n) or "") for n in NAME_FIELDS))
                if written and not written <= keys_of.get(promoter.pk, set()):
                    report.add(
                        number,
                        next(n for n in NAME_FIELDS if row.get(n)),
                        _("This name is not the name of person %(value)s.")
                        % {"value": promoter.pk},
                    )
        elif not given:
            report.add(
                number,
                "promoter",
                _("Give the promoter's number, or their name to register them with the project."),
            )
        else:
            fields = {name: row[name] for name in given}
            fields.setdefault("residence", row.get("territory"))
            try:
                [promoter] = registry.person_bulk_validate(
                    user=user, rows=[{**fields, "organisation": organisation}], numbers=[number]
                )
            except DomainError as error:
                report.add_keyed(error)
                promoter = None
            else:
                plan.new_person = promoter
        if promoter is None:
            person_failed.add(number)
        # The collective: one of the organisation's groups, or a new one
        group = None
        if row.get("group"):
            found = groups.get(_group_key(row["group"]), [])
            if len(found) > 1:
                report.add(
                    number,
                    "group",
                    _("Several groups of %(organisation)s have this name.")
                    % {"organisation": organisation},
                )
            elif found:
                group = found[0]
            elif row.get("territory") is not None:
                group = Group(
                    name=row["group"],
                    kind=GroupKind.COLLECTIVE,
                    organisation=organisation,
                    territory=row["territory"],
                )
                try:
                    group.full_clean(exclude=["organisation", "territory"])
                except Exception as error:  # a ValidationError: the name's own rules
                    report.add(number, "group", getattr(error, "messages", [str(error)]))
                plan.new_group = group
        for member in row.get("members") or []:
            person = visible.get(member)
            if person is None:
                report.add(
                    number,
                    "members",
                    _("No person with the number %(value)s is in your scope.") % {"value": member},
                )
            else:
                plan.members.append(person)
        if plan.members and not row.get("group"):
            report.add(number, "members", _("Name the collective the members join."))
        service_rows.append({**row, "promoter": promoter, "group": group})
        service_numbers.append(number)
        plans.append(plan)
    checked = []
    try:
        checked = projects.project_import_check(
            user=user, organisation=organisation, rows=service_rows, numbers=service_numbers
        )
    except DomainError as error:
        report.add_keyed(error, skip=lambda n, name: name == "promoter" and n in person_failed)
    if report.errors:
        raise ProjectImportError(report.errors)
    for plan, project in zip(plans, checked, strict=True):
        plan.project = project
    return plans


def _refused(number: int, field: str, error: DomainError) -> engine.Refused:
    outcome = engine.Outcome()
    found = error.message_dict if hasattr(error, "error_dict") else {field: error.messages}
    for name, messages in found.items():
        outcome.add_error(number, "", name if name in _PROJECT_FIELDS else field, name, messages)
    return engine.Refused(outcome)


def _project_write(*, user, objects: list[_Plan], reason: str) -> int:
    """The promoters registered with their projects first, then the collectives (found again,
    or registered), then the projects."""
    registering = [plan for plan in objects if plan.new_person is not None]
    if registering:
        written = registry.person_bulk_write(
            user=user, people=[plan.new_person for plan in registering], reason=reason
        )
        for plan, person in zip(registering, written, strict=True):
            plan.project.promoter = person
    for plan in objects:
        try:
            _join_group(user, plan)
        except DomainError as error:
            raise _refused(plan.row, "group", error) from None
    try:
        projects.project_import_write(
            user=user, projects=[plan.project for plan in objects], reason=reason
        )
    except DomainError as error:
        raise _refused(objects[0].row, "code", error) from None
    return len(objects)


def _join_group(user, plan: _Plan) -> None:
    """The collective of a row, registered by its first row in the file (a later row finds it
    like any of the organisation's groups), with the promoter and the members listed."""
    group = plan.project.group
    if group is None:
        return
    if plan.new_group is not None:
        existing = (
            Group.objects.visible_to(user)
            .filter(organisation=group.organisation, archived_at__isnull=True)
            .filter(name__iexact=group.name)
            .first()
        )
        if existing is None:
            existing = registry.group_create(
                user=user,
                organisation=group.organisation,
                name=group.name,
                kind=group.kind,
                territory=group.territory,
            )
        group = plan.project.group = existing
    present = set(group.members.filter(left_on__isnull=True).values_list("person_id", flat=True))
    joining = [(plan.project.promoter, MemberRole.PRESIDENT if not present else MemberRole.MEMBER)]
    joining += [(person, MemberRole.MEMBER) for person in plan.members]
    for person, role in joining:
        if person.pk not in present:
            registry.group_member_add(user=user, group=group, person=person, role=role)
            present.add(person.pk)


def _project_duplicates(user, rows: list[dict]) -> dict:
    """Likely duplicates of the promoters the file registers (not of those named by number)."""
    return duplicates.likely_duplicates(
        user,
        [
            {**row, "residence": row.get("residence") or row.get("territory")}
            for row in rows
            if not row.get("promoter")
        ],
    )


def _count_projects(count: int) -> str:
    return ngettext("%(count)s micro-project", "%(count)s micro-projects", count) % {
        "count": formats.number_format(count, force_grouping=True)
    }


class ProjectsKind(Kind):
    def template_notes(self, context: dict) -> list[str]:
        return [
            _(
                "One row is one financed project. Name the promoter by their number, or leave "
                "the number empty and fill in their columns to register them with the project."
            ),
            _(
                "Give at least one of the grant, the loan and the support in kind. A loan is "
                "repaid in monthly instalments of equal amounts; its schedule is computed from "
                "the date of financing, the grace period and the number of instalments. Import "
                "the repayments already made with the repayments import."
            ),
        ]


_PROJECT_FIELDS = frozenset(c.field for c in PROJECT_COLUMNS)

PROJECTS = register(
    ProjectsKind(
        code=ImportKind.PROJECTS,
        label=ImportKind.PROJECTS.label,
        columns=PROJECT_COLUMNS,
        organisations=_organisations_for(ROLES_MANAGING_CALLS),
        may_import=_may_import_for(ROLES_MANAGING_CALLS),
        context=_project_context,
        prepare=_project_prepare,
        validate=_project_validate,
        write=_project_write,
        duplicates=_project_duplicates,
        # A year alone in the date-of-birth column is checked as the year of birth.
        error_columns={"organisation": "residence", "birth_year": "birth_date"},
        count_label=_count_projects,
    )
)


# --- repayments ----------------------------------------------------------------------------


class _Code(str):
    """A project's code as read from a cell, carrying what the file repays loan by loan (the
    rows are checked in batches; the amounts add up across the whole file)."""

    owed: dict

    def __new__(cls, value: str, owed: dict):
        code = super().__new__(cls, value)
        code.owed = owed
        return code


def _project_code(value, context) -> _Code:
    return _Code(parsing.text(value).strip(), context["owed"])


_LOAN_NUMBER = re.compile(r"^(?P<kind>.*?)\s*(?:n[o°º]\.?\s*|#\s*)?(?P<number>\d{1,3})?$")


def _financing(value, context) -> tuple[str, int | None]:
    """Which financing of the project: "loan", "loan 2", "prêt 2", or a number alone."""
    written = parsing.digits(parsing.text(value)).strip()
    match = _LOAN_NUMBER.match(written)
    kind, number = (match["kind"], match["number"]) if match else (written, None)
    kind = _choices("financing")(kind.strip()) if kind.strip() else FinancingKind.LOAN
    if number is not None and int(number) < 1:
        raise CellError(_("Loans are numbered from 1."))
    return kind, int(number) if number is not None else None


REPAYMENT_COLUMNS = (
    Column(
        "project",
        gettext_lazy("project code"),
        _project_code,
        aliases=(
            "project",
            "code",
            "projet",
            "code du projet",
            "progetto",
            "codice progetto",
            "المشروع",
            "رمز المشروع",
            "κωδικος εργου",
        ),
        required=True,
        example="PRJ-2019-0001",
        help=gettext_lazy("Required. The code of a project of the organisation."),
    ),
    Column(
        "financing",
        _label(Repayment, "financing"),
        _financing,
        aliases=(
            "loan",
            "pret",
            "prestito",
            "قرض",
            "التمويل",
            "financement",
            "finanziamento",
            "δανειο",
        ),
        example=lambda context: str(FinancingKind.LOAN.label),
        help=gettext_lazy(
            "Loan; or loan 2, loan 3 ... for a project with several loans, numbered in the "
            "order they were awarded. The project's loan when empty."
        ),
    ),
    Column(
        "paid_on",
        _label(Repayment, "paid_on"),
        _date,
        aliases=(
            "date",
            "payment date",
            "date de paiement",
            "date du remboursement",
            "data di pagamento",
            "تاريخ الدفع",
            "تاريخ التسديد",
            "ημερομηνια πληρωμης",
        ),
        required=True,
        example=datetime.date(2020, 7, 15),
        help=gettext_lazy("Required. Not before the loan was awarded, nor in the future."),
    ),
    Column(
        "amount",
        _label(Repayment, "amount"),
        amount,
        aliases=("montant", "importo", "المبلغ", "ποσο", "amount paid", "montant paye"),
        required=True,
        example="125.500",
        help=_money_help(gettext_lazy("The amount paid")),
    ),
)


def _repayment_context(organisation) -> dict:
    return {"owed": {}}


def _repayment_prepare(values: dict) -> tuple[dict, dict]:
    fields = dict(values)
    if "financing" in fields:
        fields["financing_kind"], fields["loan"] = fields.pop("financing")
    return fields, {}


def _repayment_validate(*, user, organisation, rows: list[dict], numbers: list[int]):
    owed = next((row["project"].owed for row in rows if isinstance(row.get("project"), _Code)), {})
    return projects.repayment_import_check(
        user=user, organisation=organisation, rows=rows, numbers=numbers, owed=owed
    )


def _repayment_write(*, user, objects: list, reason: str) -> int:
    return len(projects.repayment_import_write(user=user, repayments=objects, reason=reason))


def _count_repayments(count: int) -> str:
    return ngettext("%(count)s repayment", "%(count)s repayments", count) % {
        "count": formats.number_format(count, force_grouping=True)
    }


class RepaymentsKind(Kind):
    def template_notes(self, context: dict) -> list[str]:
        return [
            _(
                "One row is one repayment of a loan, allocated to its oldest unpaid instalments "
                "first. Import the projects first: a repayment names its project by code."
            )
        ]


REPAYMENTS = register(
    RepaymentsKind(
        code=ImportKind.REPAYMENTS,
        label=ImportKind.REPAYMENTS.label,
        columns=REPAYMENT_COLUMNS,
        organisations=_organisations_for(ROLES_WORKING_PROJECTS),
        may_import=_may_import_for(ROLES_WORKING_PROJECTS),
        context=_repayment_context,
        prepare=_repayment_prepare,
        validate=_repayment_validate,
        write=_repayment_write,
        error_columns={"loan": "financing", "financing_kind": "financing"},
        count_label=_count_repayments,
    )
)
