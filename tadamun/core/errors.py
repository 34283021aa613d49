"""One error type for domain rules, carrying translatable messages keyed by field.

It is a Django ``ValidationError``, so a form shows each message next to its field
(``form.add_error(None, err)``), the API answers 400 with the same keys, and an import
report lists the same words, in the user's language.
"""

from django.core.exceptions import ValidationError


class DomainError(ValidationError):
    """A rule of the domain was broken; nothing was written."""


class AccessDenied(DomainError):
    """The user may see the record but not do this to it."""


class Conflict(DomainError):
    """Someone else changed the record since the user loaded it; nothing was written."""
