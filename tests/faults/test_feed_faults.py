"""Broken feeds through the bot: one source fails in each way, the digest still posts with the others,
within the source timeout (+ grace) and bounded memory, and the ops chat is told."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.chat import jobs
from sandbox import GROUP_ID, OPS_CHAT_ID
from tests.chat.harness import running_bot

from .conftest import Figures
from .hostile import HostileServer

TIMEOUT = 3.0  # the harness's source timeout_seconds
# What the bound proves is that a source never holds the digest for as long as it would take:
# the drip would take hours and the gzip bomb 30 s. The margin is generous so that a loaded machine
# (sending the parts, parsing the other feeds) never fails the test by wall-clock luck.
GRACE = 12.0


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


def _point_jobs_at(h: Any, url: str) -> None:
    cfg = h.services.publisher.config
    h.services.publisher.config = cfg.model_copy(
        update={"sources": tuple(s.model_copy(update={"url": url}) if s.name == "jobs" else s for s in cfg.sources)}
    )


@pytest.mark.parametrize("fault", ["500", "refused", "dns", "drip", "1gb", "gzip-bomb", "10-redirects"])
async def test_feed_fault(
    tmp_path: Path, fault: str, hostile: HostileServer, figures: Figures, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_getaddrinfo = socket.getaddrinfo

    def no_dns(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "feeds.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    url = {
        "500": hostile.base + "/500",
        "refused": hostile.refused_url,
        "dns": "http://feeds.invalid/jobs.rss",
        "drip": hostile.base + "/drip",
        "1gb": hostile.base + "/huge",
        "gzip-bomb": hostile.base + "/bomb",
        "10-redirects": hostile.base + "/redirect/10",
    }[fault]
    async with running_bot(tmp_path, **{"health.alert_after_failures": 1, "network.allow_hosts": ["127.0.0.1"]}) as h:
        _point_jobs_at(h, url)
        with figures.run() as run:
            run.faults += 1
            started = time.monotonic()
            outcomes = await jobs.deliver_slot(h.app, "morning")
            elapsed = time.monotonic() - started
        assert elapsed <= TIMEOUT + GRACE, f"{fault}: the digest waited {elapsed:.1f} s"
        assert figures.row.max_mb < 50, f"{fault}: memory grew by {figures.row.max_mb:.0f} MB"
        assert [o.outcome for o in outcomes] == ["sent"]
        text = "\n".join(m["plain_text"] for m in h.messages(GROUP_ID) if m["sender_id"] == 9000)
        assert "政务要闻" in text and "今日天气" in text, "the other sources were not posted"
        assert "招聘信息" not in text
        alert = await h.wait_for_message(OPS_CHAT_ID, lambda m: "jobs" in m["plain_text"])
        assert "失败" in alert["plain_text"]
