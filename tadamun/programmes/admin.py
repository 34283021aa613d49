from django.contrib import admin

from tadamun.core.admin import OperatorAdmin

from .models import Component, Programme, ProgrammeParticipant


class ParticipantInline(admin.TabularInline):
    model = ProgrammeParticipant
    raw_id_fields = ["organisation"]
    extra = 0


class ComponentInline(admin.TabularInline):
    model = Component
    extra = 0


@admin.register(Programme)
class ProgrammeAdmin(OperatorAdmin):
    list_display = ["code", "title", "status", "start", "end", "budget", "currency"]
    list_filter = ["status"]
    search_fields = ["code", "title"]
    filter_horizontal = ["territories"]
    inlines = [ParticipantInline, ComponentInline]
