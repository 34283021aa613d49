"""The case report as an XLSX workbook: one sheet of totals, one per breakdown."""

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook

DIMENSIONS = [("desk", "Desk"), ("territory", "Territory"), ("sex", "Sex"), ("age", "Age band")]


def _safe(value):
    """Text that a spreadsheet would take for a formula is written as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def report_xlsx(result: dict) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = _("Totals")[:31]
    sheet.append([_("From"), result["start"], _("To"), result["end"]])
    sheet.append([])
    sheet.append([_("Indicator"), _("People")])
    for line in result["lines"]:
        sheet.append([_safe(str(line.label)), line.count])
    sheet.append([])
    sheet.append([_("Outcome of closed cases"), _("People")])
    for line in result["outcomes"]:
        sheet.append([_safe(str(line.label)), line.count])
    labels = {"desk": _("Desk"), "territory": _("Territory"), "sex": _("Sex"), "age": _("Age band")}
    for dimension, _english in DIMENSIONS:
        values = sorted({v for line in result["lines"] for v in line.by.get(dimension, {})})
        sheet = book.create_sheet(labels[dimension][:31])
        sheet.append([_("Indicator"), *[_safe(str(v)) for v in values]])
        for line in result["lines"]:
            counts = line.by.get(dimension, {})
            sheet.append([_safe(str(line.label)), *[len(counts.get(v, ())) for v in values]])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
