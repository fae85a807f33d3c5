"""The OpenAPI document and the offline Swagger UI."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from urllib.parse import urljoin

from fastapi.testclient import TestClient

from tests.helpers import API, Tenant

PUBLIC_PATHS = {"/health"}
# The contract's real-operations.tsv as it is, generated from Blumira's own OpenAPI document.
REAL_OPERATIONS = Path(__file__).with_name("real-operations.tsv")


def test_every_operation_is_documented_with_security_and_errors(client: TestClient) -> None:
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["servers"] == [{"url": API}]
    ids = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            ids.append(operation["operationId"])
            responses = operation["responses"]
            assert "422" not in responses, (method, path)
            assert any(code.startswith("2") for code in responses), (method, path)
            if path in PUBLIC_PATHS:
                assert "security" not in operation
                continue
            assert operation["security"] == [{"bearerAuth": []}, {"oauth2": []}], (method, path)
            for code in ("400", "401", "403", "404", "429"):
                assert "application/problem+json" in responses[code]["content"], (method, path, code)
            in_path = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
            assert sorted(in_path) == sorted(re.findall(r"\{(\w+)\}", path)), (method, path)
            assert all(p["required"] for p in operation.get("parameters", []) if p["in"] == "path")
    assert len(ids) == len(set(ids)), "operationIds must be unique"


def test_operations_are_blumiras_method_path_and_operation_id(client: TestClient) -> None:
    """A client generated from this document has the method names of one generated from Blumira's."""
    header, *lines = REAL_OPERATIONS.read_text().splitlines()
    assert header.split("\t") == ["method", "path", "operationId"]
    real = [tuple(line.split("\t")) for line in lines]
    assert len(real) == len(set(real)) == 59
    spec = client.get(f"{API}/openapi.json").json()
    served = [
        (method.upper(), path, operation["operationId"])
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]
    assert sorted(served) == sorted(real)


def test_the_oauth2_scheme_gets_a_token_from_a_client_id_and_secret(client: TestClient, tenant: Tenant) -> None:
    """What Swagger UI's Authorize does with the document: resolve tokenUrl, post the client credentials."""
    document_url = f"http://testserver{API}/openapi.json"
    spec = client.get(document_url).json()
    scheme = spec["components"]["securitySchemes"]["oauth2"]
    flow = scheme["flows"]["clientCredentials"]
    # OpenAPI 3.1: a relative URL is resolved against the server URL, itself against the document's.
    token_url = urljoin(urljoin(document_url, spec["servers"][0]["url"]), flow["tokenUrl"])
    assert token_url == "http://testserver/oauth/token"
    assert client.get("/.well-known/oauth-authorization-server").json()["token_endpoint"] == token_url
    basic = base64.b64encode(f"{tenant.ro.client_id}:{tenant.ro.client_secret}".encode()).decode()
    response = client.post(
        token_url, data={"grant_type": "client_credentials", "scope": ""}, headers={"Authorization": f"Basic {basic}"}
    )
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert client.get(f"{API}/org/users", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_swagger_ui_is_served_with_local_assets_only(client: TestClient) -> None:
    page = client.get(f"{API}/ui/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    html = page.text
    assert f"{API}/openapi.json" in html
    external = [u for u in re.findall(r"""(?:src|href)=["']([^"']+)""", html) if not u.startswith("/")]
    assert external == [], f"assets must not come from elsewhere: {external}"
    for asset in re.findall(r"""(?:src|href)=["']([^"']+)""", html):
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.content) > 1000
    assert "persistAuthorization" in html
    assert client.get(f"{API}/ui", follow_redirects=False).status_code in (301, 302, 307)


def test_root_leads_somewhere_useful(client: TestClient) -> None:
    response = client.get("/", follow_redirects=True)
    assert response.status_code == 200


def test_paged_operations_document_the_page_once_after_their_own_parameters(client: TestClient) -> None:
    """The route reads the page itself (``core.paging.page_request``); the document lists its three query
    parameters as FastAPI documents a query model, where FastAPI listed them when it solved the page: after
    the operation's own parameters, before the filters its extra documentation adds."""
    spec = client.get(f"{API}/openapi.json").json()

    def names(path: str) -> list[str]:
        return [p["name"] for p in spec["paths"][path]["get"].get("parameters", [])]

    assert names("/org/users") == ["page", "page_size", "limit"]
    assert names("/org/findings/{finding_id}/comments") == ["finding_id", "page", "page_size", "limit"]
    findings = names("/org/findings")
    assert findings[:4] == ["order_by", "page", "page_size", "limit"] and "priority.in" in findings[4:]
    page = spec["paths"]["/org/users"]["get"]["parameters"][0]
    assert page == {
        "name": "page", "in": "query", "required": False, "description": "1-based page number.",
        "schema": {"type": "integer", "maximum": 1000000, "minimum": 1, "description": "1-based page number.",
                   "default": 1, "title": "Page"},
    }
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            listed = [(p["name"], p["in"]) for p in operation.get("parameters", [])]
            assert len(listed) == len(set(listed)), (method, path)
