"""Benchmark of webhook delivery: 10,000 events to a local receiver with 4 endpoints subscribed.

    .venv/bin/python -m bench.webhooks [--events 10000] [--endpoints 4] [--database-url URL] [--concurrency 32]

Migrates a fresh database (a temporary SQLite file unless --database-url names an empty
PostgreSQL database) and registers the endpoints on a receiver process on 127.0.0.1.
(1) Throughput: publishes the events (authorization.approved, through
`app.notifications.enqueue_event`, 50 per transaction), then starts a worker (woken in-process, as
every worker the service builds) and prints deliveries/s, this process's CPU ms, SQL statements and
commits per delivery (fan-out included),
and the end-to-end delay from the event's commit to its receipt (p50, p99). The baseline, in the
same run: the rate at which this process POSTs the same bodies to the same receiver with httpx.
(2) Per mode (`--modes`: `embedded`, a worker in this process woken in-process as `epa serve`
builds it; `separate`, an `epa worker` process, woken through LISTEN/NOTIFY: PostgreSQL only by
default, as SQLite deployments run the embedded worker and no `epa worker`), with
the service's default polling (1 s, backing off to 10 s when idle): the worker sits idle, then
`--idle-events` events are published one at a time, 0.3 s apart (their delay p50/p99: what
wake-ups, not polling, decide); then `--pairs` authorizations with two events each (received and
approved, so each endpoint's second delivery waits for its first) at `--pair-rate` per second;
prints how late each delivery was after it became due (its event's commit, or the receipt of the
delivery ahead of it) and the share later than 1 s. 300 pairs x 4 endpoints = 2,400 deliveries.
Loopback only; bounded by --deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, func, select

from app.jobs.loop import Worker
from app.jobs.wakeups import doorbell_of
from app.main import create_app
from app.notifications import enqueue_event
from app.runtime import Runtime
from app.settings import Settings
from app.store import migrate
from app.store.database import create_engine
from app.store.models import Authorization, WebhookDelivery
from app.worker import default_handlers, running_worker

BATCH = 50


async def _receiver(port: int, out: Path) -> None:
    delays: list[float] = []
    records: list[tuple[str, str, str, str, float]] = []  # path, webhook-id, authorization, event time, receipt
    ids: set[str] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                headers: dict[str, str] = {}
                while (h := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = h.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                path = line.split(b" ")[1].decode()
                if path == "/hook":
                    ids.add(headers["webhook-id"])
                    sent = datetime.fromisoformat(json.loads(body)["timestamp"])
                    delays.append((datetime.now(UTC) - sent).total_seconds())
                elif path.startswith("/mode/"):
                    event = json.loads(body)
                    received = datetime.now(UTC).timestamp()
                    records.append(
                        (path, headers["webhook-id"], event["data"]["authorization_id"], event["timestamp"], received)
                    )
                writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(15, stop.set)
    async with server:
        await stop.wait()
    out.write_text(json.dumps({"delays": delays, "records": records, "unique": len(ids), "received": len(delays)}))


async def _until_listening(port: int, seconds: float = 300.0) -> None:
    """Until the receiver accepts connections (its start-up takes longer on a busy machine; a delivery
    refused meanwhile would wait for its retry and count as late)."""
    deadline = time.perf_counter() + seconds
    while True:
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.perf_counter() > deadline:
                raise
            await asyncio.sleep(0.1)
            continue
        writer.close()
        return


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _authorization(now: datetime) -> Authorization:
    key = uuid.uuid4().hex
    return Authorization(
        id=uuid.uuid4(), client_id="development", payer_id="sandbox", bundle_identifier=f"urn:bench|{key}",
        claim_identifier=f"urn:bench|{key}", kind="prior", priority="standard", status="approved", received_at=now,
        created_at=now, updated_at=now, version=1, request_hash="0" * 64, request_document=b"{}",
        response_status=200, items=[],
    )  # fmt: skip


async def _publish(runtime: Runtime, events: int, *, spacing: float = 0.0) -> None:
    batch = 1 if spacing else BATCH
    for start in range(0, events, batch):
        async with runtime.sessions.begin() as session:
            now = datetime.now(UTC)
            rows = [_authorization(now) for _ in range(min(batch, events - start))]
            session.add_all(rows)
            await session.flush()
            for row in rows:
                enqueue_event(session, row, "authorization.approved", now=now)
        await asyncio.sleep(spacing)


class _Counter:
    """SQL statements and commits this process sends (SQLAlchemy engine events)."""

    def __init__(self, runtime: Runtime) -> None:
        self.statements = self.commits = 0
        event.listen(runtime.engine.sync_engine, "before_cursor_execute", self._statement)
        event.listen(runtime.engine.sync_engine, "commit", self._commit)

    def _statement(self, *_args: object) -> None:
        self.statements += 1

    def _commit(self, *_args: object) -> None:
        self.commits += 1


async def _publish_pairs(runtime: Runtime, pairs: int, rate: float) -> None:
    """`pairs` authorizations, each with two events in one transaction (received, then approved: the
    second delivery to each endpoint waits for the first), `rate` authorizations per second."""
    for _ in range(pairs):
        async with runtime.sessions.begin() as session:
            now = datetime.now(UTC)
            row = _authorization(now)
            session.add(row)
            await session.flush()
            enqueue_event(session, row, "authorization.received", now=now)
            enqueue_event(session, row, "authorization.approved", now=now)
        await asyncio.sleep(1 / rate)


@contextlib.asynccontextmanager
async def _mode_worker(mode: str, runtime: Runtime, url: str, tmp: Path) -> AsyncIterator[None]:
    """A worker with the service's default settings: in this process (as `epa serve` embeds it, woken
    in-process) or a separate `epa worker` process (woken by LISTEN/NOTIFY on PostgreSQL)."""
    if mode == "embedded":
        defaults = Settings(_env_file=None)
        worker = Worker(
            runtime.sessions, default_handlers(runtime), poll_interval=defaults.worker_poll_seconds,
            idle_backoff=defaults.worker_idle_max_seconds, wakeups=doorbell_of(runtime.engine),
        )  # fmt: skip
        async with running_worker(worker, runtime.engine):
            yield
        return
    env = {k: v for k, v in os.environ.items() if not k.startswith("EPA_")}
    env.update(
        EPA_DATABASE_URL=url, EPA_DEVELOPMENT="true", EPA_DATA_DIR=str(tmp), EPA_LOG_LEVEL="warning",
        EPA_WEBHOOK_ALLOW_PRIVATE_TARGETS="true",
    )  # fmt: skip
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "app", "worker", env=env)
    try:
        await asyncio.sleep(5)  # started (imports, registry, LISTEN)
        yield
    finally:
        process.terminate()
        await process.wait()


async def _run_mode(
    mode: str, runtime: Runtime, client: httpx.AsyncClient, port: int, url: str, tmp: Path, args: argparse.Namespace
) -> None:
    """Idle single events, then a paced stream of pairs, to `args.endpoints` endpoints at /mode/<mode>/."""
    ids = []
    for index in range(args.endpoints):
        hook = f"http://127.0.0.1:{port}/mode/{mode}/{index}"
        ids.append((await client.post("/webhooks", json={"url": hook, "event_types": ["*"]})).json()["id"])
    async with _mode_worker(mode, runtime, url, tmp):
        await asyncio.sleep(3)  # idle: the poll interval has backed off
        await _publish(runtime, args.idle_events, spacing=0.3)
        await asyncio.sleep(2)
        await _publish_pairs(runtime, args.pairs, args.pair_rate)
        started = time.perf_counter()  # then until every delivery settled, so the next mode starts idle
        while await _pending(runtime) and time.perf_counter() - started < args.deadline:
            await asyncio.sleep(0.5)
    for endpoint_id in ids:
        await client.delete(f"/webhooks/{endpoint_id}")


def _mode_figures(records: list[list[Any]], mode: str, idle_events: int, endpoints: int) -> tuple[str, str]:
    """Idle delays (single events: the first `idle_events` x `endpoints` records of the mode), and for the
    paced pairs the lateness of each delivery after it became due: its event's commit, or the receipt
    of the delivery ahead of it (same endpoint and authorization), whichever is later."""
    mine = sorted((r for r in records if r[0].startswith(f"/mode/{mode}/")), key=lambda r: r[4])
    idle_ids = set(_first_authorizations(mine, idle_events))
    idle = sorted(r[4] - datetime.fromisoformat(r[3]).timestamp() for r in mine if r[2] in idle_ids)
    ahead: dict[tuple[str, str], float] = {}
    late: list[float] = []
    seen: set[str] = set()
    for path, message, authorization, occurred, received in mine:
        if authorization in idle_ids or message in seen:
            continue
        seen.add(message)
        due = max(datetime.fromisoformat(occurred).timestamp(), ahead.get((path, authorization), 0.0))
        late.append(received - due)
        ahead[(path, authorization)] = received
    over = sum(1 for x in late if x > 1.0)
    idle_line = (
        f"idle {mode}: {len(idle)}/{idle_events * endpoints} single-event deliveries, "
        f"p50 {_pct(idle, 50) * 1000:.0f} ms, p99 {_pct(idle, 99) * 1000:.0f} ms"
    )
    late_line = (
        f"paced {mode}: {len(late)} deliveries of event pairs, after becoming due p50 "
        f"{_pct(sorted(late), 50) * 1000:.0f} ms, p99 {_pct(sorted(late), 99) * 1000:.0f} ms, "
        f"max {max(late, default=0) * 1000:.0f} ms; later than 1 s: {over} ({over / max(len(late), 1):.2%})"
    )
    return idle_line, late_line


def _first_authorizations(records: list[list[Any]], count: int) -> list[str]:
    found: list[str] = []
    for record in records:
        if record[2] not in found:
            found.append(record[2])
        if len(found) == count:
            break
    return found


async def _pending(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.state == "pending")
        )
    return int(count or 0)


async def _delivered(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.state == "delivered")
        )
    return int(count or 0)


async def _baseline(url: str, count: int, concurrency: int, body: bytes) -> float:
    async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=concurrency)) as http:
        queue = iter(range(count))

        async def one() -> None:
            for _ in queue:
                await http.post(url, content=body, headers={"content-type": "application/json"})

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(concurrency)))
        return count / (time.perf_counter() - started)


def _pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] if len(values) > 1 else (values or [0.0])[0]


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="epa-bench-"))
    url = args.database_url or f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}"
    engine = create_engine(url)
    await migrate.upgrade(engine)
    await engine.dispose()
    port, out = _free_port(), tmp / "receiver.json"
    receiver = subprocess.Popen([sys.executable, "-m", "bench.webhooks", "--receiver", str(port), "--out", str(out)])
    await _until_listening(port)
    settings = Settings(
        database_url=url, development=True, data_dir=tmp, embedded_worker=False,
        webhook_allow_private_targets=True, _env_file=None,
    )  # fmt: skip
    app = create_app(settings)
    total = args.events * args.endpoints
    args.modes = args.modes or (["embedded"] if url.startswith("sqlite") else ["embedded", "separate"])
    async with app.router.lifespan_context(app):
        runtime: Runtime = app.state.runtime
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
        endpoints = [
            (
                await client.post("/webhooks", json={"url": f"http://127.0.0.1:{port}/hook", "event_types": ["*"]})
            ).json()["id"]
            for _ in range(args.endpoints)
        ]
        await _publish(runtime, args.events)
        worker = Worker(
            runtime.sessions, default_handlers(runtime), batch_size=args.concurrency, concurrency=args.concurrency,
            poll_interval=0.01, idle_backoff=0.05, wakeups=doorbell_of(runtime.engine),
        )  # fmt: skip
        counter = _Counter(runtime)
        stop = asyncio.Event()
        started, cpu = time.perf_counter(), time.process_time()
        working = asyncio.create_task(worker.run(stop))
        while (done := await _delivered(runtime)) < total and time.perf_counter() - started < args.deadline:
            await asyncio.sleep(0.2)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        stop.set()
        await working
        statements, commits = counter.statements, counter.commits
        for endpoint_id in endpoints:
            await client.delete(f"/webhooks/{endpoint_id}")
        for mode in args.modes:
            await _run_mode(mode, runtime, client, port, url, tmp, args)
        await client.aclose()
        data = {"authorization_id": str(uuid.uuid4()), "status": "approved", "items": []}
        event = {"type": "authorization.approved", "timestamp": datetime.now(UTC).isoformat(), "data": data}
        body = json.dumps(event).encode()
        baseline = await _baseline(f"http://127.0.0.1:{port}/baseline", min(total, 20000), args.concurrency, body)
    receiver.terminate()
    receiver.wait(timeout=30)
    result = json.loads(out.read_text())
    delays = sorted(result["delays"])
    rate = done / elapsed
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(f"backend {backend}, {args.events} events x {args.endpoints} endpoints = {total} deliveries, "
          f"worker concurrency {args.concurrency}")  # fmt: skip
    print(f"delivered {done}/{total} in {elapsed:.1f} s: {rate:.0f} deliveries/s "
          f"(receiver saw {result['received']} requests, {result['unique']} unique webhook-ids)")  # fmt: skip
    print(f"end-to-end delay (event commit -> receipt): p50 {_pct(delays, 50) * 1000:.0f} ms, "
          f"p99 {_pct(delays, 99) * 1000:.0f} ms")  # fmt: skip
    print(f"per delivery: {cpu * 1000 / max(done, 1):.2f} ms CPU of this process (worker), "
          f"{statements / max(done, 1):.1f} SQL statements, {commits / max(done, 1):.2f} commits")  # fmt: skip
    print(f"baseline httpx POST rate to the same receiver: {baseline:.0f} requests/s; "
          f"deliveries/baseline = {rate / baseline:.3f}")  # fmt: skip
    print(f"then per mode, default polling (1 s backing off to 10 s): {args.idle_events} single events 0.3 s apart "
          f"to an idle service, then {args.pairs} authorizations with two events each at {args.pair_rate:g}/s, "
          f"x {args.endpoints} endpoints")  # fmt: skip
    for mode in args.modes:
        for line in _mode_figures(result["records"], mode, args.idle_events, args.endpoints):
            print(line)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--endpoints", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", default="", help="an empty PostgreSQL database (default: temporary SQLite)")
    parser.add_argument("--idle-events", type=int, default=20)
    parser.add_argument("--pairs", type=int, default=300, help="authorizations with two events each, per mode")
    parser.add_argument(
        "--pair-rate", type=float, default=2.0, help="authorizations per second (keep below the worker's throughput)"
    )
    parser.add_argument(
        "--modes", nargs="+", choices=["embedded", "separate"], help="default: both on PostgreSQL, embedded on SQLite"
    )
    parser.add_argument("--deadline", type=float, default=900.0, help="seconds before giving up")
    parser.add_argument("--receiver", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver:
        asyncio.run(_receiver(args.receiver, args.out))
    else:
        asyncio.run(main(args))


if __name__ == "__main__":
    cli()
