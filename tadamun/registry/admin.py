from django.contrib import admin

from tadamun.core.admin import OperatorAdmin

from .models import Consent, Group, GroupMember, Person


class ConsentInline(admin.TabularInline):
    model = Consent
    fk_name = "person"
    raw_id_fields = ["organisation", "recorded_by", "withdrawn_by"]
    extra = 0


@admin.register(Person)
class PersonAdmin(OperatorAdmin):
    list_display = [
        "pk",
        "given_name",
        "family_name",
        "given_name_latin",
        "family_name_latin",
        "sex",
        "birth_year",
        "organisation",
    ]
    list_filter = ["sex"]
    raw_id_fields = ["residence", "organisation"]
    inlines = [ConsentInline]
    show_full_result_count = False


class MemberInline(admin.TabularInline):
    model = GroupMember
    raw_id_fields = ["person"]
    extra = 0


@admin.register(Group)
class GroupAdmin(OperatorAdmin):
    list_display = ["pk", "name", "kind", "organisation", "territory"]
    list_filter = ["kind"]
    raw_id_fields = ["organisation", "territory"]
    inlines = [MemberInline]
