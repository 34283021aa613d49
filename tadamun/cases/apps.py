from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "tadamun.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self):
        from tadamun.core import timeline

        from .selectors import person_timeline

        timeline.register(person_timeline)
