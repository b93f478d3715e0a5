"""invoices: the period an invoice covers (pieces accepted up to a chosen date, first and last work date billed)

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-02 00:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    # Invoices issued before keep NULL: their period was never recorded and is not guessed.
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('billed_up_to', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('period_start', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('period_end', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_column('period_end')
        batch_op.drop_column('period_start')
        batch_op.drop_column('billed_up_to')
