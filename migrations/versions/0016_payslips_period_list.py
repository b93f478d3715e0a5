"""payslips: a period's statements in the order its page lists them, with what it shows

The period's page lists 50 statements at a time in (station, name) order, sums the period's
figures above the list and asks whether any statement was printed. Each read a period's
~2,000 payslips through (pay_period_id, worker_id) and looked every one up in the table (the
page sorted them all); this index holds the columns those reads need, in the page's order.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 07:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_payslips_period_list', 'payslips',
                    ['pay_period_id', 'station_id', 'worker_name', 'id', 'worker_id', 'pieces', 'gross', 'adjustments',
                     'deductions', 'net', 'pdf_id', 'seq'], unique=False)


def downgrade():
    op.drop_index('ix_payslips_period_list', table_name='payslips')
