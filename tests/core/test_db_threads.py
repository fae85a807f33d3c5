"""Database work runs on at most ``OPENMIRA_DB_THREADS`` threads at once (core.routing). A request whose
dependency reads before the handler (the MSP account scopes) gives its connection back before it waits for a
thread, so even one thread and a two-connection pool serve a burst of such requests: none is left waiting for
a connection that a request waiting for the thread holds. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openmira.app import create_app
from openmira.db.session import make_engine
from openmira.orgs.models import License
from openmira.orgs.service import create_org
from tests.conftest import make_runtime, make_settings
from tests.findings.factory import make_finding
from tests.helpers import Tenant, make_tenant

BURST = 24


@pytest.fixture
def narrow(database_url: str, db: Session) -> Iterator[tuple[TestClient, Tenant, str]]:
    settings = make_settings(database_url, db_threads=1)
    # A pool this small makes any request that holds a connection while it waits for the thread visible:
    # the others time out on the pool (a 500) instead of being served.
    engine = make_engine(database_url, pool_size=1, max_overflow=1, pool_timeout=3)
    app = create_app(settings, make_runtime(settings, engine))
    try:
        with TestClient(app) as client:
            msp = make_tenant(db, client, "Narrow MSP", msp=True)
            account = create_org(db, "Narrow Account", parent_id=msp.org_id, license=License.ADVANCED)
            make_finding(db, account.id)
            db.commit()
            yield client, msp, str(account.id)
    finally:
        engine.dispose()


def test_a_burst_of_msp_account_requests_on_one_thread_and_a_small_pool_is_served(
    narrow: tuple[TestClient, Tenant, str]
) -> None:
    client, msp, account_id = narrow
    paths = [f"/public-api/v1/msp/accounts/{account_id}/findings", f"/public-api/v1/msp/accounts/{account_id}"]
    headers = {"Authorization": f"Bearer {msp.rw.token}"}
    # The test client runs every request on the app's own event loop (where its lifespan set the one
    # thread), so requests sent from many threads at once are concurrent there.
    with ThreadPoolExecutor(BURST) as pool:
        responses = list(pool.map(lambda i: client.get(paths[i % 2], headers=headers), range(BURST)))
    assert [r.status_code for r in responses] == [200] * BURST, [r.text for r in responses if r.status_code != 200]
    assert all(r.json()["data"] for r in responses)
