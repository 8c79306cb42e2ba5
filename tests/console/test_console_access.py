"""Outside development mode the console needs an admin login; every POST needs the session's CSRF token."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from app.jobs.repository import JobState, enqueue
from app.main import create_app
from app.security.principal import ADMIN, AUTHORIZATIONS_READ
from app.store.models import Job
from tests.support.auth import token_for
from tests.support.console import csrf_of, log_in


async def test_pages_redirect_to_the_login_until_an_admin_logs_in(app: FastAPI, client: httpx.AsyncClient) -> None:
    for path in ("/console/authorizations", "/console/jobs", "/console/webhooks", "/console/report"):
        response = await client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/console/login"
    token = await token_for(client, app, "ops-admin", [ADMIN], admin=True)
    response = await log_in(client, token)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "epa_console=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Max-Age=900" in cookie
    assert "Path=/console" in cookie
    page = await client.get("/console/authorizations")
    assert page.status_code == 200
    assert "<h1>Worklist</h1>" in page.text
    assert page.headers["cache-control"] == "no-store"


async def test_a_client_that_is_not_admin_cannot_log_in(app: FastAPI, client: httpx.AsyncClient) -> None:
    token = await token_for(client, app, "ehr-a", [AUTHORIZATIONS_READ])
    response = await log_in(client, token)
    assert response.status_code == 403
    assert "admin" in response.text
    assert "epa_console=" not in response.headers.get("set-cookie", "")
    assert (await client.get("/console/jobs")).status_code == 303


async def test_a_bad_token_or_a_missing_login_csrf_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    assert (await log_in(client, "not-a-token")).status_code == 401
    token = await token_for(client, app, "ops-admin", [ADMIN], admin=True)
    await client.get("/console/login")
    forged = await client.post("/console/login", data={"token": token, "csrf": "guessed"})
    assert forged.status_code == 403
    assert "epa_console=" not in forged.headers.get("set-cookie", "")


async def test_a_tampered_session_cookie_is_a_redirect_to_login(app: FastAPI, client: httpx.AsyncClient) -> None:
    token = await token_for(client, app, "ops-admin", [ADMIN], admin=True)
    await log_in(client, token)
    value = client.cookies["epa_console"]
    client.cookies.clear()
    client.cookies.set("epa_console", value[:-2] + ("AA" if not value.endswith("AA") else "BB"), path="/console")
    assert (await client.get("/console/jobs")).status_code == 303


async def test_posts_without_the_sessions_csrf_token_change_nothing(app: FastAPI, client: httpx.AsyncClient) -> None:
    runtime = app.state.runtime
    async with runtime.sessions() as session:
        job = enqueue(session, "noop", {}, now=runtime.clock())
        job.state = JobState.DEAD.value
        await session.commit()
        job_id = job.id
    token = await token_for(client, app, "ops-admin", [ADMIN], admin=True)
    await log_in(client, token)
    refused = await client.post(f"/console/jobs/{job_id}/retry", data={"csrf": "wrong"})
    assert refused.status_code == 403
    async with runtime.sessions() as session:
        assert (await session.get(Job, job_id)).state == "dead"
    page = await client.get("/console/jobs")
    accepted = await client.post(f"/console/jobs/{job_id}/retry", data={"csrf": csrf_of(page.text)})
    assert accepted.status_code == 303
    async with runtime.sessions() as session:
        assert (await session.get(Job, job_id)).state == "queued"


async def test_disabling_the_admin_client_ends_its_console_session(app: FastAPI, client: httpx.AsyncClient) -> None:
    from app.security.registry import set_enabled

    token = await token_for(client, app, "ops-admin", [ADMIN], admin=True)
    await log_in(client, token)
    assert (await client.get("/console/jobs")).status_code == 200
    async with app.state.runtime.sessions() as session:
        await set_enabled(session, "ops-admin", enabled=False)
        await session.commit()
    assert (await client.get("/console/jobs")).status_code == 303


async def test_retry_and_redeliver_forms_refuse_ids_past_int64_without_a_500(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    token = await token_for(client, app, "ops-admin", [ADMIN], admin=True)
    await log_in(client, token)
    csrf = csrf_of((await client.get("/console/jobs")).text)
    endpoint = "00000000-0000-4000-8000-000000000001"
    for too_large in (2**63, 10**30):
        retried = await client.post(f"/console/jobs/{too_large}/retry", data={"csrf": csrf})
        redelivered = await client.post(
            f"/console/webhooks/{endpoint}/deliveries/{too_large}/redeliver", data={"csrf": csrf}
        )
        assert retried.status_code == redelivered.status_code == 422
    assert (await client.post(f"/console/jobs/{2**63 - 1}/retry", data={"csrf": csrf})).status_code != 500


async def test_after_logout_the_old_cookie_is_refused_by_every_process(app: FastAPI, client: httpx.AsyncClient) -> None:
    token = await token_for(client, app, "ops-admin", [ADMIN], admin=True)
    await log_in(client, token)
    old_cookie = client.cookies["epa_console"]
    page = await client.get("/console/jobs")
    assert page.status_code == 200
    out = await client.post("/console/logout", data={"csrf": csrf_of(page.text)})
    assert out.status_code == 303
    other_process = create_app(app.state.runtime.settings)  # same signing key, same database
    async with other_process.router.lifespan_context(other_process):
        transport = httpx.ASGITransport(app=other_process)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as replayer:
            replayer.cookies.set("epa_console", old_cookie, path="/console")
            refused = await replayer.get("/console/jobs")
    assert refused.status_code == 303
    assert refused.headers["location"] == "/console/login"
    client.cookies.set("epa_console", old_cookie, path="/console")
    assert (await client.get("/console/jobs")).status_code == 303  # nor this process
