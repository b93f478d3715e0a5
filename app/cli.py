"""Flask commands. Each module in app/commands/ adds its own through ``register(app)``."""
import importlib
import pkgutil

from flask import Flask


def init_cli(app: Flask) -> None:
    import app.commands as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"app.commands.{info.name}")
        module.register(app)
