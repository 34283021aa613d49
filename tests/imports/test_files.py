"""Files as people send them: encodings, separators, header languages, dates, formulas, empty
rows. Each either imports correctly or is refused with the row and column named."""

import codecs
import datetime

import pytest
from django.utils import translation

from tadamun.core.errors import DomainError
from tadamun.imports import parsing, services
from tadamun.imports.kinds import get
from tadamun.imports.models import ImportJob, ImportStatus
from tadamun.registry.models import Person

from .conftest import csv_bytes, upload, xlsx_bytes


def _preview(world, name, data, **options):
    job = services.import_upload(
        user=world.desk_a, organisation=world.org_a, file=upload(name, data), **options
    )
    return services.import_preview(user=world.desk_a, job=job)


def _run(world, job):
    job = services.import_run(user=world.desk_a, job=job)
    assert job.status == ImportStatus.DONE, job.report
    return job


def _registered(world, **lookup) -> list[Person]:
    return list(Person.objects.visible_to(world.desk_a).filter(**lookup).order_by("pk"))


# --- encodings ------------------------------------------------------------------------------

ARABIC = [
    ["الاسم", "اللقب", "الجنس", "تاريخ الولادة", "منطقة الإقامة"],
    ["فاطمة", "الزهراء", "أنثى", "12/04/1988", "TN-32"],
    ["محمود", "بن صالح", "ذكر", "1975", "TN-32"],
    ["خديجة", "العياري", "", "1990-01-02", "TN-32"],
]
ITALIAN = [
    ["Nome", "Cognome", "Sesso", "Data di nascita", "Territorio di residenza"],
    ["Niccolò", "Galileì", "Maschio", "15/02/1964", "TN-32"],
    ["Lucía", "D'Àrco", "Femmina", "1.1.1970", "TN-32"],
    ["Pietro", "Città", "M", "1980", "TN-32"],
]


@pytest.mark.parametrize(
    ("rows", "encoding", "detected"),
    [
        (ARABIC, "cp1256", "cp1256"),
        (ARABIC, "utf-8-sig", "utf-8-sig"),
        (ARABIC, "utf-8", "utf-8"),
        (ARABIC, "utf-16", "utf-16"),
        (ITALIAN, "latin-1", "cp1252"),
        (ITALIAN, "cp1252", "cp1252"),
        (ITALIAN, "utf-8-sig", "utf-8-sig"),
    ],
)
def test_each_encoding_is_detected_and_imports_the_same_names(world, rows, encoding, detected):
    job = _preview(world, "people.csv", csv_bytes(rows, encoding=encoding, separator=";"))

    assert job.encoding == detected
    assert job.separator == ";"
    assert job.report["error_count"] == 0, job.report["errors"]
    # The preview shows the first rows as read, to catch garbled letters before importing.
    assert [row["values"][:2] for row in job.report["sample"]] == [r[:2] for r in rows[1:]]
    job = _run(world, job)
    assert "sample" not in job.report  # names from the file are not kept once it is over
    names = [
        (p.given_name, p.family_name)
        for p in _registered(world, given_name__in=[r[0] for r in rows[1:]])
    ]
    assert names == [(r[0], r[1]) for r in rows[1:]]


def test_greek_in_windows_1253_is_detected_too(world):
    rows = [["Όνομα", "Επώνυμο", "Φύλο"], ["Γιώργος", "Παπαδόπουλος", "Άνδρας"]]
    job = _preview(world, "people.csv", csv_bytes(rows, encoding="cp1253"))
    assert job.encoding == "cp1253"
    assert job.report["error_count"] == 0, job.report["errors"]
    _run(world, job)
    assert _registered(world, family_name="Παπαδόπουλος")[0].given_name_latin == "Giorgos"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("given_name\nعلي\n", "cp1256"),  # three Arabic letters: also well-formed Greek
        ("Nom;Prenom\nDupont;Jean\nBenali;علي\n", "cp1256"),  # "Úáí" in Windows-1252
        ("given_name\nمُحَمَّد\n", "cp1256"),  # with vowel signs
        ("given_name\nNiccolò\n", "cp1252"),  # ò is a vowel sign in Windows-1256
        ("given_name\nÉmile\n", "cp1252"),
        ("a\nJosé Peña\nMüller Straße\n", "cp1252"),
        ("given_name\nΣοφία\n", "cp1253"),
        ("given_name\nΝίκος\n", "cp1253"),
    ],
)
def test_a_few_words_are_enough_to_tell_the_code_pages_apart(text, encoding):
    data = text.encode(encoding)
    assert data.decode(parsing.detect_encoding(data)) == text


def test_a_chosen_encoding_wins_over_the_detection(world):
    data = csv_bytes(ITALIAN, encoding="latin-1")
    job = _preview(world, "people.csv", data, encoding="latin-1")
    assert job.encoding == "latin-1"
    assert job.report["error_count"] == 0


def test_a_wrong_chosen_encoding_is_refused_or_shows_in_the_names(world):
    # Windows-1256 Arabic read as UTF-8 is refused outright: nothing is kept.
    with pytest.raises(DomainError) as refused:
        _preview(world, "people.csv", csv_bytes(ARABIC, encoding="cp1256"), encoding="utf-8")
    assert "file" in refused.value.message_dict


def test_utf8_that_is_not_is_never_half_read(world):
    """Bytes that are valid in no candidate encoding are refused as a whole."""
    data = b"given_name\nSami\n" + b"\x81\x8d\x8f\x90\x9d" * 3 + b"\n"
    try:
        job = _preview(world, "people.csv", data)
    except DomainError as refused:
        assert "file" in refused.message_dict
    else:
        assert job.encoding in ("cp1256", "cp1252", "cp1253")


# --- separators -----------------------------------------------------------------------------


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_separators_are_sniffed(world, separator):
    rows = [["given_name", "family_name", "address"], ["Sami", "Gharbi", "Rue 5, Tabarka; Nord"]]
    job = _preview(world, "people.csv", csv_bytes(rows, separator=separator))
    assert job.separator == separator
    _run(world, job)
    assert _registered(world, family_name="Gharbi")[0].address == "Rue 5, Tabarka; Nord"


def test_semicolons_with_commas_inside_names(world):
    data = b"Prenom;Nom;Telephone\r\nSami;Ben Ali, dit Sam;71 000 000\r\nLeila;Gharbi;\r\n"
    job = _preview(world, "people.csv", data)
    assert job.separator == ";"
    _run(world, job)
    assert [p.family_name for p in _registered(world, given_name__in=["Sami", "Leila"])] == [
        "Ben Ali, dit Sam",
        "Gharbi",
    ]


# --- headers in five languages --------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        ["given_name", "family_name", "birth_date"],
        ["Given name", "FAMILY NAME", "Date of birth"],
        ["Prénom", "Nom", "Date de naissance"],
        ["prenom", "nom de famille", "DATE DE NAISSANCE"],
        ["Nome", "Cognome", "Data di nascita"],
        ["الاسم", "اللقب", "تاريخ الولادة"],
        ["Όνομα", "Επώνυμο", "Ημερομηνία γέννησης"],
        ["ΟΝΟΜΑ", "επωνυμο", "ημερομηνια γεννησης"],
        ["  First Name ", "Surname", "DOB"],
    ],
)
def test_headers_are_matched_in_any_language_and_case(world, header):
    job = _preview(world, "people.csv", csv_bytes([header, ["Sami", "Gharbi", "05/03/1990"]]))
    assert [c["field"] for c in job.report["columns"]] == [
        "given_name",
        "family_name",
        "birth_date",
    ]
    assert job.report["error_count"] == 0


def test_the_kind_has_no_header_naming_two_columns():
    headers = get("people").headers  # raises on a clash
    assert headers["prenom"].field == "given_name"
    assert headers["nom"].field == "family_name"
    assert headers["nome"].field == "given_name"


def test_unknown_columns_are_listed_and_left_out_and_a_repeated_one_is_an_error(world):
    rows = [["given_name", "Notes", "family_name", "Prénom"], ["Sami", "x", "Gharbi", "Sam"]]
    job = _preview(world, "people.csv", csv_bytes(rows))
    assert job.report["ignored"] == [{"letter": "B", "column": "Notes"}]
    assert [(e["row"], e["letter"], e["field"]) for e in job.report["errors"]] == [
        (None, "D", "given_name")
    ]
    assert not job.can_run


def test_a_missing_required_column_is_named(world):
    job = _preview(world, "people.csv", csv_bytes([["family_name", "sex"], ["Gharbi", "F"]]))
    assert job.report["errors"][0]["field"] == "given_name"
    assert job.report["errors"][0]["row"] is None
    assert not job.can_run


# --- values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2024-03-05", datetime.date(2024, 3, 5)),
        ("2024/03/05", datetime.date(2024, 3, 5)),
        ("2024-03-05 00:00:00", datetime.date(2024, 3, 5)),
        ("05/03/2024", datetime.date(2024, 3, 5)),
        ("5/3/2024", datetime.date(2024, 3, 5)),
        ("5.3.2024", datetime.date(2024, 3, 5)),
        ("05-03-2024", datetime.date(2024, 3, 5)),
        ("٠٥/٠٣/٢٠٢٤", datetime.date(2024, 3, 5)),  # Arabic-Indic digits
        ("45356", datetime.date(2024, 3, 5)),  # an Excel serial number saved as text
        (45356, datetime.date(2024, 3, 5)),
        (45356.0, datetime.date(2024, 3, 5)),
        (datetime.datetime(2024, 3, 5), datetime.date(2024, 3, 5)),
        ("1990", 1990),
        (1990, 1990),
        ("١٩٩٠", 1990),
    ],
)
def test_dates_in_several_formats(written, expected):
    assert parsing.date_or_year(written) == expected


@pytest.mark.parametrize(
    "written", ["31/02/2024", "2024-13-01", "05/03/24", "March 5", "5/3", "12345678", "45356.5"]
)
def test_dates_that_cannot_be_read_are_refused_with_the_value(written):
    with pytest.raises(parsing.CellError) as refused:
        parsing.date_or_year(written)
    assert str(written).split(".")[0] in refused.value.message or "45356.5" in str(written)


def test_mixed_date_formats_in_one_file_import(world):
    rows = [
        ["given_name", "family_name", "birth_date"],
        ["A", "Dates", "2001-02-03"],
        ["B", "Dates", "03/02/2001"],
        ["C", "Dates", "3.2.2001"],
        ["D", "Dates", "36925"],
        ["E", "Dates", "2001"],
    ]
    job = _run(world, _preview(world, "people.csv", csv_bytes(rows)))
    assert job.report["written"] == 5
    people = _registered(world, family_name="Dates")
    assert [p.birth_date for p in people] == [datetime.date(2001, 2, 3)] * 4 + [None]
    assert {p.birth_year for p in people} == {2001}


@pytest.mark.parametrize(
    "cell",
    ["=1+1", "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(A1:A2)", ' =HYPERLINK("x")'],
)
def test_formulas_in_csv_cells_are_refused_where_they_stand(world, cell):
    rows = [["given_name", "family_name"], ["Sami", "Gharbi"], ["Leila", cell]]
    job = _preview(world, "people.csv", csv_bytes(rows))
    assert [(e["row"], e["letter"]) for e in job.report["errors"]] == [(3, "B")]
    assert "formula" in job.report["errors"][0]["messages"][0]


def test_phone_numbers_and_negative_numbers_are_not_formulas():
    assert parsing.clean("+216 55 123 456") == "+216 55 123 456"
    assert parsing.clean("-12") == "-12"
    assert parsing.clean("(+39) 055-123.456") == "(+39) 055-123.456"
    with pytest.raises(parsing.CellError):
        parsing.clean("-")


def test_values_are_trimmed_and_empty_rows_skipped_keeping_row_numbers(world):
    data = (
        b"\r\n"
        b"given_name,family_name,sex\r\n"
        b"  Sami  ,\tGharbi ,  M \r\n"
        b"\r\n"
        b",,\r\n"
        b"   ,  ,\r\n"
        b"Leila,Gharbi,Q\r\n"
    )
    job = _preview(world, "people.csv", data)
    assert job.rows_total == 2
    assert [(e["row"], e["letter"]) for e in job.report["errors"]] == [(7, "C")]
    rows = [
        ["given_name", "family_name", "sex"],
        ["  Sami  ", " Gharbi", " M "],
        [None, None, None],
        ["Nour", "Gharbi", "f"],
    ]
    job = _run(world, _preview(world, "people.xlsx", xlsx_bytes(rows)))
    assert [
        (p.given_name, p.family_name, p.sex) for p in _registered(world, family_name="Gharbi")
    ] == [
        ("Sami", "Gharbi", "M"),
        ("Nour", "Gharbi", "F"),
    ]


def test_choices_are_read_in_any_language(world):
    rows = [
        ["given_name", "sex", "document_type", "languages"],
        ["A", "Femme", "Passeport", "ar, fr"],
        ["B", "أنثى", "CIN", "ar"],
        ["C", "Γυναίκα", "passport", "el;en"],
        ["D", "female", "Carta d'identità", ""],
    ]
    job = _run(world, _preview(world, "people.csv", csv_bytes(rows)))
    people = _registered(world, given_name__in=["A", "B", "C", "D"])
    assert [(p.sex, p.document_type, p.languages) for p in people] == [
        ("F", "passport", ["ar", "fr"]),
        ("F", "national_id", ["ar"]),
        ("F", "passport", ["el", "en"]),
        ("F", "national_id", []),
    ]
    assert job.report["written"] == 4


# --- files refused as a whole ---------------------------------------------------------------


def test_too_many_rows_is_refused_without_writing(world, monkeypatch):
    monkeypatch.setattr(parsing, "MAX_ROWS", 5)
    rows = [["given_name"]] + [[f"P{i}"] for i in range(6)]
    # A CSV file is counted as it is uploaded, and refused at once.
    with pytest.raises(DomainError) as refused:
        _preview(world, "people.csv", csv_bytes(rows))
    assert "5" in refused.value.message_dict["file"][0]
    assert not ImportJob.objects.unscoped().exists()
    # A workbook is counted while it is checked: the check refuses it as a whole.
    job = _preview(world, "people.xlsx", xlsx_bytes(rows))
    assert not job.can_run
    assert job.report["errors"][0]["row"] is None
    assert "5" in job.report["errors"][0]["messages"][0]
    assert not Person.objects.visible_to(world.desk_a).filter(given_name="P1").exists()


def test_a_damaged_csv_is_refused_with_the_row_it_broke_at(world):
    data = b"given_name,address\nSami,x\nLeila," + b"y" * 140_000 + b"\n"
    with pytest.raises(DomainError) as refused:
        _preview(world, "people.csv", data)
    assert "2" in refused.value.message_dict["file"][0]


def test_too_large_a_file_is_refused_at_upload(world, monkeypatch):
    monkeypatch.setattr(parsing, "MAX_BYTES", 100)
    with pytest.raises(DomainError) as refused:
        _preview(world, "people.csv", csv_bytes([["given_name"]] + [["Sami"]] * 50))
    assert "file" in refused.value.message_dict


def test_utf16_without_byte_order_mark_is_read():
    data = "given_name;family_name\nSami;Gharbi\n".encode("utf-16-le")
    assert parsing.detect_encoding(data) == "utf-16-le"
    assert parsing.detect_encoding(codecs.BOM_UTF16_LE + data) == "utf-16"


# --- the template ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ar", "fr", "it", "el", "en"])
@pytest.mark.parametrize("extension", ["xlsx", "csv"])
def test_the_template_in_each_language_imports_its_example_row(
    world, client_for, language, extension
):
    world.desk_a.language = language
    world.desk_a.save()
    response = client_for(world.desk_a).get(f"/imports/template/people.{extension}")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    with translation.override(language):
        job = _preview(world, f"template.{extension}", response.content)
    assert job.rows_total == 1
    assert job.report["error_count"] == 0, job.report["errors"]
    assert len(job.report["columns"]) == len(get("people").columns)
    assert job.report["ignored"] == []
    _run(world, job)
    person = _registered(world, given_name="Amina", family_name="Ben Salah")[0]
    assert person.birth_date == datetime.date(1990, 5, 17)
    assert person.residence == world.jendouba  # the territory of the user's organisation
    assert person.document_number == "01234567"


def test_a_workbook_damaged_after_its_first_rows_is_refused_as_a_whole(world):
    import io
    import zipfile

    rows = [["given_name"]] + [[f"P{i}"] for i in range(50)]
    damaged = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(xlsx_bytes(rows))) as source,
        zipfile.ZipFile(damaged, "w") as target,
    ):
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) * 2 // 3]
            target.writestr(item, data)
    job = _preview(world, "people.xlsx", damaged.getvalue())
    assert not job.can_run
    assert job.report["errors"][0]["row"] is None
    assert "damaged" in job.report["errors"][0]["messages"][0]
