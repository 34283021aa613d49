"""Importing a file: upload, preview, run (in the background), cancel.

Each function checks the caller's rights through the access layer and leaves an audit entry
on the import; the records themselves are checked and written by their own domain's services
(for people, ``person_bulk_validate`` and ``person_bulk_write``), all rows or none.

Progress: a background run first checks every row, committing its count as it goes; then it
writes every row in one transaction. While that transaction is open its own progress cannot be
committed, so the count of rows written goes to a small file beside the uploads
(``progress_path``), which the pages read.
"""

import contextlib
import logging
import os
from pathlib import Path, PurePath

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tadamun.core.errors import AccessDenied, DomainError
from tadamun.organisations.models import Organisation
from tadamun.registry.models import Person

from . import engine, kinds, parsing
from .models import ImportJob, ImportKind, ImportPhase, ImportStatus

logger = logging.getLogger(__name__)

# Files up to this size are checked while the person waits; larger ones in the background.
INLINE_PREVIEW_BYTES = getattr(settings, "TADAMUN_IMPORT_INLINE_BYTES", 512 * 1024)


class ImportJobError(DomainError):
    pass


def _kind(code: str) -> kinds.Kind:
    try:
        return kinds.get(code)
    except KeyError:
        raise ImportJobError({"kind": _("This kind of import does not exist.")}) from None


def _visible_job(user, job: ImportJob, *, lock: bool = False) -> ImportJob:
    jobs = ImportJob.objects.visible_to(user)
    if lock:
        jobs = jobs.select_for_update()
    try:
        return jobs.get(pk=job.pk)
    except ImportJob.DoesNotExist:
        raise AccessDenied(_("This import is not in your scope.")) from None


def _require_rights(user, job: ImportJob) -> None:
    if not _kind(job.kind).may_import(user, job.organisation):
        raise AccessDenied(_("Your role does not allow importing for this organisation."))


def _save(job: ImportJob, user, reason: str) -> None:
    job._history_user = user
    job._change_reason = reason
    job.save()


def _set_progress(job: ImportJob, **fields) -> None:
    """Progress moves without an audit entry (and commits at once outside a transaction)."""
    ImportJob.objects.unscoped("import progress").filter(pk=job.pk).update(**fields)
    for name, value in fields.items():
        setattr(job, name, value)


def progress_path(job: ImportJob) -> Path:
    return Path(settings.MEDIA_ROOT) / "imports" / "progress" / str(job.pk)


def _write_progress(job: ImportJob, count: int) -> None:
    path = progress_path(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(".tmp")
    scratch.write_text(str(count))
    os.replace(scratch, path)


def job_progress(job: ImportJob) -> int:
    """Rows processed so far, in the current phase."""
    if job.status == ImportStatus.RUNNING and job.phase == ImportPhase.WRITING:
        try:
            return int(progress_path(job).read_text())
        except (OSError, ValueError):
            return 0
    return job.rows_processed


def _forget_file(job: ImportJob) -> None:
    """The uploaded file holds personal data: once the import is over it goes (the caller
    saves the job). So do the first rows the preview showed."""
    if job.file:
        job.file.delete(save=False)
    if isinstance(job.report, dict):
        job.report.pop("sample", None)
    with contextlib.suppress(OSError):
        progress_path(job).unlink()


def _table(job: ImportJob) -> parsing.Table:
    try:
        with job.file.open("rb") as stored:
            data = stored.read()
    except (OSError, ValueError):
        raise parsing.FileRefused(
            {"file": _("The uploaded file is no longer available: upload it again.")}
        ) from None
    return parsing.open_table(data, job.original_name, job.encoding)


def import_upload(
    *,
    user,
    organisation: Organisation,
    file,
    kind: str = ImportKind.PEOPLE,
    encoding: str = "",
    replaces: ImportJob | None = None,
) -> ImportJob:
    """Keep an uploaded file for import once it can be read: a known type, within the size
    limit, with recognised columns. Nothing is registered yet."""
    definition = _kind(kind)
    if encoding not in dict(parsing.ENCODING_CHOICES):
        raise ImportJobError({"encoding": _("Choose an encoding from the list.")})
    if organisation.is_archived or not definition.may_import(user, organisation):
        raise AccessDenied(
            {"organisation": _("Your role does not allow importing for this organisation.")}
        )
    if file is None:
        raise ImportJobError({"file": _("Choose a file.")})
    size = getattr(file, "size", None) or 0
    if size > parsing.MAX_BYTES:
        raise ImportJobError(
            {
                "file": _("The file is larger than %(size)s MB: split it into several files.")
                % {"size": parsing.MAX_BYTES // (1024 * 1024)}
            }
        )
    name = PurePath(str(getattr(file, "name", "") or "import.csv")).name[:255]
    data = file.read(parsing.MAX_BYTES + 1)
    try:
        table = parsing.open_table(data, name, encoding)
    except parsing.FileRefused as refused:
        raise ImportJobError(refused.message_dict) from None
    mapping, _outcome = engine.match_columns(definition, table.headers)
    rows_total = 0
    if table.file_type == "csv":
        # Cheap for CSV: a file beyond the limit is refused now, and the progress of its
        # check has a total. A workbook is counted while it is checked.
        try:
            rows_total = table.count()
        except parsing.FileRefused as refused:
            raise ImportJobError(refused.message_dict) from None
    if not mapping:
        raise ImportJobError(
            {
                "file": _(
                    "No column of this file was recognised. Start from the template: its first "
                    "row names the columns."
                )
            }
        )
    job = ImportJob(
        organisation=organisation,
        kind=definition.code,
        original_name=name.replace("\x00", ""),
        file_type=table.file_type,
        file_size=len(data),
        encoding=table.encoding,
        separator=table.separator,
        rows_total=rows_total,
        language=translation.get_language() or settings.LANGUAGE_CODE,
        created_by=user,
    )
    # The file is read above, outside the transaction: SQLite would hold its write lock
    # while a large file is decoded and counted.
    with transaction.atomic():
        job.file.save(name, ContentFile(data), save=False)
        _save(job, user, "uploaded")
        if replaces is not None:
            replaced = _visible_job(user, replaces, lock=True)
            if replaced.status in (ImportStatus.UPLOADED, ImportStatus.PREVIEWED):
                replaced.status = ImportStatus.CANCELLED
                replaced.finished_at = timezone.now()
                _forget_file(replaced)
                _save(replaced, user, "replaced by a corrected file")
    return job


def import_preview(*, user, job: ImportJob) -> ImportJob:
    """Check every row without writing anything: the errors by row and column, and the likely
    duplicates, in the report."""
    job = _visible_job(user, job)
    _require_rights(user, job)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.PREVIEWED):
        raise ImportJobError(_("This import has already started or ended."))
    definition = _kind(job.kind)
    _set_progress(job, phase=ImportPhase.CHECKING, rows_processed=0)
    try:
        outcome = engine.process(
            definition,
            _table(job),
            user=user,
            organisation=job.organisation,
            duplicates=True,
            progress=lambda count: _set_progress(job, rows_processed=count),
        )
        report = outcome.report()
    except parsing.FileRefused as refused:
        report = engine.file_error(" ".join(refused.messages))
    job.refresh_from_db()
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.PREVIEWED):
        return job  # cancelled meanwhile
    job.status = ImportStatus.PREVIEWED
    job.phase = ImportPhase.NONE
    job.rows_total = report["rows"]
    job.rows_processed = report["rows"]
    job.report = report
    _save(job, user, "previewed")
    return job


def import_preview_start(*, user, job: ImportJob) -> ImportJob:
    """Preview now when the file is small, else in the background (the page shows progress)."""
    # A workbook is compressed: the same rows take a quarter of the bytes, or less.
    inline = INLINE_PREVIEW_BYTES // (4 if job.file_type == "xlsx" else 1)
    if job.file_size <= inline:
        return import_preview(user=user, job=job)
    from .tasks import import_preview_task

    job = _visible_job(user, job)
    _require_rights(user, job)
    _set_progress(job, phase=ImportPhase.CHECKING, rows_processed=0)
    import_preview_task.enqueue(job.pk)
    job.refresh_from_db()
    return job


def import_run(*, user, job: ImportJob) -> ImportJob:
    """Start writing a previewed file, in the background. It writes every row or none."""
    with transaction.atomic():
        job = _visible_job(user, job, lock=True)
        _require_rights(user, job)
        if job.status != ImportStatus.PREVIEWED:
            raise ImportJobError(_("Only a checked import that has not started can be run."))
        if job.error_count or not job.rows_total:
            raise ImportJobError(
                _("The file has errors: correct them and upload it again.")
                if job.error_count
                else _("The file holds no rows to import.")
            )
        job.status = ImportStatus.RUNNING
        job.phase = ImportPhase.NONE
        job.rows_processed = 0
        job.run_by = user
        job.started_at = timezone.now()
        job.language = translation.get_language() or job.language
        _save(job, user, "started")
    from .tasks import import_run_task

    import_run_task.enqueue(job.pk)
    job.refresh_from_db()
    return job


def import_cancel(*, user, job: ImportJob) -> ImportJob:
    with transaction.atomic():
        job = _visible_job(user, job, lock=True)
        _require_rights(user, job)
        if job.status not in (ImportStatus.UPLOADED, ImportStatus.PREVIEWED):
            raise ImportJobError(_("Only an import that has not started can be cancelled."))
        job.status = ImportStatus.CANCELLED
        job.phase = ImportPhase.NONE
        job.finished_at = timezone.now()
        _forget_file(job)
        _save(job, user, "cancelled")
    return job


def _finish(job: ImportJob, status: str, report: dict, reason: str) -> None:
    job.refresh_from_db()
    job.status = status
    job.phase = ImportPhase.NONE
    job.finished_at = timezone.now()
    job.report = {**job.report, **report}
    if status == ImportStatus.DONE:
        job.rows_processed = report.get("written", job.rows_total)
    _forget_file(job)
    _save(job, job.run_by, reason)


def import_execute(*, job_id: int) -> None:
    """The background run: check every row again (the registry may have changed since the
    preview), then write them all in one transaction, or nothing."""
    job = ImportJob.objects.unscoped("background import").filter(pk=job_id).first()
    if job is None or job.status != ImportStatus.RUNNING or job.run_by is None:
        return
    user = job.run_by
    with translation.override(job.language):
        try:
            _execute(job, user)
        except Exception:
            logger.exception("import %s failed", job_id)
            _finish(
                job,
                ImportStatus.FAILED,
                engine.file_error(_("The import stopped on an unexpected error.")),
                "failed",
            )
            raise


def _execute(job: ImportJob, user) -> None:
    definition = _kind(job.kind)
    try:
        _require_rights(user, job)
    except AccessDenied as denied:
        _finish(job, ImportStatus.FAILED, engine.file_error(" ".join(denied.messages)), "failed")
        return
    try:
        _set_progress(job, phase=ImportPhase.CHECKING, rows_processed=0)
        checked = engine.process(
            definition,
            _table(job),
            user=user,
            organisation=job.organisation,
            progress=lambda count: _set_progress(job, rows_processed=count),
        )
        if checked.error_count:
            _finish(job, ImportStatus.FAILED, checked.report(), "refused")
            return
        _set_progress(job, phase=ImportPhase.WRITING, rows_processed=0)
        _write_progress(job, 0)
        with transaction.atomic():
            written = engine.process(
                definition,
                _table(job),
                user=user,
                organisation=job.organisation,
                write=True,
                reason=f"imported from {job.original_name}"[:100],
                progress=lambda count: _write_progress(job, count),
            )
    except engine.Refused as refused:
        _finish(job, ImportStatus.FAILED, refused.outcome.report(), "refused")
        return
    except parsing.FileRefused as refused:
        _finish(job, ImportStatus.FAILED, engine.file_error(" ".join(refused.messages)), "failed")
        return
    _finish(job, ImportStatus.DONE, written.report(), "imported")


# --- what the pages and the API show ------------------------------------------------------


def report_duplicates(user, job: ImportJob) -> list[dict]:
    """The likely duplicates of the report as ``user`` may read them: a person's name and
    link only when the user may see that person, else the organisation that registered them."""
    entries = job.report.get("duplicates") or []
    person_ids = {m["person"] for e in entries for m in e["matches"] if m.get("person")}
    organisation_ids = {
        m["organisation"] for e in entries for m in e["matches"] if m.get("organisation")
    }
    visible = {
        p.pk: p
        for p in Person.objects.visible_to(user)
        .filter(pk__in=person_ids)
        .only("pk", "given_name", "family_name")
    }
    organisations = {o.pk: o for o in Organisation.objects.filter(pk__in=organisation_ids)}
    shown = []
    for entry in entries:
        matches = []
        for match in entry["matches"]:
            if "row" in match:
                matches.append(
                    {
                        "row": match["row"],
                        "person": None,
                        "name": "",
                        "organisation": "",
                        "message": _("Probably the same person as row %(row)s of this file.")
                        % {"row": match["row"]},
                    }
                )
                continue
            person = visible.get(match.get("person"))
            organisation = organisations.get(match.get("organisation"))
            organisation_name = str(organisation) if organisation else ""
            matches.append(
                {
                    "row": None,
                    "person": person.pk if person else None,
                    "name": person.full_name if person else "",
                    "organisation": organisation_name,
                    "message": (
                        _("%(name)s, probably the same person, is registered by %(organisation)s.")
                        % {"name": person.full_name, "organisation": organisation_name}
                        if person
                        else _(
                            "A person who is probably the same is already registered by "
                            "%(organisation)s."
                        )
                        % {"organisation": organisation_name}
                    ),
                }
            )
        shown.append({"row": entry["row"], "matches": matches})
    return shown
