from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from tadamun.access.querysets import GuardedQuerySet
from tadamun.core.models import ArchivableModel
from tadamun.core.validators import validate_name, validate_plain_text, validate_single_line


class Sex(models.TextChoices):
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")
    OTHER = "X", _("Other")
    UNKNOWN = "U", _("Not recorded")


class DocumentType(models.TextChoices):
    NATIONAL_ID = "national_id", _("National identity card")
    PASSPORT = "passport", _("Passport")
    RESIDENCE_PERMIT = "residence_permit", _("Residence permit")
    TAX_CODE = "tax_code", _("Tax code")
    OTHER = "other", _("Other document")


class ShareReason(models.TextChoices):
    REGISTERED = "registered", _("Registered the person")
    SHARED = "shared", _("Shared with consent")
    REFERRAL = "referral", _("Received a referral")


class PersonQuerySet(GuardedQuerySet):
    def visibility_filter(self, scope):
        """A person is seen by staff of an organisation holding their record, within the
        territory the staff member's role is limited to."""
        condition = Q(pk__in=[])
        for grant in scope.grants:
            holds = Exists(
                PersonShare.objects.filter(
                    person=OuterRef("pk"), organisation_id__in=grant.organisation_ids
                )
            )
            condition |= Q(holds) & grant.territory_q("residence_id")
        return condition

    def current(self):
        return self.filter(archived_at__isnull=True)


class Person(ArchivableModel):
    given_name = models.CharField(_("given name"), max_length=150, validators=[validate_name])
    family_name = models.CharField(
        _("family name"), max_length=150, blank=True, validators=[validate_name]
    )
    given_name_latin = models.CharField(
        _("given name (Latin letters)"),
        max_length=150,
        blank=True,
        validators=[validate_name],
        help_text=_(
            "As written in Latin letters on documents; filled in automatically if left empty."
        ),
    )
    family_name_latin = models.CharField(
        _("family name (Latin letters)"), max_length=150, blank=True, validators=[validate_name]
    )
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    birth_year = models.PositiveSmallIntegerField(
        _("year of birth"),
        null=True,
        blank=True,
        help_text=_("When only the year is known."),
    )
    phone = models.CharField(
        _("phone"), max_length=40, blank=True, validators=[validate_single_line]
    )
    email = models.EmailField(_("email"), blank=True)
    address = models.TextField(
        _("address"), blank=True, max_length=500, validators=[validate_plain_text]
    )
    document_type = models.CharField(
        _("identity document"), max_length=20, choices=DocumentType.choices, blank=True
    )
    document_number = models.CharField(
        _("document number"), max_length=40, blank=True, validators=[validate_single_line]
    )
    residence = models.ForeignKey(
        "territories.Territory",
        verbose_name=_("territory of residence"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    languages = models.JSONField(_("languages spoken"), default=list, blank=True)
    organisation = models.ForeignKey(
        "organisations.Organisation",
        verbose_name=_("registered by"),
        on_delete=models.PROTECT,
        related_name="registered_people",
    )
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["-pk"]
        indexes = [models.Index(fields=["organisation", "-id"], name="person_org_recent")]
        constraints = [
            models.CheckConstraint(
                condition=Q(birth_year__isnull=True) | Q(birth_year__gte=1900),
                name="person_birth_year_plausible",
            )
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.given_name, self.family_name) if p)

    @property
    def latin_name(self) -> str:
        return " ".join(p for p in (self.given_name_latin, self.family_name_latin) if p)

    @property
    def year_of_birth(self) -> int | None:
        return self.birth_date.year if self.birth_date else self.birth_year


class PersonShare(models.Model):
    """An organisation that holds a person's record, and why. Visibility follows these rows."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="shares")
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=20, choices=ShareReason.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("organisation holding a record")
        verbose_name_plural = _("organisations holding records")
        constraints = [
            models.UniqueConstraint(fields=["person", "organisation"], name="unique_person_share")
        ]
        indexes = [models.Index(fields=["organisation", "person"], name="share_org_person")]

    def __str__(self) -> str:
        return f"{self.person_id} · {self.organisation_id} · {self.reason}"


class PersonNameKey(models.Model):
    """One folded token of a person's names (any script), for indexed prefix search."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="name_keys")
    key = models.CharField(max_length=60)

    class Meta:
        # varchar_pattern_ops lets PostgreSQL serve LIKE 'abc%' from the index whatever the
        # database collation; other databases ignore operator classes. Unique, because the
        # name search joins on a key and counts on each person holding it once.
        constraints = [
            models.UniqueConstraint(
                fields=["key", "person"],
                name="name_key_prefix",
                opclasses=["varchar_pattern_ops", "int8_ops"],
            )
        ]

    def __str__(self) -> str:
        return self.key


class PersonMatchKey(models.Model):
    """A cross-script key of a person's names and birth (``tadamun.matching.keys.match_keys``),
    for the duplicate check at the desk and in imports. Derived from the person's fields and
    written again with them by the services, like ``PersonNameKey``: no history."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="match_keys")
    key = models.CharField(max_length=60)

    class Meta:
        # varchar_pattern_ops: PostgreSQL serves LIKE 'n:MHMT|TR%' from the index whatever
        # the collation; SQLite ignores operator classes (the lookup reads a range there).
        constraints = [
            models.UniqueConstraint(
                fields=["key", "person"],
                name="match_key_prefix",
                opclasses=["varchar_pattern_ops", "int8_ops"],
            )
        ]

    def __str__(self) -> str:
        return self.key


class PersonLookupLog(models.Model):
    """Who looked the whole registry up for possible duplicates, when, and how many candidates
    it answered: nothing typed and nobody found is kept. One row covers a user's lookups
    during ``registry.services.LOOKUP_LOG_WINDOW`` (typing runs one lookup per pause)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # lookup_log_user_recent starts with it
    )
    organisation = models.ForeignKey(
        "organisations.Organisation",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), db_index=True)
    lookups = models.PositiveIntegerField(_("lookups"), default=1)
    shown = models.PositiveIntegerField(
        _("candidates shown"), default=0, help_text=_("The most one lookup showed.")
    )
    hidden = models.PositiveIntegerField(
        _("candidates of other organisations"),
        default=0,
        help_text=_("The most one lookup mentioned without showing them."),
    )

    class Meta:
        verbose_name = _("registry lookup")
        verbose_name_plural = _("registry lookups")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["user", "-at"], name="lookup_log_user_recent")]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.at:%Y-%m-%d %H:%M}"


class ConsentPurpose(models.TextChoices):
    REGISTRATION = "registration", _("Keeping a record to provide support")
    NETWORK_SHARING = "network_sharing", _("Sharing with organisations of the network")
    REFERRAL = "referral", _("Referral to a partner organisation")
    HEALTH = "health", _("Processing health information")
    PHOTOS = "photos", _("Photos and publication")
    CONTACT = "contact", _("Contact about events and training")


class LawfulBasis(models.TextChoices):
    CONSENT = "consent", _("Consent")
    CONTRACT = "contract", _("Contract")
    LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation")
    VITAL_INTERESTS = "vital_interests", _("Vital interests")
    PUBLIC_TASK = "public_task", _("Public task")
    LEGITIMATE_INTERESTS = "legitimate_interests", _("Legitimate interests")


class Consent(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=30, choices=ConsentPurpose.choices)
    lawful_basis = models.CharField(
        _("lawful basis"), max_length=30, choices=LawfulBasis.choices, default=LawfulBasis.CONSENT
    )
    organisation = models.ForeignKey(
        "organisations.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    given_on = models.DateField(_("given on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=500, blank=True, validators=[validate_plain_text])
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("withdrawal recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-given_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} · {self.person_id}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_on is None


class GroupKind(models.TextChoices):
    HOUSEHOLD = "household", _("Household")
    COOPERATIVE = "cooperative", _("Cooperative")
    ASSOCIATION = "association", _("Association")
    COLLECTIVE = "collective", _("Informal collective")


class MemberRole(models.TextChoices):
    HEAD = "head", _("Head of household")
    SPOUSE = "spouse", _("Spouse or partner")
    CHILD = "child", _("Child")
    RELATIVE = "relative", _("Other relative")
    PRESIDENT = "president", _("President")
    TREASURER = "treasurer", _("Treasurer")
    SECRETARY = "secretary", _("Secretary")
    MEMBER = "member", _("Member")


class GroupQuerySet(GuardedQuerySet):
    def visibility_filter(self, scope):
        condition = Q(pk__in=[])
        for grant in scope.grants:
            condition |= Q(organisation_id__in=grant.organisation_ids) & grant.territory_q(
                "territory_id"
            )
        return condition

    def current(self):
        return self.filter(archived_at__isnull=True)


class Group(ArchivableModel):
    name = models.CharField(_("name"), max_length=200, validators=[validate_name])
    kind = models.CharField(_("kind"), max_length=20, choices=GroupKind.choices)
    organisation = models.ForeignKey(
        "organisations.Organisation",
        verbose_name=_("registered by"),
        on_delete=models.PROTECT,
        related_name="registered_groups",
    )
    territory = models.ForeignKey(
        "territories.Territory",
        verbose_name=_("territory"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = GroupQuerySet.as_manager()

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["-pk"]

    def __str__(self) -> str:
        return self.name


class GroupMember(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="group_links")
    role = models.CharField(
        _("role"), max_length=20, choices=MemberRole.choices, default=MemberRole.MEMBER
    )
    share = models.DecimalField(
        _("share (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Share of a cooperative or collective project, in percent."),
    )
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("group member")
        verbose_name_plural = _("group members")
        ordering = ["group_id", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(share__isnull=True) | (Q(share__gte=0) & Q(share__lte=100)),
                name="member_share_percent",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.get_role_display()}"
