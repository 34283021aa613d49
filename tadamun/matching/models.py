"""Review of probable duplicate people, and the merges that follow.

A ``DuplicateRun`` is one pass of the batch job (``batch.registry_duplicates``) started by a
coordinator; it keeps the ``DuplicatePair``\\ s whose two people the coordinator may see. A
reviewer decides each pair: the same person (then merged, ``PersonMerge``), not the same
(remembered: later runs do not propose it again), or later.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from tadamun.access.querysets import GuardedQuerySet
from tadamun.accounts.models import Role


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to start")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Decision(models.TextChoices):
    PENDING = "pending", _("To review")
    SAME = "same", _("Same person (merged)")
    NOT_SAME = "not_same", _("Not the same person")
    DEFERRED = "deferred", _("Decide later")


class DuplicateRunQuerySet(GuardedQuerySet):
    def visibility_filter(self, scope):
        """A run is seen by the person who started it and by the coordinators of its
        organisation (a network coordinator: of the network and its members)."""
        condition = Q(started_by_id=scope.user_id)
        for grant in scope.grants_with([Role.COORDINATOR]):
            condition |= Q(organisation_id__in=grant.organisation_ids)
        return condition


class DuplicateRun(models.Model):
    organisation = models.ForeignKey(
        "organisations.Organisation",
        verbose_name=_("for"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The network or organisation the run was started for; empty: the platform."),
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    threshold = models.FloatField(_("threshold"), default=0.5)
    language = models.CharField(
        _("language of the messages"), max_length=10, default=settings.LANGUAGE_CODE
    )
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    people_compared = models.PositiveIntegerField(_("people in scope"), default=0)
    pairs_found = models.PositiveIntegerField(_("pairs found"), default=0)
    pairs_already_decided = models.PositiveIntegerField(
        _("pairs already decided not the same"), default=0
    )
    pairs_stored = models.PositiveIntegerField(_("pairs to review"), default=0)
    error = models.TextField(_("error"), blank=True)
    history = HistoricalRecords()

    objects = DuplicateRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("duplicate search")
        verbose_name_plural = _("duplicate searches")
        ordering = ["-pk"]
        indexes = [models.Index(fields=["organisation", "-id"], name="duprun_org_recent")]

    def __str__(self) -> str:
        return _("Duplicate search %(number)s") % {"number": self.pk}

    @property
    def is_busy(self) -> bool:
        return self.status in (RunStatus.QUEUED, RunStatus.RUNNING)

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class DuplicatePairQuerySet(GuardedQuerySet):
    def visibility_filter(self, scope):
        """A pair is seen by whoever sees its run and both of its people, re-checked each
        time: a person who left the reviewer's scope since the run takes the pair along.
        Once merged, it is seen with the person kept."""
        from tadamun.registry.models import Person

        people = Person.objects.visible_to(scope).values("pk")
        runs = DuplicateRun.objects.visible_to(scope).values("pk")
        both = Q(person_a__in=people) & Q(person_b__in=people)
        # A merged pair stays with whoever sees the person kept, as the merge does.
        merges = PersonMerge.objects.unscoped("merges of visible people").filter(
            undone_at__isnull=True, keep__in=people
        )
        merged = Q(merge__in=merges.values("pk"))
        return Q(run__in=runs) & (both | merged)


class DuplicatePair(models.Model):
    """Two people the model finds probably the same (``person_a`` has the smaller id)."""

    run = models.ForeignKey(DuplicateRun, on_delete=models.CASCADE, related_name="pairs")
    person_a = models.ForeignKey(
        "registry.Person", on_delete=models.PROTECT, related_name="+", verbose_name=_("person")
    )
    person_b = models.ForeignKey(
        "registry.Person",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("other person"),
    )
    probability = models.FloatField(_("probability"))
    decision = models.CharField(
        _("decision"), max_length=10, choices=Decision.choices, default=Decision.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    merge = models.ForeignKey(
        "PersonMerge",
        verbose_name=_("merge"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="pairs",
    )
    history = HistoricalRecords()

    objects = DuplicatePairQuerySet.as_manager()

    class Meta:
        verbose_name = _("probable duplicate")
        verbose_name_plural = _("probable duplicates")
        ordering = ["-probability", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["run", "person_a", "person_b"], name="unique_run_pair"),
            models.CheckConstraint(
                condition=Q(person_a__lt=models.F("person_b")), name="pair_ordered"
            ),
        ]
        indexes = [
            models.Index(fields=["run", "decision", "-probability"], name="duppair_run_best"),
            models.Index(fields=["person_a", "person_b", "decision"], name="duppair_people"),
        ]

    def __str__(self) -> str:
        return f"{self.person_a_id} · {self.person_b_id} · {self.probability:.2f}"


class PersonMergeQuerySet(GuardedQuerySet):
    def visibility_filter(self, scope):
        """A merge is seen by whoever sees the person kept (or the one merged into it)."""
        from tadamun.registry.models import Person

        people = Person.objects.visible_to(scope).values("pk")
        return Q(keep__in=people) | Q(drop__in=people)


class PersonMerge(models.Model):
    """Two records of one person made one: what ``drop`` held now belongs to ``keep``.

    Everything needed to undo it is kept: both people's values before the merge, the values
    written to ``keep`` (``filled``), and each row moved (model label, primary key, field)."""

    keep = models.ForeignKey(
        "registry.Person",
        verbose_name=_("record kept"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    drop = models.ForeignKey(
        "registry.Person",
        verbose_name=_("record merged into it"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("merged by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    merged_at = models.DateTimeField(_("merged at"), auto_now_add=True)
    keep_before = models.JSONField(_("kept record before the merge"), default=dict)
    drop_before = models.JSONField(_("merged record before the merge"), default=dict)
    filled = models.JSONField(_("values filled in from the merged record"), default=dict)
    other_values = models.JSONField(_("other values recorded at merge"), default=dict)
    moved = models.JSONField(_("rows moved"), default=list)
    left = models.JSONField(_("rows left with the merged record"), default=list)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("undone by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    history = HistoricalRecords()

    objects = PersonMergeQuerySet.as_manager()

    class Meta:
        verbose_name = _("merge of people")
        verbose_name_plural = _("merges of people")
        ordering = ["-merged_at", "-pk"]
        indexes = [
            models.Index(fields=["keep", "-merged_at"], name="merge_keep_recent"),
            models.Index(fields=["drop", "-merged_at"], name="merge_drop_recent"),
        ]

    def __str__(self) -> str:
        return _("Merge %(number)s") % {"number": self.pk}

    @property
    def is_undone(self) -> bool:
        return self.undone_at is not None
