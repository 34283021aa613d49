from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from tadamun.organisations.models import validate_time_zone


class Role(models.TextChoices):
    COORDINATOR = "coordinator", _("Network coordinator")
    DESK_OPERATOR = "desk_operator", _("Desk operator")
    CASE_WORKER = "case_worker", _("Case worker")
    TRAINER = "trainer", _("Trainer")
    CONTROLLER = "controller", _("Controller")
    VIEWER = "viewer", _("Viewer")


# Who may register and change people and groups; the others read.
ROLES_EDITING_PEOPLE = frozenset({Role.COORDINATOR, Role.DESK_OPERATOR, Role.CASE_WORKER})
ROLES_EDITING_PROGRAMMES = frozenset({Role.COORDINATOR})
# Who opens and works cases (diagnosis, plan, referrals), and may read health information.
ROLES_WORKING_CASES = frozenset({Role.COORDINATOR, Role.CASE_WORKER})


class User(AbstractUser):
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text=_("Leave empty to use the time zone of your organisation."),
    )
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @cached_property
    def primary_membership(self) -> "Membership | None":
        return (
            self.memberships.filter(is_active=True)
            .select_related("organisation", "territory")
            .order_by("pk")
            .first()
        )

    @property
    def country_code(self) -> str | None:
        membership = self.primary_membership
        return membership.organisation.country if membership else None

    @property
    def effective_time_zone(self) -> str:
        if self.time_zone:
            return self.time_zone
        membership = self.primary_membership
        return membership.organisation.time_zone if membership else settings.TIME_ZONE


class Membership(models.Model):
    """A user's work for an organisation: a role and, optionally, a territory it is limited to."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships"
    )
    organisation = models.ForeignKey(
        "organisations.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="staff",
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    territory = models.ForeignKey(
        "territories.Territory",
        verbose_name=_("territorial scope"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Leave empty for the whole area of the organisation."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("role in an organisation")
        verbose_name_plural = _("roles in organisations")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"], name="unique_user_org_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.organisation}"
