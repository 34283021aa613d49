"""The file to start from: the columns of a kind of import, headed in the user's language, with
one example row (and, in the workbook, a sheet saying what each column takes)."""

import csv
import datetime
import io

import openpyxl
from django.utils.translation import get_language_bidi
from django.utils.translation import gettext as _
from openpyxl.styles import Font

from tadamun.core.i18n import base_language

from .kinds import Kind

# Spreadsheets in languages writing decimals with a comma expect semicolons between columns.
_SEMICOLON_LANGUAGES = {"fr", "it", "el"}


def _example(column, context):
    value = column.example(context) if callable(column.example) else column.example
    return value


def _header(column) -> str:
    label = str(column.label)
    return label[:1].upper() + label[1:]


def template_csv(kind: Kind, context: dict) -> bytes:
    """UTF-8 with a byte-order mark, which Excel needs to show Arabic and Greek."""
    buffer = io.StringIO()
    separator = ";" if base_language() in _SEMICOLON_LANGUAGES else ","
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    columns = kind.template_columns(context)
    writer.writerow([_header(c) for c in columns])
    row = []
    for column in columns:
        value = _example(column, context)
        if isinstance(value, datetime.date):
            value = value.strftime("%d/%m/%Y")
        row.append(value)
    writer.writerow(row)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template_xlsx(kind: Kind, context: dict) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = str(kind.label)[:31]
    bold = Font(bold=True)
    right_to_left = get_language_bidi()
    sheet.sheet_view.rightToLeft = right_to_left
    columns = kind.template_columns(context)
    for index, column in enumerate(columns, start=1):
        header = sheet.cell(row=1, column=index, value=_header(column))
        header.font = bold
        value = _example(column, context)
        cell = sheet.cell(row=2, column=index, value=value)
        if isinstance(value, datetime.date):
            cell.number_format = "DD/MM/YYYY"
        else:
            cell.number_format = "@"  # text: 01234567 keeps its zero
        letter = header.column_letter
        sheet.column_dimensions[letter].width = max(14, len(header.value) + 4)
    sheet.freeze_panes = "A2"

    notes = workbook.create_sheet(_("Instructions")[:31])
    notes.sheet_view.rightToLeft = right_to_left
    notes.append([_("Column"), _("Required"), _("What to write")])
    for cell in notes[1]:
        cell.font = bold
    for column in columns:
        notes.append(
            [_header(column), _("yes") if column.required else _("no"), str(column.help or "")]
        )
    notes.append([])
    for line in kind.template_notes(context):
        notes.append([str(line)])
    notes.append(
        [
            _(
                "Keep the first row as it is. Each following row is one record; empty rows are "
                "skipped. Formulas are refused: type the values themselves."
            )
        ]
    )
    notes.column_dimensions["A"].width = 30
    notes.column_dimensions["C"].width = 90
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_name(kind: Kind, extension: str) -> str:
    return f"tadamun-{kind.code}-template.{extension}"
