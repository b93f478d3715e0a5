"""Steps (工序): products made in ordered steps, each with its own rate history (rule 14)

- product_steps, product_step_rates: every existing product gets its one step (seq 1, named
  like the product, at the product's piece rate) and that step's rate history is the
  product's piece-rate history, date for date.
- order_steps: per-step counters of orders of products with several steps (none yet).
- batches.step_id and returns.step_id: every existing batch and return is linked to its
  product's one step. The returns are append-only; their guard is lifted for that one UPDATE
  inside this migration's transaction and put back.
- The two earnings indexes of returns take step_id after product_id, so lines grouped by
  worker, product, step and rate still stream from them without a sort.
- batches.step (a free-text label nothing ever set) is dropped: the step is step_id now, and
  ``Batch.step`` is the step's name.

On PostgreSQL the UPDATEs and index builds block writes to batches and returns meanwhile
(about a minute for 1,000,000 returns); run it with the app stopped, as every migration.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-01 22:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0005'
branch_labels = None
depends_on = None

OLD_INDEXES = {
    'ix_returns_worker_product_rate': ['worker_id', 'product_id', 'piece_rate', 'work_date', 'accepted'],
    'ix_returns_date_worker': ['work_date', 'worker_id', 'product_id', 'piece_rate', 'accepted'],
}
NEW_INDEXES = {
    'ix_returns_worker_product_rate': ['worker_id', 'product_id', 'step_id', 'piece_rate', 'work_date', 'accepted'],
    'ix_returns_date_worker': ['work_date', 'worker_id', 'product_id', 'step_id', 'piece_rate', 'accepted'],
}
# As app/models/guards.py has them (a migration keeps its own copy).
SQLITE_RETURN_GUARDS = [
    "CREATE TRIGGER returns_no_update BEFORE UPDATE ON returns BEGIN SELECT RAISE(ABORT, 'append-only'); END",
]


def _add_step_column(table: str, postgresql: bool) -> None:
    if postgresql:
        op.add_column(table, sa.Column('step_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f(f'fk_{table}_step_id_product_steps'), table, 'product_steps', ['step_id'], ['id'])
    else:
        # A plain ADD COLUMN (a column-level REFERENCES): rebuilding the table would drop its triggers.
        op.execute(f'ALTER TABLE {table} ADD COLUMN step_id INTEGER REFERENCES product_steps (id)')


def _drop_step_column(table: str, postgresql: bool) -> None:
    if postgresql:
        op.drop_constraint(op.f(f'fk_{table}_step_id_product_steps'), table, type_='foreignkey')
        op.drop_column(table, 'step_id')
    else:
        op.execute(f'ALTER TABLE {table} DROP COLUMN step_id')  # SQLite 3.35+, in place


def _swap_indexes(indexes: dict) -> None:
    for name, columns in indexes.items():
        op.drop_index(name, table_name='returns')
        op.create_index(name, 'returns', columns, unique=False)


def upgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    op.create_table('product_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('piece_rate', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('piece_rate >= 0', name=op.f('ck_product_steps_rate_nonneg')),
    sa.CheckConstraint('seq >= 1', name=op.f('ck_product_steps_seq_pos')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_product_steps_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_steps')),
    sa.UniqueConstraint('product_id', 'seq', name='uq_product_steps_product_seq')
    )
    op.create_table('product_step_rates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.Integer(), nullable=False),
    sa.Column('piece_rate', sa.BigInteger(), nullable=False),
    sa.Column('effective_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['step_id'], ['product_steps.id'], name=op.f('fk_product_step_rates_step_id_product_steps')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_step_rates'))
    )
    op.create_index(op.f('ix_product_step_rates_step_id'), 'product_step_rates', ['step_id'], unique=False)
    op.create_table('order_steps',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('last', sa.Boolean(), nullable=False),
    sa.Column('committed', sa.Integer(), nullable=False),
    sa.Column('accepted', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('taken_next', sa.Integer(), nullable=False),
    sa.CheckConstraint('committed >= 0 and accepted >= 0 and rejected >= 0', name=op.f('ck_order_steps_counts_nonneg')),
    sa.CheckConstraint('taken_next >= 0 and taken_next <= accepted', name=op.f('ck_order_steps_next_le_accepted')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_steps_order_id_orders')),
    sa.ForeignKeyConstraint(['step_id'], ['product_steps.id'], name=op.f('fk_order_steps_step_id_product_steps')),
    sa.PrimaryKeyConstraint('order_id', 'step_id', name=op.f('pk_order_steps'))
    )
    op.create_index('ix_order_steps_order_seq', 'order_steps', ['order_id', 'seq'], unique=True)

    # Each product's one step, and its rate history from the product's.
    op.execute("INSERT INTO product_steps (product_id, seq, name, piece_rate, created_at) "
               "SELECT id, 1, substr(name, 1, 50), piece_rate, created_at FROM products ORDER BY id")
    op.execute("INSERT INTO product_step_rates (step_id, piece_rate, effective_at, changed_by) "
               "SELECT s.id, r.piece_rate, r.effective_at, r.changed_by FROM product_rates r "
               "JOIN product_steps s ON s.product_id = r.product_id ORDER BY r.id")

    _add_step_column('batches', postgresql)
    _add_step_column('returns', postgresql)
    op.execute("UPDATE batches SET step_id = (SELECT s.id FROM product_steps s "
               "WHERE s.product_id = batches.product_id AND s.seq = 1)")
    link_returns = ("UPDATE returns SET step_id = (SELECT b.step_id FROM batches b WHERE b.id = returns.batch_id)")
    if postgresql:
        op.execute("ALTER TABLE returns DISABLE TRIGGER returns_append_only")
        op.execute(link_returns)
        op.execute("ALTER TABLE returns ENABLE TRIGGER returns_append_only")
    else:
        op.execute("DROP TRIGGER returns_no_update")
        op.execute(link_returns)
        for stmt in SQLITE_RETURN_GUARDS:
            op.execute(stmt)
    _swap_indexes(NEW_INDEXES)
    if postgresql:
        op.drop_column('batches', 'step')
    else:
        op.execute('ALTER TABLE batches DROP COLUMN step')


def downgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    if op.get_bind().execute(sa.text("SELECT count(*) FROM product_steps WHERE seq > 1")).scalar():
        raise RuntimeError("products have several steps: a schema without steps cannot hold them")
    if postgresql:
        op.add_column('batches', sa.Column('step', sa.String(length=50), nullable=True))
    else:
        op.execute('ALTER TABLE batches ADD COLUMN step VARCHAR(50)')
    _swap_indexes(OLD_INDEXES)
    _drop_step_column('returns', postgresql)
    _drop_step_column('batches', postgresql)
    op.drop_index('ix_order_steps_order_seq', table_name='order_steps')
    op.drop_table('order_steps')
    op.drop_index(op.f('ix_product_step_rates_step_id'), table_name='product_step_rates')
    op.drop_table('product_step_rates')
    op.drop_table('product_steps')
