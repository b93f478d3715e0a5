"""List the msgids used in app/ and templates/ that no translations/zh/parts/*.po translates.

    python scripts/i18n_todo.py            # print what is missing
    python scripts/i18n_todo.py --check    # exit 1 if anything is missing (the test suite runs this)
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
METHODS = [("app/**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def used_msgids() -> dict[str, str]:
    found = {}
    for sub in ("app", "templates"):
        method_map = [("**.py", "python")] if sub == "app" else [("**.html", "jinja2")]
        for filename, _lineno, message, _comments, _ctx in extract_from_dir(
            ROOT / sub, method_map, keywords=KEYWORDS,
            options_map={"**.html": {"extensions": "jinja2.ext.do"}},
        ):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.setdefault(msgid, f"{sub}/{filename}")
    return found


def translated(lang: str = "zh") -> set[str]:
    have = set()
    for part in (ROOT / "translations" / lang / "parts").glob("*.po"):
        with part.open("rb") as fh:
            for m in read_po(fh):
                if m.id and m.string:
                    have.add(m.id if isinstance(m.id, str) else m.id[0])
    return have


def conflicts(lang: str = "zh") -> dict[str, list[tuple[str, str]]]:
    """msgids that two parts translate differently (the merged catalog would keep only one)."""
    seen: dict[str, list[tuple[str, str]]] = {}
    for part in sorted((ROOT / "translations" / lang / "parts").glob("*.po")):
        with part.open("rb") as fh:
            for m in read_po(fh):
                if m.id and m.string:
                    seen.setdefault(m.id if isinstance(m.id, str) else m.id[0], []).append((part.stem, m.string))
    return {k: v for k, v in seen.items() if len({s for _, s in v}) > 1}


def missing(lang: str = "zh") -> dict[str, str]:
    have = translated(lang)
    return {k: v for k, v in used_msgids().items() if k not in have}


if __name__ == "__main__":
    todo = missing()
    for msgid, where in sorted(todo.items(), key=lambda kv: kv[1]):
        print(f"{where}: {msgid!r}")
    clashes = conflicts()
    for msgid, where in clashes.items():
        print(f"translated differently: {msgid!r} {where}")
    if "--check" in sys.argv and (todo or clashes):
        sys.exit(1)
