"""signal_person: no index on key_version

Re-keying rewrites every person row, and each rewrite also inserted into this index; no
query needs it (lookups go by index token, re-keying walks the table by physical position,
and counting rows per version for ``broker keys status`` or retirement scans the table
either way). Dropping it saves an index insertion per person on every rotation.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("signal_person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signal_person_key_version"))


def downgrade() -> None:
    with op.batch_alter_table("signal_person", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signal_person_key_version"), ["key_version"], unique=False
        )
