from django.contrib import admin

from tadamun.core.admin import OperatorAdmin

from .models import NetworkMembership, Organisation


class MembershipInline(admin.TabularInline):
    model = NetworkMembership
    fk_name = "network"
    raw_id_fields = ["member"]
    extra = 0


@admin.register(Organisation)
class OrganisationAdmin(OperatorAdmin):
    list_display = ["slug", "name", "kind", "country", "territory", "archived_at"]
    list_filter = ["kind", "country"]
    search_fields = ["slug", "name", "short_name"]
    raw_id_fields = ["territory"]
    inlines = [MembershipInline]
