"""Kinds of import: what a file brings in, its columns, and the services that check and write.

People are the first kind (``people.py``), cases the second (``cases.py``); projects and
repayments plug in the same way: describe the columns, how a cell becomes a value, and which
service functions validate a batch of rows without writing and then write it. The pages, the
API, the preview, the background task and the templates work for every kind registered here.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import translation

from .parsing import normalise


@dataclass(frozen=True)
class Column:
    field: str  # the keyword of the service function
    label: Any  # lazy translated text: the header written in the template
    convert: Callable[[Any, dict], Any]  # a clean cell and the kind's context -> a value
    aliases: tuple[str, ...] = ()  # other headers accepted, in any language
    required: bool = False
    example: Any = ""  # a value for the template's example row, or a callable of the context
    help: Any = ""  # what the column takes, for the template's instructions


@dataclass(eq=False)
class Kind:
    code: str
    label: Any
    columns: tuple[Column, ...]
    # Which organisations the user may import for, and whether this one.
    organisations: Callable[[Any], QuerySet]
    may_import: Callable[[Any, Any], bool]
    # Lookups prepared once per file (territories by code, say), from the organisation.
    context: Callable[[Any], dict]
    # The converted cells of a row -> the keywords of the service.
    prepare: Callable[[dict], dict]
    # Check rows without writing, naming errors "<row>:<field>"; returns what ``write`` takes.
    validate: Callable[..., list]
    write: Callable[..., int]
    # Likely duplicates of the rows: {row: [match, ...]}; see duplicates.py.
    duplicates: Callable[[Any, list[dict]], dict] | None = None
    # Where the records appear once imported (a URL name).
    result_url: str = ""
    # Service fields whose errors belong to another column (a role limited to a territory
    # refuses "organisation" for a person living elsewhere: the residence column says where).
    error_columns: dict[str, str] = field(default_factory=dict)
    count_label: Callable[[int], str] = str  # "3 people"

    @cached_property
    def headers(self) -> dict[str, Column]:
        """Every accepted header, folded, and its column: the field's own name, its label in
        each language of the platform, and the aliases."""
        found: dict[str, Column] = {}
        for column in self.columns:
            names = {column.field, column.field.replace("_", " "), *column.aliases}
            for code, _name in settings.LANGUAGES:
                with translation.override(code):
                    names.add(str(column.label))
            for name in names:
                key = normalise(name)
                other = found.setdefault(key, column)
                if other is not column:
                    raise ValueError(f"{self.code}: header {name!r} names {other.field} too")
        return found

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.field == name), None)

    def template_columns(self, context: dict) -> tuple[Column, ...]:
        """The columns of the downloadable template (a kind may add some per network)."""
        return self.columns

    def template_notes(self, context: dict) -> list[str]:
        """Lines added to the template's instructions."""
        return []


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    KINDS[kind.code] = kind
    return kind


def get(code: str) -> Kind:
    return KINDS[code]


def chunked(items: Iterable, size: int):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
