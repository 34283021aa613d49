from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MatchingConfig(AppConfig):
    name = "tadamun.matching"
    label = "matching"
    verbose_name = _("Duplicates")

    def ready(self):
        from tadamun.core import timeline

        from .selectors import person_timeline

        timeline.register(person_timeline)
