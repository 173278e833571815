"""device_latest keeps room on its pages (PostgreSQL fillfactor 50): each batch moves one row per device forward,
and with room on the page the new row version stays there and no index is touched (a HOT update); issue 14

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE device_latest SET (fillfactor = 50)')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE device_latest RESET (fillfactor)')
