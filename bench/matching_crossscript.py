"""Matching quality on a synthetic cross-script registry with known truth, ours and plain Splink.

    .venv/bin/python bench/matching_crossscript.py [--people 20000] [--seed 7] [--no-splink]
        [--save-parameters]

The registry is generated from ``tadamun/demo/data/names.json`` (Tunisian and Moroccan names
in Arabic with their French-style Latin spellings, Italian names, Greek names with their
Latin spellings), with the name weights found there (Mohamed is 25 times as common as
Farouk). It imitates people of the Maghreb, Italy and Greece registered by associations in
Tunisia, Morocco, Italy and Greece:

* **households** of one to six people share a family name (a wife keeps her own one time in
  three), a residence and, for most members, a phone; given names differ within a household;
* each person has one to five **records** (45 % more than one), each written by an
  association of one country:
  - in Tunisia or Morocco, half in Arabic script (the Latin fields typed half of the time,
    with one of the French spellings of names.json), half in Latin letters;
  - in Italy, Arabic names in French spelling (from the passport) or in an Italian
    spelling (ou → u, ch → sci, j → gi, kh → k, y → i, doubles dropped, final e dropped);
  - in Greece, in Greek letters (Mohamed → Μοχάμεντ, Ben Ali → Μπεν Αλί, Chokri →
    Σοκρί), the Latin fields filled by the registry's transliteration or typed from the
    passport;
* **noise**: 8 % of records have a typo in one name, 4 % have given and family swapped, a
  compound name is sometimes recorded in part (Fatima Zahra → Fatima); one person in ten
  has no known birthday (every record says 1 January or only the year); otherwise a record
  has the date (70 %), 1 January of the year (10 %), the year only (8 %), nothing (5 %), a
  typo in the date (5 %), the year off by one (2 %); phones are written in three formats,
  missing on 30 % of records and a different number on 10 %; sex is missing on 5 %.

Scores are pairwise over the final groups (a pair of records counts as found when both are
in one group) and the count of unique people is compared with the truth. The threshold is
the model's own (posterior 0.5); no label is read before scoring. Goal: F1 at least 0.85 and
the count of people within 5 %.
"""

import argparse
import bisect
import datetime
import itertools
import json
import random
import re
import sys
import time
from pathlib import Path

from matching_common import HEADER, ROOT, cluster_quality, plain_splink

NAMES = json.loads((ROOT / "tadamun/demo/data/names.json").read_text())

TERRITORIES = {
    "TN": ["TN-11", "TN-12", "TN-13", "TN-21", "TN-31", "TN-32", "TN-33", "TN-51", "TN-61"],
    "MA": ["MA-01", "MA-02", "MA-04", "MA-06", "MA-07", "MA-09"],
    "IT": ["IT-FI", "IT-MI", "IT-RM", "IT-TO", "IT-BO", "IT-PA"],
    "GR": ["GR-A1", "GR-B", "GR-B-SER", "GR-M", "GR-I"],
}
# Where people of each origin are registered, and in which proportions.
CONTEXTS = {
    "TN": {"TN": 0.6, "IT": 0.25, "GR": 0.15},
    "MA": {"MA": 0.55, "IT": 0.3, "GR": 0.15},
    "IT": {"IT": 0.85, "GR": 0.1, "TN": 0.05},
    "GR": {"GR": 0.85, "IT": 0.15},
}
ORIGINS = {"TN": 0.4, "MA": 0.2, "IT": 0.25, "GR": 0.15}
HOUSEHOLD_SIZES = {1: 0.35, 2: 0.2, 3: 0.15, 4: 0.15, 5: 0.1, 6: 0.05}
EXTRA_RECORDS = {0: 0.55, 1: 0.25, 2: 0.12, 3: 0.05, 4: 0.03}
PARTICLE_WORDS = {"el", "al", "ελ", "ال", "ben", "μπεν", "abd", "ait", "ouled"}
PHONE_PREFIX = {"TN": "216", "MA": "212", "IT": "39", "GR": "30"}


def weighted(options: dict):
    keys = list(options)
    cumulative = list(itertools.accumulate(options.values()))

    def choose(rng):
        return keys[bisect.bisect_right(cumulative, rng.random() * cumulative[-1])]

    return choose


def weighted_pool(pool: list[dict]):
    cumulative = list(itertools.accumulate(p.get("w", 1) for p in pool))

    def choose(rng):
        return pool[bisect.bisect_right(cumulative, rng.random() * cumulative[-1])]

    return choose


# --- Spellings -------------------------------------------------------------------------------

_GREEK_FR = [
    ("ou", "ου"), ("ch", "σ"), ("sh", "σ"), ("kh", "χ"), ("gh", "γ"), ("th", "θ"),
    ("dh", "ντ"), ("ph", "φ"), ("dj", "τζ"), ("ss", "σ"), ("tt", "τ"), ("mm", "μ"),
    ("ll", "λ"), ("nn", "ν"), ("rr", "ρ"), ("bb", "μπ"), ("cc", "κ"), ("ai", "άι"),
    ("ei", "έι"), ("j", "τζ"), ("b", "μπ"), ("d", "ντ"), ("g", "γκ"), ("h", "χ"), ("k", "κ"),
    ("q", "κ"), ("c", "κ"), ("t", "τ"), ("z", "ζ"), ("s", "σ"), ("f", "φ"), ("v", "β"),
    ("w", "ου"), ("y", "ι"), ("x", "ξ"), ("l", "λ"), ("m", "μ"), ("n", "ν"), ("r", "ρ"),
    ("p", "π"), ("a", "α"), ("e", "ε"), ("i", "ι"), ("o", "ο"), ("u", "ου"),
]  # fmt: skip
_GREEK_IT = [
    ("gli", "λι"), ("gn", "νι"), ("sci", "σι"), ("sce", "σε"), ("chi", "κι"), ("che", "κε"),
    ("ghi", "γκι"), ("ghe", "γκε"), ("gio", "τζο"), ("gia", "τζα"), ("giu", "τζου"),
    ("gi", "τζι"), ("ge", "τζε"), ("cio", "τσο"), ("cia", "τσα"), ("ciu", "τσου"),
    ("ci", "τσι"), ("ce", "τσε"), ("zz", "τσ"), ("ss", "σ"), ("tt", "τ"), ("ll", "λ"),
    ("nn", "ν"), ("rr", "ρ"), ("pp", "π"), ("cc", "κ"), ("mm", "μ"), ("ff", "φ"), ("bb", "μπ"),
    ("dd", "ντ"), ("b", "μπ"), ("d", "ντ"), ("g", "γκ"), ("h", ""), ("c", "κ"), ("q", "κ"),
    ("k", "κ"), ("t", "τ"), ("z", "τζ"), ("s", "σ"), ("f", "φ"), ("v", "β"), ("l", "λ"),
    ("m", "μ"), ("n", "ν"), ("r", "ρ"), ("p", "π"), ("a", "α"), ("e", "ε"), ("i", "ι"),
    ("o", "ο"), ("u", "ου"), ("j", "ι"), ("y", "ι"), ("x", "ξ"), ("w", "ου"),
]  # fmt: skip
_VOWELS_GREEK = "αεηιουωάέίόύ"
_ACCENT = str.maketrans("αεηιουω", "άέήίόύώ")


def to_greek(latin: str, style: str = "fr") -> str:
    """How a Greek clerk writes a foreign name heard or read in Latin letters."""
    rules = _GREEK_FR if style == "fr" else _GREEK_IT
    words = []
    for word in latin.lower().replace("-", " ").split():
        word = word.replace("é", "e").replace("è", "e").replace("ï", "i").replace("ò", "o")
        out, i = [], 0
        while i < len(word):
            for source, target in rules:
                if word.startswith(source, i):
                    out.append(target)
                    i += len(source)
                    break
            else:
                i += 1
        greek = "".join(out)
        if greek.endswith("σ"):
            greek = greek[:-1] + "ς"
        # Stress on the last vowel but one (Greek writes the accent).
        vowels = [k for k, c in enumerate(greek) if c in _VOWELS_GREEK]
        if len(vowels) >= 2 and not any(c in "άέίόύ" for c in greek):
            k = vowels[-2]
            greek = greek[:k] + greek[k].translate(_ACCENT) + greek[k + 1 :]
        words.append(greek.capitalize())
    return " ".join(words)


def to_italian(latin: str, rng: random.Random) -> str:
    """An Italian clerk's spelling of a French-spelt Arabic name (Chokri → Sciokri)."""
    words = []
    for word in latin.split():
        w = word.lower().replace("é", "e").replace("ï", "i")
        w = w.replace("ou", "u").replace("w", "u")
        w = re.sub("ch(?=[ei])", "sc", w).replace("ch", "sci")
        out = []
        for k, c in enumerate(w):
            nxt = w[k + 1] if k + 1 < len(w) else ""
            if c == "j":
                out.append("g" if nxt in "ei" else "gi")
            elif c == "y" and rng.random() < 0.7:
                out.append("i")
            else:
                out.append(c)
        w = "".join(out)
        if "kh" in w and rng.random() < 0.5:
            w = w.replace("kh", "k")
        if rng.random() < 0.3:
            for double in ("ss", "mm", "ll", "nn", "rr", "tt", "bb"):
                w = w.replace(double, double[0])
        if w.endswith("e") and len(w) > 4 and rng.random() < 0.3:
            w = w[:-1]
        words.append(w.capitalize())
    return " ".join(words)


_ARABIC_LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
_GREEK_LETTERS = "αβγδεζηθικλμνξοπρστυφχψω"
_LATIN_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def typo(text: str, rng: random.Random) -> str:
    """One keying error: a letter dropped, doubled, replaced, or two letters swapped."""
    positions = [k for k, c in enumerate(text) if c.isalpha()]
    if len(positions) < 3:
        return text
    k = rng.choice(positions[1:])
    kind = rng.random()
    if kind < 0.3:
        return text[:k] + text[k + 1 :]
    if kind < 0.5:
        return text[:k] + text[k] + text[k:]
    if kind < 0.8:
        c = text[k]
        alphabet = (
            _ARABIC_LETTERS
            if "\u0600" <= c <= "\u06ff"
            else _GREEK_LETTERS
            if "\u0370" <= c <= "\u03ff"
            else _LATIN_LETTERS
        )
        replacement = rng.choice(alphabet)
        return text[:k] + (replacement.upper() if c.isupper() else replacement) + text[k + 1 :]
    if k + 1 < len(text) and text[k + 1].isalpha():
        return text[:k] + text[k + 1] + text[k] + text[k + 2 :]
    return text


def with_typo(written: str, latin: str, rng: random.Random) -> tuple[str, str]:
    """A keying error in a name as written; the Latin field follows when it is the same
    text or the registry's transliteration of it, and stays as typed otherwise."""
    wrong = typo(written, rng)
    if latin == written:
        return wrong, wrong
    if latin and latin == transliterate(written):
        return wrong, transliterate(wrong)
    return wrong, latin


def transliterate(text: str) -> str:
    from tadamun.registry.names import transliterate as registry_transliterate

    return registry_transliterate(text)


# --- People and records ----------------------------------------------------------------------


class Registry:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.given = {
            c: {
                "F": weighted_pool(NAMES[c]["given_female"]),
                "M": weighted_pool(NAMES[c]["given_male"]),
            }
            for c in NAMES
        }
        self.family = {c: weighted_pool(NAMES[c]["family"]) for c in NAMES}
        self.origin = weighted(ORIGINS)
        self.household_size = weighted(HOUSEHOLD_SIZES)
        self.extra_records = weighted(EXTRA_RECORDS)
        self.context = {c: weighted(v) for c, v in CONTEXTS.items()}

    def phone(self, country: str) -> str:
        digits = 9 if country in ("MA", "IT") else 8
        if country == "GR":
            digits = 10
        first = {"TN": "29", "MA": "6", "IT": "3", "GR": "69"}[country]
        rest = "".join(str(self.rng.randint(0, 9)) for _ in range(digits - len(first)))
        return first + rest

    def people(self, total: int):
        """(person id, origin, sex, given entry, family entry, birth date, birthday known,
        phone, residence) for ``total`` people in households."""
        rng = self.rng
        pid = 0
        while pid < total:
            origin = self.origin(rng)
            size = min(self.household_size(rng), total - pid)
            family = self.family[origin](rng)
            residence = rng.choice(TERRITORIES[origin])
            phone = self.phone(origin)
            used_given: set = set()
            for member in range(size):
                sex = "M" if rng.random() < 0.5 else "F"
                own_family = family
                if member == 1 and sex == "F" and origin in ("TN", "MA") and rng.random() < 0.33:
                    own_family = self.family[origin](rng)
                for _ in range(20):
                    given = self.given[origin][sex](rng)
                    key = given.get("ar") or given.get("el") or given["latin"][0]
                    if key not in used_given:
                        break
                used_given.add(key)
                born = datetime.date(
                    rng.randint(1945, 2015), rng.randint(1, 12), rng.randint(1, 28)
                )
                known_birthday = rng.random() >= 0.1
                roll = rng.random()
                own_phone = phone if roll < 0.6 else (self.phone(origin) if roll < 0.9 else "")
                yield (pid, origin, sex, given, own_family, born, known_birthday, own_phone,
                       residence)  # fmt: skip
                pid += 1

    def spelling(self, entry: dict, origin: str, context: str, sex: str, field: str):
        """(name as written, Latin field) of a name entry in a registration context."""
        rng = self.rng
        if origin == "GR":
            if field == "family":
                greek = entry["el_female" if sex == "F" else "el_male"]
                latins = entry["latin_female" if sex == "F" else "latin_male"]
            else:
                greek, latins = entry["el"], entry["latin"]
            latin = latins[0] if rng.random() < 0.8 else rng.choice(latins)
            if context == "GR":
                return greek, latin if rng.random() < 0.6 else transliterate(greek)
            return latin, latin
        latins = entry["latin"]
        latin = latins[0] if rng.random() < 0.7 else rng.choice(latins)
        if origin == "IT":
            if context == "GR" and rng.random() < 0.6:
                greek = to_greek(latin, "it")
                return greek, latin if rng.random() < 0.4 else transliterate(greek)
            return latin, latin
        # Arabic names
        if context in ("TN", "MA"):
            if rng.random() < 0.5:
                return entry["ar"], latin if rng.random() < 0.5 else ""
            return latin, latin
        if context == "IT":
            if rng.random() < 0.4:
                italian = to_italian(latin, rng)
                return italian, italian
            return latin, latin
        greek = to_greek(latin, "fr")
        return greek, latin if rng.random() < 0.4 else transliterate(greek)

    def birth(self, born: datetime.date, known: bool):
        rng = self.rng
        if not known:
            return (
                (datetime.date(born.year, 1, 1), None) if rng.random() < 0.6 else (None, born.year)
            )
        roll = rng.random()
        if roll < 0.70:
            return born, None
        if roll < 0.80:
            return datetime.date(born.year, 1, 1), None
        if roll < 0.88:
            return None, born.year
        if roll < 0.93:
            return None, None
        if roll < 0.98:
            kind = rng.random()
            if kind < 0.4 and born.day <= 12 and born.day != born.month:
                return datetime.date(born.year, born.day, born.month), None
            if kind < 0.7:
                return born.replace(
                    day=max(1, min(28, born.day + rng.choice((-1, 1, 10, -10))))
                ), None
            return born.replace(year=born.year + rng.choice((-10, 10, -1, 1))), None
        return born.replace(year=born.year + rng.choice((-1, 1))), None

    def phone_as_written(self, phone: str, country: str) -> str:
        rng = self.rng
        if not phone:
            return ""
        roll = rng.random()
        if roll < 0.3:
            return ""
        if roll < 0.4:
            phone = self.phone(country)
        style = rng.random()
        prefix = PHONE_PREFIX[country]
        if style < 0.4:
            return f"+{prefix} {phone[:2]} {phone[2:5]} {phone[5:]}"
        if style < 0.7:
            return f"00{prefix}{phone}"
        return ("0" if country != "TN" else "") + phone

    def records(self, total_people: int):
        rng = self.rng
        for person in self.people(total_people):
            pid, origin, sex, given, family, born, known, phone, residence = person
            for _ in range(1 + self.extra_records(rng)):
                context = self.context[origin](rng)
                g, gl = self.spelling(given, origin, context, sex, "given")
                f, fl = self.spelling(family, origin, context, sex, "family")
                first = g.split()[0] if " " in g else ""
                if first and first.lower() not in PARTICLE_WORDS and rng.random() < 0.3:
                    # a compound name recorded in part (Fatima Zahra → Fatima)
                    g, gl = g.split()[0], (gl.split()[0] if gl else gl)
                if rng.random() < 0.08:  # a keying error in one name
                    if rng.random() < 0.5:
                        g, gl = with_typo(g, gl, rng)
                    else:
                        f, fl = with_typo(f, fl, rng)
                if rng.random() < 0.04:
                    g, f, gl, fl = f, g, fl, gl
                birth_date, birth_year = self.birth(born, known)
                home = residence if rng.random() < 0.85 else rng.choice(TERRITORIES[context])
                yield {
                    "person": pid,
                    "given_name": g,
                    "family_name": f,
                    "given_name_latin": gl,
                    "family_name_latin": fl,
                    "sex": sex if rng.random() >= 0.05 else "U",
                    "birth_date": birth_date,
                    "birth_year": birth_year,
                    "phone": self.phone_as_written(phone, origin),
                    "residence": home,
                }


def generate(people: int, seed: int = 7):
    """The synthetic registry as a pyarrow Table: one row per record, ``person`` is the
    truth, ``unique_id`` numbers the records in a shuffled order."""
    import pyarrow as pa

    rows = list(Registry(seed).records(people))
    random.Random(seed + 1).shuffle(rows)
    columns = {name: [r[name] for r in rows] for name in rows[0]}
    columns["unique_id"] = list(range(1, len(rows) + 1))
    return pa.table(columns)


FOLDER = Path("/tmp/tadamun-bench/matching")  # noqa: S108 - where bench/README.md says


def cached(people: int, seed: int = 7, folder: Path = FOLDER):
    """``generate`` once, then read from a Parquet file."""
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"crossscript-{people}-{seed}.parquet"
    if path.exists():
        return pq.read_table(path)
    table = generate(people, seed)
    pq.write_table(table, path)
    return table


def splink_frame(table):
    """The registry as plain Splink would be given it: Latin names where the registry has
    them, else the names as written; dates as text; phones and residences as written."""
    import pandas as pd

    df = table.to_pandas()
    return pd.DataFrame(
        {
            "unique_id": df.unique_id,
            "first_name": df.given_name_latin.where(df.given_name_latin != "", df.given_name),
            "surname": df.family_name_latin.where(df.family_name_latin != "", df.family_name),
            "dob": [d.isoformat() if d is not None else None for d in df.birth_date],
            "sex": df.sex.where(df.sex != "U", None),
            "phone": df.phone.where(df.phone != "", None),
            "city": df.residence,
        }
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument(
        "--save-parameters",
        action="store_true",
        help="print the trained m and u to paste as compare.DEFAULT_PARAMETERS",
    )
    parser.add_argument("--show", type=int, default=0, help="print this many records")
    args = parser.parse_args(argv)
    from tadamun.matching.batch import deduplicate

    table = generate(args.people, args.seed)
    ids, people = table.column("unique_id").to_pylist(), table.column("person").to_pylist()
    truth = dict(zip(ids, people, strict=True))
    print(f"{table.num_rows:,} records of {args.people:,} people")
    for row in table.slice(0, args.show).to_pylist():
        print(row)

    rows = []
    started = time.perf_counter()
    result = deduplicate(table.drop(["person"]), threads=2)
    seconds = time.perf_counter() - started
    quality = cluster_quality([truth[i] for i in result.ids], result.cluster)
    rows.append(("ours", quality, seconds))
    stats = {k: round(v, 2) if isinstance(v, float) else v for k, v in result.stats.items()}
    print(f"ours: {stats}")
    if args.save_parameters:
        print(json.dumps(result.parameters.as_dict(), indent=1))
    if not args.no_splink:
        ids, clusters, timings = plain_splink(splink_frame(table))
        rows.append(
            ("splink", cluster_quality([truth[i] for i in ids], clusters), timings["total_seconds"])
        )

    print()
    print(f"{'engine':7} {HEADER} {'pairs':>9} {'found':>9} {'seconds':>8}")
    for engine, q, seconds in rows:
        print(f"{engine:7} {q.row()} {q.true_pairs:>9,} {q.found_pairs:>9,} {seconds:8.1f}")
    ours = rows[0][1]
    ok = ours.f1 >= 0.85 and abs(ours.count_error) <= 0.05
    print(f"\ngoal (ours: F1 >= 0.85, count within 5%): {'met' if ok else 'NOT met'}")
    return result, table


if __name__ == "__main__":
    sys.exit(main() and 0)
