"""Crash safety: writes streamed at a real server that is killed with SIGKILL mid-stream.

Every write the server acknowledged must be there after a restart, exactly once, and no write may be
half-applied (a resolved finding has its resolution, its status time and its status author, or none).
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from openmira.credentials.service import create_key_pair
from openmira.findings.models import Finding, FindingComment
from openmira.orgs.service import create_org
from openmira.users.models import Role
from openmira.users.service import create_user
from tests.findings.factory import make_finding
from tests.helpers import API
from tests.live import live_server


def test_acknowledged_writes_survive_sigkill(database_url: str, db: Session, tmp_path: Path) -> None:
    org = create_org(db, "Crash Org")
    user = create_user(db, org.id, f"crash-{uuid.uuid4().hex[:6]}@example.com", roles=[Role.ADMINISTRATOR])
    findings = [make_finding(db, org.id, name=f"crash {i}") for i in range(400)]
    issued = create_key_pair(db, org.id, created_by=user.id)
    db.commit()

    acknowledged_comments: list[str] = []
    acknowledged_resolves: list[uuid.UUID] = []
    stop = threading.Event()

    def stream(url: str, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, timeout=5) as http:
            for i, finding in enumerate(findings):
                if stop.is_set():
                    return
                base = f"{API}/org/findings/{finding.id}"
                try:
                    body = f"<p>comment {i} {uuid.uuid4().hex}</p>"
                    r = http.post(f"{base}/comments", headers=headers, json={"body": body, "sender": str(user.id)})
                    if r.status_code == 201:
                        acknowledged_comments.append(body)
                    r = http.post(f"{base}/resolve", headers=headers, json={"resolution": 20})
                    if r.status_code == 200:
                        acknowledged_resolves.append(finding.id)
                except httpx.HTTPError:
                    return

    with live_server(database_url, tmp_path, OPENMIRA_RATE_LIMIT="100000") as server:
        token = httpx.post(f"{server.url}/oauth/token", json={
            "grant_type": "client_credentials", "client_id": issued.pair.client_id,
            "client_secret": issued.client_secret,
        }).json()["access_token"]
        writer = threading.Thread(target=stream, args=(server.url, token))
        writer.start()
        deadline = time.monotonic() + 30
        while len(acknowledged_resolves) < 20 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
        stop.set()
        writer.join()
    assert 20 <= len(acknowledged_resolves) < len(findings), "the kill must land mid-stream"
    print(f"crash safety: {len(acknowledged_comments)} comments and {len(acknowledged_resolves)} resolutions "
          "acknowledged before SIGKILL")

    with live_server(database_url, tmp_path) as restarted:
        assert httpx.get(f"{restarted.url}{API}/health").status_code == 200
    db.expire_all()
    stored = db.scalars(select(FindingComment.body)).all()
    for body in acknowledged_comments:
        assert stored.count(body) == 1, body
    by_id = {f.id: f for f in db.scalars(select(Finding).where(Finding.org_id == org.id))}
    for finding_id in acknowledged_resolves:
        assert by_id[finding_id].status == 40 and by_id[finding_id].resolution == 20
    for finding in by_id.values():
        resolved = finding.status == 40
        assert (finding.resolution is not None) == resolved, finding.id
        assert (finding.status_modified is not None) == resolved, finding.id
        assert (finding.status_modified_by == user.id) == resolved, finding.id
