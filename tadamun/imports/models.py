import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from tadamun.access.querysets import GuardedQuerySet
from tadamun.accounts.models import Role


class ImportKind(models.TextChoices):
    """What a file brings in; each kind is described in ``kinds.py``."""

    PEOPLE = "people", _("People")
    CASES = "cases", _("Cases")
    PROJECTS = "projects", _("Micro-projects")
    REPAYMENTS = "repayments", _("Loan repayments")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    PREVIEWED = "previewed", _("Checked, waiting for confirmation")
    RUNNING = "running", _("Running")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed, nothing was written")
    CANCELLED = "cancelled", _("Cancelled")


class ImportPhase(models.TextChoices):
    NONE = "", _("Not started")
    CHECKING = "checking", _("Checking the rows")
    WRITING = "writing", _("Writing the records")


FINISHED = frozenset({ImportStatus.DONE, ImportStatus.FAILED, ImportStatus.CANCELLED})


def import_upload_to(instance, filename: str) -> str:
    # The stored name says nothing about the file's contents; the original name is kept apart.
    suffix = PurePath(filename).suffix.lower()[:8]
    return f"imports/{uuid.uuid4().hex}{suffix}"


class ImportJobQuerySet(GuardedQuerySet):
    def visibility_filter(self, scope):
        """An import is seen by the person who uploaded it and by the coordinators of its
        organisation (for a network coordinator, of the network's members)."""
        condition = Q(created_by_id=scope.user_id)
        for grant in scope.grants_with([Role.COORDINATOR]):
            condition |= Q(organisation_id__in=grant.organisation_ids)
        return condition


class ImportJob(models.Model):
    """A file brought in to register records at once: checked first (the preview), then
    written all at once or not at all, by a background task."""

    organisation = models.ForeignKey(
        "organisations.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=30, choices=ImportKind.choices)
    file = models.FileField(_("file"), upload_to=import_upload_to, max_length=200, blank=True)
    original_name = models.CharField(_("file name"), max_length=255)
    file_type = models.CharField(_("file type"), max_length=10)
    file_size = models.PositiveBigIntegerField(_("size in bytes"), default=0)
    encoding = models.CharField(
        _("encoding"),
        max_length=40,
        blank=True,
        help_text=_("Detected, or chosen when the file was uploaded."),
    )
    separator = models.CharField(_("separator"), max_length=8, blank=True)
    language = models.CharField(
        _("language of the messages"), max_length=10, default=settings.LANGUAGE_CODE
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    phase = models.CharField(
        _("phase"), max_length=20, choices=ImportPhase.choices, blank=True, default=""
    )
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_processed = models.PositiveIntegerField(_("rows processed"), default=0)
    report = models.JSONField(_("report"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # Progress counters move through queryset updates, which leave no history entry; each
    # change of status does.
    history = HistoricalRecords(excluded_fields=["updated_at", "rows_processed", "report"])

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["created_by", "-id"], name="import_creator_recent"),
            models.Index(fields=["organisation", "-id"], name="import_org_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} · {self.get_status_display()}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def is_busy(self) -> bool:
        return self.status == ImportStatus.RUNNING or (
            self.status == ImportStatus.UPLOADED and self.phase == ImportPhase.CHECKING
        )

    @property
    def error_count(self) -> int:
        return int(self.report.get("error_count", 0))

    @property
    def can_run(self) -> bool:
        return (
            self.status == ImportStatus.PREVIEWED and self.error_count == 0 and self.rows_total > 0
        )
