"""returns: index by worker, product and rate instead of worker and date

Earnings lines group returns by (worker, product, piece rate). With the work date after those
columns the grouping streams from the index without sorting a year of returns (the district
report), and every query that asked the old (worker_id, work_date, ...) index for one worker
still finds that worker's rows by its first column. Replacing rather than adding keeps the
number of indexes written on every return the same.

Building the index reads the whole returns table once (about 2 s for 1,000,000 returns on
SQLite); on PostgreSQL it blocks writes to returns meanwhile.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 10:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_returns_worker_product_rate', 'returns',
                    ['worker_id', 'product_id', 'piece_rate', 'work_date', 'accepted'], unique=False)
    op.drop_index('ix_returns_worker_date', table_name='returns')


def downgrade():
    op.create_index('ix_returns_worker_date', 'returns',
                    ['worker_id', 'work_date', 'product_id', 'piece_rate', 'accepted'], unique=False)
    op.drop_index('ix_returns_worker_product_rate', table_name='returns')
