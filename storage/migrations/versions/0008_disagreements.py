"""disagreements (PRODUCT §8): a partial release and a bonus, a proposed due date, a dispute with each
party's settlement offer, per milestone

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 12:10:00
"""

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UTC = storage.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("milestones") as batch_op:
        batch_op.add_column(sa.Column("paid_amount", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("bonus", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("due_change_to", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("due_change_by", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("due_change_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("dispute_opened_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("dispute_by", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("dispute_reason", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("dispute_escalated_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("client_offer", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("client_offer_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("freelancer_offer", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("freelancer_offer_at", UTC, nullable=True))


def downgrade() -> None:
    # recreate="never": SQLite (3.35+) drops the columns in place. Rebuilding the table would drop it
    # first, and with foreign keys on that deletes its ledger, history and reminder rows (ON DELETE CASCADE).
    with op.batch_alter_table("milestones", recreate="never") as batch_op:
        for name in (
            "freelancer_offer_at",
            "freelancer_offer",
            "client_offer_at",
            "client_offer",
            "dispute_escalated_at",
            "dispute_reason",
            "dispute_by",
            "dispute_opened_at",
            "due_change_at",
            "due_change_by",
            "due_change_to",
            "bonus",
            "paid_amount",
        ):
            batch_op.drop_column(name)
