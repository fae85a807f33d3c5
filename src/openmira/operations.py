"""Blumira's operationId of each operation, by method and path template.

``_LISTING`` is the contract's ``real-operations.tsv`` (generated from Blumira's own OpenAPI document)
with its tabs as spaces, so a client generated from this server's document has the same method names
as one generated from Blumira's. ``api.py`` documents every route under its entry here; a test compares
the served document with the listing, row by row.
"""

from __future__ import annotations

from fastapi.routing import APIRoute

_LISTING = """
GET /health api.controller.health.search
GET /resolutions api.controller.resolutions.get_resolutions
GET /org/findings api.controller.direct_org.get_by_org
GET /org/findings/{finding_id} api.controller.direct_org.get
GET /org/findings/{finding_id}/details api.controller.direct_org.get_details
GET /org/findings/{finding_id}/comments api.controller.direct_org.get_comments
POST /org/findings/{finding_id}/comments api.controller.direct_org.add_comment
POST /org/findings/{finding_id}/resolve api.controller.direct_org.resolve_finding
POST /org/findings/{finding_id}/assign api.controller.direct_org.set_owners
GET /org/findings/{finding_id}/evidence api.controller.direct_org.get_evidence
GET /org/agents/devices api.controller.direct_org.get_agents_devices
GET /org/agents/devices/{device_id} api.controller.direct_org.get_agents_device
POST /org/agents/devices/{device_id}/actions api.controller.direct_org.dispatch_action_endpoint
GET /org/agents/actions api.controller.direct_org.get_action_catalog
GET /org/agents/actions/{command_id} api.controller.direct_org.get_action_status
GET /org/agents/keys api.controller.direct_org.get_agents_keys
GET /org/agents/keys/{key_id} api.controller.direct_org.get_agents_key
GET /org/detection-rules api.controller.direct_org.get_detection_rules_by_org
GET /org/detection-rules/{rule_id} api.controller.direct_org.get_detection_rule
GET /org/users api.controller.direct_org.list_users
GET /org/webhooks api.controller.webhooks_resource.get_endpoints
POST /org/webhooks api.controller.webhooks_resource.create_endpoint
GET /org/webhooks/{id} api.controller.webhooks_resource.get_endpoint
PUT /org/webhooks/{id} api.controller.webhooks_resource.update_endpoint
DELETE /org/webhooks/{id} api.controller.webhooks_resource.delete_endpoint
GET /org/webhooks/{id}/deliveries api.controller.webhooks_resource.get_deliveries
GET /org/webhooks/{id}/deliveries/{delivery_id} api.controller.webhooks_resource.get_delivery
POST /org/webhooks/{id}/rotate-secret api.controller.webhooks_resource.rotate_secret
POST /org/webhooks/{id}/test api.controller.webhooks_resource.test_endpoint
GET /msp/accounts api.controller.msp.get_accounts
GET /msp/accounts/findings api.controller.msp.get_accounts_findings
GET /msp/accounts/{account_id} api.controller.msp.get
GET /msp/accounts/{account_id}/agents/actions/{command_id} api.controller.msp.get_account_agent_action
GET /msp/accounts/{account_id}/agents/devices api.controller.msp.get_account_agents_devices
GET /msp/accounts/{account_id}/agents/devices/{device_id} api.controller.msp.get_agents_device
POST /msp/accounts/{account_id}/agents/devices/{device_id}/actions api.controller.msp.dispatch_account_agent_action
GET /msp/accounts/{account_id}/agents/keys api.controller.msp.get_account_agents_keys
GET /msp/accounts/{account_id}/agents/keys/{key_id} api.controller.msp.get_agents_key
GET /msp/accounts/{account_id}/detection-rules api.controller.msp.get_detection_rules_by_account
GET /msp/accounts/{account_id}/detection-rules/{rule_id} api.controller.msp.get_detection_rule_by_account
GET /msp/accounts/{account_id}/findings api.controller.msp.get_account_findings
GET /msp/accounts/{account_id}/findings/{finding_id} api.controller.msp.get_account_finding
POST /msp/accounts/{account_id}/findings/{finding_id}/assign api.controller.msp.set_finding_owners
GET /msp/accounts/{account_id}/findings/{finding_id}/comments api.controller.msp.get_account_finding_comments
POST /msp/accounts/{account_id}/findings/{finding_id}/comments api.controller.msp.add_account_finding_comment
GET /msp/accounts/{account_id}/findings/{finding_id}/evidence api.controller.msp.get_account_finding_evidence
POST /msp/accounts/{account_id}/findings/{finding_id}/resolve api.controller.msp.resolve_finding
GET /msp/accounts/{account_id}/users api.controller.msp.list_users
GET /msp/basis-detection-rules api.controller.msp.get_msp_detection_rules
GET /msp/basis-detection-rules/{rule_id} api.controller.msp.get_msp_detection_rule
GET /msp/webhooks api.controller.webhooks_resource.get_endpoints_msp
POST /msp/webhooks api.controller.webhooks_resource.create_endpoint_msp
GET /msp/webhooks/{id} api.controller.webhooks_resource.get_endpoint_msp
PUT /msp/webhooks/{id} api.controller.webhooks_resource.update_endpoint_msp
DELETE /msp/webhooks/{id} api.controller.webhooks_resource.delete_endpoint_msp
GET /msp/webhooks/{id}/deliveries api.controller.webhooks_resource.get_deliveries_msp
GET /msp/webhooks/{id}/deliveries/{delivery_id} api.controller.webhooks_resource.get_delivery_msp
POST /msp/webhooks/{id}/rotate-secret api.controller.webhooks_resource.rotate_secret_msp
POST /msp/webhooks/{id}/test api.controller.webhooks_resource.test_endpoint_msp
"""

OPERATION_IDS: dict[tuple[str, str], str] = {
    (method, path): operation for method, path, operation in (line.split() for line in _LISTING.strip().splitlines())
}


def operation_id(route: APIRoute) -> str:
    """The route's Blumira operationId, looked up by its method and its path inside the API.

    FastAPI also asks when a route is declared on its resource router, whose path is only the end of the
    full one; only the answer for the route ``api.py`` registers with its full path is documented. A path
    not in the table gets the handler's name, as would a route Blumira does not have.
    """
    (method,) = route.methods
    return OPERATION_IDS.get((method, route.path_format), route.name)
