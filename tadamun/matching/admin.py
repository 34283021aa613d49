from django.contrib import admin

from tadamun.core.admin import OperatorAdmin

from .models import DuplicatePair, DuplicateRun, PersonMerge


@admin.register(DuplicateRun)
class DuplicateRunAdmin(OperatorAdmin):
    list_display = ["pk", "organisation", "status", "pairs_stored", "started_by", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["organisation", "started_by"]
    show_full_result_count = False


@admin.register(DuplicatePair)
class DuplicatePairAdmin(OperatorAdmin):
    list_display = ["pk", "run", "person_a", "person_b", "probability", "decision"]
    list_filter = ["decision"]
    raw_id_fields = ["run", "person_a", "person_b", "decided_by", "merge"]
    show_full_result_count = False


@admin.register(PersonMerge)
class PersonMergeAdmin(OperatorAdmin):
    list_display = ["pk", "keep", "drop", "merged_by", "merged_at", "undone_at"]
    raw_id_fields = ["keep", "drop", "merged_by", "undone_by"]
    # Merges change through the merge and undo services only: the admin reads.
    readonly_fields = [
        "keep_before",
        "drop_before",
        "filled",
        "other_values",
        "moved",
        "left",
    ]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
