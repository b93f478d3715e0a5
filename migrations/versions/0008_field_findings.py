"""pay_period_reopenings: a closed period opened again, chained in place of its withdrawn statements

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-01 21:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'pay_period_reopenings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pay_period_id', sa.Integer(), nullable=False),
        sa.Column('base_seq', sa.Integer(), nullable=False),
        sa.Column('removed_from', sa.Integer(), nullable=False),
        sa.Column('removed_to', sa.Integer(), nullable=False),
        sa.Column('payslips', sa.Integer(), nullable=False),
        sa.Column('total', sa.BigInteger(), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('reopened_by', sa.String(length=100), nullable=False),
        sa.Column('reopened_at', sa.DateTime(), nullable=False),
        sa.Column('removed_hash', sa.String(length=64), nullable=False),
        sa.Column('prev_hash', sa.String(length=64), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['pay_period_id'], ['pay_periods.id'],
                                name=op.f('fk_pay_period_reopenings_pay_period_id_pay_periods')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pay_period_reopenings')),
    )
    with op.batch_alter_table('pay_period_reopenings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pay_period_reopenings_base_seq'), ['base_seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_pay_period_reopenings_pay_period_id'), ['pay_period_id'], unique=False)


def downgrade():
    op.drop_table('pay_period_reopenings')
