"""Importing cases: one row is one case of one person, with its diagnosis, up to three pathway
actions and, when the case is over, its closure.

The person is named either by their number (as the people page and the API show it, and only
if the importing user may see them) or by their own columns, the people import's, in which case
they are registered with the case, by the registry's own validation and services.

Every row is written through the cases' services (``case_open``, ``diagnosis_record``,
``action_add``, ``case_close``): rights, network rules, dates and the audit entries are theirs.
The check without writing (the preview, and the run before it writes) rehearses each row through
the same services inside a transaction that is always rolled back, so that what the preview
accepts is what the run writes. The file is written all or nothing, as every import.

Columns of the diagnosis are one per dimension of the network, named by the dimension: the
word "diagnosis" (in any language) then the dimension's code or name, such as ``diagnosis_work``
or "Diagnostic : Travail"; the cell holds the level, 0 to 3 or its name.
"""

import dataclasses
import datetime
from functools import cached_property, lru_cache

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import formats, translation
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from tadamun.access.scope import scope_for
from tadamun.accounts.models import ROLES_EDITING_PEOPLE, ROLES_WORKING_CASES, User
from tadamun.cases import services as cases
from tadamun.cases.models import (
    ActionStatus,
    ActionType,
    Case,
    CaseOutcome,
    Desk,
    Diagnosis,
    DiagnosisDimension,
    NeedLevel,
)
from tadamun.core.errors import AccessDenied, DomainError
from tadamun.organisations.models import NetworkMembership, Organisation
from tadamun.registry import services as registry
from tadamun.registry.models import Person, PersonNameKey
from tadamun.registry.names import name_keys

from . import duplicates, engine, parsing, people
from .kinds import Column, Kind, register
from .models import ImportKind
from .parsing import CellError, Choices, normalise

ACTIONS = 3  # pathway actions a row may plan
ACTION_PARTS = ("type", "status", "start", "end", "organisation")
NAME_FIELDS = ("given_name", "family_name", "given_name_latin", "family_name_latin")
PERSON_FIELDS = tuple(c.field for c in people.COLUMNS)
DIAGNOSIS_PREFIX = "diagnosis_"


class CaseImportError(DomainError):
    pass


# --- cells --------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _choices(name: str) -> Choices:
    enum = {"status": ActionStatus, "outcome": CaseOutcome, "level": NeedLevel}[name]
    choices = Choices()
    for value, _label in enum.choices:
        choices.add(str(value), value)
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                choices.add(str(enum(value).label), value)
    return choices


def _text(value, context) -> str:
    return parsing.text(value)


def _reference(value, context) -> str:
    """Organisations, tutors and people are looked up with the rows, through the access
    layer: the cell stays text until then."""
    return parsing.text(value).strip()


def _date(value, context) -> datetime.date:
    found = parsing.date_or_year(value)
    if isinstance(found, int):
        raise CellError(_("Write the whole date: the day, the month and the year."))
    return found


def _one_of(mapping_key: str, missing):
    """A lookup of the network's desks, kinds of action ... by code or by name."""

    def convert(value, context):
        written = parsing.text(value)
        found = context[mapping_key].get(normalise(written), [])
        if len(found) == 1:
            return found[0]
        if found:
            raise CellError(
                _("Several entries are called %(value)s: write the code instead.")
                % {"value": written}
            )
        raise CellError(str(missing) % {"value": written})

    return convert


_desk = _one_of("desks", gettext_lazy("No desk of the network has the code or name %(value)s."))
_action_type = _one_of(
    "action_types",
    gettext_lazy("No kind of pathway action of the network has the code or name %(value)s."),
)


def _status(value, context) -> str:
    return _choices("status")(value)


def _outcome(value, context) -> str:
    return _choices("outcome")(value)


def _level(value, context) -> int:
    return int(_choices("level")(value))


def _label(model, name: str):
    return model._meta.get_field(name).verbose_name


# --- columns ------------------------------------------------------------------------------


def _organisation_example(context):
    organisation = context.get("organisation")
    return organisation.slug if organisation is not None else ""


def _desk_example(context):
    desk = _of_networks(Desk, context.get("organisation")).filter(archived_at=None).first()
    return desk.code if desk is not None else ""


def _action_type_example(context):
    kind = _of_networks(ActionType, context.get("organisation")).filter(is_health=False).first()
    return kind.code if kind is not None else ""


_ACTION_LABELS = {
    "type": lambda n: _("action %(number)s: kind") % {"number": n},
    "status": lambda n: _("action %(number)s: status") % {"number": n},
    "start": lambda n: _("action %(number)s: start") % {"number": n},
    "end": lambda n: _("action %(number)s: planned end") % {"number": n},
    "organisation": lambda n: _("action %(number)s: responsible organisation") % {"number": n},
}
_lazy_text = lazy(lambda function, number: function(number), str)


def _action_columns(number: int) -> tuple[Column, ...]:
    first = number == 1
    converters = {
        "type": _action_type,
        "status": _status,
        "start": _date,
        "end": _date,
        "organisation": _reference,
    }
    examples = {
        "type": _action_type_example if first else "",
        "status": (lambda context: str(ActionStatus.ONGOING.label)) if first else "",
        "start": datetime.date(2024, 2, 1) if first else "",
    }
    helps = {
        "type": gettext_lazy(
            "The code or name of a kind of pathway action of the network. Leave the action's "
            "columns empty when there is no such action."
        ),
        "status": gettext_lazy(
            "Planned, Ongoing, Completed, Interrupted or Cancelled; planned when empty."
        ),
        "start": gettext_lazy("Needed once the action has started; not before the case opened."),
        "end": gettext_lazy("When empty, the usual length of this kind of action is counted."),
        "organisation": gettext_lazy(
            "The code of the organisation responsible; the lead organisation when empty."
        ),
    }
    return tuple(
        Column(
            f"action_{number}_{part}",
            _lazy_text(_ACTION_LABELS[part], number),
            converters[part],
            example=examples.get(part, ""),
            help=helps[part],
        )
        for part in ACTION_PARTS
    )


COLUMNS = (
    Column(
        "person",
        gettext_lazy("person number"),
        _reference,
        aliases=(
            "person id",
            "person number",
            "id",
            "numero de la personne",
            "numero della persona",
            "رقم الشخص",
            "αριθμος ατομου",
        ),
        help=gettext_lazy(
            "The number of a person already registered, as their page shows it. Leave it empty "
            "to register the person with the columns that follow."
        ),
    ),
    *(
        dataclasses.replace(
            c,
            required=False,
            help=gettext_lazy("Required to register the person. In any script."),
        )
        if c.required
        else c
        for c in people.COLUMNS
    ),
    Column(
        "organisation",
        _label(Case, "organisation"),
        _reference,
        aliases=("organisation", "organization", "lead organization", "capofila", "ente"),
        example=_organisation_example,
        help=gettext_lazy(
            "The code of the organisation leading the case; the organisation importing the "
            "file when empty."
        ),
    ),
    Column(
        "desk",
        _label(Case, "desk"),
        _desk,
        aliases=("guichet", "sportello", "شباك", "γραφειο"),
        example=_desk_example,
        help=gettext_lazy("The code or name of one of the network's desks."),
    ),
    Column(
        "opened_on",
        _label(Case, "opened_on"),
        _date,
        aliases=("opened", "opening date", "date d'ouverture", "data di apertura"),
        required=True,
        example=datetime.date(2024, 1, 15),
        help=gettext_lazy("Required. Not in the future, nor before the person was born."),
    ),
    Column(
        "tutor",
        _label(Case, "tutor"),
        _reference,
        aliases=("referent", "case worker", "operatore"),
        help=gettext_lazy(
            "The username or e-mail address of someone working for the lead organisation."
        ),
    ),
    Column(
        "diagnosed_on",
        _label(Diagnosis, "diagnosed_on"),
        _date,
        aliases=("diagnosis date", "date of diagnosis", "diagnosed on"),
        help=gettext_lazy("The date of the diagnosis; the opening date when empty."),
    ),
    *(column for number in range(1, ACTIONS + 1) for column in _action_columns(number)),
    Column(
        "closed_on",
        _label(Case, "closed_on"),
        _date,
        aliases=("closed", "closing date", "date de cloture", "data di chiusura"),
        help=gettext_lazy("Only for a case that is over; with its outcome."),
    ),
    Column(
        "outcome",
        _label(Case, "outcome"),
        _outcome,
        aliases=("resultat", "esito"),
        help=gettext_lazy(
            "In employment, Own business, In training or education, Taken in charge by care "
            "services, Moved away, No longer needs support, Lost contact or Other."
        ),
    ),
    Column(
        "closure_reason",
        _label(Case, "closure_reason"),
        _text,
        aliases=("closure reason", "reason"),
    ),
)


# --- diagnosis columns, one per dimension of the network -----------------------------------


def _diagnosis_column(rest: str, label=None, example="", help="") -> Column:
    def convert(value, context):
        found = context["dimensions"].get(rest, [])
        if len(found) != 1:
            raise CellError(
                _("No diagnosis dimension of the network has the code or name %(value)s.")
                % {"value": rest}
                if not found
                else _("Several diagnosis dimensions are called %(value)s.") % {"value": rest}
            )
        return (found[0], _level(value, context))

    return Column(
        DIAGNOSIS_PREFIX + rest.replace(" ", "_"),
        label or DIAGNOSIS_PREFIX + rest.replace(" ", "_"),
        convert,
        example=example,
        help=help,
    )


class _Headers(dict):
    """The kind's headers, and any header made of the word "diagnosis" and a dimension."""

    def __init__(self, headers: dict, prefixes: set[str]):
        super().__init__(headers)
        self.prefixes = sorted(prefixes, key=len, reverse=True)

    def get(self, key, default=None):
        if key in self:
            return self[key]
        for prefix in self.prefixes:
            rest = key[len(prefix) + 1 :].strip()
            if key.startswith(prefix + " ") and rest:
                # Made afresh for each file: which dimension it names is known only with the
                # organisation's networks, when its cells are read.
                return _diagnosis_column(rest)
        return default


class CasesKind(Kind):
    @cached_property
    def headers(self) -> dict[str, Column]:
        prefixes = {"diagnosis", "diag"}
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                prefixes.add(normalise(Diagnosis._meta.verbose_name))
        return _Headers(super().headers, prefixes)

    def column(self, name: str) -> Column | None:
        found = super().column(name)
        if found is None and name.startswith(DIAGNOSIS_PREFIX):
            return _diagnosis_column(name[len(DIAGNOSIS_PREFIX) :].replace("_", " "))
        return found

    def template_columns(self, context: dict) -> tuple[Column, ...]:
        """The file's columns, with one per diagnosis dimension of the organisation's
        networks after the diagnosis date."""
        prefix = str(Diagnosis._meta.verbose_name)
        dimensions = [
            _diagnosis_column(
                normalise(d.code),
                label=f"{prefix}: {d.name}",
                example="" if d.is_health else str(NeedLevel.MODERATE.label) if i == 0 else "1",
                help=_(
                    "Level of difficulty for %(dimension)s: 0 no difficulty, 1 some difficulty, "
                    "2 serious difficulty, 3 critical (or these words)."
                )
                % {"dimension": d.name},
            )
            for i, d in enumerate(_of_networks(DiagnosisDimension, context.get("organisation")))
        ]
        at = next(i for i, c in enumerate(self.columns) if c.field == "diagnosed_on") + 1
        return (*self.columns[:at], *dimensions, *self.columns[at:])

    def template_notes(self, context: dict) -> list[str]:
        return [
            _(
                "One row is one case. Name the person by their number, or leave the number "
                "empty and fill in their columns to register them with the case."
            ),
            _(
                "Diagnosis: one column per dimension, headed with the word diagnosis and the "
                "dimension's code or name (such as diagnosis_work); the cell holds the level."
            ),
            _(
                "Up to %(count)s pathway actions per case, each in five columns: kind, status, "
                "start, planned end, responsible organisation. A closed case has its date of "
                "closing and its outcome."
            )
            % {"count": ACTIONS},
        ]


# --- the kind -----------------------------------------------------------------------------


def _networks(organisation) -> set[int]:
    if organisation is None:
        return set()
    return {
        organisation.pk,
        *NetworkMembership.objects.filter(
            member_id=organisation.pk, left_on__isnull=True
        ).values_list("network_id", flat=True),
    }


def _of_networks(model, organisation):
    """Desks, dimensions or kinds of action of the organisation's networks."""
    return model.objects.filter(network_id__in=_networks(organisation))


def _by_code_and_name(records) -> dict[str, list]:
    found: dict[str, list] = {}
    for record in records:
        data = getattr(record.name, "data", None)
        spellings = data.values() if isinstance(data, dict) else [str(record.name)]
        for key in {normalise(record.code), *(normalise(s) for s in spellings if s)}:
            if key and record not in found.setdefault(key, []):
                found[key].append(record)
    return found


def _context(organisation) -> dict:
    return {
        **people.PEOPLE.context(organisation),
        "desks": _by_code_and_name(_of_networks(Desk, organisation).filter(archived_at=None)),
        "dimensions": _by_code_and_name(_of_networks(DiagnosisDimension, organisation)),
        "action_types": _by_code_and_name(_of_networks(ActionType, organisation)),
    }


def _prepare(values: dict) -> tuple[dict, dict]:
    """The people import's own preparation of the person's cells, and the levels of the
    diagnosis gathered by dimension."""
    fields, errors = people.PEOPLE.prepare(values)
    seen: dict[int, str] = {}
    for name in sorted(f for f in fields if f.startswith(DIAGNOSIS_PREFIX)):
        dimension, _level = fields[name]
        if dimension.pk in seen:
            errors[name] = _("Another column gives the level of this dimension already.")
        seen.setdefault(dimension.pk, name)
    return fields, errors


def _working_organisation_ids(user) -> set[int] | None:
    """Organisations the user may open cases for (anywhere in them); None: all."""
    scope = scope_for(user)
    if scope.is_operator:
        return None
    ids: set[int] = set()
    for grant in scope.grants_with(ROLES_WORKING_CASES):
        ids |= grant.organisation_ids
    return ids


def _organisations(user):
    ids = _working_organisation_ids(user)
    organisations = Organisation.objects.active()
    return organisations if ids is None else organisations.filter(pk__in=ids)


def _may_import(user, organisation) -> bool:
    ids = _working_organisation_ids(user)
    return ids is None or organisation.pk in ids


class _Rows:
    """Errors of a chunk of rows, keyed "<row>:<field>" as the engine reads them."""

    def __init__(self):
        self.errors: dict[str, list] = {}
        self.rows: set[int] = set()

    def add(self, number: int, field: str, messages) -> None:
        if isinstance(messages, str | Promise):
            messages = [messages]
        self.errors.setdefault(f"{number}:{field}", []).extend(str(m) for m in messages)
        self.rows.add(number)

    def add_domain(self, number: int, error: DomainError, columns: dict, default: str) -> None:
        """A service's error, its keys turned into the row's columns."""
        found = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
        for key, messages in found.items():
            self.add(number, columns.get(key, key if key in _FIELDS else default), messages)

    def failed(self, number: int) -> bool:
        return number in self.rows


_FIELDS = frozenset(c.field for c in COLUMNS)
_NUMBERS = range(1, ACTIONS + 1)
# Dates that cannot come before the person's birth.
_DATES = (
    "opened_on",
    "diagnosed_on",
    "closed_on",
    *(f"action_{n}_{part}" for n in _NUMBERS for part in ("start", "end")),
)


def _born_after(person: Person, day: datetime.date) -> bool:
    if person.birth_date:
        return day < person.birth_date
    return bool(person.birth_year) and day.year < person.birth_year


def _person_number(written: str) -> int | None:
    digits = parsing.digits(written).lstrip("#").strip()
    return int(digits) if digits.isdigit() and len(digits) < 12 else None


class _Planner:
    """Turns the rows of a chunk into plans (the keywords of each service), looking up
    organisations, people and tutors once for the chunk, through the access layer; what
    cannot be looked up or breaks a rule of the import goes to ``report``."""

    def __init__(self, *, user, organisation, rows: list[dict], report: _Rows):
        self.user, self.organisation, self.report = user, organisation, report
        slugs = {
            row[name].casefold()
            for row in rows
            for name in ("organisation", *(f"action_{n}_organisation" for n in _NUMBERS))
            if row.get(name)
        }
        self.organisations = {
            o.slug.casefold(): o for o in Organisation.objects.filter(slug__in=slugs)
        }
        self.organisations[organisation.slug.casefold()] = organisation
        wanted = {_person_number(row["person"]) for row in rows if row.get("person")} - {None}
        self.people = {
            p.pk: p
            for p in Person.objects.visible_to(user)
            .filter(pk__in=wanted)
            .only("pk", "birth_date", "birth_year", "archived_at", "residence_id", *NAME_FIELDS)
        }
        self.keys: dict[int, set[str]] = {}
        for pk, key in PersonNameKey.objects.filter(person_id__in=self.people).values_list(
            "person_id", "key"
        ):
            self.keys.setdefault(pk, set()).add(key)
        self.tutors: dict[tuple[int, str], list] = {}
        self.editing = scope_for(user).grants_with(ROLES_EDITING_PEOPLE)

    def plan(self, number: int, row: dict) -> dict | None:
        """The row's plan, or None when it cannot be checked further."""
        lead = self._organisation(number, row, "organisation", self.organisation)
        if lead is None:
            return None
        person, new_person = self._person(number, row, lead)
        if person is None and new_person is None:
            return None
        if not row.get("opened_on"):
            self.report.add(number, "opened_on", _("This field is required."))
            return None
        self._after_birth(number, row, person or new_person)
        case = {"opened_on": row["opened_on"], "desk": row.get("desk")}
        if row.get("tutor"):
            case["tutor"] = self._tutor(number, row["tutor"], lead)
        levels, level_fields = {}, {}
        for name in sorted(f for f in row if f.startswith(DIAGNOSIS_PREFIX)):
            dimension, level = row[name]
            levels[dimension] = (level, "")
            level_fields[dimension.pk] = name
        if row.get("diagnosed_on") and not levels:
            self.report.add(
                number, "diagnosed_on", _("Give the level of at least one diagnosis dimension.")
            )
        closure = {
            "closed_on": row.get("closed_on"),
            "outcome": row.get("outcome", ""),
            "reason": row.get("closure_reason", ""),
        }
        if (closure["outcome"] or closure["reason"]) and not closure["closed_on"]:
            self.report.add(number, "closed_on", _("Give the date the case was closed."))
        return {
            "row": number,
            "organisation": lead,
            "person": person,
            "new_person": new_person,
            "case": case,
            "levels": levels,
            "level_fields": level_fields,
            "diagnosed_on": row.get("diagnosed_on") or row["opened_on"],
            "actions": [a for n in _NUMBERS if (a := self._action(number, row, n, lead))],
            "closure": closure if any(closure.values()) else None,
        }

    def _organisation(self, number: int, row: dict, name: str, default):
        if not row.get(name):
            return default
        found = self.organisations.get(row[name].casefold())
        if found is None:
            self.report.add(
                number, name, _("No organisation has the code %(value)s.") % {"value": row[name]}
            )
        return found

    def _person(self, number: int, row: dict, lead) -> tuple[Person | None, Person | None]:
        """The registered person the row names by number, or the person it registers."""
        given = [name for name in PERSON_FIELDS if row.get(name) not in (None, "", [])]
        if row.get("person"):
            return self._registered(number, row, given), None
        if not given:
            self.report.add(
                number,
                "person",
                _("Give the person's number, or their name to register them with the case."),
            )
            return None, None
        try:
            [person] = registry.person_bulk_validate(
                user=self.user,
                rows=[{**{name: row[name] for name in given}, "organisation": lead}],
                numbers=[number],
            )
        except DomainError as error:
            for key, messages in error.message_dict.items():
                name = key.partition(":")[2]
                if name == "organisation" and any(
                    lead.pk in g.organisation_ids for g in self.editing
                ):
                    name = "residence"  # the role covers the organisation, not the place
                self.report.add(number, name, messages)
            return None, None
        return None, person

    def _registered(self, number: int, row: dict, given: list[str]) -> Person | None:
        person = self.people.get(_person_number(row["person"]))
        if person is None:
            # The same words whether the person exists elsewhere or not at all.
            self.report.add(
                number,
                "person",
                _("No person with the number %(value)s is in your scope.")
                % {"value": row["person"]},
            )
            return None
        if person.is_archived:
            self.report.add(
                number, "person", _("This person's record is archived; restore it first.")
            )
            return None
        for name in given:
            if name not in NAME_FIELDS:
                self.report.add(
                    number,
                    name,
                    _("Leave this empty: the row names a registered person by their number."),
                )
        names = name_keys(*(str(row.get(n) or "") for n in NAME_FIELDS))
        if names and not names <= self.keys.get(person.pk, set()):
            self.report.add(
                number,
                next(n for n in NAME_FIELDS if row.get(n)),
                _("This name is not the name of person %(value)s.") % {"value": person.pk},
            )
        return person

    def _after_birth(self, number: int, row: dict, person: Person) -> None:
        for name in _DATES:
            if row.get(name) and _born_after(person, row[name]):
                born = (
                    formats.date_format(person.birth_date, "SHORT_DATE_FORMAT")
                    if person.birth_date
                    else person.birth_year
                )
                self.report.add(
                    number,
                    name,
                    _("This date comes before the person was born (%(birth)s).") % {"birth": born},
                )

    def _tutor(self, number: int, written: str, lead):
        """Someone working for the lead organisation, by username or e-mail address."""
        key = (lead.pk, written.casefold())
        if key not in self.tutors:
            self.tutors[key] = list(
                User.objects.filter(
                    memberships__organisation=lead, memberships__is_active=True, is_active=True
                )
                .filter(Q(username__iexact=written) | Q(email__iexact=written))
                .distinct()[:2]
            )
        found = self.tutors[key]
        if len(found) == 1:
            return found[0]
        self.report.add(
            number,
            "tutor",
            _("No one working for %(organisation)s has this username or e-mail address.")
            % {"organisation": lead}
            if not found
            else _("Several people have this e-mail address: write the username."),
        )
        return None

    def _action(self, number: int, row: dict, n: int, lead) -> tuple[int, dict] | None:
        cells = {part: row.get(f"action_{n}_{part}") for part in ACTION_PARTS}
        if not any(cells.values()):
            return None
        if not cells["type"]:
            self.report.add(number, f"action_{n}_type", _("Give the kind of action."))
            return None
        responsible = self._organisation(number, row, f"action_{n}_organisation", lead)
        if responsible is None:
            return None
        fields = {p: cells[p] for p in ("start", "end") if cells[p]}
        fields["status"] = cells["status"] or ActionStatus.PLANNED
        return n, {"action_type": cells["type"], "responsible": responsible, **fields}


def _plan_rows(*, user, organisation, rows: list[dict], numbers: list[int]):
    """The rows' plans, looked up and checked without writing, and their errors so far."""
    report = _Rows()
    planner = _Planner(user=user, organisation=organisation, rows=rows, report=report)
    plans = [planner.plan(number, row) for number, row in zip(numbers, rows, strict=True)]
    return [plan for plan in plans if plan is not None], report


def _carry_out(user, plan: dict, reason: str) -> Case:
    """Write one row through the services; a DomainError names the step's field."""
    person = plan["person"]
    if plan["new_person"] is not None:
        try:
            [person] = registry.person_bulk_write(
                user=user, people=[plan["new_person"]], reason=reason
            )
        except DomainError as error:
            raise _StepError(error, {"organisation": "organisation"}, "given_name") from None
    try:
        case = cases.case_open(
            user=user,
            person=person,
            organisation=plan["organisation"],
            **{k: v for k, v in plan["case"].items() if v is not None},
        )
    except DomainError as error:
        raise _StepError(error, {}, "organisation") from None
    if plan["levels"]:
        fields = plan["level_fields"]
        first = fields[next(iter(plan["levels"])).pk]
        health = next((fields[d.pk] for d in plan["levels"] if d.is_health), first)
        try:
            cases.diagnosis_record(
                user=user, case=case, diagnosed_on=plan["diagnosed_on"], levels=plan["levels"]
            )
        except DomainError as error:
            default = health if isinstance(error, AccessDenied) else first
            raise _StepError(error, {"levels": default}, default) from None
    for number, fields in plan["actions"]:
        columns = {
            "action_type": f"action_{number}_type",
            "responsible": f"action_{number}_organisation",
            **{part: f"action_{number}_{part}" for part in ("status", "start", "end")},
        }
        try:
            cases.action_add(user=user, case=case, **fields)
        except DomainError as error:
            raise _StepError(error, columns, columns["action_type"]) from None
    if plan["closure"] is not None:
        try:
            cases.case_close(user=user, case=case, **plan["closure"])
        except DomainError as error:
            raise _StepError(error, {"reason": "closure_reason"}, "closed_on") from None
    return case


class _StepError(Exception):
    def __init__(self, error: DomainError, columns: dict, default: str):
        super().__init__(str(error))
        self.error, self.columns, self.default = error, columns, default


class _Rehearsed(Exception):
    """Raised to roll back a rehearsal."""


def _validate(*, user, organisation, rows: list[dict], numbers: list[int]) -> list[dict]:
    """Check the rows without writing: looked up, then rehearsed through the services in a
    transaction that is rolled back. Returns the plans ``_write`` carries out."""
    plans, report = _plan_rows(user=user, organisation=organisation, rows=rows, numbers=numbers)
    try:
        with transaction.atomic():
            for plan in plans:
                if report.failed(plan["row"]):
                    continue
                try:
                    with transaction.atomic():
                        _carry_out(user, plan, "checked")
                except _StepError as step:
                    report.add_domain(plan["row"], step.error, step.columns, step.default)
            raise _Rehearsed
    except _Rehearsed:
        pass
    for plan in plans:
        person = plan["new_person"]
        if person is not None:  # written and rolled back: registered afresh by the run
            person.pk = None
            person._state.adding = True
    if report.errors:
        raise CaseImportError(report.errors)
    return plans


def _write(*, user, objects: list[dict], reason: str) -> int:
    for plan in objects:
        try:
            _carry_out(user, plan, reason)
        except _StepError as step:
            report = _Rows()
            report.add_domain(plan["row"], step.error, step.columns, step.default)
            outcome = engine.Outcome()
            for key, messages in report.errors.items():
                number, _sep, name = key.partition(":")
                outcome.add_error(int(number), "", name, name, messages)
            raise engine.Refused(outcome) from None
    return len(objects)


def _duplicates(user, rows: list[dict]) -> dict:
    """Likely duplicates of the people the file registers (not of those named by number)."""
    return duplicates.likely_duplicates(user, [row for row in rows if not row.get("person")])


def _count(count: int) -> str:
    return ngettext("%(count)s case", "%(count)s cases", count) % {
        "count": formats.number_format(count, force_grouping=True)
    }


CASES = register(
    CasesKind(
        code=ImportKind.CASES,
        label=ImportKind.CASES.label,
        columns=COLUMNS,
        organisations=_organisations,
        may_import=_may_import,
        context=_context,
        prepare=_prepare,
        validate=_validate,
        write=_write,
        duplicates=_duplicates,
        result_url="cases:caseload",
        error_columns={"person": "given_name"},
        count_label=_count,
    )
)
