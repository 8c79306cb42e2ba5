"""Outbound calls are logged by the service (method, host, status, latency), never with their path or
query: a webhook's `?token=` or a member id in a payer path stays out of every log record."""

from __future__ import annotations

from app.runtime import outbound_client
from tests.support.logs import captured_logs
from tests.support.receiver import running_receiver

SECRET, MEMBER = "tok-5ecr3t-Q9", "MBR-7Q4ZX9"


async def test_an_outbound_call_is_logged_without_its_path_or_query() -> None:
    with captured_logs() as logs:
        async with running_receiver() as receiver, outbound_client() as http:
            url = f"http://127.0.0.1:{receiver.port}/members/{MEMBER}/hook?token={SECRET}"
            response = await http.post(url, content=b"{}")
    assert response.status_code == 204
    leaked = [text for text in logs.texts if SECRET in text or MEMBER in text or "/members/" in text]
    assert leaked == []
    calls = [record for record in logs.records if record.name == "app.outbound"]
    assert len(calls) == 1
    call = calls[0].__dict__
    assert (call["method"], call["host"], call["status"]) == ("POST", f"127.0.0.1:{receiver.port}", 204)
    assert call["duration_ms"] >= 0
