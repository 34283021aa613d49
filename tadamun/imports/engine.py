"""The rows of a file through a kind of import: cells converted, rows checked by the kind's
service, likely duplicates found, and (when asked) the rows written, a chunk at a time so that
memory stays flat whatever the size of the file.

Errors are named by the file's row number and column (letter and header, as the person sees
them in their spreadsheet), in the words of the parsers and of the services.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from tadamun.core.errors import DomainError

from . import parsing
from .kinds import Column, Kind, chunked

CHUNK = 1000
ERRORS_KEPT = 1000  # listed in the report; the count covers them all
DUPLICATES_KEPT = 1000
SAMPLE_ROWS = 5  # shown as read by the preview, to catch garbled letters before importing


@dataclass
class Outcome:
    rows: int = 0
    written: int = 0
    columns: list[dict] = field(default_factory=list)
    ignored: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    error_count: int = 0
    error_rows: set = field(default_factory=set)
    duplicates: list[dict] = field(default_factory=list)
    duplicate_count: int = 0
    sample: list[dict] = field(default_factory=list)

    def add_error(self, row, letter: str, column: str, name: str, messages) -> None:
        self.error_count += 1
        if row is not None:
            self.error_rows.add(row)
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append(
                {
                    "row": row,
                    "letter": letter,
                    "column": column,
                    "field": name,
                    "messages": [str(m) for m in messages],
                }
            )

    def report(self) -> dict:
        return {
            "rows": self.rows,
            "written": self.written,
            "columns": self.columns,
            "ignored": self.ignored,
            "errors": sorted(self.errors, key=lambda e: (e["row"] or 0, e["letter"])),
            "error_count": self.error_count,
            "error_rows": len(self.error_rows),
            "duplicates": self.duplicates,
            "duplicate_count": self.duplicate_count,
            "sample": self.sample,
        }


class Refused(Exception):
    """A row failed while writing: the transaction around the writing must roll back."""

    def __init__(self, outcome: Outcome):
        super().__init__("import refused")
        self.outcome = outcome


def file_error(message) -> dict:
    """A report for a file refused as a whole."""
    outcome = Outcome()
    outcome.add_error(None, "", "", "file", [message])
    return outcome.report()


def match_columns(kind: Kind, headers: list[str]) -> tuple[dict[int, Column], Outcome]:
    """Which column of the file feeds which field; unknown headers are ignored and listed."""
    outcome = Outcome()
    mapping: dict[int, Column] = {}
    seen: dict[str, int] = {}
    for index, header in enumerate(headers):
        letter = parsing.column_letter(index)
        if not header:
            continue
        column = kind.headers.get(parsing.normalise(header))
        if column is None:
            outcome.ignored.append({"letter": letter, "column": header})
            continue
        if column.field in seen:
            outcome.add_error(
                None,
                letter,
                header,
                column.field,
                [
                    _("This column repeats column %(letter)s (%(label)s): keep only one.")
                    % {"letter": parsing.column_letter(seen[column.field]), "label": column.label}
                ],
            )
            continue
        seen[column.field] = index
        mapping[index] = column
        outcome.columns.append({"letter": letter, "column": header, "field": column.field})
    for column in kind.columns:
        if column.required and column.field not in seen:
            outcome.add_error(
                None,
                "",
                str(column.label),
                column.field,
                [_("The column %(label)s is missing.") % {"label": column.label}],
            )
    return mapping, outcome


def process(
    kind: Kind,
    table: parsing.Table,
    *,
    user,
    organisation,
    duplicates: bool = False,
    write: bool = False,
    reason: str = "imported",
    progress: Callable[[int], None] | None = None,
) -> Outcome:
    """Check every row (and write them, when ``write``: the caller holds the transaction and
    rolls it back on ``Refused``)."""
    mapping, outcome = match_columns(kind, table.headers)
    if outcome.error_count and write:
        raise Refused(outcome)
    where = {column.field: index for index, column in mapping.items()}
    headers = table.headers

    def place(name: str) -> tuple[str, str, str]:
        """Column letter, header and field an error of the service's ``name`` belongs to."""
        if name not in where:
            name = kind.error_columns.get(name, name)
        if name in where:
            return parsing.column_letter(where[name]), headers[where[name]], name
        column = kind.column(name)
        return "", str(column.label) if column is not None else "", name

    context = kind.context(organisation)
    candidates: list[dict] = []
    for chunk in chunked(table.rows(), CHUNK):
        numbers, rows, failed = [], [], {}
        for number, values in chunk:
            fields, errors = {}, {}
            for index, column in mapping.items():
                try:
                    value = parsing.clean(values[index] if index < len(values) else None)
                    if value != "":
                        fields[column.field] = column.convert(value, context)
                except parsing.CellError as error:
                    errors[column.field] = error.message
            converted = fields
            fields, later = kind.prepare(fields)
            errors.update(later)
            for name in errors:
                fields.pop(name, None)
            for name, message in errors.items():
                outcome.add_error(number, *place(name), [message])
            numbers.append(number)
            rows.append(fields)
            failed[number] = set(errors)
            if duplicates:
                candidates.append({"row": number, **fields})
                if len(outcome.sample) < SAMPLE_ROWS:
                    outcome.sample.append(
                        {
                            "row": number,
                            "values": [_shown(converted.get(c.field)) for c in mapping.values()],
                        }
                    )
        objects = None
        try:
            objects = kind.validate(
                user=user, organisation=organisation, rows=rows, numbers=numbers
            )
        except DomainError as error:
            for key, messages in error.message_dict.items():
                number, _sep, name = key.partition(":")
                number = int(number)
                if name in failed.get(number, ()):
                    continue  # the cell's own error says it already
                outcome.add_error(number, *place(name), messages)
        outcome.rows += len(chunk)
        if write:
            if outcome.error_count or objects is None:
                raise Refused(outcome)
            outcome.written += kind.write(user=user, objects=objects, reason=reason)
        if progress is not None:
            progress(outcome.rows)
    if duplicates and kind.duplicates is not None and candidates:
        found = kind.duplicates(user, candidates)
        outcome.duplicate_count = len(found)
        outcome.duplicates = [
            {"row": number, "matches": found[number]} for number in sorted(found)
        ][:DUPLICATES_KEPT]
    return outcome


def _shown(value) -> str:
    """A converted value as the preview shows it."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return parsing.text(value) if not hasattr(value, "_meta") else str(value)
