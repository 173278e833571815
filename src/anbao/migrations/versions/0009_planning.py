"""planning: risk register, plan elements and templates, capacity settings, permit facts

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa
import anbao.core.time
from sqlalchemy.dialects import postgresql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('plan_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('content', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('builtin', sa.Boolean(), nullable=False),
    sa.Column('created_at', anbao.core.time.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', anbao.core.time.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_template')),
    sa.UniqueConstraint('code', name=op.f('uq_plan_template_code'))
    )
    op.create_table('capacity_setting',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('entry_min', sa.Float(), nullable=False),
    sa.Column('egress_min', sa.Float(), nullable=False),
    sa.Column('emergency_min', sa.Float(), nullable=False),
    sa.Column('density', sa.Float(), nullable=False),
    sa.Column('safety_factors', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', anbao.core.time.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', anbao.core.time.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_capacity_setting_event_id_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_capacity_setting'))
    )
    op.create_table('risk',
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('zone_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('session_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('controls', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('residual_likelihood', sa.Integer(), nullable=True),
    sa.Column('residual_impact', sa.Integer(), nullable=True),
    sa.Column('owner', sa.String(length=120), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('created_at', anbao.core.time.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', anbao.core.time.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_risk_event_id_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk')),
    sa.UniqueConstraint('event_id', 'code', name=op.f('uq_risk_event_id_code'))
    )
    with op.batch_alter_table('risk', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_event_id'), ['event_id'], unique=False)

    op.create_table('risk_matrix',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('rows', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('spread_limit', sa.Integer(), nullable=False),
    sa.Column('level_gap', sa.Integer(), nullable=False),
    sa.Column('created_at', anbao.core.time.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', anbao.core.time.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_risk_matrix_event_id_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_risk_matrix'))
    )
    op.create_table('risk_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('risk_id', sa.Integer(), nullable=False),
    sa.Column('expert', sa.String(length=120), nullable=False),
    sa.Column('likelihood', sa.Integer(), nullable=False),
    sa.Column('impact', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('scored_at', anbao.core.time.UTCDateTime(timezone=True), nullable=False),
    sa.Column('by', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_risk_score_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['risk_id'], ['risk.id'], name=op.f('fk_risk_score_risk_id_risk'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_score')),
    sa.UniqueConstraint('risk_id', 'expert', name=op.f('uq_risk_score_risk_id_expert'))
    )
    with op.batch_alter_table('risk_score', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_score_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_score_risk_id'), ['risk_id'], unique=False)

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('applied_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('approval_authority', sa.String(length=20), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('cross_province', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('tickets_issued', sa.Integer(), nullable=True))

    with op.batch_alter_table('response_plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('equipment', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('partners', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('map_refs', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('evacuation_routes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('sections', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('template', sa.String(length=40), nullable=False, server_default=''))



def downgrade() -> None:
    with op.batch_alter_table('response_plan', schema=None) as batch_op:
        batch_op.drop_column('template')
        batch_op.drop_column('sections')
        batch_op.drop_column('evacuation_routes')
        batch_op.drop_column('map_refs')
        batch_op.drop_column('partners')
        batch_op.drop_column('equipment')
        batch_op.drop_column('unit_ids')

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('tickets_issued')
        batch_op.drop_column('cross_province')
        batch_op.drop_column('approval_authority')
        batch_op.drop_column('applied_on')

    with op.batch_alter_table('risk_score', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_score_risk_id'))
        batch_op.drop_index(batch_op.f('ix_risk_score_event_id'))

    op.drop_table('risk_score')
    op.drop_table('risk_matrix')
    with op.batch_alter_table('risk', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_event_id'))

    op.drop_table('risk')
    op.drop_table('capacity_setting')
    op.drop_table('plan_template')
