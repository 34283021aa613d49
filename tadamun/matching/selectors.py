"""Reads for the review pages and the person page, always through the access layer."""

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from tadamun.core.timeline import TimelineEntry
from tadamun.registry.models import DocumentType, Person, Sex
from tadamun.territories.models import Territory

from .models import Decision, DuplicatePair, DuplicateRun, PersonMerge
from .services import MERGE_FIELDS, is_empty, snapshot


def visible_runs(user):
    return (
        DuplicateRun.objects.visible_to(user)
        .select_related("organisation", "started_by")
        .order_by("-pk")
    )


def review_pairs(user, run: DuplicateRun, decision: str = Decision.PENDING):
    """The run's pairs the user may see now, best first. Pairs still to decide whose people
    were merged or archived since are left out."""
    pairs = DuplicatePair.objects.visible_to(user).filter(run=run, decision=decision)
    if decision in (Decision.PENDING, Decision.DEFERRED):
        pairs = pairs.filter(person_a__archived_at__isnull=True, person_b__archived_at__isnull=True)
    return pairs.select_related(
        "person_a__organisation",
        "person_a__residence",
        "person_b__organisation",
        "person_b__residence",
        "decided_by",
        "merge",
    ).order_by("-probability", "pk")


def _territory_names(ids) -> dict:
    ids = {i for i in ids if i}
    return {t.pk: str(t) for t in Territory.objects.filter(pk__in=ids)} if ids else {}


def display_value(field: str, value, territories: dict | None = None) -> str:
    """A field's value (as stored in a merge record) as the pages show it."""
    if is_empty(field, value):
        return ""
    if field == "sex":
        return str(Sex(value).label) if value in Sex.values else str(value)
    if field == "document_type":
        return str(DocumentType(value).label) if value in DocumentType.values else str(value)
    if field == "residence":
        names = territories if territories is not None else _territory_names([value])
        return names.get(value, str(value))
    if field == "birth_date":
        return date_format(datetime.date.fromisoformat(value), "DATE_FORMAT")
    if field == "languages":
        return ", ".join(value)
    return str(value)


def field_label(field: str) -> str:
    return str(Person._meta.get_field(field).verbose_name)


# Written left to right whatever the page's direction (a phone read in an Arabic page).
LEFT_TO_RIGHT = frozenset({"phone", "email", "document_number"})


@dataclass
class Row:
    field: str
    label: str
    a: str
    b: str

    @property
    def differs(self) -> bool:
        return bool(self.a) and bool(self.b) and self.a != self.b

    @property
    def one_side(self) -> bool:
        return bool(self.a) != bool(self.b)

    @property
    def ltr(self) -> bool:
        return self.field in LEFT_TO_RIGHT


def pair_rows(pair: DuplicatePair) -> list[Row]:
    """The two people field by field, for the side-by-side review."""
    a, b = snapshot(pair.person_a), snapshot(pair.person_b)
    names = _territory_names([a["residence"], b["residence"]])
    return [
        Row(
            field,
            field_label(field),
            display_value(field, a[field], names),
            display_value(field, b[field], names),
        )
        for field in MERGE_FIELDS
    ]


def recorded_values(merge: PersonMerge) -> list[dict]:
    names = _territory_names([merge.other_values.get("residence")])
    return [
        {
            "field": f,
            "label": field_label(f),
            "value": display_value(f, v, names),
            "ltr": f in LEFT_TO_RIGHT,
        }
        for f, v in merge.other_values.items()
        if f in MERGE_FIELDS
    ]


def filled_values(merge: PersonMerge) -> list[dict]:
    names = _territory_names([merge.filled.get("residence")])
    return [
        {
            "field": f,
            "label": field_label(f),
            "value": display_value(f, v, names),
            "ltr": f in LEFT_TO_RIGHT,
        }
        for f, v in merge.filled.items()
        if f in MERGE_FIELDS
    ]


def before_rows(merge: PersonMerge) -> list[Row]:
    keep, drop = merge.keep_before, merge.drop_before
    names = _territory_names([keep.get("residence"), drop.get("residence")])
    return [
        Row(
            f,
            field_label(f),
            display_value(f, keep.get(f), names),
            display_value(f, drop.get(f), names),
        )
        for f in MERGE_FIELDS
    ]


def moved_summary(merge: PersonMerge) -> list[dict]:
    """How many rows of each kind the merge moved."""
    from django.apps import apps

    counts: dict[str, int] = {}
    for entry in merge.moved:
        counts[entry["model"]] = counts.get(entry["model"], 0) + 1
    rows = []
    for label, count in counts.items():
        try:
            name = apps.get_model(label)._meta.verbose_name_plural
        except LookupError:
            name = label
        rows.append({"model": label, "name": str(name), "count": count})
    return rows


def person_merges(user, person: Person) -> dict:
    """For the person page: the merges into this record still in force (with the other
    values they recorded) and, for a record merged into another, where it went."""
    merges = PersonMerge.objects.visible_to(user).filter(undone_at__isnull=True)
    kept = list(
        merges.filter(keep=person).select_related("merged_by", "drop").order_by("-merged_at")
    )
    into = merges.filter(drop=person).select_related("keep").order_by("-merged_at").first()
    return {
        "kept": [{"merge": m, "values": recorded_values(m)} for m in kept],
        "merged_into": into,
    }


def person_timeline(*, user, person) -> list[TimelineEntry]:
    entries = []
    merges = PersonMerge.objects.visible_to(user).filter(Q(keep=person) | Q(drop=person))
    for merge in merges.order_by("-merged_at")[:20]:
        url = reverse("matching:merge_detail", args=[merge.pk])
        other = merge.drop_id if merge.keep_id == person.pk else merge.keep_id
        label = (
            _("Record %(number)s merged into this one") % {"number": other}
            if merge.keep_id == person.pk
            else _("Merged into record %(number)s") % {"number": other}
        )
        entries.append(
            TimelineEntry(timezone.localtime(merge.merged_at).date(), "merge", label, "", url)
        )
        if merge.undone_at:
            entries.append(
                TimelineEntry(
                    timezone.localtime(merge.undone_at).date(),
                    "merge",
                    _("Merge with record %(number)s undone") % {"number": other},
                    "",
                    url,
                )
            )
    return entries
