"""typed changes: the cause id on timeline entries, the responsible command node on warnings

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('timeline_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cause', sa.String(length=80), nullable=True))
    with op.batch_alter_table('warning', schema=None) as batch_op:
        batch_op.add_column(sa.Column('command_node_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_warning_command_node_id_command_node', 'command_node', ['command_node_id'],
                                    ['id'], ondelete='SET NULL')
    # warnings already stored: the node of the latest plan started for them (what escalation read before)
    op.execute("""
        UPDATE warning SET command_node_id = (
            SELECT response_plan.command_node_id FROM plan_activation
            JOIN response_plan ON response_plan.id = plan_activation.plan_id
            WHERE plan_activation.warning_id = warning.id
            ORDER BY plan_activation.id DESC LIMIT 1)
    """)


def downgrade() -> None:
    with op.batch_alter_table('warning', schema=None) as batch_op:
        batch_op.drop_constraint('fk_warning_command_node_id_command_node', type_='foreignkey')
        batch_op.drop_column('command_node_id')
    with op.batch_alter_table('timeline_entry', schema=None) as batch_op:
        batch_op.drop_column('cause')
