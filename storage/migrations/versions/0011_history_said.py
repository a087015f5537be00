"""languages: a history note the domain composed ("as client", a split's amounts) kept as a sentence
to translate (its message id and parameters, JSON), next to its English text

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("history_entries") as batch_op:
        batch_op.add_column(sa.Column("said", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("history_entries", recreate="never") as batch_op:
        batch_op.drop_column("said")
