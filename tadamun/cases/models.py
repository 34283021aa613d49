"""Cases: a person's arrival at a desk, diagnosis, a plan of pathway actions, referrals to
partners that close the loop, notes by confidentiality, closure and follow-up after exit."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from i18nfield.fields import I18nCharField
from simple_history.models import HistoricalRecords

from tadamun.access.querysets import GuardedQuerySet
from tadamun.accounts.models import ROLES_WORKING_CASES, Role
from tadamun.core.models import ArchivableModel
from tadamun.core.validators import validate_plain_text

# Roles that may read health information and restricted notes of a case they can see.
ROLES_READING_HEALTH = ROLES_WORKING_CASES
ROLES_AT_DESK = frozenset({Role.COORDINATOR, Role.CASE_WORKER, Role.DESK_OPERATOR})


class DeskKind(models.TextChoices):
    TERRITORIAL_TABLE = "territorial_table", _("Territorial table")
    JOB_DESK = "job_desk", _("Job desk")
    COUNSELLING_DESK = "counselling_desk", _("Counselling desk")
    WALK_IN = "walk_in", _("Walk-in office")
    PHONE = "phone", _("Telephone line")
    OUTREACH = "outreach", _("Outreach")
    OTHER = "other", _("Other channel")


class Desk(ArchivableModel):
    """A desk or channel through which people arrive, configured per network."""

    network = models.ForeignKey(
        "organisations.Organisation",
        verbose_name=_("network"),
        on_delete=models.PROTECT,
        related_name="desks",
    )
    organisation = models.ForeignKey(
        "organisations.Organisation",
        verbose_name=_("run by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    code = models.SlugField(_("code"), max_length=40)
    name = I18nCharField(_("name"))
    kind = models.CharField(_("kind"), max_length=30, choices=DeskKind.choices)
    territory = models.ForeignKey(
        "territories.Territory",
        verbose_name=_("territory"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("desk")
        verbose_name_plural = _("desks")
        ordering = ["network_id", "code"]
        constraints = [models.UniqueConstraint(fields=["network", "code"], name="unique_desk_code")]

    def __str__(self) -> str:
        return str(self.name) or self.code


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class CaseOutcome(models.TextChoices):
    EMPLOYED = "employed", _("In employment")
    SELF_EMPLOYED = "self_employed", _("Own business")
    TRAINING = "training", _("In training or education")
    CARE = "care", _("Taken in charge by care services")
    MOVED = "moved", _("Moved away")
    NO_LONGER_NEEDED = "no_longer_needed", _("No longer needs support")
    LOST_CONTACT = "lost_contact", _("Lost contact")
    OTHER = "other", _("Other")


class CaseQuerySet(GuardedQuerySet):
    def visibility_filter(self, scope):
        """A case is seen by staff of its lead organisation (and the network's coordinators),
        within their territory. A partner receiving a referral sees the referral, not the
        case."""
        condition = Q(pk__in=[])
        for grant in scope.grants:
            condition |= Q(organisation_id__in=grant.organisation_ids) & grant.territory_q(
                "person__residence_id"
            )
        return condition

    def open(self):
        return self.filter(status=CaseStatus.OPEN, archived_at__isnull=True)


class Case(ArchivableModel):
    person = models.ForeignKey(
        "registry.Person",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="cases",
    )
    organisation = models.ForeignKey(
        "organisations.Organisation",
        verbose_name=_("lead organisation"),
        on_delete=models.PROTECT,
        related_name="cases",
    )
    desk = models.ForeignKey(
        Desk,
        verbose_name=_("desk"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    tutor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("tutor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tutored_cases",
    )
    opened_on = models.DateField(_("opened on"), default=timezone.localdate)
    status = models.CharField(
        _("status"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=CaseOutcome.choices, blank=True)
    closure_reason = models.TextField(
        _("reason for closing"), blank=True, max_length=2000, validators=[validate_plain_text]
    )
    # Bumped by every change to the case or its plan, so that two people editing the same
    # plan at once cannot overwrite each other: the second save is refused.
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-opened_on", "-pk"]
        indexes = [models.Index(fields=["organisation", "status"], name="case_org_status")]

    def __str__(self) -> str:
        return _("Case %(number)s") % {"number": self.pk}


class Intake(models.Model):
    """A person's arrival at a desk: a walk-in, a call, a referral from a territorial table."""

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="intakes")
    desk = models.ForeignKey(
        Desk, verbose_name=_("desk"), on_delete=models.PROTECT, related_name="intakes"
    )
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    reason = models.CharField(
        _("reason for coming"), max_length=300, blank=True, validators=[validate_plain_text]
    )
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="intakes"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("visit at a desk")
        verbose_name_plural = _("visits at desks")
        ordering = ["-occurred_at"]

    def __str__(self) -> str:
        return f"{self.person_id} · {self.desk} · {self.occurred_at:%Y-%m-%d}"


class DiagnosisDimension(models.Model):
    """A dimension a network diagnoses (work, income, housing, health ...)."""

    network = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="diagnosis_dimensions"
    )
    code = models.SlugField(_("code"), max_length=40)
    name = I18nCharField(_("name"))
    order = models.PositiveSmallIntegerField(default=0)
    is_health = models.BooleanField(
        _("health information"),
        default=False,
        help_text=_("Only roles entitled to health information see this dimension."),
    )

    class Meta:
        verbose_name = _("diagnosis dimension")
        verbose_name_plural = _("diagnosis dimensions")
        ordering = ["network_id", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["network", "code"], name="unique_dimension_code")
        ]

    def __str__(self) -> str:
        return str(self.name) or self.code


class NeedLevel(models.IntegerChoices):
    NONE = 0, _("No difficulty")
    LOW = 1, _("Some difficulty")
    MODERATE = 2, _("Serious difficulty")
    HIGH = 3, _("Critical")


class Diagnosis(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="diagnoses")
    diagnosed_on = models.DateField(_("date of the diagnosis"))
    diagnosed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    summary = models.TextField(
        _("summary"), blank=True, max_length=4000, validators=[validate_plain_text]
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("diagnosis")
        verbose_name_plural = _("diagnoses")
        ordering = ["-diagnosed_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.diagnosed_on}"


class DiagnosisLevel(models.Model):
    diagnosis = models.ForeignKey(Diagnosis, on_delete=models.CASCADE, related_name="levels")
    dimension = models.ForeignKey(DiagnosisDimension, on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField(_("level"), choices=NeedLevel.choices)
    note = models.CharField(_("note"), max_length=500, blank=True, validators=[validate_plain_text])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["diagnosis", "dimension"], name="unique_level")
        ]

    def __str__(self) -> str:
        return f"{self.dimension}: {self.get_level_display()}"


class ActionFamily(models.TextChoices):
    INTERNSHIP = "internship", _("Internship")
    TRAINING_VOUCHER = "training_voucher", _("Training voucher")
    JOB_ACCOMPANIMENT = "job_accompaniment", _("Job-placement accompaniment")
    JOB_PLACEMENT = "job_placement", _("Job-placement project")
    BUSINESS_CREATION = "business_creation", _("Business creation")
    RETURN_TO_TRAINING = "return_to_training", _("Return to training or education")
    CARE_PATHWAY = "care_pathway", _("Care pathway with the health authority")
    HIRE = "hire", _("Hire")


class ActionType(models.Model):
    """A kind of pathway action a network offers, in one of the families above."""

    network = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="action_types"
    )
    code = models.SlugField(_("code"), max_length=40)
    name = I18nCharField(_("name"))
    family = models.CharField(_("family"), max_length=30, choices=ActionFamily.choices)
    is_health = models.BooleanField(_("health information"), default=False)
    default_months = models.PositiveSmallIntegerField(
        _("usual length in months"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("kind of pathway action")
        verbose_name_plural = _("kinds of pathway action")
        ordering = ["network_id", "family", "code"]
        constraints = [
            models.UniqueConstraint(fields=["network", "code"], name="unique_action_type_code")
        ]

    def __str__(self) -> str:
        return str(self.name) or self.code


class ActionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ONGOING = "ongoing", _("Ongoing")
    COMPLETED = "completed", _("Completed")
    INTERRUPTED = "interrupted", _("Interrupted")
    CANCELLED = "cancelled", _("Cancelled")


class ContractType(models.TextChoices):
    FIXED_TERM = "fixed_term", _("Fixed-term contract")
    OPEN_ENDED = "open_ended", _("Open-ended contract")
    APPRENTICESHIP = "apprenticeship", _("Apprenticeship")
    OTHER = "other", _("Other contract")


class PathwayAction(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="actions")
    action_type = models.ForeignKey(
        ActionType, verbose_name=_("kind"), on_delete=models.PROTECT, related_name="actions"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ActionStatus.choices, default=ActionStatus.PLANNED
    )
    start = models.DateField(_("start"), null=True, blank=True)
    end = models.DateField(_("planned end"), null=True, blank=True)
    extended_until = models.DateField(_("extended until"), null=True, blank=True)
    responsible = models.ForeignKey(
        "organisations.Organisation",
        verbose_name=_("responsible organisation"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    host = models.ForeignKey(
        "organisations.Organisation",
        verbose_name=_("host company or school"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    monthly_stipend = models.DecimalField(
        _("monthly stipend"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    contract_type = models.CharField(
        _("contract"), max_length=20, choices=ContractType.choices, blank=True
    )
    outcome = models.CharField(
        _("outcome"), max_length=500, blank=True, validators=[validate_plain_text]
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("pathway action")
        verbose_name_plural = _("pathway actions")
        ordering = ["case_id", "start", "pk"]
        indexes = [models.Index(fields=["start"], name="action_start")]

    def __str__(self) -> str:
        return f"{self.action_type} · {self.get_status_display()}"

    @property
    def is_overdue(self) -> bool:
        due = self.extended_until or self.end
        return (
            self.status in (ActionStatus.PLANNED, ActionStatus.ONGOING)
            and due is not None
            and due < timezone.localdate()
        )


class ReferralStatus(models.TextChoices):
    SENT = "sent", _("Awaiting an answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    COMPLETED = "completed", _("Outcome returned")
    CANCELLED = "cancelled", _("Cancelled")


class ReferralQuerySet(GuardedQuerySet):
    def visibility_filter(self, scope):
        """Both ends of a referral see it: the referring and the receiving organisation,
        within the territory a role is limited to (as for the person it names)."""
        condition = Q(pk__in=[])
        for grant in scope.grants:
            orgs = grant.organisation_ids
            condition |= (
                Q(from_organisation_id__in=orgs) | Q(to_organisation_id__in=orgs)
            ) & grant.territory_q("case__person__residence_id")
        return condition

    def overdue(self):
        return self.filter(status=ReferralStatus.SENT, deadline__lt=timezone.localdate())


class Referral(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="referrals")
    action = models.ForeignKey(
        PathwayAction,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals",
        verbose_name=_("pathway action"),
    )
    from_organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    to_organisation = models.ForeignKey(
        "organisations.Organisation",
        verbose_name=_("partner organisation"),
        on_delete=models.PROTECT,
        related_name="referrals_received",
    )
    consent = models.ForeignKey(
        "registry.Consent",
        verbose_name=_("consent to share"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    message = models.TextField(
        _("what the partner needs to know"),
        max_length=4000,
        validators=[validate_plain_text],
        help_text=_(
            "The partner sees this text, the person's name and year of birth, and "
            "nothing else of the case."
        ),
    )
    deadline = models.DateField(_("answer expected by"))
    status = models.CharField(
        _("status"), max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.SENT
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField(auto_now_add=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(
        _("reason for declining"), max_length=500, blank=True, validators=[validate_plain_text]
    )
    outcome = models.TextField(
        _("outcome"), blank=True, max_length=4000, validators=[validate_plain_text]
    )
    outcome_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    objects = ReferralQuerySet.as_manager()

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return _("Referral %(number)s") % {"number": self.pk}

    @property
    def is_overdue(self) -> bool:
        return self.status == ReferralStatus.SENT and self.deadline < timezone.localdate()


class Confidentiality(models.TextChoices):
    STANDARD = "standard", _("Everyone working on the case")
    RESTRICTED = "restricted", _("Case workers and coordinators")
    HEALTH = "health", _("Health information: entitled roles only")


class CaseNote(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    body = models.TextField(_("note"), max_length=10000, validators=[validate_plain_text])
    confidentiality = models.CharField(
        _("who may read it"),
        max_length=20,
        choices=Confidentiality.choices,
        default=Confidentiality.STANDARD,
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.created_at:%Y-%m-%d}"


class Situation(models.TextChoices):
    IN_WORK = "in_work", _("In work")
    IN_TRAINING = "in_training", _("In training or education")
    NEITHER = "neither", _("Neither in work nor in training")
    UNKNOWN = "unknown", _("Could not be reached")


class FollowUp(models.Model):
    """A check after exit (6 and 12 months after closing): is the person still in work?"""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="follow_ups")
    months_after = models.PositiveSmallIntegerField(_("months after closing"))
    due_on = models.DateField(_("due on"))
    done_on = models.DateField(_("done on"), null=True, blank=True)
    situation = models.CharField(
        _("situation"), max_length=20, choices=Situation.choices, blank=True
    )
    note = models.CharField(_("note"), max_length=500, blank=True, validators=[validate_plain_text])
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("follow-up after exit")
        verbose_name_plural = _("follow-ups after exit")
        ordering = ["due_on"]
        constraints = [
            models.UniqueConstraint(fields=["case", "months_after"], name="unique_follow_up")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} · +{self.months_after}"
