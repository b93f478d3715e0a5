"""Database-side guards for what the ORM cannot express portably.

- The production record and the audit trail are append-only: UPDATE and DELETE are refused
  by triggers (rules 4 and 9).
- PostgreSQL refuses overlapping pay periods with an exclusion constraint (rule 5).

The same statements are in the initial migration; these listeners cover ``create_all``.
"""
from sqlalchemy import DDL, event

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
