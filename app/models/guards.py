"""Database-side guards for what the ORM cannot express portably.

- The production record and the audit trail are append-only: UPDATE and DELETE are refused
  by triggers (rules 4 and 9).
- PostgreSQL refuses overlapping pay periods with an exclusion constraint (rule 5).
- ``workers.activity_seq`` moves whenever something a worker's phone shows may have changed
  (a return or correction, a batch issued, returned or closed, a pay statement, a held
  product renamed or re-pictured, a step renamed). The cached home page is keyed by it, so no code path can
  forget to invalidate it. On PostgreSQL the triggers are deferred to the commit, so a
  transaction touching one worker takes that row last; the few touching many (closing a pay
  period, changing a held product) take them in id order (``lock_workers_in_order``), so none
  can wait on another in a cycle.

The same statements are in the initial migration; these listeners cover ``create_all``.
"""
from sqlalchemy import DDL, event, text

from app.models.catalog import Product, ProductStep
from app.models.production import Batch, Return
from app.models.system import AuditEvent
from app.models.wages import PayPeriod, Payslip

APPEND_ONLY_TABLES = ("returns", "audit_events")

PG_FORBID_FUNCTION = """
CREATE OR REPLACE FUNCTION jijian_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'table %% is append-only', TG_TABLE_NAME;
END
$$ LANGUAGE plpgsql
"""


def pg_trigger(table: str) -> str:
    return (f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION jijian_append_only()")


def sqlite_triggers(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} BEGIN SELECT RAISE(ABORT, 'append-only'); END",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} BEGIN SELECT RAISE(ABORT, 'append-only'); END",
    ]


PG_NO_OVERLAP = ('ALTER TABLE pay_periods ADD CONSTRAINT ex_pay_periods_no_overlap '
                 'EXCLUDE USING gist (daterange(start, "end", \'[]\') WITH &&)')

for model in (Return, AuditEvent):
    table = model.__table__
    event.listen(table, "after_create", DDL(PG_FORBID_FUNCTION).execute_if(dialect="postgresql"))
    event.listen(table, "after_create", DDL(pg_trigger(table.name)).execute_if(dialect="postgresql"))
    for stmt in sqlite_triggers(table.name):
        event.listen(table, "after_create", DDL(stmt).execute_if(dialect="sqlite"))

event.listen(PayPeriod.__table__, "after_create", DDL(PG_NO_OVERLAP).execute_if(dialect="postgresql"))


# --- the worker's activity sequence (keys the cached home page: app/main/views.py)

TOUCH = "UPDATE workers SET activity_seq = activity_seq + 1 WHERE id"
# The batch columns the phone shows (directly or through "what is still out"). The nightly
# ``overdue`` flag is not one of them: the page marks overdue from the due date and the day.
BATCH_SHOWN = "status, due_date, worker_id, product_id, code, quantity, accepted, rejected, unused"
# (table, event): rows with a worker_id whose change shows on that worker's phone.
TOUCHING = (("returns", "INSERT"), ("batches", "INSERT"), ("batches", f"UPDATE OF {BATCH_SHOWN}"),
            ("payslips", "INSERT"), ("payslips", "DELETE"))

PG_TOUCH_FUNCTIONS = [f"""
CREATE OR REPLACE FUNCTION jijian_touch_worker() RETURNS trigger AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN
    {TOUCH} = NEW.worker_id;
  END IF;
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.worker_id IS DISTINCT FROM NEW.worker_id) THEN
    {TOUCH} = OLD.worker_id;
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql
""", f"""
CREATE OR REPLACE FUNCTION jijian_touch_product_holders() RETURNS trigger AS $$
DECLARE
  holder integer;
BEGIN
  -- One worker at a time in id order, as every transaction touching many workers does
  -- (lock_workers_in_order): no two of them can wait on each other in a cycle.
  FOR holder IN SELECT DISTINCT worker_id FROM batches WHERE product_id = NEW.id AND status = 'open'
                ORDER BY worker_id LOOP
    {TOUCH} = holder;
  END LOOP;
  RETURN NULL;
END
$$ LANGUAGE plpgsql
"""]
PRODUCTS_TOUCH = ("products_touch_workers",
                  "CREATE CONSTRAINT TRIGGER products_touch_workers AFTER UPDATE ON products "
                  "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION jijian_touch_product_holders()",
                  "CREATE TRIGGER products_touch_workers AFTER UPDATE ON products BEGIN "
                  f"{TOUCH} IN (SELECT worker_id FROM batches WHERE product_id = NEW.id AND status = 'open'); END")

# A step's name is on the phone beside every batch and pay line of that step: renaming it
# touches every worker who ever had a batch of it (renames are rare; the scan is one pass).
PG_TOUCH_STEP_FUNCTION = f"""
CREATE OR REPLACE FUNCTION jijian_touch_step_holders() RETURNS trigger AS $$
DECLARE
  holder integer;
BEGIN
  FOR holder IN SELECT DISTINCT worker_id FROM batches WHERE step_id = NEW.id ORDER BY worker_id LOOP
    {TOUCH} = holder;
  END LOOP;
  RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
STEPS_TOUCH = ("product_steps_touch_workers",
               "CREATE CONSTRAINT TRIGGER product_steps_touch_workers AFTER UPDATE OF name ON product_steps "
               "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) "
               "EXECUTE FUNCTION jijian_touch_step_holders()",
               "CREATE TRIGGER product_steps_touch_workers AFTER UPDATE OF name ON product_steps "
               "WHEN NEW.name IS NOT OLD.name BEGIN "
               f"{TOUCH} IN (SELECT worker_id FROM batches WHERE step_id = NEW.id); END")


def _name(table: str, event_: str) -> str:
    return f"{table}_touch_worker_{event_.split()[0].lower()}"


def touch_triggers(dialect: str) -> list[tuple[str, str, str]]:
    """(table, trigger name, CREATE statement) for every trigger moving activity_seq."""
    out = []
    for table, event_ in TOUCHING:
        name = _name(table, event_)
        if dialect == "postgresql":
            sql = (f"CREATE CONSTRAINT TRIGGER {name} AFTER {event_} ON {table} "
                   f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION jijian_touch_worker()")
        else:
            who = "OLD.worker_id" if event_ == "DELETE" else (
                "NEW.worker_id, OLD.worker_id" if event_.startswith("UPDATE") else "NEW.worker_id")
            sql = f"CREATE TRIGGER {name} AFTER {event_} ON {table} BEGIN {TOUCH} IN ({who}); END"
        out.append((table, name, sql))
    for table, (name, pg_sql, sqlite_sql) in (("products", PRODUCTS_TOUCH), ("product_steps", STEPS_TOUCH)):
        out.append((table, name, pg_sql if dialect == "postgresql" else sqlite_sql))
    return out


def sqlite_touch_triggers() -> list[str]:
    return [sql for _table, _name_, sql in touch_triggers("sqlite")]


def lock_workers_in_order(session, worker_ids) -> None:
    """PostgreSQL: take the rows of workers a transaction is about to touch (through the
    triggers, at commit) now, in id order. A close writes statements in its own order; without
    this, it and a product change touching the same workers could deadlock."""
    if session.get_bind().dialect.name != "postgresql" or not worker_ids:
        return
    session.execute(text("SELECT id FROM workers WHERE id = ANY(:ids) ORDER BY id FOR NO KEY UPDATE"),
                    {"ids": sorted(set(worker_ids))})


# With each table, so that create_all on a database that has them adds nothing twice.
_TABLES = {model.__table__.name: model.__table__ for model in (Return, Batch, Payslip, Product, ProductStep)}
for _name_ in _TABLES:  # the functions first (CREATE OR REPLACE: once a table is harmless)
    for _stmt in [*PG_TOUCH_FUNCTIONS, PG_TOUCH_STEP_FUNCTION]:
        event.listen(_TABLES[_name_], "after_create", DDL(_stmt).execute_if(dialect="postgresql"))
for _table, _trigger, _sql in touch_triggers("postgresql"):
    event.listen(_TABLES[_table], "after_create", DDL(_sql).execute_if(dialect="postgresql"))
for _table, _trigger, _sql in touch_triggers("sqlite"):
    event.listen(_TABLES[_table], "after_create", DDL(_sql).execute_if(dialect="sqlite"))


# --- the monthly rollup of the returns (app/models/production.py ReturnMonth)

# A return's earnings line (rule 1) and the month it counts in; what each trigger adds to.
ROLLUP_KEY = "month, worker_id, product_id, step_id, piece_rate"
# The rollup's counted columns: an UPDATE of any other column of a return changes nothing in it.
ROLLUP_COUNTED = "work_date, worker_id, product_id, step_id, piece_rate, accepted"
ROLLUP_MONTH = {"sqlite": "date({day}, 'start of month')", "postgresql": "CAST(date_trunc('month', CAST({day} AS timestamp)) AS date)"}


def rollup_upsert(dialect: str, row: str, sign: str) -> str:
    """The statement adding (``sign`` "+") or taking away ("-") the return ``row`` (NEW or OLD)."""
    month = ROLLUP_MONTH[dialect].format(day=f"{row}.work_date")
    return (f"INSERT INTO return_months ({ROLLUP_KEY}, pieces) VALUES ({month}, {row}.worker_id, "
            f"{row}.product_id, COALESCE({row}.step_id, 0), {row}.piece_rate, {sign}{row}.accepted) "
            f"ON CONFLICT ({ROLLUP_KEY}) DO UPDATE SET pieces = return_months.pieces + excluded.pieces")


def rollup_backfill(dialect: str) -> list[str]:
    """The rollup filled anew from the returns (a migration, a bulk load)."""
    month = ROLLUP_MONTH[dialect].format(day="work_date")
    return ["DELETE FROM return_months",
            f"INSERT INTO return_months ({ROLLUP_KEY}, pieces) "
            f"SELECT {month}, worker_id, product_id, COALESCE(step_id, 0), piece_rate, SUM(accepted) FROM returns "
            f"GROUP BY {month}, worker_id, product_id, COALESCE(step_id, 0), piece_rate"]


PG_ROLLUP_FUNCTION = f"""
CREATE OR REPLACE FUNCTION jijian_return_months() RETURNS trigger AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    {rollup_upsert("postgresql", "OLD", "-")};
  END IF;
  IF TG_OP <> 'DELETE' THEN
    {rollup_upsert("postgresql", "NEW", "")};
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql
"""


def rollup_triggers(dialect: str) -> list[tuple[str, str]]:
    """(trigger name, CREATE statement) of the triggers keeping ``return_months`` (the function
    first on PostgreSQL). Not deferred: the rollup moves in the statement that writes the
    return. Returns are append-only (the guards above refuse UPDATE and DELETE first); the
    UPDATE and DELETE triggers keep the rollup exact wherever those guards are lifted."""
    if dialect == "postgresql":
        return [("returns_months", f"CREATE TRIGGER returns_months AFTER INSERT OR UPDATE OF {ROLLUP_COUNTED} "
                                   f"OR DELETE ON returns FOR EACH ROW EXECUTE FUNCTION jijian_return_months()")]
    return [("returns_months_insert", "CREATE TRIGGER returns_months_insert AFTER INSERT ON returns BEGIN "
                                      f"{rollup_upsert('sqlite', 'NEW', '')}; END"),
            ("returns_months_update", f"CREATE TRIGGER returns_months_update AFTER UPDATE OF {ROLLUP_COUNTED} "
                                      f"ON returns BEGIN {rollup_upsert('sqlite', 'OLD', '-')}; "
                                      f"{rollup_upsert('sqlite', 'NEW', '')}; END"),
            ("returns_months_delete", "CREATE TRIGGER returns_months_delete AFTER DELETE ON returns BEGIN "
                                      f"{rollup_upsert('sqlite', 'OLD', '-')}; END")]


event.listen(Return.__table__, "after_create", DDL(PG_ROLLUP_FUNCTION).execute_if(dialect="postgresql"))
for _dialect in ("postgresql", "sqlite"):
    for _trigger, _sql in rollup_triggers(_dialect):
        event.listen(Return.__table__, "after_create", DDL(_sql).execute_if(dialect=_dialect))
