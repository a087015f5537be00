"""reminders planned ahead: 'planned' rows by moment replace claims

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 12:45:00
"""

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


# SQLite rebuilds the table to change a column: keep AUTOINCREMENT, so that an id is never used twice
# (a reminder found by one sweep must not match a row written later by a re-plan).
KEEP = {"sqlite_autoincrement": True}


def upgrade() -> None:
    with op.batch_alter_table("reminder_log", schema=None, table_kwargs=KEEP) as batch_op:
        batch_op.drop_index(
            "ix_reminder_log_queued",
            sqlite_where=sa.text("status = 'queued'"),
            postgresql_where=sa.text("status = 'queued'"),
        )
        batch_op.alter_column("claimed_at", existing_type=storage.models.UTCDateTime(timezone=True), nullable=True)
    # A claim never begun was never sent: it is planned again and goes out at the next sweep.
    op.execute("UPDATE reminder_log SET status = 'planned', claimed_at = NULL WHERE status = 'queued'")
    with op.batch_alter_table("reminder_log", schema=None, table_kwargs=KEEP) as batch_op:
        batch_op.create_index(
            "ix_reminder_log_planned",
            ["due_at"],
            unique=False,
            sqlite_where=sa.text("status = 'planned'"),
            postgresql_where=sa.text("status = 'planned'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("reminder_log", schema=None, table_kwargs=KEEP) as batch_op:
        batch_op.drop_index(
            "ix_reminder_log_planned",
            sqlite_where=sa.text("status = 'planned'"),
            postgresql_where=sa.text("status = 'planned'"),
        )
    # Planned rows have no claim behind them; the milestones are looked at again at once.
    op.execute(
        "UPDATE milestones SET next_reminder_at = CURRENT_TIMESTAMP WHERE id IN "
        "(SELECT milestone_id FROM reminder_log WHERE status = 'planned')"
    )
    op.execute("DELETE FROM reminder_log WHERE status = 'planned'")
    op.execute("UPDATE reminder_log SET claimed_at = due_at WHERE claimed_at IS NULL")
    with op.batch_alter_table("reminder_log", schema=None, table_kwargs=KEEP) as batch_op:
        batch_op.alter_column("claimed_at", existing_type=storage.models.UTCDateTime(timezone=True), nullable=False)
        batch_op.create_index(
            "ix_reminder_log_queued",
            ["claimed_at"],
            unique=False,
            sqlite_where=sa.text("status = 'queued'"),
            postgresql_where=sa.text("status = 'queued'"),
        )
