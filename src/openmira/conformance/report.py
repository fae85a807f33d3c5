"""Check results and the table they are reported in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


class CheckFailed(AssertionError):
    """What differs from the contract; the message says what was expected and what came."""


class Skipped(Exception):
    """The check cannot run against this server's data (e.g. no findings to filter)."""


@dataclass
class Result:
    area: str
    name: str
    outcome: str  # "pass", "fail" or "skip"
    detail: str = ""


@dataclass
class Report:
    results: list[Result] = field(default_factory=list)

    @contextmanager
    def check(self, area: str, name: str) -> Iterator[None]:
        try:
            yield
        except CheckFailed as exc:
            self.results.append(Result(area, name, "fail", str(exc)))
        except Skipped as exc:
            self.results.append(Result(area, name, "skip", str(exc)))
        except Exception as exc:  # a crash of one check (a non-JSON body, a timeout) is its failure, not the run's
            self.results.append(Result(area, name, "fail", f"{type(exc).__name__}: {exc}"))
        else:
            self.results.append(Result(area, name, "pass"))

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if r.outcome == "fail"]

    def as_json(self) -> dict[str, Any]:
        return {"passed": not self.failed, "results": [r.__dict__ for r in self.results]}


def expect(condition: bool, message: str | Callable[[], str]) -> None:
    if not condition:
        raise CheckFailed(message() if callable(message) else message)
