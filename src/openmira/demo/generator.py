"""Realistic demo rows, made from one ``random.Random``: the same seed gives the same rows.

Nothing here touches the database; ``openmira.demo.seed`` inserts the rows in bulk. Every ID comes
from the generator's random stream (never ``uuid4``), and every timestamp is relative to ``as_of``.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from openmira.demo import text
from openmira.demo.catalog import (
    DETECTIONS,
    RESOLUTION_IDS,
    RESOLUTION_WEIGHTS,
    OrgContext,
    evidence_rows,
    subject,
)
from openmira.meta.enums import STATUS_OPEN, STATUS_RESOLVED
from openmira.users.models import Role

FINDING_WINDOW = timedelta(days=90)
# Comment threads and evidence rows for every finding would dwarf the findings table at a million
# findings per organization; full detail goes to DETAIL_BUDGET findings chosen at random, plus the
# RECENT_DETAIL newest ones (what a console opens first). Owners are cheap and go to every finding.
DETAIL_BUDGET = 20_000
RECENT_DETAIL = 1_000
MAX_EVIDENCE_ROWS = 8
BATCH = 5_000

_CUM_WEIGHTS: list[float] = []
for _d in DETECTIONS:
    _CUM_WEIGHTS.append((_CUM_WEIGHTS[-1] if _CUM_WEIGHTS else 0) + _d.weight)


def new_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@dataclass(frozen=True)
class Member:
    id: uuid.UUID
    email: str
    roles: frozenset[int]


@dataclass
class Batch:
    findings: list[dict[str, Any]] = field(default_factory=list)
    owners: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)


def people(rng: random.Random, org_id: uuid.UUID, domain: str, count: int, as_of: datetime) -> list[dict[str, Any]]:
    """Users with roles: one administrator, a manager or two, and analysts and responders."""
    roles = [[Role.ADMINISTRATOR], [Role.MANAGER]]
    roles += [[Role.MANAGER, Role.ANALYST]] if count > 8 else []
    while len(roles) < count:
        roles.append([Role.ANALYST] if len(roles) % 2 else [Role.RESPONDER])
    seen: set[str] = set()
    rows = []
    for role_list in roles[:count]:
        first, last = rng.choice(text.FIRST_NAMES), rng.choice(text.LAST_NAMES)
        local = f"{first}.{last}".lower()
        while local in seen:
            local = f"{first}.{last}{rng.randrange(2, 99)}".lower()
        seen.add(local)
        created = as_of - timedelta(days=rng.randrange(100, 900), seconds=rng.randrange(86_400))
        rows.append({
            "id": new_uuid(rng), "org_id": org_id, "email": f"{local}@{domain}", "first_name": first,
            "last_name": last, "password_hash": None, "created": created, "modified": created,
            "roles": [int(r) for r in role_list],
        })
    return rows


def fleet(
    rng: random.Random, org_id: uuid.UUID, count: int, as_of: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Installation keys and the devices enrolled with them, on Windows, Linux and macOS."""
    count = max(count, 6)
    plats = ["windows", "windows", "linux", "linux", "macos", "macos"]
    plats += rng.choices(("windows", "linux", "macos"), weights=(65, 20, 15), k=count - len(plats))
    keys: dict[str, list[dict[str, Any]]] = {}
    for plat, descriptions in text.KEY_DESCRIPTIONS.items():
        for description in rng.sample(descriptions, k=rng.choice((1, 2)) if len(descriptions) > 1 else 1):
            created = as_of - timedelta(days=rng.randrange(400, 700))
            keys.setdefault(plat, []).append({
                "id": new_uuid(rng), "org_id": org_id, "description": description, "agent_seat_count": 0,
                "created": created, "modified": created + timedelta(days=rng.randrange(0, 300)),
            })
    devices = []
    used_hosts: set[str] = set()
    for i, plat in enumerate(plats):
        host, arch, description, is_dc = _host(rng, plat, i)
        while host in used_hosts:
            host = f"{host}-{rng.randrange(10)}"
        used_hosts.add(host)
        key = rng.choice(keys[plat])
        created = as_of - timedelta(days=rng.randrange(1, 380), seconds=rng.randrange(86_400))
        sleeping = plat != "linux" and not is_dc and rng.random() < 0.12
        alive = as_of - (timedelta(hours=rng.randrange(20, 120)) if sleeping else timedelta(seconds=rng.randrange(900)))
        isolated = not is_dc and rng.random() < 0.02
        devices.append({
            "id": new_uuid(rng), "org_id": org_id, "key_id": None if rng.random() < 0.02 else key["id"],
            "hostname": host, "arch": arch, "plat": plat, "description": description,
            "is_domain_controller": is_dc, "is_excluded": is_dc or rng.random() < 0.03,
            "is_isolated": isolated, "is_sleeping": sleeping, "isolation_requested": isolated,
            "alive": max(alive, created), "created": created,
            "modified": created + (as_of - created) * rng.random(),
        })
    all_keys = [k for group in keys.values() for k in group]
    for key in all_keys:
        used = sum(1 for d in devices if d["key_id"] == key["id"])
        key["agent_seat_count"] = max(25, -(-(used + 5) // 25) * 25)
    return all_keys, devices


def _host(rng: random.Random, plat: str, index: int) -> tuple[str, str, str, bool]:
    if plat == "windows":
        if index < 2:
            return f"DC{index + 1:02d}", "x86_64", rng.choice(text.WINDOWS_SERVER_VERSIONS), True
        kind = rng.choice(text.WINDOWS_ROLES)
        if kind == "SRV":
            name = f"SRV-{rng.choice(text.SERVER_ROLES)}-{rng.randrange(1, 9):02d}"
            return name, "x86_64", rng.choice(text.WINDOWS_SERVER_VERSIONS), False
        name = f"{kind}-{rng.choice(text.DEPARTMENTS)}-{rng.randrange(1, 400):04d}"
        return name, "arm64" if rng.random() < 0.05 else "x86_64", rng.choice(text.WINDOWS_VERSIONS), False
    if plat == "linux":
        name = f"{rng.choice(text.LINUX_NAMES)}-{rng.randrange(1, 20):02d}"
        return name, "aarch64" if rng.random() < 0.2 else "x86_64", rng.choice(text.LINUX_VERSIONS), False
    name = f"MBP-{rng.choice(text.FIRST_NAMES)[0]}{rng.choice(text.LAST_NAMES).lower()}"
    return name, "arm64" if rng.random() < 0.8 else "x86_64", rng.choice(text.MACOS_VERSIONS), False


class FindingFactory:
    """Makes one organization's findings in batches, with owners, comments and evidence."""

    def __init__(
        self, rng: random.Random, org_id: uuid.UUID, members: Sequence[Member], hosts: Sequence[str],
        domain: str, as_of: datetime,
    ) -> None:
        if not members:
            raise ValueError("an organization needs users before it gets findings")
        self.rng, self.org_id, self.members, self.as_of = rng, org_id, list(members), as_of
        label = domain.split(".")[0].split("-")[0].upper()[:15] or "CORP"
        self.ctx = OrgContext(
            domain=label, user_names=[m.email for m in members], hosts=list(hosts) or ["WS-IT-0001"],
            subnet=f"10.{rng.randrange(1, 250)}",
        )
        by_role = {role: [m for m in members if role in m.roles] for role in Role}
        everyone = self.members
        self.pools = {
            "responder": by_role[Role.RESPONDER] or everyone,
            "analyst": by_role[Role.ANALYST] or everyone,
            "manager": by_role[Role.MANAGER] or by_role[Role.ADMINISTRATOR] or everyone,
        }
        self.short_ids: set[str] = set()

    def batches(self, count: int, batch_size: int = BATCH) -> Iterator[tuple[int, Batch]]:
        """Yields ``(findings in this batch, rows)``; findings are made oldest first."""
        start = self.as_of - FINDING_WINDOW
        span = FINDING_WINDOW.total_seconds()
        detail_share = min(1.0, DETAIL_BUDGET / count) if count else 1.0
        batch = Batch()
        for j in range(count):
            created = start + timedelta(seconds=span * (j + self.rng.random()) / count)
            detail = j >= count - RECENT_DETAIL or self.rng.random() < detail_share
            self._finding(batch, created, detail)
            if len(batch.findings) >= batch_size:
                yield len(batch.findings), batch
                batch = Batch()
        if batch.findings:
            yield len(batch.findings), batch

    def _short_id(self) -> str:
        while True:
            short = f"{self.rng.getrandbits(32):08x}"
            if short not in self.short_ids:
                self.short_ids.add(short)
                return short

    def _finding(self, batch: Batch, created: datetime, detail: bool) -> None:
        rng, as_of = self.rng, self.as_of
        det = DETECTIONS[rng.choices(range(len(DETECTIONS)), cum_weights=_CUM_WEIGHTS)[0]]
        finding_id = new_uuid(rng)
        age = as_of - created
        resolved = rng.random() < (0.97 if age > timedelta(days=7) else 0.75 if age > timedelta(days=1) else 0.5)

        owners: dict[str, list[Member]] = {}
        for owner_type, share in (("analyst", 0.85), ("responder", 0.6), ("manager", 0.15)):
            if rng.random() < share:
                owners[owner_type] = [rng.choice(self.pools[owner_type])]
        for owner_type, people_ in owners.items():
            for position, person in enumerate(people_):
                batch.owners.append(
                    {"finding_id": finding_id, "owner_type": owner_type, "user_id": person.id, "position": position}
                )
        worker = (owners.get("responder") or owners.get("analyst") or [rng.choice(self.members)])[0]

        row: dict[str, Any] = {
            "id": finding_id, "org_id": self.org_id, "short_id": self._short_id(), "name": det.name,
            "analysis": det.analysis, "priority": rng.choice(det.priorities), "type": det.type,
            "category": det.category, "category_name": det.category_name, "jurisdiction_name": det.jurisdiction,
            "blocked": det.profile == "network" and rng.random() < 0.3, "created": created,
            "matched": created - timedelta(seconds=rng.randrange(5, 900)), "created_by": None,
        }
        facts = subject(rng, det, self.ctx)
        row["summary"] = _summary(det.name, facts)
        if resolved:
            delay = timedelta(minutes=min(rng.expovariate(1 / 600), 60 * 24 * 20))
            closed = min(created + delay + timedelta(minutes=2), as_of)
            resolution = rng.choices(RESOLUTION_IDS, weights=RESOLUTION_WEIGHTS[det.type])[0]
            note = rng.choice(text.RESOLUTION_NOTES[resolution])
            row.update(
                status=STATUS_RESOLVED, resolution=resolution, status_modified=closed, status_modified_by=worker.id,
                resolution_notes=note.format(
                    host=facts.get("device_name", self.ctx.hosts[0]), user=facts.get("user_name", worker.email),
                    ticket=rng.randrange(1000, 9999),
                ),
            )
        else:
            row.update(status=STATUS_OPEN, resolution=None, resolution_notes=None, status_modified=created,
                       status_modified_by=None)
        last_change, last_by = row["status_modified"], row["status_modified_by"]

        if detail:
            n_rows = rng.choice((1, 1, 2, 3, 3, 5, MAX_EVIDENCE_ROWS))
            rows = evidence_rows(rng, det, self.ctx, n_rows, row["matched"], facts)
            for position, data in enumerate(rows):
                batch.evidence.append({"finding_id": finding_id, "position": position, "data": data})
            end = row["status_modified"] if resolved else as_of
            thread = self._thread(rng, finding_id, created, end, worker, resolved, rows[0])
            batch.comments.extend(thread)
            if thread and thread[-1]["created"] > last_change:
                last_change, last_by = thread[-1]["created"], thread[-1]["sender_id"]
        row["modified"] = last_change
        row["modified_by"] = last_by
        batch.findings.append(row)

    def _thread(
        self, rng: random.Random, finding_id: uuid.UUID, start: datetime, end: datetime, worker: Member,
        resolved: bool, evidence: dict[str, Any],
    ) -> list[dict[str, Any]]:
        count = rng.choice((0, 0, 1, 2, 2, 3, 4))
        if count == 0 or end <= start:
            return []
        values = {
            "user": evidence.get("user_name", worker.email), "host": evidence.get("device_name", "the host"),
            "ip": evidence.get("client_ip") or evidence.get("src_ip") or evidence.get("dst_ip") or "the address",
            "ticket": rng.randrange(1000, 9999),
        }
        bodies = [rng.choice(text.OPENING_COMMENTS)]
        bodies += rng.sample(text.FOLLOW_UP_COMMENTS, k=min(count - 1, len(text.FOLLOW_UP_COMMENTS)))
        if resolved and count > 2:
            bodies[-1] = rng.choice(text.CLOSING_COMMENTS)
        times = sorted(start + (end - start) * rng.random() for _ in bodies)
        comments = []
        for i, (body, moment) in enumerate(zip(bodies, times, strict=True)):
            sender = worker if i == 0 else rng.choice(self.members)
            comments.append({
                "id": new_uuid(rng), "finding_id": finding_id, "subject": "", "body": body.format(**values),
                "sender_id": sender.id, "created": moment,
            })
        return comments


def _summary(name: str, evidence: dict[str, Any]) -> str:
    subject = evidence.get("user_name") or evidence.get("device_name") or evidence.get("sensor")
    where = evidence.get("client_ip") or evidence.get("src_ip") or evidence.get("dst_domain")
    parts = [name]
    if subject:
        parts.append(f"involving {subject}")
    if where:
        parts.append(f"from {where}")
    return " ".join(parts)[:512]
