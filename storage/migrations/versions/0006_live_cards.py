"""one live card per chat: the outbox marks a contract's card, and each chat's live card is kept

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 11:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("card_contract_id", sa.Integer(), nullable=True))
    op.create_table(
        "live_cards",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("contract_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("chat_id", "contract_id", name=op.f("pk_live_cards")),
    )


def downgrade() -> None:
    op.drop_table("live_cards")
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("card_contract_id")
