"""Markers for the store tests (the contract fixtures any_store and durable_store are in tests/conftest.py)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "soak: long-running variants (make soak; SERVICEBOT_SOAK=1)")
