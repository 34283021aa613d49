"""Consonant skeletons of names, comparable across Arabic, Greek and Latin spellings.

The same name reaches the registry as محمد, Mohamed, Mohammed, Mhamed, Muhammad or Μοχάμεντ.
What these spellings keep in common is their consonants, once the letters that writers of
French, Italian, English and Greek use for the same Arabic sound are put in one class. A
*skeleton* is that: a short string over the alphabet below, vowels dropped, doubled letters
collapsed. محمد, Mohamed, Mhamed and Μοχάμεντ all become ``MHMT``.

Classes (one letter each)::

    B  b p, ب پ, μπ, π          K  k q c(a o u) g(a o u) gh ck, ك ق غ گ ڨ ڤ, κ γ
    T  t d th dh, ت ط ث د ذ ض ظ  S  s ss c(e i y) ç, س ص, σ ς
    J  j dj dz tz g(e i y), ج    Z  z, ز ژ, ζ
    H  h ch sh kh sc(e i), ح خ ه ش, χ
    F  f ph v, ف, φ β            L M N R  as written
    (vowels, y, w, ع ء and the long vowels ا و ي are dropped; x is KS, ψ is BS, ξ is KS)

Choices worth knowing:

* **ch, sh, kh and h are one class.** French writes ش as "ch" (Chokri, Hicham), Greek
  transliteration writes χ as "ch" (Christos), and Greek writes the Arabic ح and خ as χ
  (Μοχάμεντ). Keeping them apart would split one of these three families of spellings.
* **t and d are one class**, and so are p and b, f and v: Greek writes a foreign d as ντ and b as
  μπ, and its Latin transliteration writes ντ as "nt" (Pantazis); Arabic has no p and no v.
* **A nasal before its stop is dropped** (nt, nd, mb, mp, nk, ng become T, T, B, B, K, K), so
  that Greek ντ/μπ/γγ agree with Latin d/b/ng wherever they stand.
* **Doubled letters collapse after the vowels are dropped**, so shadda, "mm" and "Mhamed"
  agree.
* **The Arabic article**: ال is dropped at the start of a name (الطرابلسي = Trabelsi), and
  inside a compound name before a sun letter (نور الدين = Noureddine); before a moon letter
  inside a compound it is kept as L (عبد العزيز = Abdelaziz). A Latin "El"/"Al" standing as
  the first word of a name is dropped (El Alaoui = Alaoui).
* **ة** (ta marbuta) is T after a long a (نجاة = Najet) and silent otherwise (فاطمة = Fatma).
* **Soft g and c**: g before e, i, y is J (Georgios, Γεώργιος and Giamel agree), c before e, i,
  y is S (Naceur = الناصر).

Skeletons are meant for finding candidates and as one comparison among several: two
different names can share one (Imen, Amine and Mouna are all ``MN``). They are pure functions
of the text.
"""

import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii

__all__ = [
    "PARTICLES",
    "is_particle",
    "greek_to_latin",
    "latin_letters",
    "name_tokens",
    "script_of",
    "skeleton",
    "token_skeleton",
]

VOWELS = frozenset("aeiouyw")

# Arabic letters → skeleton classes; "" drops the letter.
_ARABIC = {
    **dict.fromkeys("اأإآٱءئؤىعويیۍۇۆ", ""),
    **dict.fromkeys("بپ", "B"),
    **dict.fromkeys("تطثدذضظټ", "T"),
    "ج": "J",
    **dict.fromkeys("حخهھۀچش", "H"),
    **dict.fromkeys("رڕ", "R"),
    **dict.fromkeys("زژ", "Z"),
    **dict.fromkeys("سص", "S"),
    **dict.fromkeys("غقكکگڨڭڤ", "K"),
    "ف": "F",
    "ل": "L",
    "م": "M",
    "ن": "N",
}
_ARABIC_SUN = frozenset("تثدذرزسشصضطظلن")
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u0640\u06d6-\u06ed]")
_ARABIC_LONG_A = frozenset("اآأى")

_GREEK_DIGRAPHS_VOWEL = {"ου": "ou", "αι": "ai", "ει": "ei", "οι": "oi", "υι": "yi"}
_GREEK = {
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th",
    "ι": "i", "κ": "k", "λ": "l", "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p",
    "ρ": "r", "σ": "s", "ς": "s", "τ": "t", "υ": "y", "φ": "f", "χ": "ch", "ψ": "ps",
    "ω": "o",
}  # fmt: skip
_GREEK_VOICED = frozenset("αεηιουωβγδζλμνρ")

# Words that are part of a name but say little about who it is, in any spelling. They are
# kept in the skeleton of the whole name (Ben Ali = Benali) but not used alone as a key.
PARTICLES = frozenset(
    {"ben", "bin", "ibn", "bent", "bint", "bel", "bou", "abou", "abu", "ould", "ouled", "ait"}
    | {"el", "al", "ul", "de", "di", "da", "del", "della", "van", "von", "le", "la"}
)
_LEADING_ARTICLES = frozenset({"el", "al", "ul", "l"})
_ARABIC_PARTICLES = frozenset(
    {"بن", "ابن", "بنت", "ال", "أولاد", "اولاد", "ولد", "آيت", "أيت", "ايت", "أبو", "ابو", "بو"}
)

_LATIN_PREMAP = str.maketrans({"ç": "s", "Ç": "S", "ş": "sh", "Ş": "Sh", "ʿ": "", "ʾ": ""})
_SPLIT = re.compile(r"[^\w]+|_")


def script_of(text: str) -> str:
    """ "arabic", "greek" or "latin" (anything else is read through anyascii as Latin)."""
    arabic = greek = other = 0
    for char in text:
        if not char.isalpha():
            continue
        code = ord(char)
        if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0xFB50 <= code <= 0xFEFF:
            arabic += 1
        elif 0x0370 <= code <= 0x03FF or 0x1F00 <= code <= 0x1FFF:
            greek += 1
        else:
            other += 1
    if arabic > max(greek, other):
        return "arabic"
    if greek > other:
        return "greek"
    return "latin"


def name_tokens(name: str) -> list[str]:
    """The words of a name in its own script (split on spaces, hyphens, apostrophes...)."""
    return [t for t in _SPLIT.split(name or "") if t]


def latin_letters(token: str) -> str:
    """A Latin or other-script word as lower-case ASCII letters (ç as s, ş as sh)."""
    return re.sub(r"[^a-z]", "", anyascii(token.translate(_LATIN_PREMAP)).lower())


# --- Greek → Latin ---------------------------------------------------------------------------


def greek_to_latin(token: str) -> str:
    """A Greek word in Latin letters the way documents and people spell it (close to ELOT 743):
    ου → ou, αυ/ευ → av/ev (af/ef before a voiceless consonant), μπ and ντ → b and d at the
    start of a word and mp and nt inside it, γγ → ng, γκ → g/ng, χ → ch, η → i."""
    decomposed = unicodedata.normalize("NFD", token.lower())
    letters: list[tuple[str, bool]] = []  # (base letter, carries a diaeresis)
    for char in decomposed:
        if unicodedata.combining(char):
            if char == "\u0308" and letters:
                letters[-1] = (letters[-1][0], True)
            continue
        letters.append((char, False))
    out: list[str] = []
    i = 0
    n = len(letters)
    while i < n:
        char, _ = letters[i]
        nxt, nxt_diaeresis = letters[i + 1] if i + 1 < n else ("", False)
        pair = char + nxt
        if pair in ("αυ", "ευ", "ηυ") and not nxt_diaeresis:
            after = letters[i + 2][0] if i + 2 < n else ""
            voiced = not after or after in _GREEK_VOICED
            out.append({"α": "a", "ε": "e", "η": "i"}[char] + ("v" if voiced else "f"))
            i += 2
            continue
        if pair in _GREEK_DIGRAPHS_VOWEL and not nxt_diaeresis:
            out.append(_GREEK_DIGRAPHS_VOWEL[pair])
            i += 2
            continue
        if pair == "μπ":
            out.append("b" if i == 0 else "mp")
            i += 2
            continue
        if pair == "ντ":
            out.append("d" if i == 0 else "nt")
            i += 2
            continue
        if pair == "γκ":
            out.append("g" if i == 0 else "ng")
            i += 2
            continue
        if pair in ("γγ", "γξ", "γχ"):
            out.append("n" + _GREEK[nxt])
            i += 2
            continue
        out.append(_GREEK.get(char, latin_letters(char)))
        i += 1
    return "".join(out)


# --- Latin → skeleton ------------------------------------------------------------------------

_SOFT = frozenset("eiy")


def _latin_classes(word: str) -> str:
    """Skeleton classes of lower-case ASCII letters, before the common clean-up."""
    out: list[str] = []
    i = 0
    n = len(word)
    while i < n:
        c = word[i]
        nxt = word[i + 1] if i + 1 < n else ""
        nxt2 = word[i + 2] if i + 2 < n else ""
        if c in VOWELS:
            i += 1
            continue
        two = c + nxt
        if two in ("sh", "ch", "kh"):
            out.append("H")
            i += 2
            continue
        if c == "t" and nxt == "c" and nxt2 == "h":  # tch: چ
            out.append("H")
            i += 3
            continue
        if two == "sc" and nxt2 in _SOFT:  # Italian sci, sce: ش
            out.append("H")
            i += 2
            continue
        if two in ("th", "dh"):
            out.append("T")
            i += 2
            continue
        if two == "ph":
            out.append("F")
            i += 2
            continue
        if two == "gh":
            out.append("K")
            i += 2
            continue
        if two in ("dj", "dz", "tz"):
            out.append("J")
            i += 2
            continue
        if two == "ck":
            out.append("K")
            i += 2
            continue
        if c == "c":
            out.append("S" if nxt in _SOFT else "K")
        elif c == "g":
            out.append("J" if nxt in _SOFT else "K")
        elif c == "x":
            out.append("KS")
        else:
            out.append(_LATIN_SINGLE.get(c, ""))
        i += 1
    return "".join(out)


_LATIN_SINGLE = {
    "b": "B", "p": "B", "d": "T", "t": "T", "f": "F", "v": "F", "h": "H", "j": "J", "k": "K",
    "q": "K", "l": "L", "m": "M", "n": "N", "r": "R", "s": "S", "z": "Z",
}  # fmt: skip

_NASAL_STOP = re.compile(r"N(?=[TK])|M(?=B)")


def _clean(classes: str) -> str:
    """The steps every script shares: t+h and s+h as one sound, nasal before stop, doubles."""
    classes = classes.replace("TH", "T").replace("SH", "H")
    classes = _NASAL_STOP.sub("", classes)
    return re.sub(r"(.)\1+", r"\1", classes)


# --- Arabic → skeleton -----------------------------------------------------------------------


def _arabic_classes(word: str, *, first: bool) -> str:
    word = _ARABIC_MARKS.sub("", word)
    if word.startswith("ال") and len(word) > 3:
        rest = word[2:]
        word = rest if (first or rest[0] in _ARABIC_SUN) else "ل" + rest
    out: list[str] = []
    for i, char in enumerate(word):
        if char == "ة":
            out.append("T" if i and word[i - 1] in _ARABIC_LONG_A else "")
        else:
            out.append(_ARABIC.get(char, ""))
    return "".join(out)


@lru_cache(maxsize=200_000)
def token_skeleton(token: str, first: bool = True) -> str:
    """The skeleton of one word in any script. ``first``: whether it opens the name (an Arabic
    article is then dropped whatever letter follows)."""
    script = script_of(token)
    if script == "arabic":
        return _clean(_arabic_classes(token, first=first))
    word = greek_to_latin(token) if script == "greek" else latin_letters(token)
    return _clean(_latin_classes(word))


def is_particle(token: str) -> bool:
    """Whether a word is a particle of names (ben, بن, Μπεν, el, ال, de ...) in any script."""
    script = script_of(token)
    if script == "arabic":
        return _ARABIC_MARKS.sub("", token) in _ARABIC_PARTICLES
    word = greek_to_latin(token) if script == "greek" else latin_letters(token)
    return word in PARTICLES


def _drop_leading_article(tokens: list[str]) -> list[str]:
    if len(tokens) > 1 and latin_letters(tokens[0]) in _LEADING_ARTICLES:
        return tokens[1:]
    return tokens


@lru_cache(maxsize=200_000)
def skeleton(name: str) -> str:
    """The skeleton of a whole name (all its words, joined): "Ben Ali", "Benali" and "بن علي"
    are all ``BNL``; "El Alaoui" and "العلوي" are ``L``."""
    tokens = _drop_leading_article(name_tokens(name))
    return _clean("".join(token_skeleton(t, i == 0) for i, t in enumerate(tokens)))
