"""API of imports: upload a file (checked at once, or in the background when large), read its
status, progress and report, then run it."""

from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from tadamun.api.serializers import OrganisationCodeField

from . import services
from .models import ImportJob, ImportKind
from .parsing import ENCODING_CHOICES


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV (any encoding, comma, semicolon or tab) or XLSX.")
    kind = serializers.ChoiceField(choices=ImportKind.choices, default=ImportKind.PEOPLE)
    organisation = OrganisationCodeField(help_text="Code of the organisation importing.")
    encoding = serializers.ChoiceField(
        choices=[code for code, _label in ENCODING_CHOICES],
        required=False,
        allow_blank=True,
        default="",
        help_text="The CSV file's encoding; empty to detect it.",
    )


class ReportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="Row of the file; null: the file.")
    letter = serializers.CharField(help_text="Column letter, as in a spreadsheet.")
    column = serializers.CharField(help_text="The column's header in the file.")
    field = serializers.CharField()
    messages = serializers.ListField(child=serializers.CharField())


class DuplicateMatchSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="An earlier row of the file.")
    person = serializers.IntegerField(
        allow_null=True, help_text="A registered person, when the caller may see them."
    )
    name = serializers.CharField()
    organisation = serializers.CharField(help_text="Organisation that registered the person.")
    message = serializers.CharField()


class DuplicateSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    matches = DuplicateMatchSerializer(many=True)


class ColumnSerializer(serializers.Serializer):
    letter = serializers.CharField()
    column = serializers.CharField()
    field = serializers.CharField(required=False)


class SampleRowSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    values = serializers.ListField(
        child=serializers.CharField(allow_blank=True), help_text="In the order of the columns."
    )


class ImportReportSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    written = serializers.IntegerField()
    error_count = serializers.IntegerField()
    error_rows = serializers.IntegerField()
    duplicate_count = serializers.IntegerField()
    columns = ColumnSerializer(many=True)
    ignored = ColumnSerializer(many=True)
    errors = ReportErrorSerializer(many=True)
    duplicates = DuplicateSerializer(many=True)
    sample = SampleRowSerializer(
        many=True, help_text="The first rows as read, while the import waits for confirmation."
    )


class ProgressSerializer(serializers.Serializer):
    phase = serializers.CharField()
    processed = serializers.IntegerField()
    total = serializers.IntegerField(help_text="0 while the number of rows is not yet known.")
    percent = serializers.IntegerField(allow_null=True)


class ImportJobSerializer(serializers.ModelSerializer):
    # Plain text here: the choices are listed once, in the upload's schema.
    kind = serializers.CharField(read_only=True, help_text="What the file holds: people.")
    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    progress = serializers.SerializerMethodField()
    report = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "organisation",
            "original_name",
            "file_type",
            "file_size",
            "encoding",
            "separator",
            "status",
            "progress",
            "rows_total",
            "report",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, job) -> dict:
        processed = services.job_progress(job)
        total = job.rows_total
        return {
            "phase": job.phase,
            "processed": processed,
            "total": total,
            "percent": min(100, processed * 100 // total) if total else None,
        }

    @extend_schema_field(ImportReportSerializer)
    def get_report(self, job) -> dict:
        report = job.report or {}
        data = {
            "rows": report.get("rows", 0),
            "written": report.get("written", 0),
            "error_count": report.get("error_count", 0),
            "error_rows": report.get("error_rows", 0),
            "duplicate_count": report.get("duplicate_count", 0),
            "columns": report.get("columns", []),
            "ignored": report.get("ignored", []),
            "errors": report.get("errors", []),
            "duplicates": services.report_duplicates(self.context["request"].user, job),
            "sample": report.get("sample", []),
        }
        return ImportReportSerializer(data).data


@extend_schema_view(
    list=extend_schema(summary="Imports the caller uploaded or coordinates"),
    retrieve=extend_schema(summary="An import: status, progress and report"),
)
class ImportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Files imported to register records at once: checked first, then written all or none."""

    serializer_class = ImportJobSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        return ImportJob.objects.visible_to(self.request.user).select_related(
            "organisation", "created_by"
        )

    @extend_schema(
        summary="Upload a file to import (checked at once, or in the background when large)",
        request=ImportUploadSerializer,
        responses={201: ImportJobSerializer},
    )
    def create(self, request, *args, **kwargs):
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        job = services.import_upload(user=request.user, **upload.validated_data)
        job = services.import_preview_start(user=request.user, job=job)
        return Response(
            self.get_serializer(job).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Write the checked file in the background: every row or none",
        request=None,
        responses={202: ImportJobSerializer},
    )
    @action(detail=True, methods=["post"])
    def run(self, request, *args, **kwargs):
        job = services.import_run(user=request.user, job=self.get_object())
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(summary="Cancel an import that has not started", request=None)
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        job = services.import_cancel(user=request.user, job=self.get_object())
        return Response(self.get_serializer(job).data)


router = SimpleRouter()
router.register("imports", ImportJobViewSet, basename="import")
