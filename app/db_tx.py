"""Write intent outside requests: jobs and commands that write say so, so SQLite takes the
write lock at BEGIN (see ``app._sqlite_on_begin``). PostgreSQL ignores it."""
from contextlib import contextmanager
from contextvars import ContextVar

_write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)


def write_intent() -> bool:
    return _write_intent.get()


@contextmanager
def writing():
    """Transactions begun inside this block take SQLite's write lock up front."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)
