"""Importing people: the columns of the file and the registry services that check and write."""

import datetime
import re
from functools import lru_cache

from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from tadamun.access.scope import scope_for
from tadamun.registry import selectors
from tadamun.registry import services as registry
from tadamun.registry.models import DocumentType, Person, Sex
from tadamun.territories.models import Territory

from . import duplicates, parsing
from .kinds import Column, Kind, register
from .models import ImportKind
from .parsing import CellError, Choices, normalise

# Other words people write for the values, beside the codes and the labels in each language.
_SEX_WORDS = {
    Sex.FEMALE: [
        "female",
        "woman",
        "femme",
        "donna",
        "femmina",
        "انثى",
        "امرأة",
        "θηλυ",
        "γυναικα",
    ],
    Sex.MALE: ["male", "man", "homme", "uomo", "maschio", "ذكر", "رجل", "αρρεν", "ανδρας"],
}
_DOCUMENT_WORDS = {
    DocumentType.NATIONAL_ID: [
        "id",
        "identity card",
        "cin",
        "carte d'identite",
        "carte d'identite nationale",
        "carta d'identita",
        "بطاقة التعريف",
        "بطاقة التعريف الوطنية",
        "بطاقة الهوية",
        "ταυτοτητα",
    ],
    DocumentType.PASSPORT: ["passeport", "passaporto", "جواز سفر", "جواز السفر", "διαβατηριο"],
    DocumentType.RESIDENCE_PERMIT: [
        "titre de sejour",
        "carte de sejour",
        "permesso di soggiorno",
        "بطاقة اقامة",
        "αδεια διαμονης",
    ],
    DocumentType.TAX_CODE: ["codice fiscale", "numero fiscal", "afm", "αφμ"],
}


@lru_cache(maxsize=4)
def _choices(kind: str) -> Choices:
    enum, words = {"sex": (Sex, _SEX_WORDS), "document": (DocumentType, _DOCUMENT_WORDS)}[kind]
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
    return parsing.text(value)


def _sex(value, context) -> str:
    return _choices("sex")(value)


def _document_type(value, context) -> str:
    return _choices("document")(value)


def _birth_date(value, context):
    return parsing.date_or_year(value)


def _birth_year(value, context) -> int:
    return parsing.year(value)


def _residence(value, context) -> Territory:
    written = parsing.text(value)
    territory = context["territory_codes"].get(written.casefold())
    if territory is not None:
        return territory
    found = context["territory_names"].get(normalise(written), [])
    if len(found) == 1:
        return found[0]
    if found:
        raise CellError(
            _("Several territories are called %(value)s: write the code instead.")
            % {"value": written}
        )
    raise CellError(_("No territory has the code or name %(value)s.") % {"value": written})


_LANGUAGE_SPLIT = re.compile(r"[\s,;/|]+")


def _languages(value, context) -> list[str]:
    return [code.lower() for code in _LANGUAGE_SPLIT.split(parsing.text(value)) if code]


def _residence_example(context):
    organisation = context.get("organisation")
    territory = getattr(organisation, "territory", None)
    return territory.code if territory is not None else ""


def _label(name: str):
    return Person._meta.get_field(name).verbose_name


COLUMNS = (
    Column(
        "given_name",
        _label("given_name"),
        _text,
        aliases=(
            "first name",
            "firstname",
            "forename",
            "prenom",
            "nome proprio",
            "الاسم",
            "اسم",
            "الاسم الاول",
            "ονομα",
        ),
        required=True,
        example="Amina",
        help=gettext_lazy("Required. In any script."),
    ),
    Column(
        "family_name",
        _label("family_name"),
        _text,
        aliases=(
            "last name",
            "lastname",
            "surname",
            "nom",
            "nom de famille",
            "cognome",
            "اللقب",
            "لقب",
            "اسم العائلة",
            "επωνυμο",
        ),
        example="Ben Salah",
        help=gettext_lazy("In any script."),
    ),
    Column(
        "given_name_latin",
        _label("given_name_latin"),
        _text,
        aliases=("given name latin", "first name latin", "prenom latin", "nome latino"),
        help=gettext_lazy(
            "As written in Latin letters on documents; filled in automatically if left empty."
        ),
    ),
    Column(
        "family_name_latin",
        _label("family_name_latin"),
        _text,
        aliases=("family name latin", "last name latin", "nom latin", "cognome latino"),
        example="Ben Salah",
        help=gettext_lazy("As written in Latin letters on documents."),
    ),
    Column(
        "sex",
        _label("sex"),
        _sex,
        aliases=("gender", "sexe", "genre", "sesso", "genere", "الجنس", "φυλο"),
        example=lambda context: str(Sex.FEMALE.label),
        help=gettext_lazy("Female, Male, Other or Not recorded, or the codes F, M, X, U."),
    ),
    Column(
        "birth_date",
        _label("birth_date"),
        _birth_date,
        aliases=(
            "birth date",
            "birthdate",
            "dob",
            "date de naissance",
            "data di nascita",
            "تاريخ الولادة",
            "تاريخ الميلاد",
            "ημερομηνια γεννησης",
        ),
        example=datetime.date(1990, 5, 17),
        help=gettext_lazy(
            "Day, month and year, such as 17/05/1990, 17.5.1990 or 1990-05-17; or the year "
            "alone when only the year is known."
        ),
    ),
    Column(
        "birth_year",
        _label("birth_year"),
        _birth_year,
        aliases=(
            "birth year",
            "annee de naissance",
            "anno di nascita",
            "سنة الولادة",
            "سنة الميلاد",
            "ετος γεννησης",
        ),
        help=gettext_lazy("Four digits, when only the year is known."),
    ),
    Column(
        "phone",
        _label("phone"),
        _text,
        aliases=(
            "telephone",
            "tel",
            "mobile",
            "portable",
            "telefono",
            "cellulare",
            "هاتف",
            "الجوال",
            "τηλεφωνο",
            "κινητο",
        ),
        example="55 123 456",
    ),
    Column(
        "email",
        _label("email"),
        _text,
        aliases=("e-mail", "mail", "courriel", "البريد الالكتروني", "ηλεκτρονικο ταχυδρομειο"),
        example="amina@example.org",
    ),
    Column(
        "address",
        _label("address"),
        _text,
        aliases=("adresse", "indirizzo", "العنوان", "διευθυνση"),
    ),
    Column(
        "document_type",
        _label("document_type"),
        _document_type,
        aliases=(
            "document type",
            "document",
            "type de piece",
            "piece d'identite",
            "tipo di documento",
            "documento",
            "نوع الوثيقة",
            "τυπος εγγραφου",
        ),
        example=lambda context: str(DocumentType.NATIONAL_ID.label),
        help=gettext_lazy(
            "National identity card, Passport, Residence permit, Tax code or Other document."
        ),
    ),
    Column(
        "document_number",
        _label("document_number"),
        _text,
        aliases=(
            "numero de piece",
            "numero du document",
            "numero documento",
            "رقم الوثيقة",
            "αριθμος εγγραφου",
        ),
        example="01234567",
    ),
    Column(
        "residence",
        _label("residence"),
        _residence,
        aliases=(
            "residence",
            "territory",
            "territoire",
            "lieu de residence",
            "territorio",
            "residenza",
            "comune",
            "مكان الاقامة",
            "المنطقة",
            "περιοχη",
            "τοπος διαμονης",
        ),
        example=_residence_example,
        help=gettext_lazy("The territory's code (such as TN-32) or its name."),
    ),
    Column(
        "languages",
        _label("languages"),
        _languages,
        aliases=("langues", "lingue", "اللغات", "γλωσσες"),
        example="ar, fr",
        help=gettext_lazy("Language codes separated by commas, such as ar, fr."),
    ),
)


def _context(organisation) -> dict:
    codes: dict[str, Territory] = {}
    names: dict[str, list[Territory]] = {}
    for territory in Territory.objects.only("pk", "code", "name", "path", "depth"):
        codes[territory.code.casefold()] = territory
        data = getattr(territory.name, "data", None)
        spellings = data.values() if isinstance(data, dict) else [str(territory.name)]
        for key in {normalise(s) for s in spellings if s}:
            names.setdefault(key, []).append(territory)
    return {"organisation": organisation, "territory_codes": codes, "territory_names": names}


def _prepare(values: dict) -> tuple[dict, dict]:
    """A year alone in the date-of-birth column is the year of birth."""
    fields, errors = dict(values), {}
    born = fields.get("birth_date")
    if isinstance(born, int):
        del fields["birth_date"]
        if fields.get("birth_year", born) != born:
            errors["birth_date"] = _(
                "The year of birth does not match the one in the column of the year of birth."
            )
        fields["birth_year"] = born
    return fields, errors


def _may_import(user, organisation) -> bool:
    scope = scope_for(user)
    return scope.is_operator or organisation.pk in scope.editing_organisation_ids()


def _validate(*, user, organisation, rows: list[dict], numbers: list[int]) -> list[Person]:
    rows = [{**row, "organisation": organisation} for row in rows]
    return registry.person_bulk_validate(user=user, rows=rows, numbers=numbers)


def _write(*, user, objects: list[Person], reason: str) -> int:
    return len(registry.person_bulk_write(user=user, people=objects, reason=reason))


def _count(count: int) -> str:
    return ngettext("%(count)s person", "%(count)s people", count) % {
        "count": formats.number_format(count, force_grouping=True)
    }


PEOPLE = register(
    Kind(
        code=ImportKind.PEOPLE,
        label=ImportKind.PEOPLE.label,
        columns=COLUMNS,
        organisations=selectors.editing_organisations,
        may_import=_may_import,
        context=_context,
        prepare=_prepare,
        validate=_validate,
        write=_write,
        duplicates=duplicates.likely_duplicates,
        result_url="registry:person_list",
        error_columns={"organisation": "residence"},
        count_label=_count,
    )
)
