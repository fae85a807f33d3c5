"""finding counts per organization, kept by triggers

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_SQLITE_TRIGGERS = [
    """CREATE TRIGGER trg_finding_counts_insert AFTER INSERT ON findings
    BEGIN
        INSERT INTO finding_counts (org_id, total) VALUES (NEW.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET total = total + 1;
    END""",
    """CREATE TRIGGER trg_finding_counts_delete AFTER DELETE ON findings
    BEGIN
        UPDATE finding_counts SET total = total - 1 WHERE org_id = OLD.org_id;
    END""",
    """CREATE TRIGGER trg_finding_counts_move AFTER UPDATE OF org_id ON findings
    WHEN OLD.org_id IS NOT NEW.org_id
    BEGIN
        UPDATE finding_counts SET total = total - 1 WHERE org_id = OLD.org_id;
        INSERT INTO finding_counts (org_id, total) VALUES (NEW.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET total = total + 1;
    END""",
]

# Statement-level triggers with transition tables: a bulk insert of 5,000 rows costs one upsert per
# organization, not 5,000.
_POSTGRES_TRIGGERS = [
    """CREATE FUNCTION openmira_finding_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO finding_counts (org_id, total)
        SELECT org_id, count(*) FROM new_rows GROUP BY org_id
        ON CONFLICT (org_id) DO UPDATE SET total = finding_counts.total + EXCLUDED.total;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION openmira_finding_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE finding_counts c SET total = c.total - d.n
        FROM (SELECT org_id, count(*) AS n FROM old_rows GROUP BY org_id) d WHERE c.org_id = d.org_id;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION openmira_finding_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE finding_counts c SET total = c.total - d.n
        FROM (SELECT o.org_id, count(*) AS n FROM old_rows o JOIN new_rows n ON n.id = o.id
              WHERE n.org_id <> o.org_id GROUP BY o.org_id) d
        WHERE c.org_id = d.org_id;
        INSERT INTO finding_counts (org_id, total)
        SELECT n.org_id, count(*) FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE n.org_id <> o.org_id GROUP BY n.org_id
        ON CONFLICT (org_id) DO UPDATE SET total = finding_counts.total + EXCLUDED.total;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER trg_finding_counts_insert AFTER INSERT ON findings
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION openmira_finding_counts_insert()""",
    """CREATE TRIGGER trg_finding_counts_delete AFTER DELETE ON findings
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION openmira_finding_counts_delete()""",
    """CREATE TRIGGER trg_finding_counts_update AFTER UPDATE ON findings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION openmira_finding_counts_update()""",
]


def upgrade() -> None:
    op.create_table(
        "finding_counts",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_finding_counts")),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _POSTGRES_TRIGGERS if postgres else _SQLITE_TRIGGERS:
        op.execute(statement)
    op.execute("INSERT INTO finding_counts (org_id, total) SELECT org_id, count(*) FROM findings GROUP BY org_id")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS trg_finding_counts_{name} ON findings")
            op.execute(f"DROP FUNCTION IF EXISTS openmira_finding_counts_{name}()")
    else:
        for name in ("insert", "delete", "move"):
            op.execute(f"DROP TRIGGER IF EXISTS trg_finding_counts_{name}")
    op.drop_table("finding_counts")
