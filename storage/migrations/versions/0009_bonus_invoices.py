"""bonus invoices (PRODUCT §8, telegram mode): the nonce of a milestone's current bonus invoice and when
the bonus was paid

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 12:40:00
"""

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UTC = storage.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("milestones") as batch_op:
        batch_op.add_column(sa.Column("bonus_nonce", sa.String(length=32), server_default="", nullable=False))
        batch_op.add_column(sa.Column("bonus_paid_at", UTC, nullable=True))


def downgrade() -> None:
    # recreate="never", as 0008: rebuilding the table would cascade-delete its ledger and history rows.
    with op.batch_alter_table("milestones", recreate="never") as batch_op:
        batch_op.drop_column("bonus_paid_at")
        batch_op.drop_column("bonus_nonce")
