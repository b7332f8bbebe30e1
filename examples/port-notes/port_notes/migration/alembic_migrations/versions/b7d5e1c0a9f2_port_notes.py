"""port_notes: the table of notes.

Revision ID: b7d5e1c0a9f2
Revises: (none: the plugin's first)
"""

import sqlalchemy as sa
from alembic import op

revision = "b7d5e1c0a9f2"
down_revision = None


def upgrade():
    op.create_table(
        "port_notes",
        sa.Column("port_id", sa.String(36), sa.ForeignKey("ports.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("note", sa.String(255), nullable=False),
    )
