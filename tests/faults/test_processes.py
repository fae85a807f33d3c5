"""Faults across server processes, on SQLite and PostgreSQL: every process applies a fault set in the database,
and "the next N requests" means N in all, whichever process answers them."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from sqlalchemy.orm import Session

from openmira.credentials.service import create_key_pair
from openmira.faults.service import FaultSpec, clear_faults, set_fault
from openmira.orgs.service import create_org
from tests.helpers import API
from tests.live import live_server


def _pair(db: Session) -> tuple[str, str]:
    org = create_org(db, "Fault Processes")
    issued = create_key_pair(db, org.id)
    db.commit()
    return issued.pair.client_id, issued.client_secret


def _token(url: str, client_id: str, secret: str) -> str:
    response = httpx.post(f"{url}/oauth/token", json={"grant_type": "client_credentials", "client_id": client_id,
                                                      "client_secret": secret, "audience": "public-api"})
    return str(response.json()["access_token"])


def test_a_counted_fault_is_shared_by_every_process(database_url: str, db: Session, tmp_path: Path) -> None:
    client_id, secret = _pair(db)
    env = {"OPENMIRA_FAULT_CHECK_INTERVAL": "0", "OPENMIRA_RATE_LIMIT": "1000"}
    with live_server(database_url, tmp_path, **env) as a, live_server(database_url, tmp_path, **env) as b:
        headers = {"Authorization": f"Bearer {_token(a.url, client_id, secret)}"}
        set_fault(db, FaultSpec(client_id=client_id, status=503, count=3))
        db.commit()
        with a.client() as ca, b.client() as cb:
            codes = [(ca if i % 2 else cb).get(f"{API}/org/users", headers=headers).status_code for i in range(10)]
    assert sorted(codes) == [200] * 7 + [503] * 3 and codes[:3] == [503] * 3


def test_a_fault_reaches_processes_that_check_once_a_second(database_url: str, db: Session, tmp_path: Path) -> None:
    client_id, secret = _pair(db)
    with live_server(database_url, tmp_path) as a, live_server(database_url, tmp_path) as b:
        headers = {"Authorization": f"Bearer {_token(a.url, client_id, secret)}"}
        with a.client() as ca, b.client() as cb:
            assert [c.get(f"{API}/org/users", headers=headers).status_code for c in (ca, cb)] == [200, 200]
            set_fault(db, FaultSpec(client_id=client_id, status=500))
            db.commit()
            for http in (ca, cb):
                deadline = time.monotonic() + 15  # about a second is expected; a loaded machine gets slack
                while (answer := http.get(f"{API}/org/users", headers=headers)).status_code != 500:
                    assert time.monotonic() < deadline, "the fault never reached this process"
                    time.sleep(0.1)
                assert answer.headers["x-openmira-fault"].startswith("status=500")
            clear_faults(db)
            db.commit()
            for http in (ca, cb):
                deadline = time.monotonic() + 15
                while http.get(f"{API}/org/users", headers=headers).status_code != 200:
                    assert time.monotonic() < deadline, "the cleared fault stayed"
                    time.sleep(0.1)
