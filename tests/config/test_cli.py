"""The `servicebot` command line as users type it: real subprocesses on a real data directory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from bot.store import Store

ROOT = Path(__file__).resolve().parents[2]


def shipped_config(tmp_path: Path, **changes: Any) -> Path:
    """config.yaml as shipped, with its data in ``tmp_path`` and ``changes`` (dotted keys) applied."""
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["data_dir"] = str(tmp_path / "data")
    data["content_dir"] = str(ROOT / "content")
    for dotted, value in changes.items():
        node = data
        *parents, last = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def servicebot(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout
    )


def test_global_options_are_accepted_after_the_subcommand_too(tmp_path: Path) -> None:
    config = shipped_config(tmp_path)
    after = servicebot("tickets", "--config", str(config), "--json", "--log-level", "WARNING")
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == "[]"
    before = servicebot("--config", str(config), "--log-level", "WARNING", "tickets", "--json")
    assert before.returncode == 0, before.stderr
    # the file named after the subcommand is the one read (here: one with a typo)
    broken = tmp_path / "x.yaml"
    broken.write_text(config.read_text(encoding="utf-8") + "langauge: en\n", encoding="utf-8")
    checked = servicebot("check", "--config", str(broken))
    assert checked.returncode == 2
    assert f"{broken}: langauge: unknown key" in checked.stderr
    assert "unrecognized arguments" not in checked.stderr


def test_demo_on_a_taken_port_says_so_in_one_line_and_make_demo_passes_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        demo = servicebot("demo", "--port", str(port))
        assert demo.returncode == 2
        assert demo.stderr == f"port {port} is in use; use --port N or make demo PORT=N\n"
        sandbox = servicebot("sandbox", "--port", str(port))
        assert (sandbox.returncode, sandbox.stderr) == (2, f"port {port} is in use; use --port N\n")
        # make demo PORT=N runs the same command on that port (-o: never reinstall from inside a test)
        made = subprocess.run(
            ["make", "-o", ".venv/.installed", "demo", f"PORT={port}", f"BIN={Path(sys.executable).parent}"],
            capture_output=True, text=True, cwd=ROOT, timeout=60,
        )
        assert made.returncode != 0
        assert f"port {port} is in use; use --port N or make demo PORT=N\n" in made.stderr
        assert "Traceback" not in made.stderr


def test_post_while_the_bot_owns_the_data_directory_is_refused_cleanly(tmp_path: Path) -> None:
    config = shipped_config(tmp_path)
    env = {**os.environ, "BOT_TOKEN": "123456:TEST-token"}
    with Store.open(tmp_path / "data"):  # the lock the running bot holds
        post = subprocess.run(
            [sys.executable, "-m", "bot", "post", "morning", "--config", str(config)],
            capture_output=True, text=True, cwd=ROOT, timeout=60, env=env,
        )
    assert post.returncode == 2, post.stderr
    assert "Traceback" not in post.stderr
    assert f"in use by process {os.getpid()}" in post.stderr
    assert "stop the bot first" in post.stderr
    assert len(post.stderr.strip().splitlines()) == 1
