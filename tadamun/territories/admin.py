from django.contrib import admin

from tadamun.core.admin import OperatorAdmin

from .models import Territory


@admin.register(Territory)
class TerritoryAdmin(OperatorAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
