"""A closed period's printed statements are found by a row, not by a file name

- statements_pdfs: one row for each stored print of a period's pay statements (every station
  or one, one or two a sheet), with its file's id and SHA-256. Downloads read the file by that
  id and check it by that hash; ``reopen_blockers`` counts these rows.
- Every print already stored under the old names (``pay-statements-{period}[-station-{id}]
  [-2up].pdf``) gets its row, so it is still the one answered and still blocks reopening.

Revision ID: 0010
Revises: 0012
Create Date: 2026-12-02 00:30:00

"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0012'
branch_labels = None
depends_on = None

OLD_NAME = re.compile(r"^pay-statements-(\d+)(?:-station-(\d+))?(-2up)?\.pdf$")


def upgrade():
    op.create_table(
        'statements_pdfs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pay_period_id', sa.Integer(), nullable=False),
        sa.Column('station_id', sa.Integer(), nullable=True),
        sa.Column('per_sheet', sa.Integer(), nullable=False),
        sa.Column('file_id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('per_sheet in (1, 2)', name=op.f('ck_statements_pdfs_per_sheet')),
        sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], name=op.f('fk_statements_pdfs_file_id_stored_files')),
        sa.ForeignKeyConstraint(['pay_period_id'], ['pay_periods.id'],
                                name=op.f('fk_statements_pdfs_pay_period_id_pay_periods')),
        sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_statements_pdfs_station_id_stations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_statements_pdfs')),
    )
    with op.batch_alter_table('statements_pdfs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statements_pdfs_pay_period_id'), ['pay_period_id'], unique=False)

    conn = op.get_bind()
    periods = {row[0] for row in conn.execute(sa.text("SELECT id FROM pay_periods"))}
    stations = {row[0] for row in conn.execute(sa.text("SELECT id FROM stations"))}
    found = conn.execute(sa.text("SELECT id, filename, sha256, created_at FROM stored_files "
                                 "WHERE filename LIKE 'pay-statements-%' ORDER BY id")).all()
    rows = []
    for file_id, filename, sha256, created_at in found:
        match = OLD_NAME.match(filename)
        if not match or int(match[1]) not in periods or (match[2] and int(match[2]) not in stations):
            continue
        rows.append({"pay_period_id": int(match[1]), "station_id": int(match[2]) if match[2] else None,
                     "per_sheet": 2 if match[3] else 1, "file_id": file_id, "sha256": sha256,
                     "created_at": created_at})
    if rows:
        table = sa.table('statements_pdfs', *(sa.column(c) for c in rows[0]))
        op.bulk_insert(table, rows)


def downgrade():
    op.drop_table('statements_pdfs')
