"""Import files are generated here, in the encodings, separators and formats people send."""

import csv
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a large file (100,000 rows); about a minute")


def csv_bytes(rows: list[list], *, encoding: str = "utf-8", separator: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=separator, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list], *, formats: dict | None = None) -> bytes:
    """A workbook with these rows on its first sheet; ``formats`` gives number formats by
    cell ("C2": "DD/MM/YYYY")."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for ref, number_format in (formats or {}).items():
        sheet[ref].number_format = number_format
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Uploaded files go to a folder of the test, not to the shared data folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
