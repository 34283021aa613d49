"""Duplicates API: searches, the pairs they found, merges and their undoing. Reads go through
the access layer, writes through the matching services."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from tadamun.api.pagination import Pagination
from tadamun.api.serializers import StrictModelSerializer
from tadamun.organisations.models import Organisation
from tadamun.registry.models import Person

from . import services
from .models import Decision, DuplicatePair, DuplicateRun, PersonMerge


@extend_schema_field(OpenApiTypes.INT)
class VisiblePerson(serializers.PrimaryKeyRelatedField):
    """A person the caller may see; anyone else is "does not exist", as for a wrong id."""

    def get_queryset(self):
        return Person.objects.visible_to(self.context["request"].user)


@extend_schema_field(OpenApiTypes.INT)
class VisiblePair(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return DuplicatePair.objects.visible_to(self.context["request"].user)


class DuplicateRunSerializer(StrictModelSerializer):
    organisation = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Organisation.objects.active(),
        allow_null=True,
        required=False,
        help_text="The network the search is for (one the caller coordinates); may be left "
        "out by a coordinator of a single network.",
    )
    started_by = serializers.CharField(source="started_by.username", read_only=True)
    threshold = serializers.FloatField(
        min_value=services.MIN_THRESHOLD,
        max_value=services.MAX_THRESHOLD,
        required=False,
        default=0.5,
        help_text="Lowest probability of being one person for a pair to be kept.",
    )
    seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = DuplicateRun
        fields = [
            "id",
            "organisation",
            "started_by",
            "status",
            "threshold",
            "created_at",
            "started_at",
            "finished_at",
            "seconds",
            "people_compared",
            "pairs_found",
            "pairs_already_decided",
            "pairs_stored",
            "error",
        ]
        read_only_fields = [
            "id",
            "status",
            "created_at",
            "started_at",
            "finished_at",
            "people_compared",
            "pairs_found",
            "pairs_already_decided",
            "pairs_stored",
            "error",
        ]


class DuplicatePairSerializer(serializers.ModelSerializer):
    person_a_name = serializers.CharField(source="person_a.full_name", read_only=True)
    person_b_name = serializers.CharField(source="person_b.full_name", read_only=True)
    decided_by = serializers.CharField(
        source="decided_by.username", read_only=True, allow_null=True
    )

    class Meta:
        model = DuplicatePair
        fields = [
            "id",
            "run",
            "person_a",
            "person_a_name",
            "person_b",
            "person_b_name",
            "probability",
            "decision",
            "decided_by",
            "decided_at",
            "merge",
        ]
        read_only_fields = fields


class DecideSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=[(d, Decision(d).label) for d in services.REVIEW_DECISIONS],
        help_text="not_same (remembered: later searches do not propose the pair again), "
        "deferred, or pending. To say they are the same person, create a merge.",
    )


class MovedRowSerializer(serializers.Serializer):
    model = serializers.CharField(read_only=True)
    pk = serializers.IntegerField(read_only=True)
    field = serializers.CharField(read_only=True)


class LeftRowSerializer(MovedRowSerializer):
    kept = serializers.IntegerField(read_only=True)


class PersonMergeSerializer(StrictModelSerializer):
    keep = VisiblePerson(help_text="The record kept.")
    drop = VisiblePerson(help_text="The record merged into it, then archived.")
    pair = VisiblePair(
        write_only=True,
        required=False,
        allow_null=True,
        help_text="The reviewed pair this merge decides, if any.",
    )
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    merged_by = serializers.CharField(source="merged_by.username", read_only=True)
    undone_by = serializers.CharField(source="undone_by.username", read_only=True, allow_null=True)
    keep_before = serializers.DictField(read_only=True)
    drop_before = serializers.DictField(read_only=True)
    filled = serializers.DictField(
        read_only=True, help_text="Values the kept record lacked, taken from the other."
    )
    other_values = serializers.DictField(
        read_only=True, help_text="The other record's different values, recorded, not written."
    )
    moved = MovedRowSerializer(many=True, read_only=True)
    left = LeftRowSerializer(many=True, read_only=True)

    class Meta:
        model = PersonMerge
        fields = [
            "id",
            "keep",
            "drop",
            "pair",
            "reason",
            "merged_by",
            "merged_at",
            "keep_before",
            "drop_before",
            "filled",
            "other_values",
            "moved",
            "left",
            "undone_at",
            "undone_by",
        ]
        read_only_fields = ["id", "merged_at", "undone_at"]


class DuplicateRunViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Searches for duplicate people. Starting one needs a coordinator's role; it runs in the
    background: read it again until its status is done."""

    serializer_class = DuplicateRunSerializer

    def get_queryset(self):
        return DuplicateRun.objects.visible_to(self.request.user).select_related(
            "organisation", "started_by"
        )

    def perform_create(self, serializer):
        serializer.instance = services.duplicate_run_start(
            user=self.request.user,
            organisation=serializer.validated_data.get("organisation"),
            threshold=serializer.validated_data.get("threshold", 0.5),
        )


class PairPagination(Pagination):
    # A search writes its pairs best first: in the order of their ids.
    ordering = "pk"


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("run", int, description="Only the pairs of this search."),
            OpenApiParameter("decision", str, enum=list(Decision.values)),
        ]
    )
)
class DuplicatePairViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Pairs of people found probably the same, limited to pairs whose two people the caller
    may see now; in each search (filter with ``run``), best first."""

    serializer_class = DuplicatePairSerializer
    pagination_class = PairPagination

    def get_queryset(self):
        pairs = DuplicatePair.objects.visible_to(self.request.user).select_related(
            "person_a", "person_b", "decided_by"
        )
        if self.action == "list":
            params = self.request.query_params
            run = params.get("run", "")
            if run:
                pairs = pairs.filter(run_id=int(run)) if run.isdigit() else pairs.none()
            decision = params.get("decision", "")
            if decision:
                pairs = (
                    pairs.filter(decision=decision) if decision in Decision.values else pairs.none()
                )
        return pairs

    @extend_schema(request=DecideSerializer, responses=DuplicatePairSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        pair = self.get_object()
        data = DecideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pair = services.pair_decide(
            user=request.user, pair=pair, decision=data.validated_data["decision"]
        )
        return Response(DuplicatePairSerializer(pair).data)


class PersonMergeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Merges of two records of one person: every row of ``drop`` moves to ``keep``; values
    that differ stay as ``keep`` has them and ``drop``'s are recorded. ``undo`` reverses it."""

    serializer_class = PersonMergeSerializer

    def get_queryset(self):
        return PersonMerge.objects.visible_to(self.request.user).select_related(
            "merged_by", "undone_by"
        )

    def perform_create(self, serializer):
        values = serializer.validated_data
        serializer.instance = services.person_merge(
            user=self.request.user,
            keep=values["keep"],
            drop=values["drop"],
            reason=values.get("reason", ""),
            pair=values.get("pair"),
        )

    @extend_schema(request=None, responses=PersonMergeSerializer)
    @action(detail=True, methods=["post"])
    def undo(self, request, pk=None):
        merge = self.get_object()
        merge = services.person_merge_undo(user=request.user, merge=merge)
        return Response(
            PersonMergeSerializer(merge, context=self.get_serializer_context()).data,
            status=status.HTTP_200_OK,
        )
