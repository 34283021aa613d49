"""Micro-projects: calls for proposals, applications (individual or collective) with a business
plan, committee scoring and decision, financing in tranches and loans with their repayment
schedule, accompaniment, follow-up visits, survival, and a catalogue of products.

Money is ``Decimal`` with the currency of the call beside it; amounts are rounded to the
currency's own decimals (``core.money.quantize``). Loans keep two figures up to date at every
repayment, ``outstanding`` and ``oldest_unpaid_due_on``, so that arrears and the portfolio at
risk are one aggregate over loans, not a walk over millions of instalments.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from i18nfield.fields import I18nCharField, I18nTextField
from simple_history.models import HistoricalRecords

from tadamun.access.querysets import GuardedQuerySet
from tadamun.accounts.models import ROLES_EDITING_PEOPLE, Role
from tadamun.core.models import ArchivableModel
from tadamun.core.validators import validate_plain_text

# Who prepares applications, records visits, evidences milestones and records repayments.
ROLES_WORKING_PROJECTS = ROLES_EDITING_PEOPLE
# Who publishes calls, runs committees, awards and releases tranches.
ROLES_MANAGING_CALLS = frozenset({Role.COORDINATOR})

MONEY = {"max_digits": 14, "decimal_places": 3}
POSITIVE = [MinValueValidator(Decimal("0"))]


class Sector(models.Model):
    """A sector of activity, shared by every network (agriculture, crafts, digital ...)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = I18nCharField(_("name"))

    class Meta:
        verbose_name = _("sector")
        verbose_name_plural = _("sectors")
        ordering = ["code"]

    def __str__(self) -> str:
        return str(self.name) or self.code


# --- Calls --------------------------------------------------------------------------------------


class CallStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Published")
    CLOSED = "closed", _("Closed")


class ApplicantKinds(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual promoters")
    COLLECTIVE = "collective", _("Collectives")
    BOTH = "both", _("Individuals and collectives")


def networks_of_q(field: str, organisation_ids) -> Q:
    """``field`` (an organisation id) is one of ``organisation_ids`` or a network they
    currently belong to."""
    from tadamun.organisations.models import NetworkMembership

    networks = NetworkMembership.objects.filter(
        member_id__in=organisation_ids, left_on__isnull=True
    ).values("network_id")
    return Q(**{f"{field}__in": organisation_ids}) | Q(**{f"{field}__in": networks})


class CallQuerySet(GuardedQuerySet):
    def visibility_filter(self, scope):
        """Staff of the publishing organisation, of its members when it is a network, and
        of the networks it belongs to."""
        condition = Q(pk__in=[])
        for grant in scope.grants:
            condition |= networks_of_q("organisation_id", grant.organisation_ids)
        return condition

    def published(self):
        """Calls anyone may read (the public page): published, not archived."""
        return self.filter(
            status__in=[CallStatus.OPEN, CallStatus.CLOSED], archived_at__isnull=True
        )


class Call(ArchivableModel):
    organisation = models.ForeignKey(
        "organisations.Organisation",
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        related_name="calls",
    )
    programme = models.ForeignKey(
        "programmes.Programme",
        verbose_name=_("programme"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="calls",
    )
    code = models.SlugField(_("code"), max_length=40, unique=True)
    title = I18nCharField(_("title"))
    description = I18nTextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CallStatus.choices, default=CallStatus.DRAFT
    )
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"))
    applicants = models.CharField(
        _("who may apply"),
        max_length=12,
        choices=ApplicantKinds.choices,
        default=ApplicantKinds.BOTH,
    )
    eligibility = I18nTextField(_("eligibility conditions"), blank=True)
    min_age = models.PositiveSmallIntegerField(_("minimum age"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("maximum age"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    max_amount = models.DecimalField(
        _("largest amount per application"), null=True, blank=True, validators=POSITIVE, **MONEY
    )
    sectors = models.ManyToManyField(
        Sector, verbose_name=_("sectors"), blank=True, related_name="+"
    )
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = CallQuerySet.as_manager()

    class Meta:
        verbose_name = _("call for proposals")
        verbose_name_plural = _("calls for proposals")
        ordering = ["-opens_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(closes_on__gte=F("opens_on")), name="call_window")
        ]

    def __str__(self) -> str:
        return str(self.title) or self.code

    def is_open_on(self, day) -> bool:
        return self.status == CallStatus.OPEN and self.opens_on <= day <= self.closes_on


class Envelope(models.Model):
    """The amount a call may award in one territory."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="envelopes")
    territory = models.ForeignKey(
        "territories.Territory",
        verbose_name=_("territory"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    amount = models.DecimalField(_("envelope"), validators=POSITIVE, **MONEY)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("envelope")
        verbose_name_plural = _("envelopes")
        ordering = ["call_id", "territory__code"]
        constraints = [
            models.UniqueConstraint(fields=["call", "territory"], name="one_envelope_per_territory")
        ]

    def __str__(self) -> str:
        return f"{self.territory} · {self.amount}"


class Criterion(models.Model):
    """One line of a call's scoring grid: scored from 0 to ``max_score``, weighed by ``weight``."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="criteria")
    code = models.SlugField(_("code"), max_length=40)
    label = I18nCharField(_("criterion"))
    weight = models.DecimalField(
        _("weight"), max_digits=5, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    max_score = models.PositiveSmallIntegerField(
        _("highest score"), default=10, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        ordering = ["call_id", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["call", "code"], name="unique_criterion_code")
        ]

    def __str__(self) -> str:
        return str(self.label) or self.code


class RequiredDocument(models.Model):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="documents")
    code = models.SlugField(_("code"), max_length=40)
    label = I18nCharField(_("document"))
    mandatory = models.BooleanField(_("mandatory"), default=True)

    class Meta:
        verbose_name = _("required document")
        verbose_name_plural = _("required documents")
        ordering = ["call_id", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["call", "code"], name="unique_document_code")
        ]

    def __str__(self) -> str:
        return str(self.label) or self.code


# --- Applications ------------------------------------------------------------------------------


class ApplicationKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    COLLECTIVE = "collective", _("Collective")


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ELIGIBLE = "eligible", _("Eligible")
    INELIGIBLE = "ineligible", _("Not eligible")
    SELECTED = "selected", _("Selected")
    WAITLISTED = "waitlisted", _("On the waiting list")
    REJECTED = "rejected", _("Not selected")
    AWARDED = "awarded", _("Financed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Channel(models.TextChoices):
    PUBLIC = "public", _("Public page")
    DESK = "desk", _("At a desk")
    IMPORT = "import", _("Imported")


class FinancingKind(models.TextChoices):
    GRANT = "grant", _("Grant")
    LOAN = "loan", _("Loan")
    IN_KIND = "in_kind", _("In kind")


class ApplicationQuerySet(GuardedQuerySet):
    def visibility_filter(self, scope):
        """Staff of the organisation handling it (and the network's coordinators), within
        their territory."""
        condition = Q(pk__in=[])
        for grant in scope.grants:
            condition |= Q(organisation_id__in=grant.organisation_ids) & grant.territory_q(
                "territory_id"
            )
        return condition


class Application(ArchivableModel):
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="applications")
    organisation = models.ForeignKey(
        "organisations.Organisation",
        verbose_name=_("handled by"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    reference = models.CharField(_("reference"), max_length=30, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=12, choices=ApplicationKind.choices)
    promoter = models.ForeignKey(
        "registry.Person",
        verbose_name=_("promoter"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    group = models.ForeignKey(
        "registry.Group",
        verbose_name=_("collective"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
    )
    territory = models.ForeignKey(
        "territories.Territory",
        verbose_name=_("territory"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    sector = models.ForeignKey(
        Sector, verbose_name=_("sector"), on_delete=models.PROTECT, related_name="applications"
    )
    title = models.CharField(_("project title"), max_length=200, validators=[validate_plain_text])
    summary = models.TextField(
        _("summary"), max_length=4000, blank=True, validators=[validate_plain_text]
    )
    financing_kind = models.CharField(
        _("financing asked"), max_length=10, choices=FinancingKind.choices
    )
    requested_amount = models.DecimalField(_("amount requested"), validators=POSITIVE, **MONEY)
    expected_monthly_revenue = models.DecimalField(
        _("expected monthly revenue"), null=True, blank=True, validators=POSITIVE, **MONEY
    )
    expected_jobs_women = models.PositiveSmallIntegerField(_("expected jobs (women)"), default=0)
    expected_jobs_men = models.PositiveSmallIntegerField(_("expected jobs (men)"), default=0)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.SUBMITTED,
    )
    submitted_on = models.DateField(_("submitted on"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    eligibility_notes = models.JSONField(_("eligibility check"), default=list, blank=True)
    # The promoter follows the application with its reference and this secret.
    tracking_secret = models.CharField(max_length=40, editable=False)
    # Filled by the committee's decision.
    score = models.DecimalField(_("score"), max_digits=7, decimal_places=3, null=True, blank=True)
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)
    awarded_amount = models.DecimalField(
        _("amount awarded"), null=True, blank=True, validators=POSITIVE, **MONEY
    )
    decision_note = models.CharField(_("decision"), max_length=500, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords(excluded_fields=["updated_at", "tracking_secret"])

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-submitted_on", "-pk"]
        indexes = [models.Index(fields=["call", "status"], name="application_call_status")]

    def __str__(self) -> str:
        return f"{self.reference} · {self.title}"

    @property
    def currency(self) -> str:
        return self.call.currency

    @property
    def expected_jobs(self) -> int:
        return self.expected_jobs_women + self.expected_jobs_men


class InvestmentItem(models.Model):
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="investments"
    )
    label = models.CharField(_("item"), max_length=200, validators=[validate_plain_text])
    quantity = models.DecimalField(
        _("quantity"), max_digits=10, decimal_places=2, default=1, validators=POSITIVE
    )
    unit_cost = models.DecimalField(_("unit cost"), validators=POSITIVE, **MONEY)
    amount = models.DecimalField(_("amount"), validators=POSITIVE, **MONEY)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("investment item")
        verbose_name_plural = _("investment items")
        ordering = ["application_id", "pk"]

    def __str__(self) -> str:
        return self.label


class FundingSource(models.TextChoices):
    OWN = "own", _("Own contribution")
    GRANT = "grant", _("Grant requested")
    LOAN = "loan", _("Loan requested")
    IN_KIND = "in_kind", _("In-kind support requested")
    BANK = "bank", _("Bank or microfinance loan")
    OTHER = "other", _("Other")


class FinancingLine(models.Model):
    """One line of the business plan's financing plan; the lines add up to the investment."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="financing_plan"
    )
    source = models.CharField(_("source"), max_length=10, choices=FundingSource.choices)
    amount = models.DecimalField(_("amount"), validators=POSITIVE, **MONEY)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("financing line")
        verbose_name_plural = _("financing plan")
        ordering = ["application_id", "pk"]

    def __str__(self) -> str:
        return f"{self.get_source_display()} · {self.amount}"


def attachment_upload_to(instance, filename: str) -> str:
    owner = (
        f"a{instance.application_id}" if instance.application_id else f"s{instance.submission_id}"
    )
    return f"applications/{owner}/{filename}"


class SubmissionStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    REGISTERED = "registered", _("Registered as an application")
    DECLINED = "declined", _("Declined")


class PublicSubmissionQuerySet(GuardedQuerySet):
    def visibility_filter(self, scope):
        """Staff of the call's organisation, of its members when it is a network, within
        their territory: whoever may register the application."""
        condition = Q(pk__in=[])
        for grant in scope.grants:
            condition |= networks_of_q(
                "call__organisation_id", grant.organisation_ids
            ) & grant.territory_q("territory_id")
        return condition


class PublicSubmission(models.Model):
    """An application sent from the public page. Nothing enters the registry until a field
    officer registers it (``submission_register``): the promoter is matched against the
    people already known, then the application is created."""

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="submissions")
    reference = models.CharField(_("reference"), max_length=30, unique=True, editable=False)
    tracking_secret = models.CharField(max_length=40, editable=False)
    kind = models.CharField(_("kind"), max_length=12, choices=ApplicationKind.choices)
    territory = models.ForeignKey(
        "territories.Territory",
        verbose_name=_("territory"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    data = models.JSONField(_("application"), default=dict)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    consent_given = models.BooleanField(_("consent to the privacy notice"), default=False)
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=SubmissionStatus.choices,
        default=SubmissionStatus.RECEIVED,
    )
    application = models.OneToOneField(
        "Application", null=True, blank=True, on_delete=models.PROTECT, related_name="submission"
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decline_reason = models.CharField(
        _("reason"), max_length=500, blank=True, validators=[validate_plain_text]
    )
    history = HistoricalRecords(excluded_fields=["tracking_secret"])

    objects = PublicSubmissionQuerySet.as_manager()

    class Meta:
        verbose_name = _("public application")
        verbose_name_plural = _("public applications")
        ordering = ["-submitted_at", "-pk"]

    def __str__(self) -> str:
        return self.reference


class Attachment(models.Model):
    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    submission = models.ForeignKey(
        PublicSubmission,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    document = models.ForeignKey(
        RequiredDocument,
        verbose_name=_("document"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    file = models.FileField(_("file"), upload_to=attachment_upload_to, max_length=200)
    name = models.CharField(_("name"), max_length=200, validators=[validate_plain_text])
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["application_id", "pk"]

    def __str__(self) -> str:
        return self.name


# --- Committee --------------------------------------------------------------------------------


class SessionStatus(models.TextChoices):
    SCORING = "scoring", _("Scoring")
    DECIDED = "decided", _("Decided")


class CommitteeSession(models.Model):
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="sessions")
    held_on = models.DateField(_("held on"))
    place = models.CharField(
        _("place"), max_length=200, blank=True, validators=[validate_plain_text]
    )
    language = models.CharField(
        _("language of the minutes"), max_length=10, choices=settings.LANGUAGES
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("members"), related_name="committee_sessions"
    )
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("chair"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=SessionStatus.choices, default=SessionStatus.SCORING
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    minutes_note = models.TextField(
        _("remarks for the minutes"), max_length=4000, blank=True, validators=[validate_plain_text]
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("committee session")
        verbose_name_plural = _("committee sessions")
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.call} · {self.held_on}"


class Score(models.Model):
    """One member's score of one application on one criterion. Each member writes their own
    rows, so two members scoring at the same time never overwrite each other."""

    session = models.ForeignKey(CommitteeSession, on_delete=models.CASCADE, related_name="scores")
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="scores")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="scores")
    value = models.PositiveSmallIntegerField(_("score"))
    comment = models.CharField(
        _("comment"), max_length=500, blank=True, validators=[validate_plain_text]
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "application", "member", "criterion"], name="one_score_each"
            )
        ]

    def __str__(self) -> str:
        return f"{self.application_id} · {self.criterion_id} · {self.value}"


# --- Projects and financing -------------------------------------------------------------------


class ProjectStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    STRUGGLING = "struggling", _("Struggling")
    STOPPED = "stopped", _("Stopped")


class ProjectQuerySet(GuardedQuerySet):
    def visibility_filter(self, scope):
        """Staff of the implementing organisation and its networks, within their territory."""
        condition = Q(pk__in=[])
        for grant in scope.grants:
            condition |= Q(organisation_id__in=grant.organisation_ids) & grant.territory_q(
                "territory_id"
            )
        return condition


class Project(ArchivableModel):
    """A financed micro-project, individual or collective."""

    application = models.OneToOneField(
        Application,
        verbose_name=_("application"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="project",
    )
    code = models.CharField(_("code"), max_length=30, unique=True)
    organisation = models.ForeignKey(
        "organisations.Organisation",
        verbose_name=_("implementing organisation"),
        on_delete=models.PROTECT,
        related_name="projects",
    )
    programme = models.ForeignKey(
        "programmes.Programme",
        verbose_name=_("programme"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="projects",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=ApplicationKind.choices)
    promoter = models.ForeignKey(
        "registry.Person",
        verbose_name=_("promoter"),
        on_delete=models.PROTECT,
        related_name="projects",
    )
    group = models.ForeignKey(
        "registry.Group",
        verbose_name=_("collective"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="projects",
    )
    territory = models.ForeignKey(
        "territories.Territory",
        verbose_name=_("territory"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The governorate or region, kept for the dashboard (the territory may be a delegation).
    region = models.ForeignKey(
        "territories.Territory",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    sector = models.ForeignKey(
        Sector, verbose_name=_("sector"), on_delete=models.PROTECT, related_name="projects"
    )
    title = models.CharField(_("title"), max_length=200, validators=[validate_plain_text])
    currency = models.CharField(_("currency"), max_length=3)
    financed_on = models.DateField(_("financed on"))
    amount_financed = models.DecimalField(
        _("amount financed"), validators=POSITIVE, default=Decimal(0), **MONEY
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ProjectStatus.choices, default=ProjectStatus.ACTIVE
    )
    stopped_on = models.DateField(_("stopped on"), null=True, blank=True)
    # Whole months between financing and stopping: "alive at 6/12/24 months" is one comparison.
    months_alive = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    mentor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("mentor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="mentored_projects",
    )
    # From the latest visit.
    last_visit_on = models.DateField(_("last visit"), null=True, blank=True)
    jobs_women = models.PositiveIntegerField(_("jobs (women)"), default=0)
    jobs_men = models.PositiveIntegerField(_("jobs (men)"), default=0)
    monthly_revenue = models.DecimalField(
        _("monthly revenue"), null=True, blank=True, validators=POSITIVE, **MONEY
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = ProjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("micro-project")
        verbose_name_plural = _("micro-projects")
        ordering = ["-financed_on", "-pk"]
        indexes = [
            models.Index(fields=["region", "sector", "status"], name="project_dashboard"),
            models.Index(fields=["organisation", "financed_on"], name="project_org_financed"),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.title}"

    @property
    def jobs(self) -> int:
        return self.jobs_women + self.jobs_men


class Financing(models.Model):
    """One component of a project's financing: a grant, a loan or support in kind."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="financings")
    kind = models.CharField(_("kind"), max_length=10, choices=FinancingKind.choices)
    amount = models.DecimalField(_("amount"), validators=POSITIVE, **MONEY)
    description = models.CharField(
        _("description"), max_length=300, blank=True, validators=[validate_plain_text]
    )
    awarded_on = models.DateField(_("awarded on"))
    # Loans only.
    grace_months = models.PositiveSmallIntegerField(_("grace period (months)"), default=0)
    instalments = models.PositiveSmallIntegerField(_("instalments"), null=True, blank=True)
    first_due_on = models.DateField(_("first instalment due on"), null=True, blank=True)
    outstanding = models.DecimalField(_("outstanding"), default=Decimal(0), **MONEY)
    oldest_unpaid_due_on = models.DateField(_("oldest unpaid instalment"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("financing")
        verbose_name_plural = _("financings")
        ordering = ["project_id", "pk"]
        indexes = [models.Index(fields=["kind", "oldest_unpaid_due_on"], name="financing_arrears")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="financing_positive"),
            models.CheckConstraint(condition=Q(outstanding__gte=0), name="outstanding_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.amount}"


class TrancheStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    EVIDENCED = "evidenced", _("Milestone evidenced")
    RELEASED = "released", _("Released")


def evidence_upload_to(instance, filename: str) -> str:
    return f"tranches/{instance.financing_id}/{filename}"


class Tranche(models.Model):
    """Part of a financing released when its milestone is evidenced."""

    financing = models.ForeignKey(Financing, on_delete=models.CASCADE, related_name="tranches")
    number = models.PositiveSmallIntegerField(_("number"))
    amount = models.DecimalField(_("amount"), validators=POSITIVE, **MONEY)
    milestone = models.CharField(_("milestone"), max_length=300, validators=[validate_plain_text])
    planned_on = models.DateField(_("planned on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=TrancheStatus.choices, default=TrancheStatus.PLANNED
    )
    evidence_note = models.TextField(
        _("evidence"), max_length=2000, blank=True, validators=[validate_plain_text]
    )
    evidence_file = models.FileField(
        _("evidence file"), upload_to=evidence_upload_to, max_length=200, blank=True
    )
    evidenced_on = models.DateField(_("evidenced on"), null=True, blank=True)
    evidenced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    released_on = models.DateField(_("released on"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("tranche")
        verbose_name_plural = _("tranches")
        ordering = ["financing_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["financing", "number"], name="unique_tranche_number"),
            models.CheckConstraint(
                condition=Q(released_on__isnull=True) | Q(evidenced_on__isnull=False),
                name="released_only_when_evidenced",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} · {self.amount}"


class Instalment(models.Model):
    """One line of a loan's repayment schedule."""

    financing = models.ForeignKey(Financing, on_delete=models.CASCADE, related_name="schedule")
    number = models.PositiveSmallIntegerField(_("number"))
    due_on = models.DateField(_("due on"))
    amount = models.DecimalField(_("amount due"), **MONEY)
    paid = models.DecimalField(_("paid"), default=Decimal(0), **MONEY)

    class Meta:
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        ordering = ["financing_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["financing", "number"], name="unique_instalment"),
            models.CheckConstraint(
                condition=Q(paid__gte=0) & Q(paid__lte=F("amount")), name="instalment_paid_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} · {self.due_on} · {self.amount}"

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.paid


class Repayment(models.Model):
    financing = models.ForeignKey(Financing, on_delete=models.PROTECT, related_name="repayments")
    paid_on = models.DateField(_("paid on"))
    amount = models.DecimalField(_("amount"), **MONEY)
    receipt = models.CharField(_("receipt number"), max_length=40, unique=True, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("repayment")
        verbose_name_plural = _("repayments")
        ordering = ["financing_id", "paid_on", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="repayment_positive")]

    def __str__(self) -> str:
        return f"{self.receipt} · {self.amount}"


# --- Accompaniment and follow-up ----------------------------------------------------------------


class CoachingKind(models.TextChoices):
    TRAINING = "training", _("Training")
    COACHING = "coaching", _("Coaching")
    BUSINESS_PLAN = "business_plan", _("Business-plan workshop")


class CoachingSession(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="coaching")
    kind = models.CharField(_("kind"), max_length=15, choices=CoachingKind.choices)
    held_on = models.DateField(_("held on"))
    topic = models.CharField(_("topic"), max_length=200, validators=[validate_plain_text])
    hours = models.DecimalField(
        _("hours"), max_digits=5, decimal_places=2, validators=[MinValueValidator(Decimal("0.25"))]
    )
    attendees = models.ManyToManyField(
        "registry.Person", verbose_name=_("present"), blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("training or coaching session")
        verbose_name_plural = _("training and coaching sessions")
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.held_on} · {self.topic}"


class VisitStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    DONE = "done", _("Done")
    MISSED = "missed", _("Missed")


def photo_upload_to(instance, filename: str) -> str:
    return f"visits/{instance.project_id}/{filename}"


class Visit(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="visits")
    planned_on = models.DateField(_("planned on"), null=True, blank=True)
    visited_on = models.DateField(_("visited on"), null=True, blank=True)
    state = models.CharField(_("visit"), max_length=10, choices=VisitStatus.choices)
    project_status = models.CharField(
        _("project status"), max_length=12, choices=ProjectStatus.choices, blank=True
    )
    jobs_women = models.PositiveIntegerField(_("jobs (women)"), null=True, blank=True)
    jobs_men = models.PositiveIntegerField(_("jobs (men)"), null=True, blank=True)
    monthly_revenue = models.DecimalField(
        _("monthly revenue"), null=True, blank=True, validators=POSITIVE, **MONEY
    )
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    photo = models.FileField(_("photo"), upload_to=photo_upload_to, max_length=200, blank=True)
    notes = models.TextField(
        _("notes"), max_length=4000, blank=True, validators=[validate_plain_text]
    )
    visited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("follow-up visit")
        verbose_name_plural = _("follow-up visits")
        ordering = ["-visited_on", "-planned_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.project_id} · {self.visited_on or self.planned_on}"


# --- Catalogue and exhibitions ------------------------------------------------------------------


def product_upload_to(instance, filename: str) -> str:
    return f"products/{instance.project_id}/{filename}"


class Product(ArchivableModel):
    """A promoter's product shown on the public catalogue (when ``published``)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="products")
    name = I18nCharField(_("name"))
    description = I18nTextField(_("description"), blank=True)
    photo = models.FileField(_("photo"), upload_to=product_upload_to, max_length=200, blank=True)
    price_min = models.DecimalField(_("lowest price"), validators=POSITIVE, **MONEY)
    price_max = models.DecimalField(_("highest price"), validators=POSITIVE, **MONEY)
    published = models.BooleanField(_("shown on the public catalogue"), default=False)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["project_id", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(price_max__gte=F("price_min")), name="price_range")
        ]

    def __str__(self) -> str:
        return str(self.name)


class Exhibition(ArchivableModel):
    """A forum or exhibition where promoters hold stands."""

    organisation = models.ForeignKey(
        "organisations.Organisation",
        verbose_name=_("organised by"),
        on_delete=models.PROTECT,
        related_name="exhibitions",
    )
    name = I18nCharField(_("name"))
    description = I18nTextField(_("description"), blank=True)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    territory = models.ForeignKey(
        "territories.Territory", verbose_name=_("place"), on_delete=models.PROTECT, related_name="+"
    )
    venue = models.CharField(
        _("venue"), max_length=200, blank=True, validators=[validate_plain_text]
    )
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("exhibition")
        verbose_name_plural = _("exhibitions")
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="exhibition_dates"
            )
        ]

    def __str__(self) -> str:
        return str(self.name)


class Stand(models.Model):
    exhibition = models.ForeignKey(Exhibition, on_delete=models.CASCADE, related_name="stands")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="stands")
    label = models.CharField(
        _("stand"), max_length=20, blank=True, validators=[validate_plain_text]
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("stand")
        verbose_name_plural = _("stands")
        ordering = ["exhibition_id", "label", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["exhibition", "project"], name="one_stand_per_project")
        ]

    def __str__(self) -> str:
        return self.label or str(self.project_id)
