"""What is installed is what requirements.lock says (scripts/venv.sh installs through it), and
the lock agrees with every pin in requirements*.txt — so a fresh machine gets the versions
CI tested, and a requirement bumped without a new lock fails here."""
from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s#;]+)")


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line.strip())
        if match:
            pins[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return pins


def test_every_locked_package_is_installed_at_its_locked_version():
    locked = _pins(ROOT / "requirements.lock")
    assert len(locked) > 40
    wrong = {}
    for name, wanted in locked.items():
        try:
            have = version(name)
        except PackageNotFoundError:
            have = None
        if have != wanted:
            wrong[name] = (wanted, have)
    assert wrong == {}


def test_the_lock_agrees_with_every_pinned_requirement():
    locked = _pins(ROOT / "requirements.lock")
    for req in ("requirements.txt", "requirements-test.txt"):
        for name, pinned in _pins(ROOT / req).items():
            assert locked.get(name) == pinned, f"{req}: {name}=={pinned}, lock has {locked.get(name)}"
