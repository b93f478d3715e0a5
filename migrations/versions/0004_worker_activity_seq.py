"""workers.activity_seq: moved by triggers whenever a worker's phone may show something new

The worker's home page is cached per process, keyed by this number; the database moves it on
every return, batch change the phone shows, pay statement and held product change, so no code
path can forget to. PostgreSQL runs the triggers at commit (deferred constraint triggers).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 14:00:00

"""
from alembic import op
import sqlalchemy as sa

# As app/models/guards.py has them at this revision (a migration keeps its own copy).
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
DECLARE
  holder integer;
BEGIN
  -- One worker at a time in id order, as every transaction touching many workers does
  -- (lock_workers_in_order): no two of them can wait on each other in a cycle.
  FOR holder IN SELECT DISTINCT worker_id FROM batches WHERE product_id = NEW.id AND status = 'open'
                ORDER BY worker_id LOOP
    UPDATE workers SET activity_seq = activity_seq + 1 WHERE id = holder;
  END LOOP;
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    'CREATE CONSTRAINT TRIGGER returns_touch_worker_insert AFTER INSERT ON returns DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION jijian_touch_worker()',
    'CREATE CONSTRAINT TRIGGER batches_touch_worker_insert AFTER INSERT ON batches DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION jijian_touch_worker()',
    'CREATE CONSTRAINT TRIGGER batches_touch_worker_update AFTER UPDATE OF status, due_date, worker_id, product_id, code, quantity, accepted, rejected, unused ON batches DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION jijian_touch_worker()',
    'CREATE CONSTRAINT TRIGGER payslips_touch_worker_insert AFTER INSERT ON payslips DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION jijian_touch_worker()',
    'CREATE CONSTRAINT TRIGGER payslips_touch_worker_delete AFTER DELETE ON payslips DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION jijian_touch_worker()',
    'CREATE CONSTRAINT TRIGGER products_touch_workers AFTER UPDATE ON products DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION jijian_touch_product_holders()',
]
SQLITE_STATEMENTS = [
    'CREATE TRIGGER returns_touch_worker_insert AFTER INSERT ON returns BEGIN UPDATE workers SET activity_seq = activity_seq + 1 WHERE id IN (NEW.worker_id); END',
    'CREATE TRIGGER batches_touch_worker_insert AFTER INSERT ON batches BEGIN UPDATE workers SET activity_seq = activity_seq + 1 WHERE id IN (NEW.worker_id); END',
    'CREATE TRIGGER batches_touch_worker_update AFTER UPDATE OF status, due_date, worker_id, product_id, code, quantity, accepted, rejected, unused ON batches BEGIN UPDATE workers SET activity_seq = activity_seq + 1 WHERE id IN (NEW.worker_id, OLD.worker_id); END',
    'CREATE TRIGGER payslips_touch_worker_insert AFTER INSERT ON payslips BEGIN UPDATE workers SET activity_seq = activity_seq + 1 WHERE id IN (NEW.worker_id); END',
    'CREATE TRIGGER payslips_touch_worker_delete AFTER DELETE ON payslips BEGIN UPDATE workers SET activity_seq = activity_seq + 1 WHERE id IN (OLD.worker_id); END',
    "CREATE TRIGGER products_touch_workers AFTER UPDATE ON products BEGIN UPDATE workers SET activity_seq = activity_seq + 1 WHERE id IN (SELECT worker_id FROM batches WHERE product_id = NEW.id AND status = 'open'); END",
]
TRIGGERS = [('returns', 'returns_touch_worker_insert'), ('batches', 'batches_touch_worker_insert'), ('batches', 'batches_touch_worker_update'), ('payslips', 'payslips_touch_worker_insert'), ('payslips', 'payslips_touch_worker_delete'), ('products', 'products_touch_workers')]


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('activity_seq', sa.Integer(), server_default='0', nullable=False))
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for stmt in PG_STATEMENTS if postgresql else SQLITE_STATEMENTS:
        op.execute(stmt)


def downgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for table, trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}" if postgresql else f"DROP TRIGGER IF EXISTS {trigger}")
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS jijian_touch_worker()")
        op.execute("DROP FUNCTION IF EXISTS jijian_touch_product_holders()")
    # In place (SQLite 3.35+): a batch rebuild of workers would trip the foreign keys to it.
    op.execute("ALTER TABLE workers DROP COLUMN activity_seq")
