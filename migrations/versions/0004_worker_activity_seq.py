"""workers.activity_seq: moved by triggers whenever a worker's phone may show something new

The worker's home page is cached per process, keyed by this number; the database moves it on
every return, batch, pay statement and held product change, so no code path can forget to.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 14:00:00

"""
from alembic import op
import sqlalchemy as sa

# As in app/models/guards.py at this revision (a migration keeps its own copy).
PG_STATEMENTS = [
    """CREATE OR REPLACE FUNCTION jijian_touch_worker() RETURNS trigger AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN
    UPDATE workers SET activity_seq = activity_seq + 1 WHERE id = NEW.worker_id;
  END IF;
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.worker_id IS DISTINCT FROM NEW.worker_id) THEN
    UPDATE workers SET activity_seq = activity_seq + 1 WHERE id = OLD.worker_id;
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE FUNCTION jijian_touch_product_holders() RETURNS trigger AS $$
BEGIN
  UPDATE workers SET activity_seq = activity_seq + 1 WHERE id IN (SELECT worker_id FROM batches WHERE product_id = NEW.id AND status = 'open');
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    'CREATE CONSTRAINT TRIGGER returns_touch_worker AFTER INSERT ON returns DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION jijian_touch_worker()',
    'CREATE CONSTRAINT TRIGGER batches_touch_worker AFTER INSERT OR UPDATE ON batches DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION jijian_touch_worker()',
    'CREATE CONSTRAINT TRIGGER payslips_touch_worker AFTER INSERT OR DELETE ON payslips DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION jijian_touch_worker()',
    'CREATE CONSTRAINT TRIGGER products_touch_workers AFTER UPDATE ON products DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION jijian_touch_product_holders()',
]
SQLITE_STATEMENTS = [
    'CREATE TRIGGER returns_touch_worker_insert AFTER INSERT ON returns BEGIN UPDATE workers SET activity_seq = activity_seq + 1 WHERE id IN (NEW.worker_id); END',
    'CREATE TRIGGER batches_touch_worker_insert AFTER INSERT ON batches BEGIN UPDATE workers SET activity_seq = activity_seq + 1 WHERE id IN (NEW.worker_id); END',
    'CREATE TRIGGER batches_touch_worker_update AFTER UPDATE ON batches BEGIN UPDATE workers SET activity_seq = activity_seq + 1 WHERE id IN (NEW.worker_id, OLD.worker_id); END',
    'CREATE TRIGGER payslips_touch_worker_insert AFTER INSERT ON payslips BEGIN UPDATE workers SET activity_seq = activity_seq + 1 WHERE id IN (NEW.worker_id); END',
    'CREATE TRIGGER payslips_touch_worker_delete AFTER DELETE ON payslips BEGIN UPDATE workers SET activity_seq = activity_seq + 1 WHERE id IN (OLD.worker_id); END',
    "CREATE TRIGGER products_touch_workers AFTER UPDATE ON products BEGIN UPDATE workers SET activity_seq = activity_seq + 1 WHERE id IN (SELECT worker_id FROM batches WHERE product_id = NEW.id AND status = 'open'); END",
]
TOUCHING_TABLES = (('returns', ('INSERT',)), ('batches', ('INSERT', 'UPDATE')), ('payslips', ('INSERT', 'DELETE')))


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('activity_seq', sa.Integer(), server_default='0', nullable=False))
    if op.get_bind().dialect.name == 'postgresql':
        for stmt in PG_STATEMENTS:
            op.execute(stmt)
    else:
        for stmt in SQLITE_STATEMENTS:
            op.execute(stmt)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for table, _events in TOUCHING_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_touch_worker ON {table}")
        op.execute("DROP TRIGGER IF EXISTS products_touch_workers ON products")
        op.execute("DROP FUNCTION IF EXISTS jijian_touch_worker()")
        op.execute("DROP FUNCTION IF EXISTS jijian_touch_product_holders()")
    else:
        for table, events in TOUCHING_TABLES:
            for event in events:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_touch_worker_{event.lower()}")
        op.execute("DROP TRIGGER IF EXISTS products_touch_workers")
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.drop_column('activity_seq')
