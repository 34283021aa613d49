"""What matching reads of a person: name forms, skeletons, dates, phone, as plain values.

``features(record)`` turns a person (the registry's fields, in whatever script they were
written) into the values every comparison and key uses:

* for the given and the family name: the **skeletons** of the name as written and of its Latin
  form (one or two), the **Latin letters** used for string similarity, and the skeletons of
  its words without particles (Fatima Zahra → FTM, ZHR) for names recorded in part;
* the **birth date** split into a trusted date, a placeholder (1 January, the usual stand-in
  when only the year is known) and the year;
* the **phone** as its last eight digits, so that +216 98 123 456, 0021698123456 and 98123456
  agree;
* sex (unknown as None), residence, document number.

``match_keys()`` gives the short strings a person is indexed by (the registry's
``PersonMatchKey``) for the typing-time lookup and the import's duplicate check (see
``lookup.py`` and the decision record).
"""

import datetime
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from .phonetic import (
    greek_to_latin,
    is_particle,
    latin_letters,
    name_tokens,
    script_of,
    skeleton,
    token_skeleton,
)

__all__ = [
    "Features",
    "NameFeatures",
    "PersonRecord",
    "birth_parts",
    "features",
    "latin_form",
    "match_keys",
    "name_features",
    "typed_match_keys",
    "phone_key",
]

VOWELS_ONLY = "_"
PLACEHOLDER_DAYS = frozenset({(1, 1)})  # (month, day) written when only the year is known


@dataclass(frozen=True)
class PersonRecord:
    """A person as the registry holds one; every field optional except a name."""

    given_name: str = ""
    family_name: str = ""
    given_name_latin: str = ""
    family_name_latin: str = ""
    birth_date: datetime.date | None = None
    birth_year: int | None = None
    sex: str = ""
    phone: str = ""
    residence: str | int | None = None
    document_number: str = ""
    address: str = ""

    @classmethod
    def from_person(cls, person) -> "PersonRecord":
        return cls(
            given_name=person.given_name,
            family_name=person.family_name,
            given_name_latin=person.given_name_latin,
            family_name_latin=person.family_name_latin,
            birth_date=person.birth_date,
            birth_year=person.birth_year,
            sex=person.sex,
            phone=person.phone,
            residence=person.residence_id,
            document_number=person.document_number,
            address=person.address,
        )


@dataclass(frozen=True)
class NameFeatures:
    skeletons: tuple[str, ...]  # of the name as written, then of its Latin form if different
    latin: str  # lower-case ASCII letters of the best Latin form, words joined by spaces
    words: frozenset[str]  # skeletons of its words, particles left out

    @property
    def skeleton(self) -> str:
        return self.skeletons[0] if self.skeletons else ""

    @cached_property
    def skeleton_set(self) -> frozenset[str]:
        return frozenset(self.skeletons)


@dataclass(frozen=True)
class Features:
    given: NameFeatures
    family: NameFeatures
    dob: datetime.date | None  # a date of birth that says the day (not a placeholder)
    placeholder: bool  # the date held is a placeholder (or only the year is known)
    year: int | None
    sex: str | None
    phone: str | None
    residence: str | None
    document: str | None
    address: str | None

    @cached_property
    def name_pair(self) -> str:
        """The two skeletons in sorted order: the same whichever field holds which name."""
        return "|".join(sorted((self.given.skeleton, self.family.skeleton)))


_ARABIC_NOISE = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u0640]")
_ARABIC_ALEF = str.maketrans("أإآٱى", "ااااي")


def latin_form(name: str) -> str:
    """The spelling of a name that string similarity reads: lower-case ASCII words, Greek
    through ``greek_to_latin`` (Μοχάμεντ → mochament). Arabic stays Arabic (short vowels
    and tatweel dropped, alef forms made one): transliterated it would lose its vowels, and
    "mhmd" is no spelling to compare with "mohamed" (the skeletons do that)."""
    words = []
    for token in name_tokens(name):
        script = script_of(token)
        if script == "greek":
            word = greek_to_latin(token)
        elif script == "arabic":
            word = _ARABIC_NOISE.sub("", token).translate(_ARABIC_ALEF)
        else:
            word = latin_letters(token)
        if word:
            words.append(word)
    return " ".join(words)


def _word_skeletons(name: str) -> set[str]:
    """Skeletons of the words of a name that are not particles (Ben Ali → {L})."""
    tokens = name_tokens(name)
    out = set()
    for i, token in enumerate(tokens):
        if is_particle(token):
            continue
        out.add(token_skeleton(token, i == 0))
    return {s for s in out if s}


@lru_cache(maxsize=200_000)
def name_features(name: str, latin: str = "") -> NameFeatures:
    skeletons: list[str] = []
    for text in (name, latin):
        sk = skeleton(text) if text else ""
        if not sk and latin_form(text):
            sk = VOWELS_ONLY  # Aya, Eya: a name all of vowels is still a name
        if sk and sk not in skeletons:
            skeletons.append(sk)
    words = _word_skeletons(name) | _word_skeletons(latin)
    best_latin = latin_form(latin) if latin else latin_form(name)
    return NameFeatures(tuple(skeletons), best_latin, frozenset(words))


_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def phone_key(phone: str) -> str | None:
    """The last eight digits of a phone number (None below six digits): enough to tell numbers
    apart, and the same whether written with +216, 00216, a trunk 0 or spaces."""
    digits = re.sub(r"[^0-9]", "", (phone or "").translate(_DIGITS))
    if len(digits) < 6:
        return None
    return digits[-8:]


def birth_parts(
    birth_date: datetime.date | None, birth_year: int | None
) -> tuple[datetime.date | None, bool, int | None]:
    """(trusted date, placeholder?, year). 1 January counts as a placeholder: it is what
    registers write when only the year is known."""
    if birth_date is not None:
        if (birth_date.month, birth_date.day) in PLACEHOLDER_DAYS:
            return None, True, birth_date.year
        return birth_date, False, birth_date.year
    if birth_year:
        return None, True, int(birth_year)
    return None, False, None


def _text(value) -> str | None:
    value = "" if value is None else str(value).strip()
    return value or None


def features(record: PersonRecord) -> Features:
    given = name_features(record.given_name or "", record.given_name_latin or "")
    family = name_features(record.family_name or "", record.family_name_latin or "")
    dob, placeholder, year = birth_parts(record.birth_date, record.birth_year)
    sex = record.sex if record.sex in ("F", "M", "X") else None
    document = re.sub(r"[^0-9A-Za-z]", "", record.document_number or "").upper() or None
    address = latin_form(record.address) if record.address else None
    return Features(
        given=given,
        family=family,
        dob=dob,
        placeholder=placeholder,
        year=year,
        sex=sex,
        phone=phone_key(record.phone),
        residence=_text(record.residence),
        document=document,
        address=address or None,
    )


# --- Keys for an index -----------------------------------------------------------------------


def _name_forms(name: NameFeatures) -> set[str]:
    """The skeletons a name is indexed under: the whole name as written and in Latin
    letters, and each word of a name of several (Fatima Zahra → FTMZHR, FTM, ZHR)."""
    forms = set(name.skeletons)
    if len(name.words) > 1:
        forms |= set(sorted(name.words)[:3])
    return forms or {""}


def _features_of(record: "PersonRecord | Features") -> Features:
    return record if isinstance(record, Features) else features(record)


def match_keys(record: "PersonRecord | Features") -> set[str]:
    """The keys a person is found by in the typing-time lookup, for a ``(key, person)``
    index (the registry's ``PersonMatchKey``, docs/decisions/0004-matching.md):

    * ``n:<given>|<family>`` and ``n:<family>|<given>``: the skeletons of the names in both
      orders, so that a swapped name is found, and a family name still being typed is a
      prefix of the key;
    * ``y:<a>|<b>|<year>`` (a, b the two skeletons in sorted order; ``-`` without a year): to
      narrow a common name to the years around the one typed;
    * ``d:<name>|<yyyymmdd>``: one name and a full date of birth, so that a person whose other
      name was misspelt, shortened or changed is still found when the date is typed.

    ``record`` may be given as its ``features()`` already computed.
    """
    f = _features_of(record)
    givens = _name_forms(f.given)
    families = _name_forms(f.family)
    year = str(f.year) if f.year else "-"
    keys: set[str] = set()
    for g in givens:
        for fam in families:
            if g or fam:
                keys.add(f"n:{g}|{fam}"[:60])
                keys.add(f"n:{fam}|{g}"[:60])
                low, high = sorted((g, fam))
                keys.add(f"y:{low}|{high}|{year}"[:60])
    if f.dob is not None:
        day = f.dob.strftime("%Y%m%d")
        for sk in (givens | families) - {""}:
            keys.add(f"d:{sk}|{day}"[:60])
    return keys


def typed_match_keys(
    record: "PersonRecord | Features", *, years_around: int = 2
) -> tuple[set, set, set]:
    """For names being typed: (prefixes of ``n:`` keys, exact ``y:`` keys for the years
    around the one typed and for no year, exact ``d:`` keys for the full date typed), cut to
    the length the index keeps as ``match_keys`` cuts them. The ``n:`` strings are also the
    exact keys of names typed in full."""
    f = _features_of(record)
    givens = _name_forms(f.given)
    families = _name_forms(f.family)
    prefixes = set()
    years = set()
    for g in givens:
        for fam in families:
            if not (g or fam):
                continue
            prefixes.add(f"n:{g}|{fam}"[:60])
            if f.year:
                low, high = sorted((g, fam))
                for year in range(f.year - years_around, f.year + years_around + 1):
                    years.add(f"y:{low}|{high}|{year}"[:60])
                years.add(f"y:{low}|{high}|-"[:60])
    dates = set()
    if f.dob is not None:
        day = f.dob.strftime("%Y%m%d")
        dates = {f"d:{sk}|{day}"[:60] for sk in (givens | families) - {""}}
    return prefixes, years, dates
