"""Serializers of the micro-projects API.

Amounts travel as strings with exactly the currency's decimals ("428.571" in TND, "12.50" in
EUR), never as JSON numbers, which would lose decimals. What the caller sends is checked for
its shape here and for every rule of the domain by the service functions, whose errors keep
their field keys (``requested_amount``, ``investments.1.unit_cost``, ``financings.2.amount``).
"""

from collections.abc import Mapping
from decimal import Decimal

from django.conf import settings
from django.core.validators import ProhibitNullCharactersValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from tadamun.accounts.models import User
from tadamun.api.fields import TranslatedField
from tadamun.api.serializers import (
    OrganisationCodeField,
    StrictModelSerializer,
    TerritoryCodeField,
    _CodeField,
)
from tadamun.core.money import quantize
from tadamun.programmes.models import Programme
from tadamun.registry.models import Group, Person

from . import services
from .models import (
    Application,
    ApplicationKind,
    ApplicationStatus,
    Call,
    CallStatus,
    CoachingKind,
    CoachingSession,
    CommitteeSession,
    Envelope,
    Exhibition,
    Financing,
    FinancingKind,
    FundingSource,
    Instalment,
    Product,
    Project,
    ProjectStatus,
    PublicSubmission,
    Repayment,
    Score,
    Stand,
    Tranche,
    Visit,
)

# --- Fields ---------------------------------------------------------------------------------


def money_text(amount, currency: str | None) -> str | None:
    """``amount`` as text with the currency's decimals; None stays None."""
    if amount is None:
        return None
    if not currency:
        return str(amount)
    return str(quantize(Decimal(amount), currency))


def _resolve(instance, path: str):
    for part in path.split("."):
        if instance is None:
            return None
        instance = instance.get(part) if isinstance(instance, Mapping) else getattr(instance, part)
    return instance


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^-?\d+(\.\d+)?$",
        "description": "An amount as text, with the currency's decimals (TND 3, EUR and MAD 2).",
        "example": "1250.500",
    }
)
class MoneyField(serializers.Field):
    """An amount written as text (or a whole number) and read back as text with the
    decimals of the currency found at ``currency`` (a dotted path on the record)."""

    default_error_messages = {
        "invalid": _('Give the amount as text, such as "1250.500", to keep every decimal.'),
        "too_long": _("This amount is too long."),
    }

    def __init__(self, *, currency: str = "currency", **kwargs):
        self.currency_path = currency
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        value = super().get_attribute(instance)
        return (value, _resolve(instance, self.currency_path))

    def to_representation(self, value):
        amount, currency = value if isinstance(value, tuple) else (value, None)
        return money_text(amount, currency)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        text = str(data).strip()
        if len(text) > 40:
            self.fail("too_long")
        if "\x00" in text:
            raise serializers.ValidationError(
                ProhibitNullCharactersValidator.message, code=ProhibitNullCharactersValidator.code
            )
        return text


def _enum(choices_class, component: str, *, blank: bool = False):
    """A choice field whose schema is one named enum (``component``) wherever it is used, so
    a choice set shared by several serializers keeps a single, stable name."""
    values = list(choices_class.values) + ([""] if blank else [])

    class EnumField(serializers.ChoiceField):
        def __init__(self, **kwargs):
            kwargs.setdefault("allow_blank", blank)
            super().__init__(choices=choices_class.choices, **kwargs)

    EnumField.__name__ = EnumField.__qualname__ = f"{component}Field"
    return extend_schema_field({"type": "string", "enum": values}, component_name=component)(
        EnumField
    )


ApplicationKindField = _enum(ApplicationKind, "ApplicationKindEnum")
ApplicationStatusField = _enum(ApplicationStatus, "ApplicationStatusEnum")
CallStatusField = _enum(CallStatus, "CallStatusEnum")
FinancingKindField = _enum(FinancingKind, "FinancingKindEnum")
ProjectStatusField = _enum(ProjectStatus, "ProjectStatusEnum")
VisitProjectStatusField = _enum(ProjectStatus, "VisitProjectStatusEnum", blank=True)


class StrictSerializer(serializers.Serializer):
    """A plain serializer that refuses fields it does not know, and numbers or booleans where
    text is due (as ``StrictModelSerializer`` does for model serializers)."""

    def to_internal_value(self, data):
        errors = {}
        if isinstance(data, Mapping):
            for name, value in data.items():
                field = self.fields.get(name)
                if field is None or field.read_only:
                    errors[name] = [_("This field cannot be set here.")]
                elif (
                    isinstance(field, serializers.CharField)
                    and value is not None
                    and not isinstance(value, str)
                ):
                    errors[name] = [serializers.CharField.default_error_messages["invalid"]]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if errors and isinstance(error.detail, dict):
                raise serializers.ValidationError({**error.detail, **errors}) from None
            raise
        if errors:
            raise serializers.ValidationError(errors)
        return value


class SectorCodeField(_CodeField):
    def __init__(self, **kwargs):
        from .models import Sector

        kwargs.setdefault("slug_field", "code")
        kwargs.setdefault("queryset", Sector.objects.all())
        super().__init__(**kwargs)


def territory_field(**kwargs):
    kwargs.setdefault("allow_null", False)
    kwargs.setdefault("required", True)
    return TerritoryCodeField(**kwargs)


@extend_schema_field(OpenApiTypes.INT)
class UserRef(serializers.PrimaryKeyRelatedField):
    """A user by id (committee members, chair, mentor); the service checks they work for the
    network."""

    def get_queryset(self):
        return User.objects.filter(is_active=True)


@extend_schema_field(OpenApiTypes.INT)
class VisiblePerson(serializers.PrimaryKeyRelatedField):
    """A person the caller may see; anyone else "does not exist", as a wrong id."""

    def get_queryset(self):
        return Person.objects.visible_to(self.context["request"].user)


@extend_schema_field(OpenApiTypes.INT)
class VisibleGroup(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return Group.objects.visible_to(self.context["request"].user)


@extend_schema_field(OpenApiTypes.INT)
class VisibleCall(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return Call.objects.visible_to(self.context["request"].user)


@extend_schema_field(OpenApiTypes.INT)
class VisibleProject(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return Project.objects.visible_to(self.context["request"].user).filter(
            archived_at__isnull=True
        )


@extend_schema_field(OpenApiTypes.STR)
class VisibleProgramme(_CodeField):
    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "code")
        super().__init__(**kwargs)

    def get_queryset(self):
        return Programme.objects.visible_to(self.context["request"].user)


def _code(**kwargs):
    return serializers.SlugRelatedField(slug_field="code", read_only=True, **kwargs)


def _slug(**kwargs):
    return serializers.SlugRelatedField(slug_field="slug", read_only=True, **kwargs)


class VersionField(serializers.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("default", None)
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", 2**31 - 1)
        kwargs.setdefault(
            "help_text",
            "The version the change is based on; a change based on an older one answers 409.",
        )
        super().__init__(**kwargs)


# --- Calls ----------------------------------------------------------------------------------


class EnvelopeSerializer(StrictModelSerializer):
    territory = territory_field()
    amount = MoneyField(currency="call.currency")

    class Meta:
        model = Envelope
        fields = ["territory", "amount"]


class CriterionSerializer(StrictSerializer):
    code = serializers.SlugField(max_length=40)
    label = TranslatedField()
    weight = serializers.DecimalField(max_digits=5, decimal_places=2)
    max_score = serializers.IntegerField(default=10, min_value=1, max_value=100)
    order = serializers.IntegerField(read_only=True)


class DocumentSerializer(StrictSerializer):
    code = serializers.SlugField(max_length=40)
    label = TranslatedField()
    mandatory = serializers.BooleanField(default=True)


class CallSerializer(StrictModelSerializer):
    status = CallStatusField(read_only=True)
    organisation = OrganisationCodeField(
        help_text="The organisation publishing the call (one the caller coordinates).",
    )
    programme = VisibleProgramme(allow_null=True, required=False)
    title = TranslatedField(max_length=300)
    description = TranslatedField(max_length=10_000, multiline=True, required=False)
    eligibility = TranslatedField(max_length=10_000, multiline=True, required=False)
    max_amount = MoneyField(allow_null=True, required=False)
    sectors = SectorCodeField(many=True, required=False)
    envelopes = EnvelopeSerializer(many=True, read_only=True)
    criteria = CriterionSerializer(many=True, read_only=True)
    documents = DocumentSerializer(many=True, read_only=True)

    class Meta:
        model = Call
        fields = [
            "id",
            "code",
            "organisation",
            "programme",
            "title",
            "description",
            "eligibility",
            "status",
            "opens_on",
            "closes_on",
            "applicants",
            "min_age",
            "max_age",
            "currency",
            "max_amount",
            "sectors",
            "envelopes",
            "criteria",
            "documents",
            "archived_at",
        ]
        read_only_fields = ["id", "status", "archived_at"]
        extra_kwargs = {"code": {"validators": []}}


class CallUpdateSerializer(CallSerializer):
    organisation = _slug()


class CallListSerializer(StrictModelSerializer):
    status = CallStatusField(read_only=True)
    organisation = _slug()
    title = TranslatedField(read_only=True)
    max_amount = MoneyField(read_only=True)

    class Meta:
        model = Call
        fields = [
            "id",
            "code",
            "organisation",
            "title",
            "status",
            "opens_on",
            "closes_on",
            "applicants",
            "currency",
            "max_amount",
        ]
        read_only_fields = fields


# --- Applications ---------------------------------------------------------------------------


class InvestmentSerializer(StrictSerializer):
    label = serializers.CharField(max_length=200)
    quantity = serializers.DecimalField(
        max_digits=10, decimal_places=2, default=Decimal(1), min_value=Decimal("0.01")
    )
    unit_cost = MoneyField(currency="application.call.currency")
    amount = MoneyField(currency="application.call.currency", read_only=True)


class FinancingLineSerializer(StrictSerializer):
    source = serializers.ChoiceField(choices=FundingSource.choices)
    amount = MoneyField(currency="application.call.currency")


class ApplicationListSerializer(StrictModelSerializer):
    kind = ApplicationKindField(read_only=True)
    status = ApplicationStatusField(read_only=True)
    financing_kind = FinancingKindField(read_only=True)
    call = serializers.PrimaryKeyRelatedField(read_only=True)
    organisation = _slug()
    territory = _code()
    sector = _code()
    requested_amount = MoneyField(currency="call.currency", read_only=True)
    awarded_amount = MoneyField(currency="call.currency", read_only=True, allow_null=True)
    currency = serializers.CharField(source="call.currency", read_only=True)

    class Meta:
        model = Application
        fields = [
            "id",
            "reference",
            "call",
            "organisation",
            "kind",
            "promoter",
            "group",
            "territory",
            "sector",
            "title",
            "financing_kind",
            "currency",
            "requested_amount",
            "status",
            "submitted_on",
            "score",
            "rank",
            "awarded_amount",
            "version",
        ]
        read_only_fields = fields


class ApplicationSerializer(ApplicationListSerializer):
    promoter_name = serializers.SerializerMethodField()
    expected_monthly_revenue = MoneyField(currency="call.currency", read_only=True, allow_null=True)
    investments = InvestmentSerializer(many=True, read_only=True)
    financing_plan = FinancingLineSerializer(many=True, read_only=True)
    project = serializers.SerializerMethodField()

    class Meta(ApplicationListSerializer.Meta):
        fields = [
            *ApplicationListSerializer.Meta.fields,
            "promoter_name",
            "summary",
            "expected_monthly_revenue",
            "expected_jobs_women",
            "expected_jobs_men",
            "channel",
            "eligibility_notes",
            "decision_note",
            "investments",
            "financing_plan",
            "project",
            "archived_at",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "nullable": True})
    def get_promoter_name(self, application) -> str | None:
        """The promoter's name when the caller may see the person's record."""
        request = self.context.get("request")
        if request is None:
            return None
        person = Person.objects.visible_to(request.user).filter(pk=application.promoter_id).first()
        return person.full_name if person else None

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_project(self, application) -> int | None:
        request = self.context.get("request")
        if request is None:
            return None
        projects = Project.objects.visible_to(request.user).filter(application=application)
        return projects.values_list("pk", flat=True).first()


class ApplicationCreateSerializer(StrictSerializer):
    call = VisibleCall()
    kind = ApplicationKindField()
    promoter = VisiblePerson()
    group = VisibleGroup(allow_null=True, required=False, default=None)
    territory = territory_field()
    sector = SectorCodeField()
    title = serializers.CharField(max_length=200)
    summary = serializers.CharField(max_length=4000, allow_blank=True, default="")
    financing_kind = FinancingKindField()
    requested_amount = MoneyField()
    expected_monthly_revenue = MoneyField(allow_null=True, required=False, default=None)
    expected_jobs_women = serializers.IntegerField(min_value=0, max_value=32767, default=0)
    expected_jobs_men = serializers.IntegerField(min_value=0, max_value=32767, default=0)
    submitted_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="Today when left out."
    )
    investments = InvestmentSerializer(many=True, max_length=200)
    financing = FinancingLineSerializer(many=True, max_length=50, required=False, default=list)


class PrecheckSerializer(StrictSerializer):
    version = VersionField()
    override_reason = serializers.CharField(
        max_length=500,
        allow_blank=True,
        default="",
        help_text="A coordinator declares the application eligible anyway, for this reason.",
    )


class VersionSerializer(StrictSerializer):
    version = VersionField()


class TrancheInputSerializer(StrictSerializer):
    amount = MoneyField()
    milestone = serializers.CharField(max_length=300)
    planned_on = serializers.DateField(required=False, allow_null=True, default=None)


class FinancingSpecSerializer(StrictSerializer):
    kind = FinancingKindField()
    amount = MoneyField()
    description = serializers.CharField(max_length=300, allow_blank=True, default="")
    grace_months = serializers.IntegerField(min_value=0, max_value=60, default=0)
    instalments = serializers.IntegerField(
        min_value=1, max_value=240, required=False, allow_null=True, default=None
    )
    tranches = TrancheInputSerializer(
        many=True,
        max_length=50,
        required=False,
        allow_null=True,
        default=None,
        help_text="Left out: one tranche for the whole amount, against the signed agreement.",
    )


class AwardSerializer(StrictSerializer):
    financed_on = serializers.DateField()
    financings = FinancingSpecSerializer(many=True, max_length=20)
    mentor = UserRef(allow_null=True, required=False, default=None)
    code = serializers.CharField(max_length=30, required=False, allow_null=True, default=None)
    version = VersionField()


# --- Public submissions ------------------------------------------------------------------------


class SubmissionSerializer(StrictModelSerializer):
    kind = ApplicationKindField(read_only=True)
    territory = _code()
    data = serializers.JSONField(read_only=True)

    class Meta:
        model = PublicSubmission
        fields = [
            "id",
            "reference",
            "call",
            "kind",
            "territory",
            "data",
            "language",
            "submitted_at",
            "status",
            "application",
            "decline_reason",
        ]
        read_only_fields = fields


class SubmissionRegisterSerializer(StrictSerializer):
    promoter = VisiblePerson(help_text="The promoter, registered or found in the registry.")
    group = VisibleGroup(allow_null=True, required=False, default=None)
    sector = SectorCodeField()


class DeclineSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500)


# --- Committee --------------------------------------------------------------------------------


class RankedSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    application = serializers.IntegerField(source="application.pk")
    reference = serializers.CharField(source="application.reference")
    title = serializers.CharField(source="application.title")
    territory = serializers.CharField(source="application.territory.code")
    requested_amount = MoneyField(
        source="application.requested_amount", currency="application.call.currency"
    )
    score = serializers.DecimalField(max_digits=7, decimal_places=3)
    scorers = serializers.IntegerField()
    status = ApplicationStatusField(source="application.status")


class SessionSerializer(StrictModelSerializer):
    call = VisibleCall()
    members = UserRef(many=True)
    chair = UserRef()
    language = serializers.ChoiceField(choices=settings.LANGUAGES)
    ranking = serializers.SerializerMethodField()

    class Meta:
        model = CommitteeSession
        fields = [
            "id",
            "call",
            "held_on",
            "place",
            "language",
            "members",
            "chair",
            "status",
            "decided_at",
            "minutes_note",
            "ranking",
        ]
        read_only_fields = ["id", "status", "decided_at", "minutes_note", "ranking"]

    @extend_schema_field(RankedSerializer(many=True))
    def get_ranking(self, session):
        """Applications before the committee with their weighted score out of 100. Members see
        every one; anyone else only the applications in their own scope."""
        ranking = services.session_ranking(session)
        for number, row in enumerate(ranking, start=1):
            row.rank = row.application.rank if row.application.rank else number
        request = self.context.get("request")
        if request is not None and not session.members.filter(pk=request.user.pk).exists():
            visible = set(
                Application.objects.visible_to(request.user)
                .filter(pk__in=[r.application.pk for r in ranking])
                .values_list("pk", flat=True)
            )
            ranking = [r for r in ranking if r.application.pk in visible]
        return RankedSerializer(ranking, many=True).data


class ScoresSerializer(StrictSerializer):
    application = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    scores = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="The member's score on each criterion of the grid, by criterion code.",
    )
    comment = serializers.CharField(max_length=500, allow_blank=True, default="")


class ScoreSerializer(serializers.ModelSerializer):
    criterion = serializers.CharField(source="criterion.code", read_only=True)

    class Meta:
        model = Score
        fields = ["application", "criterion", "value", "comment"]
        read_only_fields = fields


class SessionDecideSerializer(StrictSerializer):
    pass_mark = serializers.DecimalField(
        max_digits=6,
        decimal_places=3,
        min_value=Decimal(0),
        max_value=Decimal(100),
        default=Decimal(50),
        help_text="The lowest score out of 100 an application needs to be selected.",
    )


# --- Projects and financing -------------------------------------------------------------------


class TrancheSerializer(serializers.ModelSerializer):
    amount = MoneyField(currency="financing.project.currency", read_only=True)

    class Meta:
        model = Tranche
        fields = [
            "id",
            "number",
            "amount",
            "milestone",
            "planned_on",
            "status",
            "evidence_note",
            "evidenced_on",
            "released_on",
        ]
        read_only_fields = fields


class InstalmentSerializer(serializers.ModelSerializer):
    amount = MoneyField(currency="financing.project.currency", read_only=True)
    paid = MoneyField(currency="financing.project.currency", read_only=True)

    class Meta:
        model = Instalment
        fields = ["number", "due_on", "amount", "paid"]
        read_only_fields = fields


class ScheduleSummarySerializer(serializers.Serializer):
    instalments = serializers.IntegerField()
    total = serializers.CharField()
    paid = serializers.CharField()
    outstanding = serializers.CharField()
    due_to_date = serializers.CharField()
    arrears = serializers.CharField()
    next_due_on = serializers.DateField(allow_null=True)
    next_due_amount = serializers.CharField(allow_null=True)
    oldest_unpaid_due_on = serializers.DateField(allow_null=True)


def schedule_summary(financing: Financing, currency: str, today=None) -> dict | None:
    """A loan's schedule in a few figures (None for a grant or support in kind)."""
    if financing.kind != FinancingKind.LOAN:
        return None
    today = today or timezone.localdate()
    rows = list(financing.schedule.all())
    due = [row for row in rows if row.due_on <= today]
    unpaid = [row for row in rows if row.paid < row.amount]
    total = sum((row.amount for row in rows), Decimal(0))
    paid = sum((row.paid for row in rows), Decimal(0))
    due_total = sum((row.amount for row in due), Decimal(0))
    arrears = sum((row.amount - row.paid for row in due), Decimal(0))
    return {
        "instalments": len(rows),
        "total": money_text(total, currency),
        "paid": money_text(paid, currency),
        "outstanding": money_text(financing.outstanding, currency),
        "due_to_date": money_text(due_total, currency),
        "arrears": money_text(arrears, currency),
        "next_due_on": unpaid[0].due_on if unpaid else None,
        "next_due_amount": money_text(unpaid[0].remaining, currency) if unpaid else None,
        "oldest_unpaid_due_on": financing.oldest_unpaid_due_on,
    }


class FinancingSerializer(serializers.ModelSerializer):
    kind = FinancingKindField(read_only=True)
    amount = MoneyField(currency="project.currency", read_only=True)
    outstanding = MoneyField(currency="project.currency", read_only=True)
    currency = serializers.CharField(source="project.currency", read_only=True)
    tranches = TrancheSerializer(many=True, read_only=True)
    schedule_summary = serializers.SerializerMethodField()

    class Meta:
        model = Financing
        fields = [
            "id",
            "project",
            "kind",
            "currency",
            "amount",
            "description",
            "awarded_on",
            "grace_months",
            "instalments",
            "first_due_on",
            "outstanding",
            "oldest_unpaid_due_on",
            "tranches",
            "schedule_summary",
        ]
        read_only_fields = fields

    @extend_schema_field(ScheduleSummarySerializer(allow_null=True))
    def get_schedule_summary(self, financing):
        return schedule_summary(financing, financing.project.currency)


class FinancingDetailSerializer(FinancingSerializer):
    schedule = InstalmentSerializer(many=True, read_only=True)

    class Meta(FinancingSerializer.Meta):
        fields = [*FinancingSerializer.Meta.fields, "schedule"]
        read_only_fields = fields


class ProjectListSerializer(StrictModelSerializer):
    kind = ApplicationKindField(read_only=True)
    status = ProjectStatusField(read_only=True)
    organisation = _slug()
    territory = _code()
    region = _code()
    sector = _code()
    amount_financed = MoneyField(read_only=True)
    monthly_revenue = MoneyField(read_only=True, allow_null=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "code",
            "title",
            "organisation",
            "kind",
            "promoter",
            "group",
            "territory",
            "region",
            "sector",
            "currency",
            "financed_on",
            "amount_financed",
            "status",
            "stopped_on",
            "months_alive",
            "mentor",
            "last_visit_on",
            "jobs_women",
            "jobs_men",
            "monthly_revenue",
            "version",
        ]
        read_only_fields = fields


class ProjectSerializer(ProjectListSerializer):
    financings = FinancingSerializer(many=True, read_only=True)

    class Meta(ProjectListSerializer.Meta):
        fields = [*ProjectListSerializer.Meta.fields, "application", "financings", "archived_at"]
        read_only_fields = fields


class VisitSerializer(StrictModelSerializer):
    project_status = VisitProjectStatusField()
    monthly_revenue = MoneyField(currency="project.currency", allow_null=True, required=False)
    jobs_women = serializers.IntegerField(
        min_value=0, max_value=100_000, allow_null=True, default=None
    )
    jobs_men = serializers.IntegerField(
        min_value=0, max_value=100_000, allow_null=True, default=None
    )
    visit = serializers.IntegerField(
        write_only=True,
        required=False,
        allow_null=True,
        min_value=1,
        max_value=2**63 - 1,
        help_text="A planned visit this one carries out.",
    )

    class Meta:
        model = Visit
        fields = [
            "id",
            "visit",
            "planned_on",
            "visited_on",
            "state",
            "project_status",
            "jobs_women",
            "jobs_men",
            "monthly_revenue",
            "latitude",
            "longitude",
            "notes",
            "visited_by",
        ]
        read_only_fields = ["id", "planned_on", "state", "visited_by"]
        extra_kwargs = {"visited_on": {"required": True, "allow_null": False}}


class AttendeesField(serializers.ManyRelatedField):
    """The people present: written as ids of people the caller sees, read back as the ids of
    those among them the caller sees."""

    def get_attribute(self, session):
        present = CoachingSession.attendees.through.objects.filter(coachingsession=session)
        return Person.objects.visible_to(self.context["request"].user).filter(
            pk__in=present.values("person_id")
        )


class CoachingSerializer(StrictModelSerializer):
    kind = serializers.ChoiceField(choices=CoachingKind.choices)
    attendees = AttendeesField(child_relation=VisiblePerson(), required=False)
    hours = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal("0.25"), max_value=Decimal("999")
    )

    class Meta:
        model = CoachingSession
        fields = ["id", "kind", "held_on", "topic", "hours", "attendees", "recorded_by"]
        read_only_fields = ["id", "recorded_by"]


class MentorSerializer(StrictSerializer):
    mentor = UserRef(allow_null=True)
    version = VersionField()


class EvidenceSerializer(StrictSerializer):
    note = serializers.CharField(max_length=2000)
    evidenced_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="Today when left out."
    )


class ReleaseSerializer(StrictSerializer):
    released_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="Today when left out."
    )


class RepaymentSerializer(StrictModelSerializer):
    amount = MoneyField(currency="financing.project.currency")
    paid_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="Today when left out."
    )
    currency = serializers.CharField(source="financing.project.currency", read_only=True)
    outstanding = MoneyField(
        source="financing.outstanding",
        currency="financing.project.currency",
        read_only=True,
        help_text="What the loan still owes after this repayment.",
    )

    class Meta:
        model = Repayment
        fields = [
            "id",
            "financing",
            "paid_on",
            "amount",
            "currency",
            "receipt",
            "recorded_by",
            "recorded_at",
            "outstanding",
        ]
        read_only_fields = ["id", "financing", "receipt", "recorded_by", "recorded_at"]


# --- Catalogue and exhibitions ----------------------------------------------------------------


class ProductSerializer(StrictModelSerializer):
    project = VisibleProject()
    name = TranslatedField(max_length=200)
    description = TranslatedField(max_length=4000, multiline=True, required=False)
    price_min = MoneyField(currency="project.currency")
    price_max = MoneyField(currency="project.currency")
    currency = serializers.CharField(source="project.currency", read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "project",
            "name",
            "description",
            "price_min",
            "price_max",
            "currency",
            "published",
            "archived_at",
        ]
        read_only_fields = ["id", "archived_at"]


class ProductUpdateSerializer(ProductSerializer):
    project = serializers.PrimaryKeyRelatedField(read_only=True)


class CatalogueSerializer(serializers.ModelSerializer):
    """A published product as the public sees it: no promoter, no project code."""

    name = TranslatedField(read_only=True)
    description = TranslatedField(read_only=True)
    price_min = MoneyField(currency="project.currency", read_only=True)
    price_max = MoneyField(currency="project.currency", read_only=True)
    currency = serializers.CharField(source="project.currency", read_only=True)
    sector = serializers.CharField(source="project.sector.code", read_only=True)
    sector_name = TranslatedField(source="project.sector.name", read_only=True)
    region = serializers.CharField(source="project.region.code", read_only=True)
    region_name = TranslatedField(source="project.region.name", read_only=True)
    photo = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "description",
            "price_min",
            "price_max",
            "currency",
            "sector",
            "sector_name",
            "region",
            "region_name",
            "photo",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_photo(self, product) -> str | None:
        if not product.photo:
            return None
        request = self.context.get("request")
        url = product.photo.url
        return request.build_absolute_uri(url) if request else url


class ExhibitionSerializer(StrictModelSerializer):
    organisation = OrganisationCodeField()
    name = TranslatedField(max_length=200)
    description = TranslatedField(max_length=4000, multiline=True, required=False)
    territory = territory_field()

    class Meta:
        model = Exhibition
        fields = [
            "id",
            "organisation",
            "name",
            "description",
            "starts_on",
            "ends_on",
            "territory",
            "venue",
            "archived_at",
        ]
        read_only_fields = ["id", "archived_at"]


class StandSerializer(StrictModelSerializer):
    project = VisibleProject()
    project_title = serializers.CharField(source="project.title", read_only=True)

    class Meta:
        model = Stand
        fields = ["id", "project", "project_title", "label"]
        read_only_fields = ["id"]
        validators = []  # one stand per project: the service says so, keyed by field


# --- Reports ----------------------------------------------------------------------------------


class AmountSerializer(serializers.Serializer):
    currency = serializers.CharField()
    amount = serializers.CharField()


class SurvivalSerializer(serializers.Serializer):
    months = serializers.IntegerField()
    eligible = serializers.IntegerField(help_text="Projects financed at least that long ago.")
    alive = serializers.IntegerField(help_text="Of which still running that many months later.")
    rate = serializers.FloatField(allow_null=True)


class BucketSerializer(serializers.Serializer):
    projects = serializers.IntegerField()
    individual = serializers.IntegerField()
    collective = serializers.IntegerField()
    jobs_women = serializers.IntegerField()
    jobs_men = serializers.IntegerField()
    jobs = serializers.IntegerField()
    amounts = AmountSerializer(many=True)
    status = serializers.DictField(child=serializers.IntegerField())
    survival = SurvivalSerializer(many=True)


class NamedBucketSerializer(BucketSerializer):
    code = serializers.CharField()
    name = serializers.CharField()


@extend_schema_serializer(many=False)  # one report, not a list of them
class DashboardSerializer(serializers.Serializer):
    total = BucketSerializer()
    by_region = NamedBucketSerializer(many=True)
    by_sector = NamedBucketSerializer(many=True)
    by_status = serializers.DictField(child=serializers.IntegerField())


class PortfolioLineSerializer(serializers.Serializer):
    region = serializers.CharField(allow_null=True)
    region_name = serializers.CharField(allow_null=True)
    currency = serializers.CharField()
    loans = serializers.IntegerField()
    outstanding = serializers.CharField()
    at_risk = serializers.CharField()
    loans_at_risk = serializers.IntegerField()
    par = serializers.FloatField(allow_null=True, help_text="Share of the outstanding at risk.")


@extend_schema_serializer(many=False)  # one report, not a list of them
class PortfolioSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    days = serializers.IntegerField()
    lines = PortfolioLineSerializer(many=True)
