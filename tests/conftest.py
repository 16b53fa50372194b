"""Suite-wide options and fixtures. ``--update-golden`` rewrites golden files (tests/data/golden/, digest fixtures'
expected.txt) with what the code renders now; without it a difference fails, and a missing golden
file fails too: golden text changes only when someone asks for it and reviews the diff."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.store import Store
from tests.faults import conftest as faults
from tests.pgcluster import PgCluster, PostgresMissing


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden files with the text rendered now (review the git diff afterwards)",
    )


class Golden:
    """Compare a rendered text with its golden file; rewrite it only under --update-golden."""

    def __init__(self, update: bool) -> None:
        self.update = update

    def check(self, path: Path, text: str) -> None:
        text = text.rstrip("\n") + "\n"
        if self.update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        if not path.exists():
            pytest.fail(f"{path}: no golden file; render it with `pytest --update-golden` and review it")
        assert text == path.read_text(encoding="utf-8"), f"{path} differs (after review: pytest --update-golden)"


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    return Golden(bool(request.config.getoption("--update-golden")))


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgCluster]:
    """One real PostgreSQL server for the whole session (tests/pgcluster.py), started on first use.

    Skipped only when the server binaries are not on this machine; under CI (``CI`` set) that is an
    error instead, since scripts/system-deps installs them there."""
    try:
        cluster = PgCluster(tmp_path_factory.mktemp("postgres"))
    except PostgresMissing as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI: {exc}")
        pytest.skip(str(exc))
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture
def pg_dsn(postgres: PgCluster) -> Iterator[str]:
    """The DSN of a new, empty database of this test's own on the session's PostgreSQL; dropped after."""
    dsn = postgres.create_database()
    yield dsn
    postgres.drop_database(dsn)


# -- the store contract: every test taking ``any_store`` runs on the journal store on disk, its in-memory
# twin and the PostgreSQL store (a database of the test's own), so the stores cannot drift apart;
# ``durable_store`` is the same for tests that close a store and open it again (a restart).


def _opener(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Store]:
    if kind == "disk":
        return lambda: Store.open(tmp_path / "data")
    if kind == "memory":
        return Store.in_memory
    from bot.store.pg import PgStore

    dsn: str = request.getfixturevalue("pg_dsn")
    return lambda: PgStore.connect(dsn)


@pytest.fixture(params=["disk", "memory", "postgres"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The journal store, its in-memory twin and the PostgreSQL store: all must behave the same."""
    store = _opener(request.param, request, tmp_path)()
    yield store
    store.close()


class Reopen:
    """Opens the same store again, as a restarted process would; closes what it opened at the end."""

    def __init__(self, kind: str, opener: Callable[[], Store]) -> None:
        self.kind = kind
        self._opener = opener
        self.opened: list[Store] = []

    def __call__(self) -> Store:
        store = self._opener()
        self.opened.append(store)
        return store


@pytest.fixture(params=["disk", "postgres"])
def durable_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Reopen]:
    """``durable_store()`` opens the journal store on disk / the PostgreSQL store; call it again to reopen."""
    reopen = Reopen(request.param, _opener(request.param, request, tmp_path))
    yield reopen
    for store in reopen.opened:
        store.close()


# -- the faults suite's figures table (tests/faults/conftest.py) at the end of the session. Under
# pytest-xdist (`pytest -n 2`) each worker counts its own runs: it hands its rows to the controller at the
# end, which adds them up and prints the one table (the controller collects nothing, so it never loads
# tests/faults/conftest.py as a conftest; this file it does load).


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput: dict[str, Any] | None = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker
        workeroutput["faults_rows"] = {name: dataclasses.asdict(row) for name, row in faults._ROWS.items()}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    faults.merge(getattr(node, "workeroutput", {}).get("faults_rows", {}))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    faults.summary(terminalreporter)
