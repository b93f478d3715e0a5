"""order_day_tallies: accepted pieces per order and work date, for the board's 14-day pace

Filled from the returns already recorded; from here on the production service moves a tally
in the same transaction as each return and correction.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'order_day_tallies',
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('work_date', sa.Date(), nullable=False),
        sa.Column('accepted', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_day_tallies_order_id_orders')),
        sa.PrimaryKeyConstraint('order_id', 'work_date', name=op.f('pk_order_day_tallies')),
    )
    op.execute("INSERT INTO order_day_tallies (order_id, work_date, accepted) "
               "SELECT order_id, work_date, SUM(accepted) FROM returns GROUP BY order_id, work_date")


def downgrade():
    op.drop_table('order_day_tallies')
