"""Agent actions: the catalog, dispatch, and the simulated fleet moving commands along (contract §6, §7).

The module's server takes 60 s per step and does not sweep, so a command stays where a test puts it;
tests move it with ``advance_device`` at chosen instants (no sleeps, no timing assertions).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from openmira.agents.commands import advance_device, complete_command
from openmira.agents.models import AgentCommand, AgentDevice
from openmira.agents.worker import sweep
from openmira.app import create_app
from openmira.config import Settings
from openmira.db.base import utcnow
from openmira.db.session import make_session_factory
from openmira.orgs.models import Organization
from openmira.orgs.service import create_org
from tests.conftest import make_runtime, make_settings
from tests.helpers import API, Tenant, assert_problem, make_tenant

DELAY = 60
ORG = f"{API}/org/agents"
RECORD_FIELDS = {"command_id", "device_id", "action", "status", "reason", "requested_by", "created", "modified"}


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, agent_command_delay=DELAY, agent_command_interval=0)


def _device(db: Session, org_id: uuid.UUID, **flags: Any) -> AgentDevice:
    device = AgentDevice(org_id=org_id, hostname=f"WS-{uuid.uuid4().hex[:6]}", plat="windows", **flags)
    db.add(device)
    db.commit()
    return device


@pytest.fixture
def device(db: Session, tenant: Tenant) -> AgentDevice:
    return _device(db, tenant.org_id)


def _dispatch(
    client: TestClient, headers: dict[str, str], device_id: object, body: Any, base: str = ORG
) -> Any:
    return client.post(f"{base}/devices/{device_id}/actions", headers=headers, json=body)


def _state(db: Session, device_id: uuid.UUID) -> tuple[bool, bool]:
    db.expire_all()
    device = db.get(AgentDevice, device_id)
    assert device is not None
    return device.isolation_requested, device.is_isolated


def _advance(db: Session, device_id: uuid.UUID, steps: int) -> int:
    """Advance the device's commands as a sweep would ``steps`` delays from now, in its own transaction."""
    finished = advance_device(db, device_id, utcnow() + timedelta(seconds=(DELAY + 1) * steps), DELAY)
    db.commit()
    return finished


def _finish(db: Session, device_id: uuid.UUID) -> int:
    """Two sweeps a delay apart: a queued command is sent, then completed."""
    return _advance(db, device_id, 1) + _advance(db, device_id, 2)


def _status(client: TestClient, headers: dict[str, str], command_id: str, base: str = ORG) -> str:
    response = client.get(f"{base}/actions/{command_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]["status"]


def _commands(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(AgentCommand)) or 0


def test_catalog(client: TestClient, tenant: Tenant) -> None:
    response = client.get(f"{ORG}/actions", headers=tenant.ro.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"status", "data"} and body["status"] == "OK"
    actions = {a["name"]: a for a in body["data"]["actions"]}
    assert {"isolate", "release", "restart"} <= set(actions)
    for action in actions.values():
        assert set(action) == {"name", "description", "params"} and action["description"]
        assert action["params"]["type"] == "object" and action["params"]["additionalProperties"] is False
    assert set(actions["restart"]["params"]["properties"]) == {"delay_seconds", "force"}
    assert actions["isolate"]["params"].get("properties", {}) == {}


def test_isolate_then_release_progress_and_change_the_device(
    client: TestClient, db: Session, tenant: Tenant, device: AgentDevice
) -> None:
    response = _dispatch(client, tenant.rw.headers, device.id, {"action": "isolate", "reason": "ransomware"})
    assert response.status_code == 202, response.text
    record = response.json()["data"]
    assert set(record) == RECORD_FIELDS
    assert record["status"] == "queued" and record["action"] == "isolate" and record["reason"] == "ransomware"
    assert record["device_id"] == str(device.id)
    assert record["requested_by"]["id"] == str(tenant.admin_id)  # the key pair's creator
    assert _state(db, device.id) == (True, False)  # requested at once, isolated only when done

    assert _advance(db, device.id, 1) == 0
    assert _status(client, tenant.ro.headers, record["command_id"]) == "sent"
    assert _state(db, device.id) == (True, False)
    assert _advance(db, device.id, 2) == 1
    done = client.get(f"{ORG}/actions/{record['command_id']}", headers=tenant.ro.headers).json()["data"]
    assert done["status"] == "completed" and done["modified"] > record["modified"]
    assert done["created"] == record["created"] and done["requested_by"] == record["requested_by"]
    assert _state(db, device.id) == (True, True)
    shown = client.get(f"{ORG}/devices/{device.id}", headers=tenant.ro.headers).json()["data"]
    assert shown["is_isolated"] is True and shown["isolation_requested"] is True

    release = _dispatch(client, tenant.rw.headers, device.id, {"action": "release"}).json()["data"]
    assert release["reason"] is None and _state(db, device.id) == (True, True)
    assert _finish(db, device.id) == 1
    assert _status(client, tenant.ro.headers, release["command_id"]) == "completed"
    assert _state(db, device.id) == (False, False)


def test_restart_completes_without_changing_flags(
    client: TestClient, db: Session, tenant: Tenant, device: AgentDevice
) -> None:
    before = client.get(f"{ORG}/devices/{device.id}", headers=tenant.ro.headers).json()["data"]
    body = {"action": "restart", "params": {"delay_seconds": 30, "force": True}}
    command = _dispatch(client, tenant.rw.headers, device.id, body).json()["data"]
    assert _finish(db, device.id) == 1
    assert _status(client, tenant.rw.headers, command["command_id"]) == "completed"
    assert client.get(f"{ORG}/devices/{device.id}", headers=tenant.ro.headers).json()["data"] == before
    assert db.get(AgentCommand, uuid.UUID(command["command_id"])).params == {"delay_seconds": 30, "force": True}  # type: ignore[union-attr]


def test_repeated_isolate_and_release_are_idempotent(
    client: TestClient, db: Session, tenant: Tenant
) -> None:
    isolated = _device(db, tenant.org_id, is_isolated=True, isolation_requested=True)
    free = _device(db, tenant.org_id)
    again = _dispatch(client, tenant.rw.headers, isolated.id, {"action": "isolate"})
    release = _dispatch(client, tenant.rw.headers, free.id, {"action": "release"})
    assert again.status_code == release.status_code == 202
    _finish(db, isolated.id)
    _finish(db, free.id)
    assert _status(client, tenant.rw.headers, again.json()["data"]["command_id"]) == "completed"
    assert _status(client, tenant.rw.headers, release.json()["data"]["command_id"]) == "completed"
    assert _state(db, isolated.id) == (True, True)
    assert _state(db, free.id) == (False, False)


def test_excluded_device_refuses_isolation_and_nothing_changes(
    client: TestClient, db: Session, tenant: Tenant
) -> None:
    excluded = _device(db, tenant.org_id, is_excluded=True, is_domain_controller=True)
    before = client.get(f"{ORG}/devices/{excluded.id}", headers=tenant.ro.headers).json()["data"]
    body = assert_problem(_dispatch(client, tenant.rw.headers, excluded.id, {"action": "isolate"}), 409)
    assert "excluded" in body["detail"]
    assert _commands(db) == 0
    assert client.get(f"{ORG}/devices/{excluded.id}", headers=tenant.ro.headers).json()["data"] == before
    # Other actions are not refused: an excluded device can still be restarted or released.
    for action in ("restart", "release"):
        assert _dispatch(client, tenant.rw.headers, excluded.id, {"action": action}).status_code == 202


def test_device_excluded_after_dispatch_fails_the_isolation(
    client: TestClient, db: Session, tenant: Tenant, device: AgentDevice
) -> None:
    command = _dispatch(client, tenant.rw.headers, device.id, {"action": "isolate"}).json()["data"]
    db.expire_all()
    db.get(AgentDevice, device.id).is_excluded = True  # type: ignore[union-attr]
    db.commit()
    assert _finish(db, device.id) == 1
    assert _status(client, tenant.rw.headers, command["command_id"]) == "failed"
    assert _state(db, device.id) == (False, False)


def test_read_only_key_is_refused_and_nothing_changes(
    client: TestClient, db: Session, tenant: Tenant, device: AgentDevice
) -> None:
    for body in ({"action": "isolate"}, {"action": "restart"}, {"action": "nope"}):
        assert_problem(_dispatch(client, tenant.ro.headers, device.id, body), 403)
    assert _commands(db) == 0 and _state(db, device.id) == (False, False)


def test_other_organizations_ids_are_404(
    client: TestClient, db: Session, tenant: Tenant, other_tenant: Tenant, device: AgentDevice
) -> None:
    theirs = _device(db, other_tenant.org_id)
    command = _dispatch(client, other_tenant.rw.headers, theirs.id, {"action": "restart"}).json()["data"]
    assert_problem(_dispatch(client, tenant.rw.headers, theirs.id, {"action": "isolate"}), 404)
    assert_problem(client.get(f"{ORG}/actions/{command['command_id']}", headers=tenant.rw.headers), 404)
    assert_problem(_dispatch(client, tenant.rw.headers, uuid.uuid4(), {"action": "restart"}), 404)
    assert_problem(client.get(f"{ORG}/actions/{uuid.uuid4()}", headers=tenant.rw.headers), 404)
    assert _state(db, theirs.id) == (False, False) and _commands(db) == 1


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"action": "nuke"}, "action"),
        ({"action": 5}, "action"),
        ({"reason": "no action"}, "action"),
        ({"action": "restart", "reason": 3}, "reason"),
        ({"action": "restart", "reason": "x" * 1001}, "reason"),
        ({"action": "restart", "reason": "a\x00b"}, "reason"),
        ({"action": "restart", "params": {"delay_seconds": "30"}}, "params.delay_seconds"),
        ({"action": "restart", "params": {"delay_seconds": 3601}}, "params.delay_seconds"),
        ({"action": "restart", "params": {"force": "yes"}}, "params.force"),
        ({"action": "isolate", "params": {"delay_seconds": 5}}, "params.delay_seconds"),
        ({"action": "isolate", "params": []}, "params"),
        ({"action": "release", "extra": 1}, "extra"),
        ([], "body"),
        ("isolate", "body"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(
    client: TestClient, db: Session, tenant: Tenant, device: AgentDevice, body: Any, param: str
) -> None:
    response = _dispatch(client, tenant.rw.headers, device.id, body)
    problem = assert_problem(response, 400)
    assert param in [p["name"] for p in problem["invalid_params"]], problem
    assert _commands(db) == 0 and _state(db, device.id) == (False, False)


def test_bad_ids_and_missing_body_are_400(client: TestClient, tenant: Tenant, device: AgentDevice) -> None:
    assert_problem(_dispatch(client, tenant.rw.headers, "not-a-uuid", {"action": "restart"}), 400, "device_id")
    assert_problem(client.get(f"{ORG}/actions/1234", headers=tenant.rw.headers), 400, "command_id")
    assert_problem(client.post(f"{ORG}/devices/{device.id}/actions", headers=tenant.rw.headers), 400, "body")


def test_sleeping_device_keeps_commands_sent_until_it_wakes_then_runs_them_in_order(
    client: TestClient, db: Session, tenant: Tenant
) -> None:
    asleep = _device(db, tenant.org_id, is_sleeping=True)
    isolate = _dispatch(client, tenant.rw.headers, asleep.id, {"action": "isolate"}).json()["data"]
    release = _dispatch(client, tenant.rw.headers, asleep.id, {"action": "release"}).json()["data"]
    assert _advance(db, asleep.id, 5) == 0
    assert [_status(client, tenant.rw.headers, c["command_id"]) for c in (isolate, release)] == ["sent", "sent"]
    assert _state(db, asleep.id) == (True, False)
    db.get(AgentDevice, asleep.id).is_sleeping = False  # type: ignore[union-attr]
    db.commit()
    assert _advance(db, asleep.id, 6) == 2
    assert [_status(client, tenant.rw.headers, c["command_id"]) for c in (isolate, release)] == ["completed"] * 2
    assert _state(db, asleep.id) == (False, False)  # the release came last


def test_a_command_is_completed_once_whoever_advances_it(
    client: TestClient, db: Session, engine: Engine, tenant: Tenant, device: AgentDevice
) -> None:
    dispatched = _dispatch(client, tenant.rw.headers, device.id, {"action": "isolate"})
    command_id = uuid.UUID(dispatched.json()["data"]["command_id"])
    _advance(db, device.id, 1)
    sessions = make_session_factory(engine)
    # Two processes both saw the command at "sent"; only the first to finish it applies the effect.
    with sessions() as first, sessions() as second:
        mine, stale = first.get(AgentCommand, command_id), second.get(AgentCommand, command_id)
        assert mine is not None and stale is not None and mine.status == stale.status == "sent"
        now = utcnow() + timedelta(seconds=3 * DELAY)
        assert complete_command(first, mine, now) is True
        first.commit()
        assert complete_command(second, stale, now + timedelta(seconds=1)) is False
        second.commit()
    db.expire_all()
    finished = db.get(AgentCommand, command_id)
    assert finished is not None and finished.status == "completed" and finished.modified == now
    assert db.get(AgentDevice, device.id).modified == now  # type: ignore[union-attr]


def test_concurrent_sweeps_do_not_double_apply(
    client: TestClient, db: Session, engine: Engine, tenant: Tenant
) -> None:
    devices = [_device(db, tenant.org_id) for _ in range(4)]
    for d in devices:
        for action in ("isolate", "restart", "release"):
            assert _dispatch(client, tenant.rw.headers, d.id, {"action": action}).status_code == 202
    sessions = make_session_factory(engine)
    results: list[int] = []
    start = threading.Barrier(3)

    def run() -> None:
        start.wait()
        results.append(sweep(sessions, 0))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 12  # every command finished exactly once across the three sweeps
    db.expire_all()
    assert set(db.scalars(select(AgentCommand.status))) == {"completed"}
    assert all(_state(db, d.id) == (False, False) for d in devices)


@pytest.fixture
def instant_client(engine: Engine, database_url: str, db: Session) -> Iterator[TestClient]:
    """A server whose simulated agents answer at once (zero delay), without a background sweep."""
    runtime = make_runtime(make_settings(database_url, agent_command_delay=0, agent_command_interval=0), engine)
    with TestClient(create_app(runtime.settings, runtime)) as c:
        yield c


def test_reads_advance_what_they_show(
    instant_client: TestClient, db: Session, tenant: Tenant, device: AgentDevice
) -> None:
    client = instant_client
    command = _dispatch(client, tenant.rw.headers, device.id, {"action": "isolate"}).json()["data"]
    assert command["status"] == "queued"
    shown = client.get(f"{ORG}/devices/{device.id}", headers=tenant.ro.headers).json()["data"]
    assert shown["is_isolated"] is True
    assert _status(client, tenant.ro.headers, command["command_id"]) == "completed"


def test_background_sweeper_finishes_commands_and_stops_cleanly(
    engine: Engine, database_url: str, db: Session, tenant: Tenant, device: AgentDevice
) -> None:
    """The lifespan's sweeper runs against the database and stops with the app."""
    fast = make_runtime(make_settings(database_url, agent_command_delay=0, agent_command_interval=0.01), engine)
    with TestClient(create_app(fast.settings, fast)) as client:
        command = _dispatch(client, tenant.rw.headers, device.id, {"action": "restart"}).json()["data"]
        for _ in range(500):  # bounded wait for the sweeper's thread; no timing is asserted
            db.expire_all()
            if db.get(AgentCommand, uuid.UUID(command["command_id"])).status == "completed":  # type: ignore[union-attr]
                break
            threading.Event().wait(0.01)
        else:
            pytest.fail("the sweeper did not finish the command")


@pytest.fixture
def msp_world(db: Session, client: TestClient) -> Iterator[dict[str, Any]]:
    msp = make_tenant(db, client, "MSP", msp=True)
    subs = [create_org(db, name, parent_id=msp.org_id) for name in ("Sub One", "Sub Two")]
    db.commit()
    yield {"msp": msp, "subs": subs, "devices": [_device(db, s.id) for s in subs]}
    db.rollback()
    db.execute(delete(AgentCommand))
    db.execute(delete(AgentDevice))
    db.execute(delete(Organization).where(Organization.id.in_([s.id for s in subs])))
    db.commit()


def test_msp_dispatches_and_reads_per_account(
    client: TestClient, db: Session, tenant: Tenant, msp_world: dict[str, Any]
) -> None:
    msp, (one, two), (device_one, device_two) = msp_world["msp"], msp_world["subs"], msp_world["devices"]
    base_one, base_two = f"{API}/msp/accounts/{one.id}/agents", f"{API}/msp/accounts/{two.id}/agents"
    response = _dispatch(client, msp.rw.headers, device_one.id, {"action": "isolate"}, base_one)
    assert response.status_code == 202, response.text
    command = response.json()["data"]
    assert command["requested_by"]["id"] == str(msp.admin_id)  # the MSP key pair's creator
    assert _state(db, device_one.id) == (True, False)
    _finish(db, device_one.id)
    assert _status(client, msp.ro.headers, command["command_id"], base_one) == "completed"
    assert _state(db, device_one.id) == (True, True)
    # A sibling sub-account's device and command are not found through this account, nor the org's.
    assert_problem(_dispatch(client, msp.rw.headers, device_two.id, {"action": "restart"}, base_one), 404)
    assert_problem(client.get(f"{base_two}/actions/{command['command_id']}", headers=msp.rw.headers), 404)
    assert_problem(client.get(f"{ORG}/actions/{command['command_id']}", headers=tenant.rw.headers), 404)
    # Read-only MSP keys cannot dispatch; organization keys cannot use MSP paths; no MSP catalog.
    assert_problem(_dispatch(client, msp.ro.headers, device_one.id, {"action": "restart"}, base_one), 403)
    assert_problem(_dispatch(client, tenant.rw.headers, device_one.id, {"action": "restart"}, base_one), 403)
    assert client.get(f"{base_one}/actions", headers=msp.rw.headers).status_code in (404, 405)
    assert _state(db, device_two.id) == (False, False) and _commands(db) == 1


def test_a_finished_command_queues_one_agent_action_completed_delivery(
    client: TestClient, db: Session, tenant: Tenant, device: AgentDevice
) -> None:
    from openmira.webhooks.events import stored_body
    from openmira.webhooks.models import WebhookDelivery
    from tests.webhooks.conftest import create_webhook

    hook = create_webhook(client, tenant.rw, "https://hooks.example.com/a", events=["agent.action_completed"])
    command = _dispatch(client, tenant.rw.headers, device.id, {"action": "isolate", "reason": "contain"}).json()["data"]
    assert db.scalar(select(func.count()).select_from(WebhookDelivery)) == 0  # dispatch is not completion
    assert _finish(db, device.id) == 1
    assert _finish(db, device.id) == 0  # nothing left: no second event
    db.expire_all()
    deliveries = list(db.scalars(select(WebhookDelivery)))
    assert [(str(d.endpoint_id), d.event) for d in deliveries] == [(hook["id"], "agent.action_completed")]
    sent = stored_body(db, deliveries[0])["data"]["command"]
    assert (sent["command_id"], sent["status"], sent["action"]) == (command["command_id"], "completed", "isolate")
    assert sent["requested_by"] == command["requested_by"]
