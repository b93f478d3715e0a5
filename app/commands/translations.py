"""compile-translations: merge translations/<lang>/parts/*.po into one catalog and compile it.

Each feature keeps its own .po part, so parallel work never fights over one catalog file. The
set-up compiles (scripts/run.sh, scripts/test.sh, the test session): ``python -m app.commands.translations``.
"""
import os
from pathlib import Path

import click
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask

ROOT = Path(__file__).resolve().parents[2] / "translations"


def compile_catalogs(root: Path = ROOT) -> list[Path]:
    written = []
    for lang_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        catalog = Catalog(locale=lang_dir.name, domain="messages")
        for part in sorted((lang_dir / "parts").glob("*.po")):
            with part.open("rb") as fh:
                for message in read_po(fh, locale=lang_dir.name):
                    if message.id and message.string and message.id not in catalog:
                        catalog[message.id] = message
        out = lang_dir / "LC_MESSAGES" / "messages.mo"
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)
        os.replace(tmp, out)  # atomic: several app processes may compile at once
        written.append(out)
    return written


def stale_catalogs(root: Path = ROOT) -> list[str]:
    """Languages whose compiled catalog is missing or older than one of its parts."""
    stale = []
    for lang_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        mo = lang_dir / "LC_MESSAGES" / "messages.mo"
        parts = list((lang_dir / "parts").glob("*.po"))
        if parts and (not mo.exists() or max(p.stat().st_mtime for p in parts) > mo.stat().st_mtime):
            stale.append(lang_dir.name)
    return stale


def register(app: Flask) -> None:
    @app.cli.command("compile-translations")
    def compile_translations():
        """Build translations/*/LC_MESSAGES/messages.mo from the .po parts."""
        for path in compile_catalogs():
            click.echo(f"wrote {path}")


if __name__ == "__main__":
    for path in compile_catalogs():
        print(f"wrote {path}")
