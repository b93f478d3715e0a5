"""batches: a station's batches by worker and by the day or the time each was issued

The issue page asks two things of every worker of a station: when they were last handed a
batch (the picker lists the most recent first) and when their first batch of the pace's
history was issued. Each is now one seek in an index per worker instead of a read of every
batch of the station (25,000 on the bench data).

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-02 07:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_batches_station_worker_issued_at', 'batches', ['station_id', 'worker_id', 'issued_at'],
                    unique=False)
    op.create_index('ix_batches_station_worker_issued_on', 'batches', ['station_id', 'worker_id', 'issued_on'],
                    unique=False)


def downgrade():
    op.drop_index('ix_batches_station_worker_issued_on', table_name='batches')
    op.drop_index('ix_batches_station_worker_issued_at', table_name='batches')
