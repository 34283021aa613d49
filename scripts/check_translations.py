"""Fail when a shipped string lacks a translation or a compiled catalogue is stale.

It extracts the strings of the code and templates into a scratch copy of the catalogues
(Django's makemessages, which merges what is already translated), then requires every entry
to be translated and not fuzzy in ar, fr, it and el, and each shipped .mo to hold exactly
what its .po says.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "tadamun" / "locale"
LANGUAGES = ["ar", "fr", "it", "el"]


def extract_into(locale_dir: Path) -> None:
    """Run makemessages over a copy of the sources, so that it cannot find and rewrite the
    shipped catalogues (it writes into any ``locale`` folder it meets while scanning)."""
    sources = locale_dir.parent / "src"
    shutil.copytree(
        ROOT / "tadamun",
        sources / "tadamun",
        ignore=shutil.ignore_patterns("locale", "vendor", "__pycache__", "*.json", "data"),
    )
    env = dict(os.environ, TADAMUN_LOCALE_DIR=str(locale_dir))
    command = [
        sys.executable,
        "-m",
        "tadamun.cli",
        "makemessages",
        "--no-obsolete",
        "--no-location",
        *[f"-l{lang}" for lang in LANGUAGES],
    ]
    subprocess.run(command, cwd=sources, env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603


def main() -> int:
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / "locale"
        if LOCALE.exists():
            shutil.copytree(LOCALE, scratch)
        else:
            scratch.mkdir()
        extract_into(scratch)
        for language in LANGUAGES:
            fresh = polib.pofile(str(scratch / language / "LC_MESSAGES" / "django.po"))
            live = [e for e in fresh if not e.obsolete and e.msgid]
            for entry in live:
                if not entry.translated():
                    state = "fuzzy" if "fuzzy" in entry.flags else "untranslated"
                    problems.append(f"{language}: {state}: {entry.msgid[:80]!r}")
            shipped = LOCALE / language / "LC_MESSAGES" / "django.po"
            if not shipped.exists():
                problems.append(f"{language}: no catalogue at {shipped.relative_to(ROOT)}")
                continue
            mo_path = shipped.with_suffix(".mo")
            want = {
                (e.msgctxt, e.msgid, e.msgstr or str(sorted(e.msgstr_plural.items())))
                for e in polib.pofile(str(shipped))
                if e.translated() and e.msgid
            }
            got = set()
            if mo_path.exists():
                got = {
                    (e.msgctxt, e.msgid, e.msgstr or str(sorted(e.msgstr_plural.items())))
                    for e in polib.mofile(str(mo_path))
                    if e.msgid
                }
            if got != want:
                problems.append(
                    f"{language}: {mo_path.relative_to(ROOT)} differs from its .po; "
                    "run make translations"
                )
    for problem in problems[:100]:
        print(problem)
    if problems:
        print(
            f"{len(problems)} translation problems (make translations, then translate).",
            file=sys.stderr,
        )
        return 1
    print(f"Translations complete in {', '.join(LANGUAGES)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
