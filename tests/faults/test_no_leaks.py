"""Secrets and members' words never reach a log (issue 11, item 2).

At each log level, `servicebot` runs as a process through what goes wrong and what goes right: Telegram
rejecting the token (getMe 401) for `run`, `post` and `discover`; a malformed token; Telegram unreachable;
webhook set-up with a secret and an update through it; a stretch of polling traffic (a question in the
group, a private question, group chatter, a staff answer, /mytickets). Then stdout, stderr and every file
under the test's directory (logs, config, the data directory) are searched for the token (whole and its
secret half), the webhook secret and the members' texts:

- the token and the secret: nowhere at all;
- group chatter: nowhere at all (it is never stored either);
- questions and answers: in no output (the store keeps the tickets, that is its job).

A failure that needs a person (token rejected, Telegram unreachable) is one line on stderr, no traceback.

The traffic runs at DEBUG, where everything is printed: what a higher level prints is a subset of it (the
redaction and the caps on PTB's and httpx's loggers do not depend on the level), so WARNING and ERROR are
covered by it. The failures, whose one-line form is the point, run again at INFO, the default (each
process start costs seconds on a busy machine).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from sandbox import GROUP_ID, STAFF_CHAT_ID
from sandbox.server import SandboxThread
from tests.chat.harness import ROOT, SHANGHAI, TOKEN, FeedServer
from tests.chat.test_process import _free_port, bot_messages, wait_until, write_config

from .conftest import Figures

SECRET = "Wh-secret_4f9c2d7e8a1b"
MALFORMED = "not a token: Zx9-kq"
QUESTION = "楼道的声控灯坏了两个星期，物业说要业主自己报修，请问找哪个部门"
PRIVATE_Q = "我想问一下新生儿医保怎么在容东办理，需要带出生证明吗"
CHATTER = "今晚谁有空一起去金湖公园打羽毛球"
ANSWER = "请拨打片区物业热线登记，工单三个工作日内处理"
MEMBER, STAFF = 101, 201


def _cli(config: Path, *args: str, token: str = TOKEN, env: dict[str, str] | None = None,
         level: str = "INFO", timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "--log-level", level, *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "BOT_TOKEN": token, **(env or {})},
    )


class Outputs:
    """Everything the processes printed, and a check that the failures were one line each."""

    def __init__(self) -> None:
        self.text: list[str] = []

    def add(self, done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
        self.text += [done.stdout, done.stderr]
        return done

    def one_line_failure(self, done: subprocess.CompletedProcess[str], words: str) -> None:
        self.add(done)
        assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
        assert "Traceback" not in done.stderr, done.stderr[-3000:]
        lines = [ln for ln in done.stderr.splitlines() if words in ln]
        assert len(lines) == 1, done.stderr[-3000:]


def _running(config: Path, log: Path, level: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(config), "--log-level", level, "run"],
        cwd=ROOT, env={**os.environ, "BOT_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1", **(env or {})},
        stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def _wait_bot(sb: SandboxThread, chat: int, pred: Callable[[str], bool], what: str) -> None:
    wait_until(lambda: any(pred(m["plain_text"]) for m in bot_messages(sb, chat)), timeout=60, what=what)


@pytest.mark.parametrize("level", ["DEBUG", "INFO"])
def test_no_token_secret_or_member_text_in_any_output_or_file(tmp_path: Path, level: str, figures: Figures) -> None:
    out = Outputs()
    with figures.run(trace_memory=False) as run, SandboxThread(flood=False) as sb, \
            FeedServer(datetime.now(SHANGHAI).date()) as feeds:
        config = write_config(tmp_path, sb, feeds)
        # --- Telegram rejects the token (getMe 401): run, post, discover
        for args in (("run",), ("post", "morning"), ("discover", "--seconds", "1")):
            sb.inject_fault("getMe", 401)
            out.one_line_failure(_cli(config, *args, level=level), "rejected the bot token")
            run.faults += 1
        # --- a malformed token
        out.one_line_failure(_cli(config, "run", token=MALFORMED, level=level), "rejected the bot token")
        run.faults += 1
        # --- Telegram unreachable
        (tmp_path / "dead").mkdir()
        (tmp_path / "hook").mkdir()
        dead = write_config(tmp_path / "dead", sb, feeds, **{"telegram.base_url": f"http://127.0.0.1:{_free_port()}/bot"})
        out.one_line_failure(_cli(dead, "run", level=level), "cannot reach Telegram")
        run.faults += 1
        if level != "DEBUG":
            _check(tmp_path, out, traffic=False)
            return
        # --- a stretch of polling traffic
        log = tmp_path / "polling.log"
        proc = _running(config, log, level)
        try:
            sb.send_user_message(MEMBER, GROUP_ID, CHATTER)
            sb.send_user_message(MEMBER, GROUP_ID, f"@servicebot {QUESTION}")
            _wait_bot(sb, STAFF_CHAT_ID, lambda t: t.startswith("#1 "), "the card of #1")
            sb.send_user_message(MEMBER, None, PRIVATE_Q)
            _wait_bot(sb, STAFF_CHAT_ID, lambda t: t.startswith("#2 "), "the card of #2")
            card = next(m for m in bot_messages(sb, STAFF_CHAT_ID) if m["plain_text"].startswith("#1 "))
            sb.send_user_message(STAFF, STAFF_CHAT_ID, ANSWER, reply_to_message_id=card["message_id"])
            _wait_bot(sb, GROUP_ID, lambda t: ANSWER in t, "the answer in the group")
            sb.send_user_message(MEMBER, None, "/mytickets")
            _wait_bot(sb, MEMBER, lambda t: "#1" in t and "#2" in t, "/mytickets")
        finally:
            _stop(proc)
        # --- webhook set-up, an update through it
        port = _free_port()
        hooked = write_config(
            tmp_path / "hook", sb, feeds,
            **{"telegram.mode": "webhook",
               "telegram.webhook": {"listen": "127.0.0.1", "port": port, "url_path": "hook",
                                    "public_url": f"http://127.0.0.1:{port}/hook"}},
        )
        proc = _running(hooked, tmp_path / "webhook.log", level, env={"WEBHOOK_SECRET": SECRET})
        try:
            wait_until(lambda: any(c["method"] == "setWebhook" for c in sb.calls()), timeout=60, what="setWebhook")
            sb.send_user_message(MEMBER, GROUP_ID, CHATTER + "！")
            sb.send_user_message(MEMBER, GROUP_ID, f"@servicebot {QUESTION}？")
            _wait_bot(sb, STAFF_CHAT_ID, lambda t: t.startswith("#1 ") and t.count(QUESTION) >= 1 and "？" in t,
                      "the card through the webhook")
        finally:
            _stop(proc)
    # the level really was DEBUG: our own loggers printed their DEBUG lines
    assert " DEBUG " in (tmp_path / "polling.log").read_text(errors="replace")
    _check(tmp_path, out, traffic=True)


def _check(tmp_path: Path, out: Outputs, *, traffic: bool) -> None:
    never = {"token": TOKEN, "token's secret half": TOKEN.split(":")[1], "malformed token": MALFORMED,
             "webhook secret": SECRET, "chatter": CHATTER}
    outputs = {"stdout/stderr": "\n".join(out.text)}
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    for path in files:
        outputs[str(path.relative_to(tmp_path))] = path.read_bytes().decode("utf-8", errors="replace")
    for where, text in outputs.items():
        for what, value in never.items():
            assert value not in text, f"the {what} is in {where}"
        if where == "stdout/stderr" or (where.endswith(".log") and not Path(where).name.startswith("journal")):
            for what, value in {"question": QUESTION, "private question": PRIVATE_Q, "answer": ANSWER}.items():
                assert value not in text, f"the {what} is in {where}"
    if traffic:
        assert any(QUESTION in t for where, t in outputs.items() if "data" in where), "the ticket was not stored"
