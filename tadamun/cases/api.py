"""Cases API: reads through the access layer, writes through the case services."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from tadamun.accounts.models import User
from tadamun.api.serializers import StrictModelSerializer
from tadamun.organisations.models import Organisation
from tadamun.registry.models import Person

from . import selectors, services
from .models import (
    ActionType,
    Case,
    CaseNote,
    CaseOutcome,
    Confidentiality,
    Desk,
    Diagnosis,
    DiagnosisDimension,
    Intake,
    NeedLevel,
    PathwayAction,
    Referral,
)

_org = {"slug_field": "slug", "queryset": Organisation.objects.active()}


class PersonRef(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return Person.objects.visible_to(self.context["request"].user)


class IntakeSerializer(StrictModelSerializer):
    person = PersonRef()
    desk = serializers.PrimaryKeyRelatedField(queryset=Desk.objects.filter(archived_at=None))

    class Meta:
        model = Intake
        fields = ["id", "person", "desk", "occurred_at", "reason", "case"]
        read_only_fields = ["id", "case"]


class PathwayActionSerializer(StrictModelSerializer):
    action_type = serializers.PrimaryKeyRelatedField(queryset=ActionType.objects.all())
    responsible = serializers.SlugRelatedField(**_org)
    host = serializers.SlugRelatedField(**_org, allow_null=True, required=False)
    version = serializers.IntegerField(
        write_only=True, required=False, help_text="The case version the change is based on."
    )

    class Meta:
        model = PathwayAction
        fields = [
            "id",
            "action_type",
            "status",
            "start",
            "end",
            "extended_until",
            "responsible",
            "host",
            "monthly_stipend",
            "currency",
            "contract_type",
            "outcome",
            "version",
        ]
        read_only_fields = ["id"]


class CaseSerializer(StrictModelSerializer):
    person = PersonRef()
    organisation = serializers.SlugRelatedField(**_org)
    desk = serializers.PrimaryKeyRelatedField(
        queryset=Desk.objects.all(), allow_null=True, required=False
    )
    tutor = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Case
        fields = [
            "id",
            "person",
            "organisation",
            "desk",
            "tutor",
            "opened_on",
            "status",
            "closed_on",
            "outcome",
            "closure_reason",
            "version",
        ]
        read_only_fields = ["id", "status", "closed_on", "outcome", "closure_reason", "version"]


class DiagnosisLevelInput(serializers.Serializer):
    dimension = serializers.PrimaryKeyRelatedField(queryset=DiagnosisDimension.objects.all())
    level = serializers.ChoiceField(choices=NeedLevel.choices)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class DiagnosisSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    diagnosed_on = serializers.DateField()
    summary = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    levels = DiagnosisLevelInput(many=True, write_only=True)
    version = serializers.IntegerField(write_only=True, required=False)


class NoteSerializer(StrictModelSerializer):
    class Meta:
        model = CaseNote
        fields = ["id", "body", "confidentiality", "created_at"]
        read_only_fields = ["id", "created_at"]


class CloseSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=CaseOutcome.choices)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    closed_on = serializers.DateField(required=False, allow_null=True, default=None)
    version = serializers.IntegerField(required=False, allow_null=True, default=None)


class ReferralSerializer(StrictModelSerializer):
    to_organisation = serializers.SlugRelatedField(**_org)
    from_organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    person_name = serializers.CharField(source="case.person.full_name", read_only=True)
    action = serializers.PrimaryKeyRelatedField(
        queryset=PathwayAction.objects.none(), allow_null=True, required=False
    )

    class Meta:
        model = Referral
        fields = [
            "id",
            "case",
            "person_name",
            "action",
            "from_organisation",
            "to_organisation",
            "message",
            "deadline",
            "status",
            "decline_reason",
            "outcome",
            "sent_at",
            "answered_at",
            "outcome_at",
        ]
        read_only_fields = [
            "id",
            "case",
            "status",
            "decline_reason",
            "outcome",
            "sent_at",
            "answered_at",
            "outcome_at",
        ]

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        if case is not None:
            self.fields["action"].queryset = PathwayAction.objects.filter(case=case)


class AnswerSerializer(serializers.Serializer):
    accept = serializers.BooleanField()
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class OutcomeSerializer(serializers.Serializer):
    outcome = serializers.CharField(max_length=4000)


class IntakeViewSet(mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Record a person's visit at a desk."""

    serializer_class = IntakeSerializer
    queryset = Intake.objects.none()

    def perform_create(self, serializer):
        serializer.instance = services.intake_record(
            user=self.request.user, **serializer.validated_data
        )


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("mine", bool, description="Only cases the caller tutors."),
            OpenApiParameter("status", str, enum=["open", "closed"]),
        ]
    )
)
class CaseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Cases of the caller's organisations; overdue ones first in the list."""

    serializer_class = CaseSerializer

    def get_queryset(self):
        if self.action == "list":
            params = self.request.query_params
            return selectors.caseload(
                user=self.request.user,
                mine_only=params.get("mine") in ("1", "true"),
                status=params.get("status", "")
                if params.get("status") in ("open", "closed")
                else "",
            )
        return Case.objects.visible_to(self.request.user).select_related("person")

    def perform_create(self, serializer):
        serializer.instance = services.case_open(
            user=self.request.user, **serializer.validated_data
        )

    @extend_schema(request=DiagnosisSerializer, responses=DiagnosisSerializer)
    @action(detail=True, methods=["post"], pagination_class=None)
    def diagnoses(self, request, pk=None):
        case = self.get_object()
        data = DiagnosisSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        diagnosis: Diagnosis = services.diagnosis_record(
            user=request.user,
            case=case,
            diagnosed_on=values["diagnosed_on"],
            summary=values["summary"],
            version=values.get("version"),
            levels={row["dimension"]: (row["level"], row["note"]) for row in values["levels"]},
        )
        return Response(
            {
                "id": diagnosis.pk,
                "diagnosed_on": diagnosis.diagnosed_on,
                "summary": diagnosis.summary,
            },
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(methods=["get"], responses=PathwayActionSerializer(many=True))
    @extend_schema(
        methods=["post"], request=PathwayActionSerializer, responses=PathwayActionSerializer
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def actions(self, request, pk=None):
        case = self.get_object()
        if request.method == "GET":
            rows = selectors.visible_actions(request.user, case)
            return Response(PathwayActionSerializer(rows, many=True).data)
        data = PathwayActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        created = services.action_add(
            user=request.user,
            case=case,
            version=values.pop("version", None),
            action_type=values.pop("action_type"),
            responsible=values.pop("responsible"),
            **values,
        )
        return Response(PathwayActionSerializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PathwayActionSerializer, responses=PathwayActionSerializer)
    @action(detail=True, methods=["patch"], url_path=r"actions/(?P<action_id>\d+)")
    def action_update(self, request, pk=None, action_id=None):
        case = self.get_object()
        current = get_object_or_404(selectors.visible_actions(request.user, case), pk=action_id)
        data = PathwayActionSerializer(current, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values.pop("action_type", None)
        updated = services.action_update(
            user=request.user, action=current, version=values.pop("version", None), **values
        )
        return Response(PathwayActionSerializer(updated).data)

    @extend_schema(methods=["get"], responses=NoteSerializer(many=True))
    @extend_schema(methods=["post"], request=NoteSerializer, responses=NoteSerializer)
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def notes(self, request, pk=None):
        case = self.get_object()
        if request.method == "GET":
            return Response(
                NoteSerializer(selectors.visible_notes(request.user, case), many=True).data
            )
        data = NoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        note = services.note_add(
            user=request.user,
            case=case,
            body=data.validated_data["body"],
            confidentiality=data.validated_data.get("confidentiality", Confidentiality.STANDARD),
        )
        return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReferralSerializer, responses=ReferralSerializer)
    @action(detail=True, methods=["post"], url_path="referrals")
    def refer(self, request, pk=None):
        case = self.get_object()
        data = ReferralSerializer(data=request.data, case=case)
        data.is_valid(raise_exception=True)
        referral = services.referral_send(user=request.user, case=case, **data.validated_data)
        return Response(ReferralSerializer(referral).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CloseSerializer, responses=CaseSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        case = self.get_object()
        data = CloseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.case_close(user=request.user, case=case, **data.validated_data)
        return Response(CaseSerializer(case, context=self.get_serializer_context()).data)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("direction", str, enum=["incoming", "outgoing"]),
        ]
    )
)
class ReferralViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Referrals sent or received by the caller's organisations."""

    serializer_class = ReferralSerializer

    def get_queryset(self):
        if self.action == "list":
            direction = self.request.query_params.get("direction", "incoming")
            return selectors.referrals_for(
                user=self.request.user,
                direction="outgoing" if direction == "outgoing" else "incoming",
            )
        return Referral.objects.visible_to(self.request.user).select_related("case__person")

    @extend_schema(request=AnswerSerializer, responses=ReferralSerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        referral = self.get_object()
        data = AnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        referral = services.referral_answer(
            user=request.user,
            referral=referral,
            accept=data.validated_data["accept"],
            reason=data.validated_data["reason"],
        )
        return Response(ReferralSerializer(referral).data)

    @extend_schema(request=OutcomeSerializer, responses=ReferralSerializer)
    @action(detail=True, methods=["post"])
    def outcome(self, request, pk=None):
        referral = self.get_object()
        data = OutcomeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        referral = services.referral_return_outcome(
            user=request.user, referral=referral, outcome=data.validated_data["outcome"]
        )
        return Response(ReferralSerializer(referral).data)
