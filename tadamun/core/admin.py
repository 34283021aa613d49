from simple_history.admin import SimpleHistoryAdmin


class OperatorAdmin(SimpleHistoryAdmin):
    """Admin for the platform operator: sees every row (the access layer is for users of
    organisations; the operator maintains the platform itself)."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        unscoped = getattr(queryset, "unscoped", None)
        return unscoped("platform operator admin") if unscoped else queryset

    def has_delete_permission(self, request, obj=None):
        # Records are archived, never deleted, so that their history stays whole.
        return False
