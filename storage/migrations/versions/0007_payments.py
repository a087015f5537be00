"""money for real (PRODUCT §7): payment mode per contract, payment confirmations and invoices per
milestone, references and Telegram charge ids in the ledger, payout details per user

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 12:00:00
"""

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UTC = storage.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("contracts") as batch_op:
        batch_op.add_column(sa.Column("payments", sa.String(length=16), server_default="ledger", nullable=False))
    with op.batch_alter_table("milestones") as batch_op:
        batch_op.add_column(sa.Column("payment_confirmed_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("payment_flagged_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("invoice_nonce", sa.String(length=32), server_default="", nullable=False))
    with op.batch_alter_table("ledger_entries") as batch_op:
        batch_op.add_column(sa.Column("reference", sa.String(length=200), server_default="", nullable=False))
        batch_op.add_column(sa.Column("charge_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("provider_charge_id", sa.String(length=255), server_default="", nullable=False))
        batch_op.create_unique_constraint(batch_op.f("uq_ledger_entries_charge_id"), ["charge_id"])
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("payout_details", sa.Text(), nullable=True))


def _drop_columns(table: str, *names: str) -> None:
    """recreate="never": SQLite (3.35+) drops plain columns in place. Rebuilding the table would drop it
    first, and with foreign keys on that runs its ON DELETE CASCADE (a contract's milestones, a
    milestone's ledger and history would be deleted)."""
    with op.batch_alter_table(table, recreate="never") as batch_op:
        for name in names:
            batch_op.drop_column(name)


def downgrade() -> None:
    _drop_columns("users", "payout_details")
    # ledger_entries has no children: rebuilding it (SQLite can't drop a UNIQUE column in place) is safe.
    with op.batch_alter_table("ledger_entries") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_ledger_entries_charge_id"), type_="unique")
        batch_op.drop_column("provider_charge_id")
        batch_op.drop_column("charge_id")
        batch_op.drop_column("reference")
    _drop_columns("milestones", "invoice_nonce", "payment_flagged_at", "payment_confirmed_at")
    _drop_columns("contracts", "payments")
