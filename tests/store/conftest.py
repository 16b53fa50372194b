"""Fixtures and markers for the store tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.store import Store


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "soak: long-running variants (make soak; SERVICEBOT_SOAK=1)")


@pytest.fixture(params=["disk", "memory"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The real store and its in-memory twin: both must behave the same."""
    store = Store.open(tmp_path / "data") if request.param == "disk" else Store.in_memory()
    yield store
    store.close()
