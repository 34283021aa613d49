"""Searching the registry for duplicates, deciding pairs, merging two records of one person
and undoing a merge.

Every page, API call and task changes these records through the functions below: they read
through the access layer, check the caller's rights on the scope, write in one transaction and
leave an audit entry naming the user.
"""

import datetime
import logging
from dataclasses import dataclass

from django.apps import apps
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from tadamun.access.scope import scope_for
from tadamun.accounts.models import Role
from tadamun.core.errors import AccessDenied, DomainError
from tadamun.organisations.models import Organisation
from tadamun.registry import services as registry_services
from tadamun.registry.models import Person, PersonShare

from .models import Decision, DuplicatePair, DuplicateRun, PersonMerge, RunStatus

logger = logging.getLogger(__name__)


class MatchingError(DomainError):
    pass


# --- Rights ----------------------------------------------------------------------------------


def may_review(user) -> bool:
    """Coordinators (and the platform operator) search for duplicates and review them."""
    scope = scope_for(user)
    return scope.is_operator or bool(scope.grants_with([Role.COORDINATOR]))


def run_organisations(user):
    """The organisations a user may start a search for: the ones they coordinate."""
    scope = scope_for(user)
    if scope.is_operator:
        return Organisation.objects.active()
    ids = {g.organisation_id for g in scope.grants_with([Role.COORDINATOR])}
    return Organisation.objects.filter(pk__in=ids)


def _require_review_rights(user) -> None:
    if not may_review(user):
        raise AccessDenied(_("Only network coordinators review duplicates."))


def _holders(person: Person) -> set[int]:
    holders = set(
        PersonShare.objects.filter(person_id=person.pk).values_list("organisation_id", flat=True)
    )
    holders.add(person.organisation_id)
    return holders


def _require_merge_rights(user, people: list[Person]) -> None:
    """A merge changes what every organisation holding either record sees of the person: the
    user must be allowed to change people for each of them, where the person lives."""
    scope = scope_for(user)
    missing: set[int] = set()
    for person in people:
        missing |= {
            org
            for org in _holders(person)
            if not scope.can_edit_people_for(org, person.residence_id)
        }
    if missing:
        names = ", ".join(
            str(o) for o in Organisation.objects.filter(pk__in=missing).order_by("pk")
        )
        raise AccessDenied(
            _(
                "Your role does not allow changing people for every organisation holding these "
                "records (%(organisations)s)."
            )
            % {"organisations": names}
        )


# --- Searching for duplicates ----------------------------------------------------------------


MIN_THRESHOLD = 0.05
MAX_THRESHOLD = 0.99
STALE_AFTER = datetime.timedelta(hours=12)


def duplicate_run_start(
    *, user, organisation: Organisation | None = None, threshold: float = 0.5
) -> DuplicateRun:
    """Start a search for duplicates in the background, for ``organisation`` (a network the
    user coordinates; the platform operator may leave it empty)."""
    with transaction.atomic():
        _require_review_rights(user)
        scope = scope_for(user)
        if organisation is None and not scope.is_operator:
            allowed = list(run_organisations(user)[:2])
            if len(allowed) != 1:
                raise MatchingError({"organisation": _("This field is required.")})
            organisation = allowed[0]
        if (
            organisation is not None
            and not run_organisations(user).filter(pk=organisation.pk).exists()
        ):
            raise AccessDenied({"organisation": _("You do not coordinate this organisation.")})
        try:
            threshold = float(threshold)
        except (TypeError, ValueError):
            threshold = -1.0
        if not MIN_THRESHOLD <= threshold <= MAX_THRESHOLD:
            raise MatchingError(
                {
                    "threshold": _("Give a probability between %(low)s and %(high)s.")
                    % {"low": MIN_THRESHOLD, "high": MAX_THRESHOLD}
                }
            )
        # A search left unfinished (a worker stopped) blocks the next one for a while only.
        busy = DuplicateRun.objects.unscoped("one search at a time").filter(
            organisation=organisation,
            status__in=[RunStatus.QUEUED, RunStatus.RUNNING],
            created_at__gte=timezone.now() - STALE_AFTER,
        )
        if busy.exists():
            raise MatchingError(
                {"organisation": _("A search for duplicates is already under way here.")}
            )
        run = DuplicateRun(
            organisation=organisation,
            started_by=user,
            threshold=threshold,
            language=translation.get_language() or "en",
        )
        run._history_user = user
        run._change_reason = "requested"
        run.save()
    from .tasks import duplicate_run_task

    duplicate_run_task.enqueue(run.pk)
    run.refresh_from_db()
    return run


def _save_run(run: DuplicateRun, reason: str) -> None:
    run._history_user = run.started_by
    run._change_reason = reason
    run.save()


def _visible_ids(user, ids: set[int], chunk: int = 500) -> set[int]:
    found: set[int] = set()
    ordered = sorted(ids)
    for start in range(0, len(ordered), chunk):
        part = ordered[start : start + chunk]
        found.update(
            Person.objects.visible_to(user).filter(pk__in=part).values_list("pk", flat=True)
        )
    return found


def decided_not_same(ids: set[int], chunk: int = 500) -> set[tuple[int, int]]:
    """The pairs among ``ids`` someone decided are not the same person."""
    found: set[tuple[int, int]] = set()
    ordered = sorted(ids)
    for start in range(0, len(ordered), chunk):
        part = ordered[start : start + chunk]
        found.update(
            DuplicatePair.objects.unscoped("pairs decided before")
            .filter(decision=Decision.NOT_SAME, person_a__in=part)
            .values_list("person_a", "person_b")
        )
    return found


def duplicate_run_execute(*, run_id: int) -> None:
    """The background part: score the registry, keep the pairs the user who started the
    search may see and nobody has declared different people."""
    from .batch import registry_duplicates

    run = DuplicateRun.objects.unscoped("background search").filter(pk=run_id).first()
    if run is None or run.status != RunStatus.QUEUED:
        return
    run.status = RunStatus.RUNNING
    run.started_at = timezone.now()
    _save_run(run, "started")
    try:
        with translation.override(run.language):
            result = registry_duplicates(threshold=run.threshold)
            user = run.started_by
            ids = {a for a, _b, _p in result.pairs} | {b for _a, b, _p in result.pairs}
            visible = _visible_ids(user, ids)
            found = {}
            for a, b, probability in result.pairs:
                if a in visible and b in visible and a != b:
                    key = (a, b) if a < b else (b, a)
                    found[key] = max(probability, found.get(key, 0.0))
            excluded = decided_not_same(visible) & set(found)
            pairs = [
                DuplicatePair(run=run, person_a_id=a, person_b_id=b, probability=p)
                for (a, b), p in sorted(found.items(), key=lambda i: (-i[1], i[0]))
                if (a, b) not in excluded
            ]
            with transaction.atomic():
                bulk_create_with_history(
                    pairs,
                    DuplicatePair,
                    batch_size=500,
                    default_user=user,
                    default_change_reason="found",
                )
                run.people_compared = Person.objects.visible_to(user).current().count()
                run.pairs_found = len(found)
                run.pairs_already_decided = len(excluded)
                run.pairs_stored = len(pairs)
                run.status = RunStatus.DONE
                run.finished_at = timezone.now()
                _save_run(run, "done")
    except Exception:
        logger.exception("search for duplicates %s failed", run_id)
        run.refresh_from_db()
        with translation.override(run.language):
            run.error = _("The search failed because of an unexpected error.")
        run.status = RunStatus.FAILED
        run.finished_at = timezone.now()
        _save_run(run, "failed")
        raise


# --- Deciding pairs --------------------------------------------------------------------------


REVIEW_DECISIONS = (Decision.NOT_SAME, Decision.DEFERRED, Decision.PENDING)


def _same_people(pair: DuplicatePair):
    return DuplicatePair.objects.unscoped("the same two people in other searches").filter(
        person_a_id=pair.person_a_id, person_b_id=pair.person_b_id
    )


def _set_decision(pair: DuplicatePair, user, decision: str, merge=None) -> None:
    pair.decision = decision
    pair.merge = merge
    pair.decided_by = None if decision == Decision.PENDING else user
    pair.decided_at = None if decision == Decision.PENDING else timezone.now()
    pair._history_user = user
    pair._change_reason = f"decided {decision}"
    pair.save()


def pair_decide(*, user, pair: DuplicatePair, decision: str) -> DuplicatePair:
    """Record that the two people are not the same (later searches will not propose them
    again), that the reviewer decides later, or put the pair back to review."""
    if decision not in REVIEW_DECISIONS:
        raise MatchingError(
            {"decision": _("Choose not the same, decide later or to review; merge to say same.")}
        )
    with transaction.atomic():
        _require_review_rights(user)
        pair = DuplicatePair.objects.visible_to(user).select_for_update().filter(pk=pair.pk).first()
        if pair is None:
            raise AccessDenied(_("This pair is not in your scope."))
        if pair.decision == Decision.SAME:
            raise MatchingError(
                {"decision": _("These records were merged: undo the merge to change this.")}
            )
        _set_decision(pair, user, decision)
        if decision == Decision.NOT_SAME:
            # The same question in other searches has the same answer.
            for other in _same_people(pair).exclude(pk=pair.pk).exclude(decision=Decision.SAME):
                if other.decision != Decision.NOT_SAME:
                    _set_decision(other, user, decision)
    return pair


# --- Merging ---------------------------------------------------------------------------------


# The fields compared and carried over, in groups that only make sense together: a date of
# birth and its year, a document's type and number.
FIELD_GROUPS: tuple[tuple[str, ...], ...] = (
    ("given_name",),
    ("family_name",),
    ("given_name_latin",),
    ("family_name_latin",),
    ("sex",),
    ("birth_date", "birth_year"),
    ("phone",),
    ("email",),
    ("address",),
    ("document_type", "document_number"),
    ("residence",),
    ("languages",),
)
MERGE_FIELDS: tuple[str, ...] = tuple(f for group in FIELD_GROUPS for f in group)

# Rows derived from a person's fields and written again after a merge, never moved.
DERIVED = frozenset({"registry.PersonNameKey", "registry.PersonMatchKey"})


def _value(person: Person, field: str):
    """A field as JSON: dates as ISO text, the residence as its id."""
    if field == "residence":
        return person.residence_id
    value = getattr(person, field)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, list):
        return list(value)
    return value


def _assign(person: Person, field: str, value) -> None:
    if field == "residence":
        person.residence_id = value
    elif field == "birth_date":
        person.birth_date = datetime.date.fromisoformat(value) if value else None
    elif field == "languages":
        person.languages = list(value or [])
    else:
        setattr(person, field, value)


def is_empty(field: str, value) -> bool:
    if field == "sex":
        return value in (None, "", "U")
    return value in (None, "", [])


def snapshot(person: Person) -> dict:
    values = {field: _value(person, field) for field in MERGE_FIELDS}
    values["archived_at"] = person.archived_at.isoformat() if person.archived_at else None
    values["archived_by"] = person.archived_by_id
    return values


def compare_values(keep: dict, drop: dict) -> tuple[dict, dict]:
    """What the kept record takes from the other (``filled``: fields it lacks) and what it
    does not (``other``: the other record's different values, recorded, never written)."""
    filled: dict = {}
    other: dict = {}
    # A date of birth says the year too, even where the year was not written down.
    keep, drop = dict(keep), dict(drop)
    for values in (keep, drop):
        if values.get("birth_date") and not values.get("birth_year"):
            values["birth_year"] = int(values["birth_date"][:4])
    for group in FIELD_GROUPS:
        conflict = any(
            not is_empty(f, keep[f]) and not is_empty(f, drop[f]) and keep[f] != drop[f]
            for f in group
        )
        for field in group:
            if is_empty(field, drop[field]) or keep[field] == drop[field]:
                continue
            if conflict:
                other[field] = drop[field]
            elif is_empty(field, keep[field]):
                filled[field] = drop[field]
    return filled, other


@dataclass(frozen=True)
class Relation:
    """A foreign key pointing at a person: the model holding it and the field."""

    model: type[models.Model]
    field: models.Field

    @property
    def label(self) -> str:
        return self.model._meta.label

    @property
    def manager(self):
        # System work on rows the access layer was asked about through their person.
        return self.model._base_manager

    def unique_sets(self) -> list[tuple[tuple[str, ...], Q | None]]:
        """The other fields that must differ between two rows of one person, with the
        condition of a partial constraint."""
        meta = self.model._meta
        name = self.field.name
        sets: list[tuple[tuple[str, ...], Q | None]] = []
        if self.field.unique:
            sets.append(((), None))
        for together in meta.unique_together:
            if name in together:
                sets.append((tuple(f for f in together if f != name), None))
        for constraint in meta.constraints:
            if isinstance(constraint, models.UniqueConstraint) and name in constraint.fields:
                others = tuple(f for f in constraint.fields if f != name)
                sets.append((others, constraint.condition))
        return sets

    def clash(self, row, person_id: int):
        """A row of ``person_id`` that ``row`` would duplicate if it pointed there."""
        for others, condition in self.unique_sets():
            lookup = {self.field.attname: person_id}
            for other in others:
                attname = self.model._meta.get_field(other).attname
                lookup[attname] = getattr(row, attname)
            candidates = self.manager.filter(**lookup).exclude(pk=row.pk)
            if condition is not None:
                if not self.manager.filter(pk=row.pk).filter(condition).exists():
                    continue
                candidates = candidates.filter(condition)
            found = candidates.first()
            if found is not None:
                return found
        return None


def person_relations() -> list[Relation]:
    """Every foreign key pointing at a person, found from the model (so capabilities added
    later are covered), but for derived keys and the matching records themselves."""
    relations = []
    for rel in Person._meta.related_objects:
        model = rel.related_model
        if model._meta.label in DERIVED or model._meta.app_label == "matching":
            continue
        if rel.many_to_many:
            through = rel.through
            field = through._meta.get_field(rel.field.m2m_reverse_field_name())
            relations.append(Relation(through, field))
        else:
            relations.append(Relation(model, rel.field))
    return relations


def _point(row, relation: Relation, person_id: int, user, reason: str) -> None:
    setattr(row, relation.field.attname, person_id)
    row._history_user = user
    row._change_reason = reason
    row.save(update_fields=[relation.field.name])


def _refresh_keys(*people: Person) -> None:
    refresh_match_keys = getattr(registry_services, "_refresh_match_keys", None)
    for person in people:
        registry_services._refresh_name_keys(person)
        if refresh_match_keys is not None:
            refresh_match_keys(person)


def _locked_pair(user, first_id: int, second_id: int) -> dict[int, Person]:
    people = (
        Person.objects.visible_to(user)
        .select_for_update()
        .filter(pk__in=[first_id, second_id])
        .order_by("pk")
    )
    return {p.pk: p for p in people}


def person_merge(
    *, user, keep: Person, drop: Person, reason: str = "", pair: DuplicatePair | None = None
) -> PersonMerge:
    """Make ``drop`` part of ``keep``: every row pointing at ``drop`` moves to ``keep``; the
    fields ``keep`` lacks are filled from ``drop``; values that differ stay as ``keep`` has
    them and ``drop``'s are recorded on the merge; ``drop`` is archived. Undo with
    ``person_merge_undo``."""
    if keep.pk == drop.pk:
        raise MatchingError({"drop": _("A record cannot be merged with itself.")})
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise MatchingError({"reason": _("Keep the reason under 500 characters.")})
    with transaction.atomic():
        people = _locked_pair(user, keep.pk, drop.pk)
        if keep.pk not in people:
            raise AccessDenied({"keep": _("This person is not in your scope.")})
        if drop.pk not in people:
            raise AccessDenied({"drop": _("This person is not in your scope.")})
        keep, drop = people[keep.pk], people[drop.pk]
        for name, person in (("keep", keep), ("drop", drop)):
            if person.is_archived:
                raise MatchingError(
                    {name: _("An archived record cannot be merged; restore it first.")}
                )
        _require_merge_rights(user, [keep, drop])
        if pair is not None:
            pair = (
                DuplicatePair.objects.visible_to(user)
                .select_for_update()
                .filter(pk=pair.pk)
                .first()
            )
            if pair is None or {pair.person_a_id, pair.person_b_id} != {keep.pk, drop.pk}:
                raise MatchingError({"pair": _("This pair is not about these two people.")})
            if pair.decision == Decision.SAME:
                raise MatchingError({"pair": _("These records were already merged.")})

        keep_before, drop_before = snapshot(keep), snapshot(drop)
        filled, other = compare_values(keep_before, drop_before)
        for field, value in filled.items():
            _assign(keep, field, value)
        registry_services.validate_birth(keep)
        filled = {f: _value(keep, f) for f in MERGE_FIELDS if _value(keep, f) != keep_before[f]}
        keep._history_user = user
        keep._change_reason = f"merged with {drop.pk}"
        keep.save()

        moved: list[dict] = []
        left: list[dict] = []
        change = f"moved from {drop.pk} to {keep.pk} (merge)"
        for relation in person_relations():
            rows = relation.manager.select_for_update().filter(**{relation.field.attname: drop.pk})
            for row in rows.order_by("pk"):
                entry = {"model": relation.label, "pk": row.pk, "field": relation.field.name}
                clash = relation.clash(row, keep.pk)
                if clash is not None:
                    left.append({**entry, "kept": clash.pk})
                    continue
                _point(row, relation, keep.pk, user, change)
                moved.append(entry)

        drop.archived_at = timezone.now()
        drop.archived_by = user
        drop._history_user = user
        drop._change_reason = f"merged into {keep.pk}"
        drop.save()
        _refresh_keys(keep, drop)

        merge = PersonMerge(
            keep=keep,
            drop=drop,
            reason=reason,
            merged_by=user,
            keep_before=keep_before,
            drop_before=drop_before,
            filled=filled,
            other_values=other,
            moved=moved,
            left=left,
        )
        merge._history_user = user
        merge._change_reason = "merged"
        merge.save()
        a, b = sorted((keep.pk, drop.pk))
        same = DuplicatePair.objects.unscoped("the two people in every search").filter(
            person_a_id=a, person_b_id=b
        )
        for each in same.select_for_update():
            _set_decision(each, user, Decision.SAME, merge)
    return merge


def later_merges(merge: PersonMerge):
    """Merges after this one, still in force, touching either of its people."""
    people = [merge.keep_id, merge.drop_id]
    return (
        PersonMerge.objects.unscoped("merges of the same people")
        .filter(undone_at__isnull=True, pk__gt=merge.pk)
        .filter(Q(keep_id__in=people) | Q(drop_id__in=people))
    )


def _undo_problems(merge: PersonMerge, keep: Person, drop: Person) -> tuple[list, dict, list]:
    """What stands in the way of an undo: (messages, messages by field, rows to move back)."""
    problems: list[str] = []
    by_field: dict[str, str] = {}
    if later_merges(merge).exists():
        problems.append(_("A later merge involves one of these people: undo that merge first."))
    for field, value in merge.filled.items():
        if _value(keep, field) != value:
            by_field[field] = _(
                "Changed since the merge: undoing would overwrite that change. Set it back "
                "to the value the merge gave, or change it by hand instead of undoing."
            )
    relations = {r.label: r for r in person_relations()}
    back: list = []
    for entry in merge.moved:
        relation = relations.get(entry["model"])
        label = entry["model"]
        if relation is None or relation.field.name != entry["field"]:
            try:
                model = apps.get_model(label)
                relation = Relation(model, model._meta.get_field(entry["field"]))
            except (LookupError, ValueError):
                problems.append(_("Records of kind %(model)s no longer exist.") % {"model": label})
                continue
        kind = relation.model._meta.verbose_name
        row = relation.manager.select_for_update().filter(pk=entry["pk"]).first()
        if row is None:
            problems.append(
                _("The %(kind)s number %(pk)s moved by the merge has been deleted since.")
                % {"kind": kind, "pk": entry["pk"]}
            )
            continue
        if getattr(row, relation.field.attname) != keep.pk:
            problems.append(
                _("The %(kind)s number %(pk)s moved by the merge belongs to another person now.")
                % {"kind": kind, "pk": entry["pk"]}
            )
            continue
        if relation.clash(row, drop.pk) is not None:
            problems.append(
                _(
                    "The %(kind)s number %(pk)s cannot go back: the other record holds an "
                    "equivalent one now."
                )
                % {"kind": kind, "pk": entry["pk"]}
            )
            continue
        back.append((row, relation))
    return problems, by_field, back


def person_merge_undo(*, user, merge: PersonMerge) -> PersonMerge:
    """Put both records back as they were before the merge: the rows it moved go back to
    the other record, the values it filled in are taken out again, the other record is
    restored. Changes made since to other fields or rows stay."""
    with transaction.atomic():
        locked = (
            PersonMerge.objects.visible_to(user).select_for_update().filter(pk=merge.pk).first()
        )
        if locked is None:
            raise AccessDenied(_("This merge is not in your scope."))
        merge = locked
        if merge.is_undone:
            raise MatchingError(_("This merge was already undone."))
        people = {
            p.pk: p
            for p in Person.objects.unscoped("the two people of a visible merge")
            .select_for_update()
            .filter(pk__in=[merge.keep_id, merge.drop_id])
            .order_by("pk")
        }
        keep, drop = people[merge.keep_id], people[merge.drop_id]
        if not Person.objects.visible_to(user).filter(pk=keep.pk).exists():
            raise AccessDenied({"keep": _("This person is not in your scope.")})
        _require_merge_rights(user, [keep, drop])
        problems, by_field, back = _undo_problems(merge, keep, drop)
        if by_field:
            raise MatchingError({**by_field, **({"__all__": problems} if problems else {})})
        if problems:
            raise MatchingError(problems)

        change = f"moved back from {keep.pk} to {drop.pk} (merge undone)"
        for row, relation in back:
            _point(row, relation, drop.pk, user, change)
        for field in merge.filled:
            _assign(keep, field, merge.keep_before[field])
        keep._history_user = user
        keep._change_reason = f"merge with {drop.pk} undone"
        keep.save()
        drop.archived_at = (
            datetime.datetime.fromisoformat(merge.drop_before["archived_at"])
            if merge.drop_before.get("archived_at")
            else None
        )
        drop.archived_by_id = merge.drop_before.get("archived_by")
        drop._history_user = user
        drop._change_reason = f"merge into {keep.pk} undone"
        drop.save()
        _refresh_keys(keep, drop)

        merge.undone_at = timezone.now()
        merge.undone_by = user
        merge._history_user = user
        merge._change_reason = "undone"
        merge.save()
        for pair in DuplicatePair.objects.unscoped("pairs of the merge").filter(merge=merge):
            _set_decision(pair, user, Decision.PENDING)
    return merge
