"""The factory lists its parts by name: every command module and every API module is wired."""
from pathlib import Path

import app.api as api_package
import app.commands as commands_package
from app.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[2]


def _modules(package) -> set[str]:
    return {p.stem for p in Path(package.__path__[0]).glob("*.py") if p.stem != "__init__"}


def test_every_command_module_is_listed_in_the_cli():
    assert {m.__name__.rsplit(".", 1)[1] for m in COMMANDS} == _modules(commands_package)


def test_every_api_module_is_imported_by_the_api_package():
    imported = {name for name in _modules(api_package) if hasattr(api_package, name)}
    assert imported == _modules(api_package)
