"""Small pieces every page uses: error display, pagination, record history."""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404


def say_errors(request, form=None, error: ValidationError | None = None) -> None:
    """Errors of a form posted from a record page (which shows no form to put them next to),
    as messages naming the field."""
    items = []
    if form is not None:
        items += list(form.errors.items())
    if error is not None:
        if hasattr(error, "error_dict"):
            items += list(error.error_dict.items())
        else:
            items.append((None, error.error_list))
    for field, errors in items:
        label = ""
        if form is not None and field in form.fields:
            label = str(form.fields[field].label)
        for item in errors:
            text = " ".join(getattr(item, "messages", [str(item)]))
            messages.error(request, f"{label[:1].upper()}{label[1:]}: {text}" if label else text)


def show_domain_error(request, form, error: ValidationError) -> None:
    """Put each message of a domain error next to its field, or above the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if form is not None and field in form.fields else None
            for item in errors:
                if form is not None:
                    form.add_error(target, item)
                else:
                    messages.error(request, " ".join(item.messages))
    elif form is not None:
        form.add_error(None, error)
    else:
        for message in error.messages:
            messages.error(request, message)


@dataclass
class Page:
    """A page of results found by fetching one row more than shown: no COUNT(*) over a
    registry of a million people just to draw "next"."""

    items: list
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_number(self) -> int:
        return self.number + 1

    @property
    def previous_number(self) -> int:
        return self.number - 1


def paginate(queryset, request, per_page: int = 25) -> Page:
    try:
        number = max(1, min(int(request.GET.get("page", 1)), 10_000))
    except (TypeError, ValueError):
        number = 1
    start = (number - 1) * per_page
    rows = list(queryset[start : start + per_page + 1])
    return Page(items=rows[:per_page], number=number, has_next=len(rows) > per_page)


def text_param(request, name: str, limit: int = 200) -> str:
    """A query-string parameter as text to search for or match: at most ``limit`` characters,
    without NUL characters (PostgreSQL refuses them in text, so the query would fail)."""
    return request.GET.get(name, "")[:limit].replace("\x00", "")


def get_visible_or_404(queryset, **lookup):
    """A record the user may see; anything else is "not found", never "forbidden"."""
    if any(isinstance(value, str) and "\x00" in value for value in lookup.values()):
        raise Http404  # no record holds a NUL character, and PostgreSQL would refuse the query
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def history_rows(record, limit: int = 200) -> list[dict]:
    """The record's changes, newest first, each with the fields that changed."""
    entries = list(
        record.history.select_related("history_user").order_by("-history_date", "-history_id")[
            :limit
        ]
    )
    rows = []
    for index, entry in enumerate(entries):
        previous = entries[index + 1] if index + 1 < len(entries) else None
        changes = []
        if previous is not None:
            delta = entry.diff_against(previous, foreign_keys_are_objs=False)
            for change in delta.changes:
                field = record._meta.get_field(change.field)
                changes.append(
                    {
                        "field": getattr(field, "verbose_name", change.field),
                        "old": _display(record, change.field, change.old),
                        "new": _display(record, change.field, change.new),
                    }
                )
        rows.append({"entry": entry, "changes": changes})
    return rows


def _display(record, field_name, value):
    field = record._meta.get_field(field_name)
    if value in (None, ""):
        return "—"
    if getattr(field, "choices", None):
        return dict(field.flatchoices).get(value, value)
    localize = getattr(value, "localize", None)
    if localize is not None:
        return str(value)
    if isinstance(value, dict):
        from i18nfield.strings import LazyI18nString

        return str(LazyI18nString(value))
    return value
