"""finding counts per organization and low-cardinality group, kept by triggers

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The columns a filtered list's total can be summed over (findings.listing.GROUP_FIELDS).
_GROUP = "org_id, status, priority, type, category, blocked, resolution"
# A finding with no resolution is its own group: the unique key reads NULL as -1 (no resolution is -1).
_KEY = "org_id, status, priority, type, category, blocked, coalesce(resolution, -1)"
_SAME_GROUP = " AND ".join(
    f"g.{c} IS NOT DISTINCT FROM d.{c}" if c == "resolution" else f"g.{c} = d.{c}" for c in _GROUP.split(", ")
)
_SQLITE_SAME_GROUP = " AND ".join(f"{c} IS OLD.{c}" for c in _GROUP.split(", "))
_NEW_VALUES = ", ".join(f"NEW.{c}" for c in _GROUP.split(", "))

_SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER trg_finding_groups_insert AFTER INSERT ON findings
    BEGIN
        INSERT INTO finding_group_counts ({_GROUP}, total) VALUES ({_NEW_VALUES}, 1)
        ON CONFLICT ({_KEY}) DO UPDATE SET total = total + 1;
    END""",
    f"""CREATE TRIGGER trg_finding_groups_delete AFTER DELETE ON findings
    BEGIN
        UPDATE finding_group_counts SET total = total - 1 WHERE {_SQLITE_SAME_GROUP};
    END""",
    f"""CREATE TRIGGER trg_finding_groups_update AFTER UPDATE OF {_GROUP} ON findings
    WHEN {" OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _GROUP.split(", "))}
    BEGIN
        UPDATE finding_group_counts SET total = total - 1 WHERE {_SQLITE_SAME_GROUP};
        INSERT INTO finding_group_counts ({_GROUP}, total) VALUES ({_NEW_VALUES}, 1)
        ON CONFLICT ({_KEY}) DO UPDATE SET total = total + 1;
    END""",
]

# Statement-level triggers with transition tables: a bulk insert of 5,000 rows costs one upsert per group.
_ADD = f"""INSERT INTO finding_group_counts ({_GROUP}, total)
        SELECT {_GROUP}, count(*) FROM {{rows}} GROUP BY {_GROUP}
        ON CONFLICT ({_KEY}) DO UPDATE SET total = finding_group_counts.total + EXCLUDED.total;"""
_SUBTRACT = f"""UPDATE finding_group_counts g SET total = g.total - d.n
        FROM (SELECT {_GROUP}, count(*) AS n FROM {{rows}} GROUP BY {_GROUP}) d WHERE {_SAME_GROUP};"""
_POSTGRES_TRIGGERS = [
    f"""CREATE FUNCTION openmira_finding_groups_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {_ADD.format(rows="new_rows")}
        RETURN NULL;
    END $$""",
    f"""CREATE FUNCTION openmira_finding_groups_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {_SUBTRACT.format(rows="old_rows")}
        RETURN NULL;
    END $$""",
    # Rows whose group did not change are subtracted and added back: one statement, whatever changed.
    f"""CREATE FUNCTION openmira_finding_groups_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {_SUBTRACT.format(rows="(SELECT o.* FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE "
                          "(o.org_id, o.status, o.priority, o.type, o.category, o.blocked, o.resolution) IS DISTINCT "
                          "FROM (n.org_id, n.status, n.priority, n.type, n.category, n.blocked, n.resolution)) c")}
        {_ADD.format(rows="(SELECT n.* FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE "
                     "(o.org_id, o.status, o.priority, o.type, o.category, o.blocked, o.resolution) IS DISTINCT "
                     "FROM (n.org_id, n.status, n.priority, n.type, n.category, n.blocked, n.resolution)) c")}
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER trg_finding_groups_insert AFTER INSERT ON findings
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION openmira_finding_groups_insert()""",
    """CREATE TRIGGER trg_finding_groups_delete AFTER DELETE ON findings
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION openmira_finding_groups_delete()""",
    """CREATE TRIGGER trg_finding_groups_update AFTER UPDATE ON findings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION openmira_finding_groups_update()""",
]


def upgrade() -> None:
    op.create_table(
        "finding_group_counts",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("type", sa.Integer(), nullable=False),
        sa.Column("category", sa.Integer(), nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("resolution", sa.Integer(), nullable=True),
        sa.Column("total", sa.BigInteger(), nullable=False),
    )
    op.execute(f"CREATE UNIQUE INDEX ux_finding_group_counts ON finding_group_counts ({_KEY})")
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _POSTGRES_TRIGGERS if postgres else _SQLITE_TRIGGERS:
        op.execute(statement)
    op.execute(f"INSERT INTO finding_group_counts ({_GROUP}, total) SELECT {_GROUP}, count(*) FROM findings "
               f"GROUP BY {_GROUP}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS trg_finding_groups_{name} ON findings")
            op.execute(f"DROP FUNCTION IF EXISTS openmira_finding_groups_{name}()")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS trg_finding_groups_{name}")
    op.drop_table("finding_group_counts")
