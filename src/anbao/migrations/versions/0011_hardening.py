"""hardening: officers linked to their units, token revocation, keyed audit entries

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a field user acts on the tasks of the units they belong to (one row per user and unit)
    op.create_table(
        'user_unit',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name='fk_user_unit_user_id_app_user',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name='fk_user_unit_unit_id_unit', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'unit_id', name='pk_user_unit'),
    )
    op.create_index('ix_user_unit_unit_id', 'user_unit', ['unit_id'])
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        # tokens carry the version they were issued under; a password change or deactivation bumps it
        batch_op.add_column(sa.Column('token_version', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        # which key signed the row's MAC; NULL: an unkeyed sha256 row written before keys existed
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('key_id')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('token_version')
    op.drop_index('ix_user_unit_unit_id', table_name='user_unit')
    op.drop_table('user_unit')
