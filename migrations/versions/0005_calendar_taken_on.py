"""orders.taken_on: the workshop's day an order was taken (rule 12: entered late, kept with its day)

Backfilled from created_at (naive UTC) as the workshop's day (JIJIAN_TIMEZONE, default
Asia/Shanghai), so an order entered at 00:30 in Shanghai is taken on that day, not UTC's.

Revision ID: 0005
Revises: 0006
Create Date: 2026-12-01 22:00:00

"""
import os
from datetime import UTC
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('orders', sa.Column('taken_on', sa.Date(), nullable=True))
    zone = ZoneInfo(os.environ.get("JIJIAN_TIMEZONE") or "Asia/Shanghai")
    conn = op.get_bind()
    orders = sa.table('orders', sa.column('id', sa.Integer), sa.column('created_at', sa.DateTime),
                      sa.column('taken_on', sa.Date))
    rows = conn.execute(sa.select(orders.c.id, orders.c.created_at)).all()
    for order_id, created_at in rows:
        day = created_at.replace(tzinfo=UTC).astimezone(zone).date()
        conn.execute(orders.update().where(orders.c.id == order_id).values(taken_on=day))
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.alter_column('taken_on', existing_type=sa.Date(), nullable=False)


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('taken_on')
