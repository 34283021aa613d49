from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from i18nfield.rest_framework import I18nField
from i18nfield.strings import LazyI18nString
from rest_framework import serializers

from tadamun.core.validators import validate_single_line

_LANGS = {code for code, _name in settings.LANGUAGES}


@extend_schema_field(
    {
        "type": "object",
        "description": "Text per language code (ar, fr, it, el, en).",
        "additionalProperties": {"type": "string"},
        "example": {"en": "Micro-projects", "fr": "Micro-projets", "ar": "المشاريع الصغرى"},
    }
)
class TranslatedField(I18nField):
    """Translated text as an object of language code to text."""

    default_error_messages = {
        "invalid": _('Give an object of language code to text, for example {"en": "…"}.'),
        "language": _("Unknown language code: %(code)s."),
        "too_long": _("The %(code)s text is longer than %(max)s characters."),
        "required": _("This field is required."),
    }

    def __init__(self, *, max_length: int = 300, multiline: bool = False, **kwargs):
        self.text_max_length = max_length
        self.multiline = multiline
        super().__init__(**kwargs)

    def _invalid(self):
        # Not self.fail(): it would str.format() the message, whose example holds braces.
        raise serializers.ValidationError(self.error_messages["invalid"], code="invalid")

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self._invalid()
        cleaned = {}
        for code, text in data.items():
            if code not in _LANGS:
                raise serializers.ValidationError(self.error_messages["language"] % {"code": code})
            if not isinstance(text, str):
                self._invalid()
            if len(text) > self.text_max_length:
                raise serializers.ValidationError(
                    self.error_messages["too_long"] % {"code": code, "max": self.text_max_length}
                )
            if not self.multiline:
                validate_single_line(text)
            cleaned[code] = text.strip()
        if self.required and not any(cleaned.values()):
            self.fail("required")
        return LazyI18nString(cleaned)
