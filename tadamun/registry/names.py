"""Names written in any script, folded to keys that search can match."""

import re
import unicodedata

from anyascii import anyascii

_NON_KEY = re.compile(r"[^a-z0-9]+")
_LATIN_LIKE_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC")


def fold(text: str) -> str:
    """Lower-case ASCII words: "Μοχάμεντ Ben-Ali" becomes "mochament ben ali"."""
    return " ".join(_NON_KEY.sub(" ", anyascii(text or "").lower()).split())


def name_keys(*names: str) -> set[str]:
    keys: set[str] = set()
    for name in names:
        keys.update(token[:60] for token in fold(name).split())
    return keys


def search_tokens(text: str) -> list[str]:
    return [t for t in fold(text).split() if t][:5]


def is_latin_transliterable(text: str) -> bool:
    """Whether a machine transliteration of this name is what its owner would write.

    Greek and Cyrillic letters map to Latin ones the way documents spell them; Arabic is
    written without short vowels, so "محمد" would become "mhmd": a person must type it.
    """
    for char in text:
        if char.isalpha():
            name = unicodedata.name(char, "")
            if not name.startswith(_LATIN_LIKE_SCRIPTS):
                return False
    return True


def transliterate(text: str) -> str:
    return anyascii(text) if text and is_latin_transliterable(text) else ""
