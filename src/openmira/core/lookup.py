"""Fetching one object of a scoped query, or 404."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

from openmira.core.errors import NotFound

T = TypeVar("T")


def one_or_404(session: Session, stmt: Select[tuple[T]], what: str, ident: Any) -> T:
    """The object ``stmt`` finds, or a 404 that reads the same whether it does not exist or is out of scope."""
    found = session.scalar(stmt)
    if found is None:
        raise NotFound(f"{what} {ident} not found")
    return found
