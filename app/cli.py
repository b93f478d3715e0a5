"""Flask commands, listed by name: each module adds its own through ``register(app)``."""
from flask import Flask

from app.commands import accounts, backtest, demo, ledger, scheduler, translations, verify

COMMANDS = (accounts, backtest, demo, ledger, scheduler, translations, verify)


def init_cli(app: Flask) -> None:
    for module in COMMANDS:
        module.register(app)
