"""Flask commands, listed by name: each module adds its own through ``register(app)``."""
from flask import Flask

from app.commands import accounts, demo, ledger, scheduler, translations, verify

COMMANDS = (accounts, demo, ledger, scheduler, translations, verify)


def init_cli(app: Flask) -> None:
    for module in COMMANDS:
        module.register(app)
