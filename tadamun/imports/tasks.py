"""Background work of imports: each task takes the id of an import and does the rest."""

import logging

from django.utils import translation
from django_tasks import task

from . import engine, services
from .models import ImportJob, ImportPhase, ImportStatus

logger = logging.getLogger(__name__)


@task()
def import_preview_task(job_id: int) -> None:
    """Check a large file in the background, as the person who uploaded it."""
    job = ImportJob.objects.unscoped("background preview").filter(pk=job_id).first()
    if job is None or job.status != ImportStatus.UPLOADED:
        return
    with translation.override(job.language):
        try:
            services.import_preview(user=job.created_by, job=job)
        except Exception:
            logger.exception("preview of import %s failed", job_id)
            job.refresh_from_db()
            job.status = ImportStatus.FAILED
            job.phase = ImportPhase.NONE
            job.report = engine.file_error(
                translation.gettext("The file could not be checked because of an unexpected error.")
            )
            job._history_user = job.created_by
            job._change_reason = "failed"
            job.save()
            raise


@task()
def import_run_task(job_id: int) -> None:
    """Write a previewed file: every row or none."""
    services.import_execute(job_id=job_id)
