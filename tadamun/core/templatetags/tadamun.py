from urllib.parse import urlencode

from django import template
from django.utils import translation

from ..money import format_money

register = template.Library()


@register.filter
def money(amount, currency):
    """``{{ amount|money:currency }}``: the amount with its currency, in the active locale."""
    return format_money(amount, currency) if currency else amount


@register.filter
def i18n(value):
    """Text of a translated JSON field in the active language, falling back sensibly."""
    if value is None:
        return ""
    localize = getattr(value, "localize", None)
    if localize is not None:
        return localize(translation.get_language() or "en")
    return str(value)


@register.simple_tag(takes_context=True)
def query(context, **changes):
    """The current query string with some parameters changed (for pagination and filters)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + urlencode(list(params.lists()), doseq=True) if params else "?"
