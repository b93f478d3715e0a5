"""return_months: accepted pieces per month and earnings line, kept by triggers on returns

The supervisor's home and the reports read whole months of earnings lines (worker, product,
step, rate) from this rollup instead of grouping every return. Triggers move it in the same
statement as every INSERT, UPDATE and DELETE of a return; filled here from the returns
already recorded. The triggers are copies of those in app/models/guards.py (a migration keeps
its own).

Filling it reads the whole returns table once (a few seconds for 1,000,000 returns).

Revision ID: 0014
Revises: 0016
Create Date: 2026-12-02 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0016'
branch_labels = None
depends_on = None

KEY = "month, worker_id, product_id, step_id, piece_rate"
COUNTED = "work_date, worker_id, product_id, step_id, piece_rate, accepted"
MONTH = {"sqlite": "date({day}, 'start of month')", "postgresql": "CAST(date_trunc('month', CAST({day} AS timestamp)) AS date)"}


def upsert(dialect, row, sign):
    month = MONTH[dialect].format(day=f"{row}.work_date")
    return (f"INSERT INTO return_months ({KEY}, pieces) VALUES ({month}, {row}.worker_id, "
            f"{row}.product_id, COALESCE({row}.step_id, 0), {row}.piece_rate, {sign}{row}.accepted) "
            f"ON CONFLICT ({KEY}) DO UPDATE SET pieces = return_months.pieces + excluded.pieces")


PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION jijian_return_months() RETURNS trigger AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    {upsert("postgresql", "OLD", "-")};
  END IF;
  IF TG_OP <> 'DELETE' THEN
    {upsert("postgresql", "NEW", "")};
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
PG_TRIGGER = (f"CREATE TRIGGER returns_months AFTER INSERT OR UPDATE OF {COUNTED} "
              f"OR DELETE ON returns FOR EACH ROW EXECUTE FUNCTION jijian_return_months()")
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER returns_months_insert AFTER INSERT ON returns BEGIN {upsert('sqlite', 'NEW', '')}; END",
    f"CREATE TRIGGER returns_months_update AFTER UPDATE OF {COUNTED} "
    f"ON returns BEGIN {upsert('sqlite', 'OLD', '-')}; {upsert('sqlite', 'NEW', '')}; END",
    f"CREATE TRIGGER returns_months_delete AFTER DELETE ON returns BEGIN {upsert('sqlite', 'OLD', '-')}; END",
]


def upgrade():
    dialect = op.get_bind().dialect.name
    op.create_table(
        'return_months',
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('worker_id', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('step_id', sa.Integer(), nullable=False),
        sa.Column('piece_rate', sa.BigInteger(), nullable=False),
        sa.Column('pieces', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_return_months_product_id_products')),
        sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_return_months_worker_id_workers')),
        sa.PrimaryKeyConstraint('month', 'worker_id', 'product_id', 'step_id', 'piece_rate',
                                name=op.f('pk_return_months')),
    )
    month = MONTH[dialect].format(day="work_date")
    op.execute(f"INSERT INTO return_months ({KEY}, pieces) "
               f"SELECT {month}, worker_id, product_id, COALESCE(step_id, 0), piece_rate, SUM(accepted) FROM returns "
               f"GROUP BY {month}, worker_id, product_id, COALESCE(step_id, 0), piece_rate")
    if dialect == 'postgresql':
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        for stmt in SQLITE_TRIGGERS:
            op.execute(stmt)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS returns_months ON returns")
        op.execute("DROP FUNCTION IF EXISTS jijian_return_months()")
    else:
        for name in ("returns_months_insert", "returns_months_update", "returns_months_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table('return_months')
