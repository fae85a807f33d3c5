"""The OpenAPI document and the offline Swagger UI."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.helpers import API

PUBLIC_OPERATIONS = {"health"}


def test_every_operation_is_documented_with_security_and_errors(client: TestClient) -> None:
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["BearerAuth"]["scheme"] == "bearer"
    assert spec["servers"] == [{"url": API}]
    ids = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            ids.append(operation["operationId"])
            responses = operation["responses"]
            assert "422" not in responses, (method, path)
            assert any(code.startswith("2") for code in responses), (method, path)
            if operation["operationId"] in PUBLIC_OPERATIONS:
                assert "security" not in operation
                continue
            assert operation["security"] == [{"BearerAuth": []}], (method, path)
            for code in ("400", "401", "403", "404", "429"):
                assert "application/problem+json" in responses[code]["content"], (method, path, code)
            for param in operation.get("parameters", []):
                if param["in"] == "path":
                    assert param["required"] is True
    assert len(ids) == len(set(ids)), "operationIds must be unique"
    assert {"health", "get_resolutions", "get_users", "msp_get_users"} <= set(ids)


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
