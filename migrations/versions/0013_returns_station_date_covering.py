"""returns: the station and date index carries worker, step and rate

The pace of each worker of a station on one step (the issue page's suggested split) reads 90
days of the station's returns grouped by worker and day; the worker list adds each worker's
recent output. With worker, step and rate in the (station_id, work_date) index both read the
index alone instead of looking up every return in the table. Replaced, not added: a return
still writes as many indexes.

Building the index reads the whole returns table once (a few seconds for 1,000,000 returns);
on PostgreSQL it blocks writes to returns meanwhile.

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-02 01:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_returns_station_date', table_name='returns')
    op.create_index('ix_returns_station_date', 'returns',
                    ['station_id', 'work_date', 'worker_id', 'step_id', 'piece_rate', 'accepted'], unique=False)


def downgrade():
    op.drop_index('ix_returns_station_date', table_name='returns')
    op.create_index('ix_returns_station_date', 'returns', ['station_id', 'work_date', 'accepted'], unique=False)
