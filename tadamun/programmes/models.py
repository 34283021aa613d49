from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from i18nfield.fields import I18nCharField, I18nTextField
from simple_history.models import HistoricalRecords

from tadamun.access.querysets import GuardedQuerySet
from tadamun.core.models import ArchivableModel


class ProgrammeStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")


class ParticipantRole(models.TextChoices):
    LEAD = "lead", _("Lead organisation")
    FUNDER = "funder", _("Funder")
    IMPLEMENTER = "implementer", _("Implementing organisation")
    PARTNER = "partner", _("Partner")


class ProgrammeQuerySet(GuardedQuerySet):
    def visibility_filter(self, scope):
        """A programme is seen by the organisations taking part in it (and their networks)."""
        return Q(
            Exists(
                ProgrammeParticipant.objects.filter(
                    programme=OuterRef("pk"), organisation_id__in=scope.organisation_ids
                )
            )
        )

    def active(self):
        return self.filter(archived_at__isnull=True)


class Programme(ArchivableModel):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    title = I18nCharField(_("title"))
    description = I18nTextField(_("description"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ProgrammeStatus.choices,
        default=ProgrammeStatus.PLANNED,
    )
    start = models.DateField(_("start"), null=True, blank=True)
    end = models.DateField(_("end"), null=True, blank=True)
    budget = models.DecimalField(
        _("budget"), max_digits=18, decimal_places=3, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    territories = models.ManyToManyField(
        "territories.Territory", verbose_name=_("territories"), blank=True, related_name="+"
    )
    organisations = models.ManyToManyField(
        "organisations.Organisation",
        through="ProgrammeParticipant",
        verbose_name=_("organisations"),
        related_name="programmes",
    )
    history = HistoricalRecords(m2m_fields=[territories])

    objects = ProgrammeQuerySet.as_manager()

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True)
                | Q(start__isnull=True)
                | Q(end__gte=models.F("start")),
                name="programme_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(budget__isnull=True) | Q(budget__gte=0),
                name="programme_budget_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.title}"

    def participants_by_role(self) -> dict[str, list]:
        result: dict[str, list] = {}
        for link in self.participants.select_related("organisation"):
            result.setdefault(link.role, []).append(link.organisation)
        return result


class ProgrammeParticipant(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="participants")
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("role"), max_length=20, choices=ParticipantRole.choices)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("organisation in a programme")
        verbose_name_plural = _("organisations in programmes")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "organisation", "role"], name="unique_programme_participant"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.get_role_display()}"


class Component(models.Model):
    """A part of a programme: a macro-action, a phase, a pathway family."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="components")
    code = models.CharField(_("code"), max_length=40)
    title = I18nCharField(_("title"))
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("component")
        verbose_name_plural = _("components")
        ordering = ["programme_id", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "code"], name="unique_component_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.title}"
