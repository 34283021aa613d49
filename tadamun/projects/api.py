"""Micro-projects API: calls, applications, committees, financed projects, tranches, loans and
their repayments, visits, products, exhibitions, the dashboard and the portfolio at risk, and
the public catalogue.

Every read goes through the access layer (``visible_to``), so a record outside the caller's
scope is "not found"; every write goes through the service functions, whose domain errors
answer 400 keyed by field, 403 when the caller's role does not allow the change, and 409 when
the change is based on a stale version.
"""

import datetime

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from tadamun.access.scope import scope_for
from tadamun.api.serializers import TerritoryCodeField
from tadamun.api.views import HistoryMixin
from tadamun.territories.models import Territory

from . import selectors, services
from . import serializers as s
from .models import (
    Application,
    ApplicationKind,
    ApplicationStatus,
    Call,
    CallStatus,
    CommitteeSession,
    Exhibition,
    Financing,
    Product,
    Project,
    ProjectStatus,
    PublicSubmission,
    Sector,
    SubmissionStatus,
    Tranche,
    Visit,
    networks_of_q,
)

_MAX_ID = 2**63 - 1


def _flat(detail, prefix: str = "") -> dict:
    """Nested errors as flat keys, the way the services name them: ``investments.1.label``
    (rows counted from 1), ``scores.viability``."""
    if isinstance(detail, dict):
        flat = {}
        for key, value in detail.items():
            name = str(key + 1) if isinstance(key, int) else str(key)
            if name == "non_field_errors" and prefix:
                name = ""
            flat.update(_flat(value, f"{prefix}.{name}".strip(".") if name else prefix))
        return flat
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        flat = {}
        for index, item in enumerate(detail, start=1):
            if item:
                flat.update(_flat(item, f"{prefix}.{index}"))
        return flat
    return {prefix or "non_field_errors": detail}


def _valid(serializer_class, data, **context):
    serializer = serializer_class(data=data, context=context)
    if not serializer.is_valid():
        raise serializers.ValidationError(_flat(serializer.errors))
    return serializer.validated_data


def _within(queryset, field: str, territory):
    """Rows whose ``field`` (a territory) is ``territory`` or lies inside it."""
    if territory is None:
        return queryset
    return queryset.filter(**{f"{field}__in": Territory.objects.within(territory)})


# --- Query parameters --------------------------------------------------------------------------


class _CallFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=CallStatus.choices, required=False)


class _ApplicationFilter(serializers.Serializer):
    call = serializers.IntegerField(required=False, min_value=1, max_value=_MAX_ID)
    status = serializers.ChoiceField(choices=ApplicationStatus.choices, required=False)
    territory = TerritoryCodeField(allow_null=False)


class _ProjectFilter(serializers.Serializer):
    region = TerritoryCodeField(allow_null=False)
    sector = s.SectorCodeField(required=False)
    status = serializers.ChoiceField(choices=ProjectStatus.choices, required=False)
    kind = serializers.ChoiceField(choices=ApplicationKind.choices, required=False)


class _SubmissionFilter(serializers.Serializer):
    call = serializers.IntegerField(required=False, min_value=1, max_value=_MAX_ID)
    status = serializers.ChoiceField(choices=SubmissionStatus.choices, required=False)


class _ProductFilter(serializers.Serializer):
    project = serializers.IntegerField(required=False, min_value=1, max_value=_MAX_ID)


class _CatalogueFilter(serializers.Serializer):
    sector = s.SectorCodeField(required=False)
    region = TerritoryCodeField(allow_null=False)


class _PortfolioQuery(serializers.Serializer):
    as_of = serializers.DateField(required=False, allow_null=True, default=None)
    days = serializers.IntegerField(min_value=0, max_value=3650, default=services.ARREARS_DAYS)

    def validate_as_of(self, value):
        if value is not None and not (
            datetime.date(1900, 1, 1) <= value <= datetime.date(2999, 12, 31)
        ):
            raise serializers.ValidationError(_("Give a date between 1900 and 2999."))
        return value


def _param(name, kind=str, description="", **kwargs):
    return OpenApiParameter(name, kind, description=description, **kwargs)


_territory_param = _param(
    "territory", description="Territory code: records in it or inside it (Tabarka in Jendouba)."
)
_region_param = _param("region", description="Code of the region (governorate).")
_sector_param = _param("sector", description="Code of the sector.")


# --- Calls ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Calls for proposals",
        parameters=[_param("status", enum=CallStatus.values)],
    ),
    create=extend_schema(summary="Create a call (a draft until published)"),
)
class CallViewSet(
    HistoryMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Calls for proposals of the caller's organisations, their members and their networks."""

    def get_serializer_class(self):
        if self.action == "list":
            return s.CallListSerializer
        if self.action in ("update", "partial_update"):
            return s.CallUpdateSerializer
        return s.CallSerializer

    def get_queryset(self):
        calls = Call.objects.visible_to(self.request.user).select_related("organisation")
        if self.action == "list":
            filters = _valid(_CallFilter, self.request.query_params)
            calls = calls.filter(archived_at__isnull=True)
            if filters.get("status"):
                calls = calls.filter(status=filters["status"])
            return calls
        return calls.select_related("programme").prefetch_related(
            "sectors", "envelopes__territory", "criteria", "documents"
        )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        organisation = data.pop("organisation")
        serializer.instance = services.call_create(
            user=self.request.user, organisation=organisation, **data
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("organisation", None)
        serializer.instance = services.call_update(
            user=self.request.user, call=serializer.instance, **data
        )

    def _status(self, request, value):
        call = services.call_set_status(user=request.user, call=self.get_object(), status=value)
        return Response(s.CallSerializer(call, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses=s.CallSerializer, summary="Publish the call")
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        return self._status(request, CallStatus.OPEN)

    @extend_schema(request=None, responses=s.CallSerializer, summary="Close the call")
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._status(request, CallStatus.CLOSED)

    @extend_schema(methods=["get"], responses=s.EnvelopeSerializer(many=True))
    @extend_schema(
        methods=["post"],
        request=s.EnvelopeSerializer,
        responses=s.EnvelopeSerializer,
        summary="Set the envelope of a territory",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def envelopes(self, request, pk=None):
        call = self.get_object()
        if request.method == "GET":
            rows = call.envelopes.select_related("territory", "call")
            return Response(s.EnvelopeSerializer(rows, many=True).data)
        data = _valid(s.EnvelopeSerializer, request.data)
        envelope = services.envelope_set(user=request.user, call=call, **data)
        return Response(s.EnvelopeSerializer(envelope).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["get"], responses=s.CriterionSerializer(many=True))
    @extend_schema(
        methods=["post"],
        request=s.CriterionSerializer,
        responses=s.CriterionSerializer,
        summary="Add a criterion to the scoring grid",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def criteria(self, request, pk=None):
        call = self.get_object()
        if request.method == "GET":
            return Response(s.CriterionSerializer(call.criteria.all(), many=True).data)
        data = _valid(s.CriterionSerializer, request.data)
        criterion = services.criterion_add(user=request.user, call=call, **data)
        return Response(s.CriterionSerializer(criterion).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["get"], responses=s.DocumentSerializer(many=True))
    @extend_schema(
        methods=["post"],
        request=s.DocumentSerializer,
        responses=s.DocumentSerializer,
        summary="Ask applicants for a document",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def documents(self, request, pk=None):
        call = self.get_object()
        if request.method == "GET":
            return Response(s.DocumentSerializer(call.documents.all(), many=True).data)
        data = _valid(s.DocumentSerializer, request.data)
        document = services.document_require(user=request.user, call=call, **data)
        return Response(s.DocumentSerializer(document).data, status=status.HTTP_201_CREATED)


# --- Applications --------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Applications",
        parameters=[
            _param("call", int, "Id of the call."),
            _param("status", enum=ApplicationStatus.values),
            _territory_param,
        ],
    ),
    retrieve=extend_schema(summary="An application with its business plan"),
)
class ApplicationViewSet(
    HistoryMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Applications handled by the caller's organisations, within their territory."""

    def get_serializer_class(self):
        if self.action == "list":
            return s.ApplicationListSerializer
        if self.action == "create":
            return s.ApplicationCreateSerializer
        return s.ApplicationSerializer

    def get_queryset(self):
        applications = Application.objects.visible_to(self.request.user).select_related(
            "call", "organisation", "territory", "sector"
        )
        if self.action == "list":
            filters = _valid(_ApplicationFilter, self.request.query_params)
            applications = applications.filter(archived_at__isnull=True)
            if filters.get("call"):
                applications = applications.filter(call_id=filters["call"])
            if filters.get("status"):
                applications = applications.filter(status=filters["status"])
            return _within(applications, "territory", filters.get("territory"))
        return applications.prefetch_related("investments", "financing_plan")

    def _detail(self, application, code=status.HTTP_200_OK):
        application = self.get_queryset().get(pk=application.pk)
        return Response(
            s.ApplicationSerializer(application, context=self.get_serializer_context()).data,
            status=code,
        )

    @extend_schema(
        request=s.ApplicationCreateSerializer,
        responses={201: s.ApplicationSerializer},
        summary="Record an application with its business plan",
    )
    def create(self, request):
        data = dict(_valid(s.ApplicationCreateSerializer, request.data, request=request))
        plan = services.BusinessPlan(
            investments=[dict(row) for row in data.pop("investments")],
            financing=[dict(row) for row in data.pop("financing")],
        )
        application = services.application_submit(user=request.user, plan=plan, **data)
        return self._detail(application, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.PrecheckSerializer,
        responses=s.ApplicationSerializer,
        summary="Check eligibility (documents, age, members)",
    )
    @action(detail=True, methods=["post"])
    def precheck(self, request, pk=None):
        application = self.get_object()
        data = _valid(s.PrecheckSerializer, request.data)
        application = services.application_precheck(
            user=request.user, application=application, **data
        )
        return self._detail(application)

    @extend_schema(request=s.VersionSerializer, responses=s.ApplicationSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        application = self.get_object()
        data = _valid(s.VersionSerializer, request.data)
        application = services.application_withdraw(
            user=request.user, application=application, **data
        )
        return self._detail(application)

    @extend_schema(
        request=s.AwardSerializer,
        responses={201: s.ProjectSerializer},
        summary="Finance a selected application: grants in tranches, loans with a schedule",
    )
    @action(detail=True, methods=["post"])
    def award(self, request, pk=None):
        application = self.get_object()
        data = _valid(s.AwardSerializer, request.data)
        financings = [
            services.FinancingSpec(
                kind=row["kind"],
                amount=row["amount"],
                tranches=[dict(t) for t in row["tranches"]] if row["tranches"] else None,
                description=row["description"],
                grace_months=row["grace_months"],
                instalments=row["instalments"],
            )
            for row in data["financings"]
        ]
        project = services.project_award(
            user=request.user,
            application=application,
            financed_on=data["financed_on"],
            financings=financings,
            mentor=data["mentor"],
            code=data["code"],
            version=data["version"],
        )
        return Response(
            s.ProjectSerializer(_project_detail(request.user, project.pk)).data,
            status=status.HTTP_201_CREATED,
        )


# --- Public submissions ------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Applications sent from the public page",
        parameters=[
            _param("call", int, "Id of the call."),
            _param("status", enum=SubmissionStatus.values),
        ],
    )
)
class SubmissionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Applications sent from the public page, waiting for a field officer of the call's
    network (within their territory) to register or decline them."""

    serializer_class = s.SubmissionSerializer

    def get_queryset(self):
        submissions = PublicSubmission.objects.visible_to(self.request.user).select_related(
            "territory"
        )
        if self.action == "list":
            filters = _valid(_SubmissionFilter, self.request.query_params)
            if filters.get("call"):
                submissions = submissions.filter(call_id=filters["call"])
            if filters.get("status"):
                submissions = submissions.filter(status=filters["status"])
        return submissions

    @extend_schema(
        request=s.SubmissionRegisterSerializer,
        responses={201: s.ApplicationSerializer},
        summary="Register the submission as an application",
    )
    @action(detail=True, methods=["post"])
    def register(self, request, pk=None):
        submission = self.get_object()
        data = _valid(s.SubmissionRegisterSerializer, request.data, request=request)
        application = services.submission_register(user=request.user, submission=submission, **data)
        application = (
            Application.objects.visible_to(request.user)
            .select_related("call", "organisation", "territory", "sector")
            .get(pk=application.pk)
        )
        return Response(
            s.ApplicationSerializer(application, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=s.DeclineSerializer, responses=s.SubmissionSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        submission = self.get_object()
        data = _valid(s.DeclineSerializer, request.data)
        submission = services.submission_decline(
            user=request.user, submission=submission, reason=data["reason"]
        )
        return Response(s.SubmissionSerializer(submission).data)


# --- Committee -----------------------------------------------------------------------------


class CommitteeSessionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Committee sessions of the calls the caller sees. Members see every application before
    the committee in the ranking; others only those in their scope."""

    serializer_class = s.SessionSerializer

    def get_queryset(self):
        return (
            CommitteeSession.objects.filter(call__in=Call.objects.visible_to(self.request.user))
            .select_related("call")
            .prefetch_related("members")
        )

    def perform_create(self, serializer):
        serializer.instance = services.session_create(
            user=self.request.user, **serializer.validated_data
        )

    @extend_schema(methods=["get"], responses=s.ScoreSerializer(many=True))
    @extend_schema(
        methods=["post"],
        request=s.ScoresSerializer,
        responses=s.ScoreSerializer(many=True),
        summary="Record the caller's own scores of one application",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def scores(self, request, pk=None):
        """Each member reads and writes only their own scores: members scoring at the same
        time never overwrite each other."""
        session = self.get_object()
        if request.method == "GET":
            rows = session.scores.filter(member=request.user).select_related("criterion")
            return Response(s.ScoreSerializer(rows, many=True).data)
        data = _valid(s.ScoresSerializer, request.data)
        # The service decides whether the application is before this committee.
        written = services.score_record(
            user=request.user,
            session=session,
            application=Application(pk=data["application"]),
            scores=data["scores"],
            comment=data["comment"],
        )
        return Response(s.ScoreSerializer(written, many=True).data)

    @extend_schema(
        request=s.SessionDecideSerializer,
        responses=s.SessionSerializer,
        summary="Decide: select in rank order within each territory's envelope",
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        session = self.get_object()
        data = _valid(s.SessionDecideSerializer, request.data)
        services.session_decide(user=request.user, session=session, pass_mark=data["pass_mark"])
        session = self.get_queryset().get(pk=session.pk)
        return Response(s.SessionSerializer(session, context=self.get_serializer_context()).data)


# --- Projects ------------------------------------------------------------------------------


def _projects(user):
    return Project.objects.visible_to(user).select_related(
        "organisation", "territory", "region", "sector"
    )


def _project_detail(user, pk):
    return (
        _projects(user).prefetch_related("financings__tranches", "financings__schedule").get(pk=pk)
    )


@extend_schema_view(
    list=extend_schema(
        summary="Financed micro-projects",
        parameters=[
            _region_param,
            _sector_param,
            _param("status", enum=ProjectStatus.values),
            _param("kind", enum=ApplicationKind.values),
        ],
    ),
    retrieve=extend_schema(summary="A project with its financing, tranches and loan schedule"),
)
class ProjectViewSet(
    HistoryMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Financed projects of the caller's organisations, within their territory."""

    def get_serializer_class(self):
        if self.action == "list":
            return s.ProjectListSerializer
        return s.ProjectSerializer

    def get_queryset(self):
        user = self.request.user
        if self.action == "list":
            filters = _valid(_ProjectFilter, self.request.query_params)
            return selectors.visible_projects(user, **filters).select_related(
                "organisation", "territory", "region", "sector"
            )
        return _projects(user).prefetch_related("financings__tranches", "financings__schedule")

    @extend_schema(methods=["get"], responses=s.VisitSerializer(many=True))
    @extend_schema(
        methods=["post"],
        request=s.VisitSerializer,
        responses={201: s.VisitSerializer},
        summary="Record a follow-up visit",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def visits(self, request, pk=None):
        project = self.get_object()
        if request.method == "GET":
            return Response(s.VisitSerializer(project.visits.all(), many=True).data)
        data = dict(_valid(s.VisitSerializer, request.data))
        planned = data.pop("visit", None)
        visit = services.visit_record(
            user=request.user,
            project=project,
            visit=Visit(pk=planned) if planned else None,
            **data,
        )
        return Response(s.VisitSerializer(visit).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["get"], responses=s.CoachingSerializer(many=True))
    @extend_schema(
        methods=["post"],
        request=s.CoachingSerializer,
        responses={201: s.CoachingSerializer},
        summary="Record a training or coaching session",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def coaching(self, request, pk=None):
        project = self.get_object()
        context = {"request": request}
        if request.method == "GET":
            rows = project.coaching.prefetch_related("attendees")
            return Response(s.CoachingSerializer(rows, many=True, context=context).data)
        data = _valid(s.CoachingSerializer, request.data, **context)
        session = services.coaching_record(user=request.user, project=project, **data)
        return Response(
            s.CoachingSerializer(session, context=context).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=s.MentorSerializer, responses=s.ProjectSerializer)
    @action(detail=True, methods=["post"])
    def mentor(self, request, pk=None):
        project = self.get_object()
        data = _valid(s.MentorSerializer, request.data)
        project = services.mentor_assign(user=request.user, project=project, **data)
        return Response(s.ProjectSerializer(_project_detail(request.user, project.pk)).data)


class TrancheViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Tranches of the projects the caller sees: evidenced against their milestone by the
    field team, released by a coordinator."""

    serializer_class = s.TrancheSerializer

    def get_queryset(self):
        return Tranche.objects.filter(
            financing__project__in=Project.objects.visible_to(self.request.user)
        ).select_related("financing__project")

    @extend_schema(request=s.EvidenceSerializer, responses=s.TrancheSerializer)
    @action(detail=True, methods=["post"])
    def evidence(self, request, pk=None):
        tranche = self.get_object()
        data = _valid(s.EvidenceSerializer, request.data)
        tranche = services.tranche_evidence(user=request.user, tranche=tranche, **data)
        return Response(s.TrancheSerializer(self.get_queryset().get(pk=tranche.pk)).data)

    @extend_schema(request=s.ReleaseSerializer, responses=s.TrancheSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        tranche = self.get_object()
        data = _valid(s.ReleaseSerializer, request.data)
        tranche = services.tranche_release(user=request.user, tranche=tranche, **data)
        return Response(s.TrancheSerializer(self.get_queryset().get(pk=tranche.pk)).data)


class FinancingViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Financing components of the projects the caller sees, with the full loan schedule."""

    serializer_class = s.FinancingDetailSerializer

    def get_queryset(self):
        return (
            Financing.objects.filter(project__in=Project.objects.visible_to(self.request.user))
            .select_related("project")
            .prefetch_related("tranches", "schedule")
        )

    @extend_schema(methods=["get"], responses=s.RepaymentSerializer(many=True))
    @extend_schema(
        methods=["post"],
        request=s.RepaymentSerializer,
        responses={201: s.RepaymentSerializer},
        summary="Record a repayment of a loan (oldest instalments first); answers the receipt",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def repayments(self, request, pk=None):
        financing = self.get_object()
        if request.method == "GET":
            rows = financing.repayments.select_related("financing__project")
            return Response(s.RepaymentSerializer(rows, many=True).data)
        data = _valid(s.RepaymentSerializer, request.data)
        repayment = services.repayment_record(user=request.user, financing=financing, **data)
        repayment.financing.project = financing.project
        return Response(s.RepaymentSerializer(repayment).data, status=status.HTTP_201_CREATED)


# --- Catalogue and exhibitions -------------------------------------------------------------


@extend_schema_view(list=extend_schema(parameters=[_param("project", int, "Id of the project.")]))
class ProductViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Products of the projects the caller sees; ``published`` ones appear in the public
    catalogue."""

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return s.ProductUpdateSerializer
        return s.ProductSerializer

    def get_queryset(self):
        products = Product.objects.filter(
            project__in=Project.objects.visible_to(self.request.user),
            archived_at__isnull=True,
        ).select_related("project")
        if self.action == "list":
            filters = _valid(_ProductFilter, self.request.query_params)
            if filters.get("project"):
                products = products.filter(project_id=filters["project"])
        return products

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.product_save(user=self.request.user, **data)

    def perform_update(self, serializer):
        product = serializer.instance
        currency = product.project.currency
        data = {
            "name": product.name,
            "description": product.description,
            "price_min": s.money_text(product.price_min, currency),
            "price_max": s.money_text(product.price_max, currency),
            "published": product.published,
            **serializer.validated_data,
        }
        serializer.instance = services.product_save(
            user=self.request.user, project=product.project, product=product, **data
        )


def _exhibitions_q(user) -> Q | None:
    """Exhibitions of the caller's organisations, their members and networks (None: all)."""
    scope = scope_for(user)
    if scope.is_operator:
        return None
    condition = Q(pk__in=[])
    for grant in scope.grants:
        condition |= networks_of_q("organisation_id", grant.organisation_ids)
    return condition


class ExhibitionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Forums and exhibitions organised by the caller's organisations and networks."""

    serializer_class = s.ExhibitionSerializer

    def get_queryset(self):
        exhibitions = Exhibition.objects.filter(archived_at__isnull=True).select_related(
            "organisation", "territory"
        )
        condition = _exhibitions_q(self.request.user)
        return exhibitions if condition is None else exhibitions.filter(condition)

    def perform_create(self, serializer):
        serializer.instance = services.exhibition_create(
            user=self.request.user, **serializer.validated_data
        )

    @extend_schema(methods=["get"], responses=s.StandSerializer(many=True))
    @extend_schema(
        methods=["post"],
        request=s.StandSerializer,
        responses={201: s.StandSerializer},
        summary="Give a project a stand",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def stands(self, request, pk=None):
        exhibition = self.get_object()
        context = {"request": request}
        if request.method == "GET":
            rows = exhibition.stands.filter(
                project__in=Project.objects.visible_to(request.user)
            ).select_related("project")
            return Response(s.StandSerializer(rows, many=True, context=context).data)
        data = _valid(s.StandSerializer, request.data, **context)
        stand = services.stand_add(user=request.user, exhibition=exhibition, **data)
        return Response(
            s.StandSerializer(stand, context=context).data, status=status.HTTP_201_CREATED
        )


@extend_schema_view(list=extend_schema(parameters=[_sector_param, _region_param]))
class CatalogueViewSet(viewsets.ReadOnlyModelViewSet):
    """The public catalogue: published products of running projects, for anyone, signed in
    or not. It names no promoter and no project."""

    serializer_class = s.CatalogueSerializer
    permission_classes = [AllowAny]

    def get_queryset(self):
        products = Product.objects.filter(
            published=True, archived_at__isnull=True, project__archived_at__isnull=True
        ).select_related("project__sector", "project__region")
        if self.action == "list":
            filters = _valid(_CatalogueFilter, self.request.query_params)
            if filters.get("sector"):
                products = products.filter(project__sector=filters["sector"])
            products = _within(products, "project__region", filters.get("region"))
        return products


# --- Reports -------------------------------------------------------------------------------


def _bucket(bucket: selectors.Bucket) -> dict:
    return {
        "projects": bucket.projects,
        "individual": bucket.individual,
        "collective": bucket.collective,
        "jobs_women": bucket.jobs_women,
        "jobs_men": bucket.jobs_men,
        "jobs": bucket.jobs,
        "amounts": [
            {"currency": currency, "amount": s.money_text(amount, currency)}
            for currency, amount in sorted(bucket.amounts.items())
        ],
        "status": {value: bucket.status.get(value, 0) for value in ProjectStatus.values},
        "survival": [
            {
                "months": months,
                "eligible": bucket.eligible.get(months, 0),
                "alive": bucket.alive.get(months, 0),
                "rate": bucket.survival(months),
            }
            for months in selectors.SURVIVAL_MONTHS
        ],
    }


class DashboardViewSet(viewsets.GenericViewSet):
    """The dashboard of the projects the caller sees: totals, by region, by sector, by
    status, jobs and survival at 6, 12 and 24 months."""

    pagination_class = None
    filter_backends = []
    serializer_class = s.DashboardSerializer

    @extend_schema(
        summary="Micro-projects dashboard",
        parameters=[
            _region_param,
            _sector_param,
            _param("status", enum=ProjectStatus.values),
            _param("kind", enum=ApplicationKind.values),
        ],
        responses=s.DashboardSerializer,
    )
    def list(self, request):
        filters = _valid(_ProjectFilter, request.query_params)
        board = selectors.dashboard(request.user, **filters)
        region_codes = dict(
            Territory.objects.filter(pk__in=board.by_region).values_list("pk", "code")
        )
        sector_codes = dict(Sector.objects.filter(pk__in=board.by_sector).values_list("pk", "code"))
        return Response(
            {
                "total": _bucket(board.total),
                "by_region": [
                    {
                        "code": region_codes.get(pk, ""),
                        "name": board.region_names.get(pk, ""),
                        **_bucket(bucket),
                    }
                    for pk, bucket in board.by_region.items()
                ],
                "by_sector": [
                    {
                        "code": sector_codes.get(pk, ""),
                        "name": board.sector_names.get(pk, ""),
                        **_bucket(bucket),
                    }
                    for pk, bucket in board.by_sector.items()
                ],
                "by_status": board.by_status,
            }
        )


class PortfolioViewSet(viewsets.GenericViewSet):
    """Portfolio at risk: outstanding loans per region and the part of it on loans with an
    instalment unpaid for more than ``days`` days (PAR30 by default)."""

    pagination_class = None
    filter_backends = []
    serializer_class = s.PortfolioSerializer

    @extend_schema(
        summary="Portfolio at risk",
        parameters=[
            _param("as_of", OpenApiTypes.DATE, "The day of the figures (today when left out)."),
            _param("days", int, "Days an instalment is late to count as at risk (30)."),
        ],
        responses=s.PortfolioSerializer,
    )
    def list(self, request):
        query = _valid(_PortfolioQuery, request.query_params)
        as_of = query["as_of"] or timezone.localdate()
        lines = selectors.portfolio_at_risk(request.user, as_of=as_of, days=query["days"])
        regions = {t.pk: t for t in Territory.objects.filter(pk__in=[line.key for line in lines])}
        return Response(
            {
                "as_of": as_of,
                "days": query["days"],
                "lines": [
                    {
                        "region": regions[line.key].code if line.key in regions else None,
                        "region_name": str(regions[line.key]) if line.key in regions else None,
                        "currency": line.currency,
                        "loans": line.loans,
                        "outstanding": s.money_text(line.outstanding, line.currency),
                        "at_risk": s.money_text(line.at_risk, line.currency),
                        "loans_at_risk": line.loans_at_risk,
                        "par": line.par,
                    }
                    for line in lines
                ],
            }
        )
