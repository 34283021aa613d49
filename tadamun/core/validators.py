"""Validators for text typed by people: names in any script, free notes."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Bidi embeddings, overrides and isolates can make a name display as something else
# (a "Trojan source" trick); zero-width joiners are legitimate in Arabic, so they stay.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_MARKUP = re.compile(r"[<>{}]")


def _bad_characters(value: str, *, allow_newlines: bool) -> bool:
    for char in value:
        if char in _BIDI_CONTROLS:
            return True
        if unicodedata.category(char) == "Cc" and not (allow_newlines and char in "\r\n\t"):
            return True
    return False


def validate_plain_text(value: str) -> None:
    if value and _bad_characters(value, allow_newlines=True):
        raise ValidationError(
            _("This text contains invisible control or direction-override characters."),
            code="control_characters",
        )


def validate_single_line(value: str) -> None:
    if value and _bad_characters(value, allow_newlines=False):
        raise ValidationError(
            _("This text contains line breaks, control or direction-override characters."),
            code="control_characters",
        )


def validate_name(value: str) -> None:
    validate_single_line(value)
    if value and _MARKUP.search(value):
        raise ValidationError(
            _("A name cannot contain the characters < > { }."), code="markup_in_name"
        )
