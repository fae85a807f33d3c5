"""On SQLite (the embedded default), a filtered list in the default order reads the organization's rows through
its filter's index, never the whole organization filtered row by row: an index that served the default order
without a sort made SQLite walk it for selective filters too (a status filter with no match went from 29 µs to
2.7 ms at 10k findings; docs/decisions.md, round 15). The index that does serve it now is partial, on a
condition only the unfiltered list states (round 16)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from openmira.core.paging import parse_order
from openmira.db.migrate import upgrade
from openmira.db.session import make_engine
from openmira.findings import listing
from openmira.findings.filters import parse_filters


def _findings_plan(database: Path, query: list[tuple[str, str]], accounts: int = 1) -> list[str]:
    """The steps of SQLite's plan for the list's page statement (of ``accounts`` accounts: the MSP's
    all-accounts list) that read findings or sort."""
    engine = make_engine(f"sqlite:///{database}")
    try:
        upgrade(engine)
        filters = parse_filters(query, "sqlite")
        order = parse_order(None, listing.ORDER_FIELDS, default=listing.DEFAULT_ORDER)
        compiled = listing._page_statement(accounts, filters.clauses, order).compile(engine)
        orgs = [uuid.uuid4() for _ in range(accounts)]
        values = {
            **filters.values, **{f"org_{i}": org for i, org in enumerate(orgs)}, "org_ids": orgs,
            "limit": 50, "offset": 0, "depth": 50,
        }
        state = compiled.construct_expanded_state(values)
        arguments = tuple(
            value.hex if isinstance(value, uuid.UUID) else value
            for value in (state.parameters[name] for name in state.positiontup or ())
        )
        with engine.connect() as connection:
            plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + state.statement, arguments).all()
        return [step[-1] for step in plan if "findings" in step[-1] or "B-TREE" in step[-1]]
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("query", "index"),
    [
        ([], "ix_findings_org_created_desc"),
        ([("status", "20")], "ix_findings_org_status_created"),
        ([("priority", "5")], "ix_findings_org_priority_created"),
        ([("type", "30")], "ix_findings_org_type_created"),
        ([("resolution", "10")], "ix_findings_org_resolution_created"),
        ([("status", "10"), ("priority", "5")], "ix_findings_org_status_created"),
        ([("modified.gt", "2026-01-01T00:00:00Z")], "ix_findings_org_modified"),  # an integrator's poll for changes
    ],
)
def test_a_filtered_list_reads_through_its_filters_index(
    tmp_path: Path, query: list[tuple[str, str]], index: str
) -> None:
    steps = _findings_plan(tmp_path / "plan.db", query)
    assert steps[0].startswith(f"SEARCH findings USING INDEX {index} (org_id=?"), steps


def test_the_unfiltered_list_reads_its_page_in_index_order_without_a_sort(tmp_path: Path) -> None:
    """The default order's own index (migration 0013) serves the unfiltered list: no temporary B-tree for its
    ties (a page's statement took 179 µs with that sort, 146 without; decisions.md, round 16)."""
    assert _findings_plan(tmp_path / "plan.db", []) == [
        "SEARCH findings USING INDEX ix_findings_org_created_desc (org_id=?)"
    ]


def test_each_account_of_the_msp_list_reads_its_rows_in_index_order(tmp_path: Path) -> None:
    """The MSP all-accounts list merges each account's leading rows: each is read from the same index, in
    order; only the merge sorts (the accounts' rows together)."""
    steps = _findings_plan(tmp_path / "plan.db", [], accounts=2)
    reads = [step for step in steps if step.startswith("SEARCH findings")]
    assert reads == ["SEARCH findings USING INDEX ix_findings_org_created_desc (org_id=?)"] * 2, steps
    assert "USE TEMP B-TREE FOR RIGHT PART OF ORDER BY" not in steps, steps
