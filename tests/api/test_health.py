import httpx


async def test_health_reports_every_field_of_the_contract(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {
        "status",
        "version",
        "api_version",
        "min_client_version",
        "authenticated",
        "provider",
        "model",
        "has_api_key",
        "database",
    }
    assert body["status"] == "ok"
    assert body["api_version"] == 1
    assert body["database"]["ok"] is True
