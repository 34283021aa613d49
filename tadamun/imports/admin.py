from django.contrib import admin

from tadamun.core.admin import OperatorAdmin

from .models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(OperatorAdmin):
    list_display = ["pk", "original_name", "kind", "organisation", "status", "created_by"]
    list_filter = ["kind", "status"]
    raw_id_fields = ["organisation", "created_by", "run_by"]
    readonly_fields = ["report"]
    show_full_result_count = False
