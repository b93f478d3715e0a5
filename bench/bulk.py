"""Bulk loading for the benchmarks: the triggers that move ``workers.activity_seq`` (the
worker's home page cache key, app/models/guards.py) would fire once a row loaded. A generated
database starts every worker at 0, which is all the number needs: it only has to move later.
The triggers keeping the monthly rollup of the returns (``return_months``) are off while
loading too, and the rollup is filled from the loaded returns at the end, as the migration
that made it does: the benches read what production would have."""
from __future__ import annotations


def _sqlite_statements() -> list[str]:
    from app.models.guards import rollup_triggers, sqlite_touch_triggers

    return [*sqlite_touch_triggers(), *(sql for _name, sql in rollup_triggers("sqlite"))]


def suspend_touch_triggers(execute, dialect: str) -> None:
    """``execute`` runs one statement on the loading connection."""
    if dialect == "postgresql":
        execute("SET session_replication_role = replica")  # this session fires no user triggers
    else:
        for stmt in _sqlite_statements():
            execute(f"DROP TRIGGER IF EXISTS {stmt.split()[2]}")


def restore_touch_triggers(execute, dialect: str) -> None:
    """The triggers back, and the rollup filled from every return loaded."""
    from app.models.guards import rollup_backfill

    if dialect == "postgresql":
        execute("SET session_replication_role = DEFAULT")
    else:
        for stmt in _sqlite_statements():
            execute(stmt)
    for stmt in rollup_backfill(dialect):
        execute(stmt)
