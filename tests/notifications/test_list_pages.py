"""Every list route has one shape (`{<items>, next_cursor}`) and one pagination parameter (`cursor`)."""

from __future__ import annotations

import httpx

LIST_ROUTES = {"/authorizations": "authorizations", "/jobs": "jobs", "/webhooks": "endpoints"}


async def test_delivery_log_pages_with_cursor_like_every_list_route(client: httpx.AsyncClient) -> None:
    endpoint = (await client.post("/webhooks", json={"url": "https://example.org/hook", "event_types": ["*"]})).json()
    for _ in range(3):
        assert (await client.post(f"/webhooks/{endpoint['id']}/ping")).status_code == 202
    path = f"/webhooks/{endpoint['id']}/deliveries"
    first = (await client.get(path, params={"limit": 2})).json()
    assert len(first["deliveries"]) == 2
    assert first["next_cursor"]
    rest = (await client.get(path, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert len(rest["deliveries"]) == 1
    assert rest["next_cursor"] is None
    seen = [d["id"] for d in first["deliveries"] + rest["deliveries"]]
    assert seen == sorted(seen, reverse=True)
    assert len(set(seen)) == 3


async def test_every_list_route_answers_an_object_with_next_cursor_and_takes_cursor(
    client: httpx.AsyncClient,
) -> None:
    endpoint = (await client.post("/webhooks", json={"url": "https://example.org/hook", "event_types": ["*"]})).json()
    routes = {**LIST_ROUTES, f"/webhooks/{endpoint['id']}/deliveries": "deliveries"}
    schema = (await client.get("/openapi.json")).json()["paths"]
    for path, key in routes.items():
        body = (await client.get(path)).json()
        assert set(body) == {key, "next_cursor"}, path
        template = path if path in schema else "/webhooks/{endpoint_id}/deliveries"
        names = {p["name"] for p in schema[template]["get"].get("parameters", [])}
        assert "before" not in names
        if path != "/webhooks":
            assert {"cursor", "limit"} <= names, path
    audit = {p["name"] for p in schema["/audit"]["get"]["parameters"]}  # admin only: its schema, same shape
    assert {"cursor", "limit"} <= audit
    assert set(schema["/audit"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]) == {"$ref"}
