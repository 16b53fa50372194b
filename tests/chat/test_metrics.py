"""Prometheus metrics (bot/chat/metrics.py): the running bot's figures over HTTP, read at scrape time."""

from __future__ import annotations

import socket
from datetime import date, timedelta
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.chat.metrics import MetricsServer
from bot.store.health import SourceHealth
from bot.store.ledger import DeliveryKey
from sandbox import GROUP_ID, STAFF_CHAT_ID

from .harness import running_bot


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as response:
        assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_tickets_breaches_digests_refusals_and_sources_are_exposed(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        svc = h.services
        port = _port()
        server = MetricsServer(svc, h.app.bot.liveness, listen="127.0.0.1", port=port)
        await server.start()
        try:
            q = await h.say(101, GROUP_ID, "@servicebot 小区门口的路灯坏了找谁修")
            await h.wait_for_message(STAFF_CHAT_ID, lambda m: m["plain_text"].startswith("#1 "))
            got = await _scrape(port)
            assert got[("servicebot_tickets_open", (("status", "open"),))] == 1
            assert got[("servicebot_sla_breaches", (("deadline", "first_response"),))] == 0
            assert got[("servicebot_healthy", ())] in (0, 1)
            # a week later, unanswered: both deadlines missed
            h.set_time(h.clock.now() + timedelta(days=7))
            svc.ledger.finish(DeliveryKey.of(GROUP_ID, date(2026, 11, 27), "morning"), "sent")
            svc.ledger.finish(DeliveryKey.of(GROUP_ID, date(2026, 11, 27), "tea"), "failed")
            SourceHealth(svc.store).record_failure("jobs", "HTTP 500")
            SourceHealth(svc.store).record_failure("jobs", "HTTP 500")
            h.sandbox.inject_fault("sendMessage", 400, description="Bad Request: chat not found")
            assert await svc.outbox.send(GROUP_ID, "测试") is None
            got = await _scrape(port)
            assert got[("servicebot_sla_breaches", (("deadline", "first_response"),))] == 1
            assert got[("servicebot_sla_breaches", (("deadline", "resolution"),))] == 1
            assert got[("servicebot_digest_outcomes_total", (("outcome", "sent"), ("slot", "morning")))] == 1
            assert got[("servicebot_digest_outcomes_total", (("outcome", "failed"), ("slot", "tea")))] == 1
            assert got[("servicebot_sends_refused_total", ())] == 1
            assert got[("servicebot_source_consecutive_failures", (("source", "jobs"),))] == 2
            assert got[("servicebot_updates_handled_total", ())] >= 1
            assert q["message_id"]  # (the question itself is in no label)
        finally:
            await server.stop()
