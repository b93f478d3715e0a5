"""Bulk loading for the benchmarks: the triggers that move ``workers.activity_seq`` (the
worker's home page cache key, app/models/guards.py) would fire once a row loaded. A generated
database starts every worker at 0, which is all the number needs: it only has to move later."""
from __future__ import annotations


def _sqlite_statements() -> list[str]:
    from app.models.guards import sqlite_touch_triggers

    return sqlite_touch_triggers()


def suspend_touch_triggers(execute, dialect: str) -> None:
    """``execute`` runs one statement on the loading connection."""
    if dialect == "postgresql":
        execute("SET session_replication_role = replica")  # this session fires no user triggers
    else:
        for stmt in _sqlite_statements():
            execute(f"DROP TRIGGER IF EXISTS {stmt.split()[2]}")


def restore_touch_triggers(execute, dialect: str) -> None:
    if dialect == "postgresql":
        execute("SET session_replication_role = DEFAULT")
    else:
        for stmt in _sqlite_statements():
            execute(stmt)
