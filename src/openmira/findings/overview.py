"""The organization overview's figures: one function per figure, over the same tables the findings API reads.

Open counts by priority and by type come from ``finding_group_counts``, the per-group counts kept exact by
triggers that also give the API's ``total_items`` for ``/findings?status=10&priority=N`` (``listing``): the
page and the API cannot disagree. The API has no operation for the daily activity, the median time to
resolve or the oldest urgent findings; those are computed from ``service.scoped_findings``, the tenant
query every findings read starts from.

Days are UTC days. A finding counts as *opened* on the day of its ``created`` and as *resolved* on the day
of its ``status_modified`` while it is resolved (resolving is the only status change there is).
"""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from openmira.findings.models import Finding, finding_group_counts
from openmira.findings.service import scoped_findings
from openmira.meta.enums import FINDING_TYPES, STATUS_OPEN, STATUS_RESOLVED

PRIORITIES = (1, 2, 3, 4, 5)
URGENT_PRIORITIES = (1, 2)
ACTIVITY_DAYS = 30
OLDEST_URGENT_LIMIT = 5


@dataclass(frozen=True)
class DayActivity:
    day: date
    opened: int
    resolved: int


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def activity_days(today: date, days: int = ACTIVITY_DAYS) -> list[date]:
    """The window of the daily chart: ``today`` (so far) and the ``days - 1`` whole days before it."""
    return [today - timedelta(days=days - 1 - i) for i in range(days)]


def _open_counts_by(
    session: Session, org_ids: Iterable[uuid.UUID], column: str, *where: ColumnElement[bool]
) -> dict[Any, int]:
    """Open findings per value of ``column`` (and ``where``), from the kept per-group counts."""
    groups = finding_group_counts
    rows = session.execute(
        select(groups.c[column], func.sum(groups.c.total))
        .where(groups.c.org_id.in_(list(org_ids)), groups.c.status == STATUS_OPEN, *where)
        .group_by(groups.c[column])
    ).all()
    return {key: int(total) for key, total in rows if total}


def open_by_priority(session: Session, org_ids: Iterable[uuid.UUID]) -> dict[int, int]:
    """Open findings per priority, every priority present (0 where there are none)."""
    counts = _open_counts_by(session, org_ids, "priority")
    return {p: counts.get(p, 0) for p in PRIORITIES}


def open_by_type(session: Session, org_ids: Iterable[uuid.UUID]) -> dict[int, int]:
    """Open findings per type, every known type present; an unknown stored type is kept, after them."""
    counts = _open_counts_by(session, org_ids, "type")
    known = {t: counts.pop(t, 0) for t in FINDING_TYPES}
    return known | dict(sorted(counts.items()))


def _per_day(column: ColumnElement[datetime], days: list[date]) -> list[ColumnElement[int]]:
    # One conditional count per day in one statement over the window's index range: portable (SQLite and
    # PostgreSQL truncate dates differently) and exact at midnight (a day is [00:00, next 00:00)).
    return [
        func.count(case(((column >= day_start(d)) & (column < day_start(d + timedelta(days=1))), 1)))
        for d in days
    ]


def _resolved_since(start: datetime) -> tuple[ColumnElement[bool], ...]:
    # ``modified >= start`` adds no condition (every write that sets ``status_modified`` sets ``modified`` to
    # the same time, and later writes only move ``modified`` forward) but lets the database read the
    # (org_id, modified) index range of the window instead of every resolved finding of the organization.
    return Finding.status == STATUS_RESOLVED, Finding.status_modified >= start, Finding.modified >= start


def daily_activity(session: Session, org_ids: Iterable[uuid.UUID], today: date) -> list[DayActivity]:
    """Findings opened and resolved on each UTC day of the last ``ACTIVITY_DAYS`` days, oldest first."""
    ids = list(org_ids)
    days = activity_days(today)
    start, end = day_start(days[0]), day_start(today + timedelta(days=1))
    opened = session.execute(
        scoped_findings(ids).with_only_columns(*_per_day(Finding.created, days))
        .where(Finding.created >= start, Finding.created < end)
    ).one()
    resolved = session.execute(
        scoped_findings(ids).with_only_columns(*_per_day(Finding.status_modified, days))
        .where(*_resolved_since(start), Finding.status_modified < end)
    ).one()
    return [DayActivity(d, int(o), int(r)) for d, o, r in zip(days, opened, resolved, strict=True)]


def median_time_to_resolve(session: Session, org_ids: Iterable[uuid.UUID], today: date) -> timedelta | None:
    """The median of (resolved - created) over the findings resolved in the daily chart's window; None if none."""
    start = day_start(activity_days(today)[0])
    rows = session.execute(
        scoped_findings(org_ids).with_only_columns(Finding.created, Finding.status_modified)
        .where(*_resolved_since(start))
    ).all()
    # A resolution stamped before its creation (imported data) counts as immediate, not negative.
    seconds = [max(0.0, (resolved - created).total_seconds()) for created, resolved in rows]
    return timedelta(seconds=round(statistics.median(seconds))) if seconds else None


def oldest_open_urgent(
    session: Session, org_ids: Iterable[uuid.UUID], limit: int = OLDEST_URGENT_LIMIT
) -> list[Finding]:
    """The open P1 and P2 findings waiting longest, oldest first."""
    return list(
        session.scalars(
            scoped_findings(org_ids)
            .where(Finding.status == STATUS_OPEN, Finding.priority.in_(URGENT_PRIORITIES))
            .order_by(Finding.created, Finding.id)
            .limit(limit)
        )
    )


def open_critical_per_org(session: Session, org_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Open P1 findings per organization, from the same kept counts as the API's filtered totals."""
    return _open_counts_by(session, org_ids, "org_id", finding_group_counts.c.priority == 1)


def open_older_than_per_org(session: Session, org_ids: Iterable[uuid.UUID], before: datetime) -> dict[uuid.UUID, int]:
    """Open findings created before ``before``, per organization."""
    rows = session.execute(
        scoped_findings(org_ids).with_only_columns(Finding.org_id, func.count())
        .where(Finding.status == STATUS_OPEN, Finding.created < before)
        .group_by(Finding.org_id)
    ).all()
    return {org_id: int(count) for org_id, count in rows}
