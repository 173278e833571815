"""closure exemptions (the vehicle classes a road closure lets through); a warning's closing comment and
the CAP attributes of an imported warning (scope, event, categories...)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('road_closure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exempt', JSON, nullable=True))
    closure = sa.table('road_closure', sa.column('applies_to', sa.String()), sa.column('exempt', JSON))
    # as real 交通管制: police and emergency vehicles pass a closure of vehicles; nobody passes a full closure
    op.execute(closure.update().where(closure.c.applies_to == 'vehicles').values(exempt=['emergency', 'police']))
    op.execute(closure.update().where(closure.c.applies_to != 'vehicles').values(exempt=[]))
    with op.batch_alter_table('road_closure', schema=None) as batch_op:
        batch_op.alter_column('exempt', existing_type=JSON, nullable=False)
    with op.batch_alter_table('warning', schema=None) as batch_op:
        batch_op.add_column(sa.Column('close_comment', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('cap', JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('warning', schema=None) as batch_op:
        batch_op.drop_column('cap')
        batch_op.drop_column('close_comment')
    with op.batch_alter_table('road_closure', schema=None) as batch_op:
        batch_op.drop_column('exempt')
