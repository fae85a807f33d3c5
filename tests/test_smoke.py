from fastapi.testclient import TestClient

from tests.helpers import API, Tenant


def test_users_listed_with_a_token(client: TestClient, tenant: Tenant) -> None:
    response = client.get(f"{API}/org/users", headers=tenant.rw.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert {u["id"] for u in body["data"]} == {str(tenant.admin_id), str(tenant.analyst_id)}
    assert body["meta"] == {"page": 1, "page_size": 50, "total_items": 2, "total_pages": 1}
