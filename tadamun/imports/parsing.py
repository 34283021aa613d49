"""Reading an import file: CSV in whatever encoding and separator it came in, or XLSX, into
rows of clean cell values, each row and column named as the person sees them in their
spreadsheet (row 1 is the first line, column A the first column).

Nothing in a file is ever evaluated: a formula is refused where it stands, in CSV and XLSX alike,
so that it can neither run here nor come back out of an export of the registry.
"""

import codecs
import csv
import datetime
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath

import openpyxl
from charset_normalizer import from_bytes
from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tadamun.core.errors import DomainError

# Limits: a file larger than this is refused before it is read.
MAX_BYTES = getattr(settings, "TADAMUN_IMPORT_MAX_BYTES", 30 * 1024 * 1024)
MAX_ROWS = getattr(settings, "TADAMUN_IMPORT_MAX_ROWS", 100_000)
MAX_COLUMNS = 60
MAX_CELL = 2000  # characters; longer text is refused rather than cut
MAX_XLSX_UNPACKED = 400 * 1024 * 1024  # what the workbook's parts may unpack to

# Encodings a person may choose when the detection gets it wrong, and the ones detection
# chooses among when a file is not UTF-8: Arabic, Western European and Greek Windows pages.
ENCODING_CHOICES = [
    ("", gettext_lazy("Detect automatically")),
    ("utf-8", "UTF-8"),
    ("utf-16", "UTF-16"),
    ("cp1256", gettext_lazy("Windows-1256 (Arabic)")),
    ("cp1252", gettext_lazy("Windows-1252 (Western European)")),
    ("latin-1", "ISO-8859-1 (Latin-1)"),
    ("cp1253", gettext_lazy("Windows-1253 (Greek)")),
    ("cp850", gettext_lazy("MS-DOS (Western European)")),
]
_DETECTED_8BIT = ["cp1256", "cp1252", "cp1253"]
SEPARATORS = [",", ";", "\t"]

# A cell starting with one of these would be a formula in a spreadsheet ("CSV injection").
_FORMULA_START = ("=", "+", "-", "@")
# ... unless it is only a number or a phone number: no letters, nothing a formula could call.
_NUMBER_LIKE = re.compile(r"^[+-]?[\d\s().\-/]*\d[\d\s().\-/]*$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class FileRefused(DomainError):
    """The file as a whole cannot be read; the message says why and what to do."""


class CellError(Exception):
    """A value that cannot be used, with the message to show next to its row and column."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Table:
    """The rows of a file: its header row and, lazily, every following non-empty row."""

    file_type: str
    encoding: str
    separator: str
    header_row: int
    headers: list[str]
    rows: Callable[[], Iterator[tuple[int, list]]]  # (row number, cell values); restartable

    def count(self) -> int:
        """The number of rows, refusing the file beyond MAX_ROWS (a pass over the whole file)."""
        return sum(1 for _row in self.rows())


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- the file as a whole ----------------------------------------------------------------------


def file_type_of(name: str, head: bytes) -> str:
    """``csv`` or ``xlsx``, from the name and the first bytes; anything else is refused."""
    suffix = PurePath(name or "").suffix.lower()
    is_zip = head.startswith(b"PK\x03\x04")
    if suffix in (".xlsx", ".xlsm") or (is_zip and suffix not in (".csv", ".txt", ".tsv")):
        if not is_zip:
            raise FileRefused({"file": _("This file is named .xlsx but is not an Excel workbook.")})
        return "xlsx"
    if suffix == ".xls" or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused(
            {"file": _("Old Excel files (.xls) cannot be read: save the sheet as .xlsx or CSV.")}
        )
    if suffix == ".ods":
        raise FileRefused({"file": _("Save the sheet as .xlsx or CSV to import it.")})
    if suffix not in ("", ".csv", ".txt", ".tsv"):
        raise FileRefused({"file": _("Only CSV and XLSX files can be imported.")})
    return "csv"


def open_table(data: bytes, name: str, encoding: str = "") -> Table:
    if not data.strip():
        raise FileRefused({"file": _("The file is empty.")})
    if len(data) > MAX_BYTES:
        raise FileRefused(
            {
                "file": _("The file is larger than %(size)s: split it into several files.")
                % {"size": formats.number_format(MAX_BYTES // (1024 * 1024)) + " MB"}
            }
        )
    if file_type_of(name, data[:8]) == "xlsx":
        return _xlsx_table(data)
    return _csv_table(data, encoding)


# --- CSV ------------------------------------------------------------------------------------


# When nothing tells them apart, Arabic before Western before Greek: Arabic bytes read as Greek
# make well-formed Greek words, while Greek bytes read as Arabic mix in the Latin letters that
# Windows-1256 keeps (é, ô, ï ...), which the score below catches.
_WIDER_8BIT = [*_DETECTED_8BIT, "cp1250", "cp850", "cp437", "mac_roman"]


def _script(char: str) -> str:
    if char.isascii():
        return "ascii"
    name = unicodedata.name(char, "")
    for script in ("LATIN", "ARABIC", "GREEK"):
        if name.startswith(script):
            return script
    return "other"


def _words(text: str) -> Iterator[str]:
    """Runs of letters and the marks on them (Arabic vowel signs, accents)."""
    word = []
    for char in text:
        if unicodedata.category(char)[0] in "LM":
            word.append(char)
        elif word:
            yield "".join(word)
            word = []
    if word:
        yield "".join(word)


def implausible_words(text: str) -> int:
    """Words that text read in the wrong code page gives: letters of two scripts in one word
    ("ةmile"), or accented Latin letters without a plain one ("Úáí", which is "علي")."""
    count = 0
    for word in _words(text):
        scripts = {_script(c) for c in word}
        latin = scripts & {"ascii", "LATIN"}
        others = scripts - {"ascii", "LATIN"}
        mixed = "other" in scripts or len(others) > 1 or bool(others and latin)
        accents_only = scripts == {"LATIN"} and len(word) > 1
        count += mixed or accents_only
    return count


def detect_encoding(data: bytes) -> str:
    """The encoding a CSV file was most likely saved in.

    Byte-order marks decide first (UTF-8 and UTF-16, as Excel writes them); then strict UTF-8,
    which text in another encoding almost never passes; then the Windows code page (Arabic,
    Western, Greek) whose reading gives the fewest implausible words. Only when each of them
    reads badly is charset-normalizer asked, among more code pages (MS-DOS, Mac, Central
    European). A reading can still be wrong for a file of a few words: the preview shows the
    first rows as read, and the person may choose the encoding.
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = data[:4096]
    if sample.count(b"\x00") > len(sample) // 4:
        # UTF-16 without a byte-order mark: ASCII characters leave a zero byte beside them.
        return "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    scores = {}
    for encoding in _DETECTED_8BIT:
        try:
            scores[encoding] = implausible_words(data.decode(encoding))
        except UnicodeDecodeError:
            continue
    best = min(scores, key=lambda e: (scores[e], _DETECTED_8BIT.index(e)), default=None)
    if best is not None and scores[best] == 0:
        return best
    guess = from_bytes(data, cp_isolation=_WIDER_8BIT).best()
    if guess is not None and (best is None or implausible_words(str(guess)) < scores[best]):
        return guess.encoding
    if best is None:
        raise FileRefused(
            {
                "file": _(
                    "The characters of this file could not be recognised. Save it as "
                    '"CSV UTF-8" or choose its encoding.'
                )
            }
        )
    return best


def decode(data: bytes, encoding: str) -> str:
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        raise FileRefused(
            {
                "file": _(
                    'This file cannot be read as %(encoding)s. Save it as "CSV UTF-8" or '
                    "choose another encoding."
                )
                % {"encoding": encoding}
            }
        ) from None
    if "\x00" in text:
        raise FileRefused({"file": _("This is not a text (CSV) file.")})
    return text.lstrip("\ufeff")


def sniff_separator(text: str) -> str:
    """The separator that splits the first lines into the same number of columns, the most."""
    lines = [line for line in text.splitlines()[:50] if line.strip()][:20]
    if not lines:
        return ","
    best, best_score = ",", (0, 0)
    for separator in SEPARATORS:
        try:
            counts = [len(row) for row in csv.reader(lines, delimiter=separator)]
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        score = (sum(1 for c in counts if c == counts[0]), counts[0])
        if score > best_score:
            best, best_score = separator, score
    return best


def _csv_table(data: bytes, encoding: str) -> Table:
    encoding = encoding or detect_encoding(data)
    text = decode(data, encoding)
    separator = sniff_separator(text)

    def records() -> Iterator[tuple[int, list]]:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=False)
        # Each record is a row of the sheet (a spreadsheet shows a blank line as a blank row).
        yield from enumerate(reader, start=1)

    return _table("csv", encoding, separator, records)


# --- XLSX -----------------------------------------------------------------------------------


class _Formula:
    """An XLSX cell holding a formula; never evaluated."""


FORMULA = _Formula()


def _xlsx_table(data: bytes) -> Table:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise FileRefused({"file": _("This Excel file is damaged and cannot be read.")}) from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise FileRefused(
            {"file": _("This workbook is too large once unpacked: split it into several files.")}
        )
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        workbook.close()
    except Exception:  # openpyxl raises many kinds of errors for a damaged workbook
        raise FileRefused({"file": _("This Excel file is damaged and cannot be read.")}) from None

    def records() -> Iterator[tuple[int, list]]:
        # Formulas are read as formulas (data_only=False), never as values computed by
        # whoever saved the file last.
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        try:
            sheet = workbook.worksheets[0]
            sheet.reset_dimensions()  # trust the rows, not the size the file claims
            number = 0
            for cells in sheet.iter_rows():
                number = next((c.row for c in cells if getattr(c, "row", None)), number + 1)
                values = []
                for cell in cells[: MAX_COLUMNS + 1]:
                    if getattr(cell, "data_type", None) == "f":
                        values.append(FORMULA)
                    else:
                        values.append(getattr(cell, "value", None))
                yield number, values
        except Exception as error:  # a sheet damaged further in than its first rows
            raise FileRefused(
                {"file": _("This Excel file is damaged and cannot be read.")}
            ) from error
        finally:
            workbook.close()

    return _table("xlsx", "", "", records)


# --- header and rows ------------------------------------------------------------------------


def _is_empty(values: list) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _table(file_type: str, encoding: str, separator: str, records) -> Table:
    header_row, headers = 0, []
    try:
        for number, values in records():
            if not _is_empty(values):
                header_row = number
                headers = [
                    "" if v is None or v is FORMULA else str(v).strip().lstrip("\ufeff")
                    for v in values
                ]
                break
    except csv.Error:
        raise FileRefused({"file": _("This CSV file is damaged and cannot be read.")}) from None
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise FileRefused({"file": _("The file holds no rows.")})
    if len(headers) > MAX_COLUMNS:
        raise FileRefused(
            {
                "file": _("The file has more than %(count)d columns: use the template.")
                % {"count": MAX_COLUMNS}
            }
        )

    def rows() -> Iterator[tuple[int, list]]:
        count = 0
        try:
            for number, values in records():
                if number <= header_row or _is_empty(values):
                    continue
                count += 1
                if count > MAX_ROWS:
                    raise FileRefused(
                        {
                            "file": _(
                                "The file holds more than %(count)s rows: split it into several "
                                "files."
                            )
                            % {"count": formats.number_format(MAX_ROWS, force_grouping=True)}
                        }
                    )
                yield number, values
        except csv.Error as error:
            raise FileRefused(
                {
                    "file": _("This CSV file is damaged after row %(row)s and cannot be read.")
                    % {"row": header_row + count}
                }
            ) from error

    return Table(file_type, encoding, separator, header_row, headers, rows)


# --- headers in any language ----------------------------------------------------------------

_ARABIC_FOLD = str.maketrans({"ة": "ه", "ى": "ي", "ـ": None})
_PUNCT = re.compile(r"[\s_\-./*:()'’\"«»\[\]]+")


def normalise(text) -> str:
    """Case, accents, punctuation and Arabic spelling variants folded away:
    "Prénom", "prenom" and "PRENOM" agree, as do "given_name" and "Given name"."""
    text = unicodedata.normalize("NFKD", str(text)).casefold()
    text = "".join(c for c in text if not unicodedata.combining(c)).translate(_ARABIC_FOLD)
    return _PUNCT.sub(" ", text).strip()


# --- values ---------------------------------------------------------------------------------


def clean(value):
    """A cell's value trimmed, with formulas refused. Numbers stay numbers, dates dates."""
    if value is None:
        return ""
    if value is FORMULA or not isinstance(
        value, str | int | float | bool | datetime.date | datetime.time
    ):
        raise CellError(_("A formula cannot be imported: type the value itself."))
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, str):
        return value
    value = value.strip()
    if value.startswith(_FORMULA_START) and not _NUMBER_LIKE.match(value):
        raise CellError(
            _(
                "A value starting with = + - or @ is read as a formula and cannot be imported: "
                "remove that first character."
            )
        )
    if _CONTROL.search(value):
        raise CellError(_("This value contains invisible control characters."))
    if len(value) > MAX_CELL:
        raise CellError(_("This value is longer than %(count)d characters.") % {"count": MAX_CELL})
    return value


def text(value) -> str:
    """Any cell as text: 55123456 rather than 55123456.0, a date as 1990-05-17."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def digits(value: str) -> str:
    """Arabic-Indic and other decimal digits as ASCII ones: "١٩٩٠" becomes "1990"."""
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in value)


_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]0{1,2}:00(?::00(?:\.0+)?)?)?$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})$")
_YEAR = re.compile(r"^\d{4}$")
_SERIAL = re.compile(r"^\d{5}(?:\.0+)?$")
EXCEL_EPOCH = datetime.date(1899, 12, 30)  # serial 1 is 1900-01-01 (with Excel's leap-year bug)


def _date(year: int, month: int, day: int, raw) -> datetime.date:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise CellError(
            _("%(value)s is not a valid date: write the day, then the month, then the year.")
            % {"value": raw}
        ) from None


def _serial(number: int, raw) -> datetime.date:
    if not 1 <= number <= 2958465:
        raise CellError(_("%(value)s is not a date.") % {"value": raw})
    return EXCEL_EPOCH + datetime.timedelta(days=number)


def _is_year(number: int) -> bool:
    return 1800 <= number <= 2200


def date_or_year(value) -> datetime.date | int:
    """A date written in any of the usual ways, or a year alone (an int).

    2024-03-05, 05/03/2024 (day first), 5.3.2024, 5-3-2024, an Excel date or serial number
    (45356), or 1990 for a year alone. Two-digit years are refused: 05/03/24 could be 1924.
    """
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float):
        number = int(value)
        if number != value:
            raise CellError(_("%(value)s is not a date.") % {"value": value})
        return number if _is_year(number) else _serial(number, value)
    raw = str(value)
    written = digits(raw.strip())
    if _YEAR.match(written):
        return int(written)
    if _SERIAL.match(written):
        return _serial(int(float(written)), raw)
    match = _ISO.match(written)
    if match:
        year, month, day = (int(g) for g in match.groups())
        return _date(year, month, day, raw)
    match = _DAY_FIRST.match(written)
    if match:
        day, month, year = match.groups()
        if len(year) == 2:
            raise CellError(_("Write the year of %(value)s with four digits.") % {"value": raw})
        return _date(int(year), int(month), int(day), raw)
    raise CellError(
        _("%(value)s is not a date: write it as 31/12/1990 or 1990-12-31.") % {"value": raw}
    )


def year(value) -> int:
    if isinstance(value, int | float) and int(value) == value and _is_year(int(value)):
        return int(value)
    written = digits(str(value).strip())
    if isinstance(value, str) and _YEAR.match(written):
        return int(written)
    raise CellError(_("%(value)s is not a year: write it with four digits.") % {"value": value})


@dataclass
class Choices:
    """Values accepted for a field with choices: its codes and its labels in every language,
    plus other common words, all folded by ``normalise``."""

    words: dict[str, str] = field(default_factory=dict)

    def add(self, word, code: str) -> None:
        key = normalise(word)
        if key:
            self.words.setdefault(key, code)

    def __call__(self, value) -> str:
        code = self.words.get(normalise(text(value)))
        if code is None:
            raise CellError(_("%(value)s is not one of the accepted values.") % {"value": value})
        return code
