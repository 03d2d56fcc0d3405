"""signal: a partial index on withdrawn_at for the purge

The purge looked for signals that are expired OR withdrawn in one query, which no index
serves: every run (at start and hourly, in every broker process) read the whole signal
table, 0.1 s of database time at 1,000,000 signals. It now asks twice, by expiry (indexed)
and by withdrawal, through this index of the few withdrawn rows.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WITHDRAWN = sa.text("withdrawn_at IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_signal_withdrawn_at",
        "signal",
        ["withdrawn_at"],
        unique=False,
        postgresql_where=_WITHDRAWN,
        sqlite_where=_WITHDRAWN,
    )


def downgrade() -> None:
    op.drop_index("ix_signal_withdrawn_at", table_name="signal")
