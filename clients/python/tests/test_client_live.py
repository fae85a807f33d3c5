"""The client against a live OpenMira (the server's pytest plugin starts it): every resource family, sync and
async, errors, pagers and filters as a user would check them."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import pytest

from openmira_client import AsyncClient, BadRequest, Client, Forbidden, NotFound, TokenError

pytest.importorskip("openmira.testing", reason="the live tests need the OpenMira server package")


@pytest.fixture(scope="module")
def world(openmira_server: Any) -> dict[str, Any]:
    openmira_server.reset()
    return {
        "org": openmira_server.create_org("Client Live Org", findings=120, users=5),
        "msp": openmira_server.create_msp("Client Live MSP", accounts=2, free_accounts=1, findings=15),
    }


@pytest.fixture(scope="module")
def org_client(openmira_server: Any, world: dict[str, Any]) -> Any:
    with openmira_server.client(world["org"].rw) as client:
        yield client


def test_meta_and_users(org_client: Client, world: dict[str, Any]) -> None:
    assert org_client.health().api_name
    assert [r.id for r in org_client.resolutions().data] == [10, 20, 30, 40]
    emails = sorted(u.email for u in org_client.org.users.iter(page_size=2))
    assert emails == sorted(u.email for u in world["org"].users)


def test_iter_walks_every_page_and_matches_a_client_side_filter(org_client: Client) -> None:
    everything = list(org_client.org.findings.iter(page_size=200))
    assert len(everything) == 120 and len({f.finding_id for f in everything}) == 120
    expected = {f.finding_id for f in everything if f.status == 10 and f.priority in (1, 2)}
    walked = list(org_client.org.findings.iter(status=10, priority__in=[1, 2], order_by="created;desc", page_size=7))
    assert {f.finding_id for f in walked} == expected and len(walked) == len(expected)
    assert [f.created for f in walked] == sorted((f.created for f in walked), reverse=True)
    cutoff = sorted(f.created for f in everything)[60]
    newer = org_client.org.findings.list(created__gt=cutoff, status__not_eq=40, limit=5000)
    assert {f.finding_id for f in newer.data} == {
        f.finding_id for f in everything if f.created > cutoff and f.status != 40
    }
    assert newer.meta.total_items == len(newer.data)


def test_finding_details_comments_evidence_and_writes(org_client: Client, world: dict[str, Any]) -> None:
    finding = org_client.org.findings.list(page_size=1, status=10).data[0]
    details = org_client.org.findings.details(finding.finding_id)
    assert details.finding_id == finding.finding_id and details.url
    evidence = org_client.org.findings.evidence(finding.finding_id)
    assert all(set(row) <= set(evidence.evidence_keys) for row in evidence.data)
    user = world["org"].users[0]
    comment = org_client.org.findings.comments.create(finding.finding_id, body="<p>from the client</p>", sender=user.id)
    assert comment.sender is not None and comment.sender.id == user.id
    bodies = [c.body for c in org_client.org.findings.comments.iter(finding.finding_id)]
    assert "<p>from the client</p>" in bodies
    assigned = org_client.org.findings.assign(finding.finding_id, owner_type="responder", owners=[user.id])
    assert [p.id for p in assigned.owners.responders] == [user.id]
    resolved = org_client.org.findings.resolve(finding.finding_id, resolution=20, resolution_notes="benign")
    assert (resolved.status, resolved.resolution, resolved.resolution_notes) == (40, 20, "benign")


def test_agents_rules_and_webhooks(org_client: Client) -> None:
    devices = list(org_client.org.devices.iter())
    assert devices and org_client.org.devices.get(devices[0].device_id).hostname == devices[0].hostname
    keys = org_client.org.keys.list()
    assert org_client.org.keys.get(keys.data[0].key_id).key_id == keys.data[0].key_id
    assert {a.name for a in org_client.org.actions.catalog().actions} >= {"isolate", "release", "restart"}
    target = next(d for d in devices if not d.is_excluded and not d.is_isolated)
    command = org_client.org.devices.dispatch(target.device_id, action="restart", reason="patch")
    assert org_client.org.actions.get(command.command_id).device_id == target.device_id
    rules = org_client.org.detection_rules.list(page_size=5)
    assert org_client.org.detection_rules.get(rules.data[0].id).name == rules.data[0].name
    hook = org_client.org.webhooks.create(url="http://127.0.0.1:9/hook", events=["ping"], enabled=False)
    assert hook.secret
    assert org_client.org.webhooks.update(hook.id, url=hook.url, events=["ping"], description="d").description == "d"
    assert org_client.org.webhooks.rotate_secret(hook.id).secret != hook.secret
    assert org_client.org.webhooks.deliveries.list(hook.id).meta.total_items == 0
    org_client.org.webhooks.delete(hook.id)
    with pytest.raises(NotFound):
        org_client.org.webhooks.get(hook.id)


def test_errors_carry_the_problem_document(openmira_server: Any, org_client: Client, world: dict[str, Any]) -> None:
    with pytest.raises(NotFound) as missing:
        org_client.org.findings.get("00000000-0000-4000-8000-000000000000")
    assert missing.value.problem["status"] == 404 and missing.value.detail
    with pytest.raises(BadRequest) as bad:
        org_client.org.findings.list(order_by="nonsense")
    assert bad.value.invalid_params or "order_by" in (bad.value.detail or "")
    with openmira_server.client(world["org"].ro) as read_only:
        finding = read_only.org.findings.list(page_size=1).data[0]
        with pytest.raises(Forbidden):
            read_only.org.findings.resolve(finding.finding_id, resolution=10)
        with pytest.raises(Forbidden):
            read_only.msp.accounts.list()
    bad_secret = type(world["org"].rw)(world["org"].rw.client_id, "wrong", "rw", world["org"].id)
    with openmira_server.client(bad_secret) as refused, pytest.raises(TokenError) as token:
        refused.org.users.list()
    assert token.value.error == "invalid_client"


def test_msp_scopes(openmira_server: Any, world: dict[str, Any]) -> None:
    msp = world["msp"]
    with openmira_server.client(msp.rw) as client:
        accounts = list(client.msp.accounts.iter())
        assert sorted(a.account_id for a in accounts) == sorted(a.id for a in msp.accounts)
        licensed = [a for a in msp.accounts if a.license != "FREE"]
        assert client.msp.findings.list().meta.total_items == 15 * len(licensed)
        account = client.msp.account(licensed[0].id)
        assert client.msp.accounts.get(licensed[0].id).license == "ADVANCED"
        assert account.findings.list().meta.total_items == 15
        first = account.findings.list(page_size=1).data[0]
        assert account.findings.get(first.finding_id).org_id == licensed[0].id
        assert len(list(account.users.iter())) == len(licensed[0].users)
        assert client.msp.basis_rules.list().meta.total_items > 0
        with pytest.raises(NotFound):
            client.msp.account(world["org"].id).findings.list()


def test_async_client(openmira_server: Any, world: dict[str, Any]) -> None:
    async def main() -> tuple[int, int]:
        pair = world["org"].ro
        async with AsyncClient(pair.client_id, pair.client_secret, base_url=openmira_server.base_url,
                               token_url=openmira_server.token_url) as client:
            pages = await client.org.findings.list(page_size=50)
            walked = [f async for f in client.org.findings.iter(page_size=50)]
            return pages.meta.total_items, len(walked)

    assert asyncio.run(main()) == (120, 120)


def test_timestamps_are_aware_datetimes(org_client: Client) -> None:
    finding = org_client.org.findings.list(page_size=1).data[0]
    assert finding.created.tzinfo is not None and finding.created <= datetime.datetime.now(datetime.UTC)
