"""Database-side guards for what the ORM cannot express portably.

- The production record and the audit trail are append-only: UPDATE and DELETE are refused
  by triggers (rules 4 and 9).
- PostgreSQL refuses overlapping pay periods with an exclusion constraint (rule 5).
- ``workers.activity_seq`` moves whenever something a worker's phone shows may have changed
  (a return or correction, a batch issued, returned or closed, a pay statement, a held
  product renamed or re-pictured). The cached home page is keyed by it, so no code path can
  forget to invalidate it. On PostgreSQL the triggers are deferred to the commit: the worker's
  row is the last lock a transaction takes, so they add no lock-order cycle.

The same statements are in the initial migration; these listeners cover ``create_all``.
"""
from sqlalchemy import DDL, event

from app.extensions import db
from app.models.production import Return
from app.models.system import AuditEvent
from app.models.wages import PayPeriod

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
# (table, events): the rows with a worker_id whose change shows on that worker's phone.
TOUCHING_TABLES = (("returns", ("INSERT",)), ("batches", ("INSERT", "UPDATE")), ("payslips", ("INSERT", "DELETE")))

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
BEGIN
  {TOUCH} IN (SELECT worker_id FROM batches WHERE product_id = NEW.id AND status = 'open');
  RETURN NULL;
END
$$ LANGUAGE plpgsql
"""]


def pg_touch_triggers() -> list[str]:
    out = [f"CREATE CONSTRAINT TRIGGER {table}_touch_worker AFTER {' OR '.join(events)} ON {table} "
           f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION jijian_touch_worker()"
           for table, events in TOUCHING_TABLES]
    out.append("CREATE CONSTRAINT TRIGGER products_touch_workers AFTER UPDATE ON products "
               "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION jijian_touch_product_holders()")
    return out


def sqlite_touch_triggers() -> list[str]:
    out = []
    for table, events in TOUCHING_TABLES:
        for event_ in events:
            who = {"INSERT": "NEW.worker_id", "UPDATE": "NEW.worker_id, OLD.worker_id", "DELETE": "OLD.worker_id"}[event_]
            out.append(f"CREATE TRIGGER {table}_touch_worker_{event_.lower()} AFTER {event_} ON {table} "
                       f"BEGIN {TOUCH} IN ({who}); END")
    out.append("CREATE TRIGGER products_touch_workers AFTER UPDATE ON products "
               f"BEGIN {TOUCH} IN (SELECT worker_id FROM batches WHERE product_id = NEW.id AND status = 'open'); END")
    return out


# After every table exists (create_all): the triggers name four tables.
for stmt in PG_TOUCH_FUNCTIONS + pg_touch_triggers():
    event.listen(db.metadata, "after_create", DDL(stmt).execute_if(dialect="postgresql"))
for stmt in sqlite_touch_triggers():
    event.listen(db.metadata, "after_create", DDL(stmt).execute_if(dialect="sqlite"))
