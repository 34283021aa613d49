from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "tadamun.imports"
    label = "imports"
    verbose_name = _("Imports")

    def ready(self):
        # Each kind of import registers itself (kinds.py): people, cases, projects and
        # repayments.
        from . import cases, people, projects  # noqa: F401
