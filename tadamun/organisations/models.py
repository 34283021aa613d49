import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from i18nfield.fields import I18nCharField
from simple_history.models import HistoricalRecords

from tadamun.core.models import ArchivableModel
from tadamun.core.validators import validate_single_line


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone: %(zone)s."), params={"zone": value})


class OrganisationKind(models.TextChoices):
    NETWORK = "network", _("Network")
    ASSOCIATION = "association", _("Association")
    COOPERATIVE = "cooperative", _("Cooperative")
    FUNDER = "funder", _("Funder")
    PUBLIC_BODY = "public_body", _("Public body")
    COMPANY = "company", _("Company")
    PARTNER_CITY = "partner_city", _("Partner city")
    UNIVERSITY = "university", _("University")
    FOUNDATION = "foundation", _("Foundation")


class NetworkRole(models.TextChoices):
    LEAD = "lead", _("Lead")
    MEMBER = "member", _("Member")
    PARTNER = "partner", _("Partner")
    OBSERVER = "observer", _("Observer")


class OrganisationQuerySet(models.QuerySet):
    def active(self):
        return self.filter(archived_at__isnull=True)

    def networks(self):
        return self.filter(kind=OrganisationKind.NETWORK)


class Organisation(ArchivableModel):
    slug = models.SlugField(_("code"), max_length=80, unique=True)
    name = I18nCharField(_("name"))
    short_name = models.CharField(
        _("short name"), max_length=40, blank=True, validators=[validate_single_line]
    )
    kind = models.CharField(_("kind"), max_length=20, choices=OrganisationKind.choices)
    country = models.CharField(_("country"), max_length=2)
    territory = models.ForeignKey(
        "territories.Territory",
        verbose_name=_("territory"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organisations",
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )
    history = HistoricalRecords()

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.short_name or str(self.name) or self.slug


class NetworkMembership(models.Model):
    """An organisation's membership of a network, with the date it joined and its role."""

    network = models.ForeignKey(
        Organisation,
        verbose_name=_("network"),
        on_delete=models.PROTECT,
        related_name="member_links",
    )
    member = models.ForeignKey(
        Organisation,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="network_links",
    )
    role = models.CharField(
        _("role in the network"),
        max_length=20,
        choices=NetworkRole.choices,
        default=NetworkRole.MEMBER,
    )
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("network membership")
        verbose_name_plural = _("network memberships")
        constraints = [
            models.UniqueConstraint(fields=["network", "member"], name="unique_network_member"),
            models.CheckConstraint(
                condition=~models.Q(network=models.F("member")), name="network_not_own_member"
            ),
        ]
        ordering = ["network_id", "member_id"]

    def __str__(self) -> str:
        return f"{self.member} ∈ {self.network}"


def networks_of(organisation_id: int) -> set[int]:
    """The organisation and the networks it currently belongs to."""
    return {organisation_id} | set(
        NetworkMembership.objects.filter(
            member_id=organisation_id, left_on__isnull=True
        ).values_list("network_id", flat=True)
    )


def network_family(organisation_id: int) -> set[int]:
    """The organisation, its networks, and (when it is a network) its current members."""
    members = set(
        NetworkMembership.objects.filter(
            network_id=organisation_id, left_on__isnull=True
        ).values_list("member_id", flat=True)
    )
    return networks_of(organisation_id) | members
