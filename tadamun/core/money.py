"""Money: Decimal amounts, always with a currency code, formatted for the user's locale.

Each currency keeps its own number of decimals (TND 3, MAD and EUR 2), taken from the ISO 4217
data that babel ships, so no table of currencies is kept here.
"""

from decimal import ROUND_HALF_EVEN, Decimal

from babel.numbers import format_currency, get_currency_precision, is_currency
from django.utils import translation

from .i18n import base_language

# Babel needs a territory to pick number symbols; these are the places the networks work in.
_BABEL_LOCALES = {"ar": "ar_TN", "fr": "fr_FR", "it": "it_IT", "el": "el_GR", "en": "en_GB"}
_MAGHREB_BABEL = {"ar-dz": "ar_TN"}


def babel_locale(language: str | None = None) -> str:
    language = language or translation.get_language() or "en"
    return _MAGHREB_BABEL.get(language) or _BABEL_LOCALES.get(base_language(language), "en_GB")


def is_known_currency(currency: str) -> bool:
    """Whether ISO 4217 knows the code (babel answers 2 decimals for any code at all)."""
    return bool(currency) and is_currency(currency.upper())


def currency_decimals(currency: str) -> int:
    return get_currency_precision(currency.upper())


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit; banker's rounding, as accounting ledgers do."""
    exponent = Decimal(1).scaleb(-currency_decimals(currency))
    return Decimal(amount).quantize(exponent, rounding=ROUND_HALF_EVEN)


def format_money(amount: Decimal | None, currency: str, language: str | None = None) -> str:
    """The amount with its currency, in the locale's digits, separators and currency sign."""
    if amount is None:
        return ""
    return format_currency(
        quantize(amount, currency), currency.upper(), locale=babel_locale(language)
    )
