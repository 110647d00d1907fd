"""Prometheus metrics and the health check, served on the HTTP port (`/metrics`, `/healthz`).

One registry per runtime (not prometheus-client's global one), so several runtimes in one test process
do not collide. The core reports through bot/telemetry.py; ack latency is measured by the adapters.
"""

from __future__ import annotations

import asyncio
import os
import socket
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import text

if TYPE_CHECKING:
    from adapters.runtime import Runtime

FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 3.0, 10.0)
LAG = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)


class Metrics:
    """bot.telemetry.Telemetry as Prometheus metrics, plus gauges read from the runtime at scrape."""

    def __init__(self, instance_name: str = "") -> None:
        self.instance = instance_name or f"{socket.gethostname()}:{os.getpid()}"
        self.registry = CollectorRegistry()
        r = self.registry
        self.commands = Counter(
            "iben_commands", "Commands handled", ["platform", "command", "outcome"], registry=r
        )
        self.command_seconds = Histogram(
            "iben_command_seconds", "Time to handle a command", ["platform"], buckets=FAST, registry=r
        )
        self.acks = Histogram(
            "iben_ack_seconds",
            "Time from a request's arrival to its ack",
            ["platform"],
            buckets=FAST,
            registry=r,
        )
        self.deliveries = Counter("iben_deliveries", "Scheduled sends", ["kind", "outcome"], registry=r)
        self.jobs = Counter("iben_jobs", "Scheduled jobs run", ["kind", "outcome"], registry=r)
        self.lag = Histogram(
            "iben_scheduler_lag_seconds", "How late a job ran after its time", buckets=LAG, registry=r
        )
        self.leader = Gauge("iben_scheduler_leader", "1 while this process leads the scheduler", registry=r)
        self.pending = Gauge("iben_scheduler_pending_jobs", "Jobs waiting in this process", registry=r)
        self.takeovers = Gauge(
            "iben_scheduler_elections", "Times this process became the scheduler leader", registry=r
        )

    def command(self, platform: str, name: str, outcome: str, seconds: float) -> None:
        self.commands.labels(platform, name, outcome).inc()
        self.command_seconds.labels(platform).observe(seconds)

    def delivery(self, kind: str, outcome: str, count: int = 1) -> None:
        if count > 0:
            self.deliveries.labels(kind, outcome).inc(count)

    def job(self, kind: str, lag_seconds: float, outcome: str) -> None:
        self.jobs.labels(kind, outcome).inc()
        self.lag.observe(max(lag_seconds, 0.0))

    def ack(self, platform: str, seconds: float) -> None:
        self.acks.labels(platform).observe(seconds)

    def watch(self, runtime: Runtime) -> None:
        """Gauges that read the runtime whenever Prometheus scrapes."""
        self.leader.set_function(lambda: 1.0 if runtime.leading else 0.0)
        self.takeovers.set_function(lambda: float(runtime.lease.takeovers))
        pending = getattr(runtime.scheduler, "pending", None)
        if callable(pending):
            self.pending.set_function(lambda: float(len(pending())))


def health_routes(runtime: Runtime) -> list[web.RouteDef]:
    """`GET /healthz` (200 when the database answers, else 503) and `GET /metrics`."""

    async def healthz(_request: web.Request) -> web.Response:
        body: dict[str, Any] = {
            "instance": runtime.metrics.instance,
            "instance_key": runtime.lease.instance_key,
            "leader": runtime.leading,
        }
        try:
            async with asyncio.timeout(2):
                async with runtime.db.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except Exception as exc:
            body |= {"status": "unhealthy", "database": f"{exc.__class__.__name__}"}
            return web.json_response(body, status=503)
        return web.json_response(body | {"status": "ok", "database": "ok"})

    async def metrics(_request: web.Request) -> web.Response:
        data = generate_latest(runtime.metrics.registry)
        return web.Response(body=data, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return [web.get("/healthz", healthz), web.get("/metrics", metrics)]


async def serve_health(runtime: Runtime, host: str, port: int) -> None:
    """A server of its own for /healthz and /metrics (Socket Mode, Discord-only processes)."""
    app = web.Application()
    app.add_routes(health_routes(runtime))
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
