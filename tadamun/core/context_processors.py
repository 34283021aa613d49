from django.conf import settings

from .i18n import base_language


def tadamun(request):
    return {
        "DEMO_MODE": settings.DEMO_MODE,
        "HTML_LANG": base_language(),
    }
