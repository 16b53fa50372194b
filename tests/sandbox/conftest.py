"""Fixtures: a started Sandbox on a free local port and a plain python-telegram-bot Bot pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from sandbox import Sandbox

TOKEN = "123456:TEST-token"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    sb = Sandbox(flood=False)
    await sb.start()
    try:
        yield sb
    finally:
        await sb.stop()


@pytest.fixture
async def flood_sandbox() -> AsyncIterator[Sandbox]:
    sb = Sandbox()  # flood control on, as by default
    await sb.start()
    try:
        yield sb
    finally:
        await sb.stop()


def make_bot(sb: Sandbox) -> Bot:
    return Bot(TOKEN, base_url=sb.api_base, base_file_url=sb.file_base)


@pytest.fixture
async def bot(sandbox: Sandbox) -> AsyncIterator[Bot]:
    async with make_bot(sandbox) as b:
        yield b
