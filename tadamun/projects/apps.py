from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "tadamun.projects"
    verbose_name = _("Micro-projects")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from tadamun.core import timeline

        from . import selectors

        timeline.register(selectors.person_timeline_entries)
