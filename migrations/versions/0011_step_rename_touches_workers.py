"""Renaming a step moves workers.activity_seq of every worker who had a batch of it

The worker's phone page is cached by activity_seq (app/page_cache.py); a step's name shows
beside each batch and pay line of that step, so a rename must move it, as a product's rename
does. The trigger is a copy of the one in app/models/guards.py (a migration keeps its own).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 01:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

TOUCH = "UPDATE workers SET activity_seq = activity_seq + 1 WHERE id"
PG_FUNCTION = f"""
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
PG_TRIGGER = ("CREATE CONSTRAINT TRIGGER product_steps_touch_workers AFTER UPDATE OF name ON product_steps "
              "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) "
              "EXECUTE FUNCTION jijian_touch_step_holders()")
SQLITE_TRIGGER = ("CREATE TRIGGER product_steps_touch_workers AFTER UPDATE OF name ON product_steps "
                  "WHEN NEW.name IS NOT OLD.name BEGIN "
                  f"{TOUCH} IN (SELECT worker_id FROM batches WHERE step_id = NEW.id); END")


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        op.execute(SQLITE_TRIGGER)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS product_steps_touch_workers ON product_steps")
        op.execute("DROP FUNCTION IF EXISTS jijian_touch_step_holders()")
    else:
        op.execute("DROP TRIGGER IF EXISTS product_steps_touch_workers")
