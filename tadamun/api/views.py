"""API endpoints: each reads through the access layer and writes through the services."""

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from tadamun.organisations import services as organisation_services
from tadamun.organisations.models import Organisation
from tadamun.programmes import services as programme_services
from tadamun.programmes.models import Programme
from tadamun.registry import selectors
from tadamun.registry import services as registry_services
from tadamun.registry.models import Consent, Group, GroupMember, Person, Sex
from tadamun.territories.models import Territory

from . import serializers as s
from .permissions import ReadOnlyDirectory

_archived = OpenApiParameter("archived", OpenApiTypes.BOOL, description="Archived records only.")


def _truthy(value) -> bool:
    return str(value).lower() in {"1", "true", "yes"}


class HistoryMixin:
    @extend_schema(responses=s.HistoryEntrySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def history(self, request, *args, **kwargs):
        record = self.get_object()
        entries = record.history.select_related("history_user").order_by("-history_date")[:500]
        return Response(s.HistoryEntrySerializer(entries, many=True).data)


@extend_schema_view(
    list=extend_schema(
        summary="Territories",
        parameters=[
            OpenApiParameter(
                "within", str, description="Code of a territory: only it and what lies inside it."
            )
        ],
    )
)
class TerritoryViewSet(viewsets.ReadOnlyModelViewSet):
    """The territory tree (public reference data for every signed-in user)."""

    serializer_class = s.TerritorySerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    permission_classes = viewsets.ReadOnlyModelViewSet.permission_classes + [ReadOnlyDirectory]

    def get_queryset(self):
        territories = Territory.objects.select_related("parent")
        within = self.request.query_params.get("within")
        if within:
            parent = Territory.objects.filter(code=within).first()
            territories = territories.within(parent) if parent else territories.none()
        return territories


class OrganisationViewSet(
    HistoryMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The directory of organisations; network coordinators add and change members."""

    serializer_class = s.OrganisationSerializer
    lookup_field = "slug"

    def get_queryset(self):
        organisations = Organisation.objects.select_related("territory").prefetch_related(
            "network_links__network"
        )
        if _truthy(self.request.query_params.get("archived")):
            return organisations.exclude(archived_at=None)
        return organisations.active()

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        network = data.pop("network", None)
        serializer.instance = organisation_services.organisation_create(
            user=self.request.user, network=network, **data
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("network", None)
        serializer.instance = organisation_services.organisation_update(
            user=self.request.user, organisation=serializer.instance, **data
        )


@extend_schema_view(list=extend_schema(parameters=[_archived]))
class ProgrammeViewSet(HistoryMixin, viewsets.ModelViewSet):
    """Programmes the caller's organisations take part in."""

    serializer_class = s.ProgrammeSerializer
    lookup_field = "code"

    def get_queryset(self):
        programmes = Programme.objects.visible_to(self.request.user).prefetch_related(
            "territories", "components", "participants__organisation"
        )
        if _truthy(self.request.query_params.get("archived")):
            return programmes.exclude(archived_at=None)
        if self.action == "list":
            return programmes.active()
        return programmes

    def _split(self, data):
        related = {
            k: data.pop(k)
            for k in ("funders", "implementers", "partners", "territories")
            if k in data
        }
        return related

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        related = self._split(data)
        lead = data.pop("lead")
        serializer.instance = programme_services.programme_create(
            user=self.request.user, lead=lead, **related, **data
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        related = self._split(data)
        data.pop("lead", None)
        serializer.instance = programme_services.programme_update(
            user=self.request.user, programme=serializer.instance, **related, **data
        )

    @extend_schema(summary="Archive a programme (it can be restored)")
    def destroy(self, request, *args, **kwargs):
        programme_services.programme_archive(user=request.user, programme=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=s.ProgrammeSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, *args, **kwargs):
        programme = programme_services.programme_archive(
            user=request.user, programme=self.get_object(), restore=True
        )
        return Response(self.get_serializer(programme).data)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="Words of the name, in any script."),
            OpenApiParameter("sex", str, enum=Sex.values),
            OpenApiParameter(
                "territory", str, description="Territory code: people living in it or inside it."
            ),
            _archived,
        ]
    )
)
class PersonViewSet(HistoryMixin, viewsets.ModelViewSet):
    """People in the registry that the caller may see."""

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return s.PersonUpdateSerializer
        return s.PersonSerializer

    def get_queryset(self):
        params = self.request.query_params
        if self.action == "list":
            return selectors.person_list(
                user=self.request.user,
                search=params.get("q", "")[:200],
                sex=params.get("sex", "") if params.get("sex") in Sex.values else "",
                territory=Territory.objects.filter(code=params.get("territory", "")).first()
                if params.get("territory")
                else None,
                archived=_truthy(params.get("archived")),
            ).select_related("organisation")
        return Person.objects.visible_to(self.request.user).select_related(
            "residence", "organisation"
        )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        organisation = data.pop("organisation")
        serializer.instance = registry_services.person_register(
            user=self.request.user, organisation=organisation, **data
        )

    def perform_update(self, serializer):
        serializer.instance = registry_services.person_update(
            user=self.request.user, person=serializer.instance, **serializer.validated_data
        )

    @extend_schema(summary="Archive a person (the record is kept and can be restored)")
    def destroy(self, request, *args, **kwargs):
        registry_services.person_archive(user=request.user, person=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=s.PersonSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, *args, **kwargs):
        person = registry_services.person_restore(user=request.user, person=self.get_object())
        return Response(s.PersonSerializer(person).data)

    @extend_schema(methods=["get"], responses=s.ConsentSerializer(many=True))
    @extend_schema(methods=["post"], request=s.ConsentSerializer, responses=s.ConsentSerializer)
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def consents(self, request, *args, **kwargs):
        person = self.get_object()
        if request.method == "GET":
            return Response(s.ConsentSerializer(person.consents.all(), many=True).data)
        serializer = s.ConsentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        consent = registry_services.consent_record(
            user=request.user, person=person, **serializer.validated_data
        )
        return Response(s.ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.ConsentSerializer)
    @action(detail=True, methods=["post"], url_path=r"consents/(?P<consent_id>\d+)/withdraw")
    def consent_withdraw(self, request, consent_id=None, *args, **kwargs):
        person = self.get_object()
        consent = get_object_or_404(Consent, pk=consent_id, person=person)
        consent = registry_services.consent_withdraw(user=request.user, consent=consent)
        return Response(s.ConsentSerializer(consent).data)


@extend_schema_view(list=extend_schema(parameters=[_archived]))
class GroupViewSet(HistoryMixin, viewsets.ModelViewSet):
    """Households, cooperatives, associations and collectives the caller may see."""

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return s.GroupUpdateSerializer
        return s.GroupSerializer

    def get_queryset(self):
        if self.action == "list":
            return selectors.group_list(
                user=self.request.user, archived=_truthy(self.request.query_params.get("archived"))
            )
        return Group.objects.visible_to(self.request.user).select_related(
            "organisation", "territory"
        )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        organisation = data.pop("organisation")
        serializer.instance = registry_services.group_create(
            user=self.request.user, organisation=organisation, **data
        )

    def perform_update(self, serializer):
        serializer.instance = registry_services.group_update(
            user=self.request.user, group=serializer.instance, **serializer.validated_data
        )

    @extend_schema(summary="Archive a group (it can be restored)")
    def destroy(self, request, *args, **kwargs):
        registry_services.group_archive(user=request.user, group=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(methods=["get"], responses=s.GroupMemberSerializer(many=True))
    @extend_schema(
        methods=["post"], request=s.GroupMemberSerializer, responses=s.GroupMemberSerializer
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def members(self, request, *args, **kwargs):
        group = self.get_object()
        context = self.get_serializer_context()
        if request.method == "GET":
            members = group.members.filter(person__in=Person.objects.visible_to(request.user))
            return Response(s.GroupMemberSerializer(members, many=True, context=context).data)
        serializer = s.GroupMemberSerializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            member = registry_services.group_member_add(
                user=request.user, group=group, **serializer.validated_data
            )
        return Response(
            s.GroupMemberSerializer(member, context=context).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=None, responses=s.GroupMemberSerializer)
    @action(detail=True, methods=["post"], url_path=r"members/(?P<member_id>\d+)/leave")
    def member_leave(self, request, member_id=None, *args, **kwargs):
        group = self.get_object()
        member = get_object_or_404(
            GroupMember.objects.filter(person__in=Person.objects.visible_to(request.user)),
            pk=member_id,
            group=group,
        )
        member = registry_services.group_member_remove(user=request.user, member=member)
        return Response(s.GroupMemberSerializer(member, context=self.get_serializer_context()).data)
