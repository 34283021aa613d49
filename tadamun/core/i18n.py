"""Language helpers: which languages exist, the Maghreb Arabic variant, translated JSON text."""

from django.conf import settings
from django.utils import translation

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]

# Tunisia, Morocco and Algeria write the months as جانفي، فيفري، مارس، أفريل ... Django's Algerian
# Arabic catalogue carries exactly those names, and gettext falls back from "ar-dz" to our "ar"
# strings, so a Maghreb user gets Arabic text with Maghreb months by activating "ar-dz".
MAGHREB_COUNTRIES = {"TN", "MA", "DZ", "LY", "MR"}
MAGHREB_ARABIC = "ar-dz"


def language_for(language: str, country: str | None) -> str:
    """The language to activate for a user who chose ``language`` and lives in ``country``."""
    if language == "ar" and country and country.upper() in MAGHREB_COUNTRIES:
        return MAGHREB_ARABIC
    return language


def base_language(code: str | None = None) -> str:
    """The interface language among LANGUAGES ("ar-dz" counts as "ar")."""
    code = code or translation.get_language() or settings.LANGUAGE_CODE
    return code.split("-")[0]
