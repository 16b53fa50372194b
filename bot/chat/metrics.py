"""Prometheus metrics on an opt-in local port (``metrics.port`` in config.yaml; off by default).

``GET /metrics`` in Prometheus' text format (prometheus_client, the reference client: the exposition format
and its escaping are its business, not ours). Every figure is read at scrape time, on the bot's event loop
(so reading the store never races a write), from what the bot keeps anyway:

| metric | type | from |
|---|---|---|
| ``servicebot_tickets_open{status}`` | gauge | the desk: tickets not closed, by status |
| ``servicebot_sla_breaches{deadline}`` | gauge | tickets not closed whose first-response / resolution deadline has passed unmet |
| ``servicebot_digest_outcomes_total{slot,outcome}`` | counter | the delivery ledger: finished deliveries (sent, empty, expired, failed) |
| ``servicebot_sends_refused_total`` | counter | the outbox: messages Telegram refused or forbade since start |
| ``servicebot_source_consecutive_failures{source}`` | gauge | source health: failures in a row per feed |
| ``servicebot_updates_handled_total`` | counter | updates through the handlers since start |
| ``servicebot_healthy`` | gauge | 1 when the liveness verdict is ok (bot/chat/liveness.py), else 0 |

Labels carry no member data: statuses, deadlines, slots, outcomes and the configured source names.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.chat.context import Services
from bot.store.health import SourceHealth
from bot.tickets.model import Deadline

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class BotCollector(Collector):
    """The figures above, read when Prometheus asks."""

    def __init__(self, svc: Services, liveness: Any = None) -> None:
        self._svc = svc
        self._liveness = liveness

    def collect(self) -> Iterator[Metric]:
        svc = self._svc
        now = svc.clock.now()
        active = list(svc.desk.repo.active())
        by_status = GaugeMetricFamily("servicebot_tickets_open", "Tickets not closed, by status", labels=["status"])
        for status, n in sorted(Counter(str(t.status) for t in active).items()):
            by_status.add_metric([status], n)
        yield by_status
        breaches = GaugeMetricFamily(
            "servicebot_sla_breaches", "Open tickets past an unmet deadline", labels=["deadline"]
        )
        for deadline in Deadline:
            breaches.add_metric(
                [str(deadline)], sum(1 for t in active if not t.met(deadline) and t.due(deadline) < now)
            )
        yield breaches
        outcomes = CounterMetricFamily(
            "servicebot_digest_outcomes", "Finished digest deliveries", labels=["slot", "outcome"]
        )
        counted: Counter[tuple[str, str]] = Counter()
        for doc in svc.store.table("deliveries").all():
            k, outcome = doc.get("k"), doc.get("outcome")
            if isinstance(k, list) and len(k) == 3 and isinstance(outcome, str):
                counted[(str(k[2]), outcome)] += 1
        for (slot, outcome), n in sorted(counted.items()):
            outcomes.add_metric([slot, outcome], n)
        yield outcomes
        yield CounterMetricFamily(
            "servicebot_sends_refused", "Messages Telegram refused or forbade since start",
            value=getattr(svc.outbox, "refused", 0),
        )
        sources = GaugeMetricFamily(
            "servicebot_source_consecutive_failures", "Failed fetches in a row", labels=["source"]
        )
        for health in SourceHealth(svc.store).all():
            sources.add_metric([health.source], health.consecutive_failures)
        yield sources
        if self._liveness is not None:
            yield CounterMetricFamily(
                "servicebot_updates_handled", "Updates through the handlers since start",
                value=self._liveness.updates_handled,
            )
            yield GaugeMetricFamily(
                "servicebot_healthy", "1 when the liveness verdict is ok", value=0 if self._liveness.problems() else 1
            )


class MetricsServer:
    """``GET /metrics`` on ``listen:port`` (keep it local: put it behind the monitoring agent, not the web)."""

    def __init__(self, svc: Services, liveness: Any, *, listen: str, port: int) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(BotCollector(svc, liveness))
        self._listen, self._port = listen, port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._listen, self._port).start()
        log.info("metrics on http://%s:%s/metrics", self._listen, self._port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE})
