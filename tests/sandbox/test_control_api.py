"""The control API over HTTP, as scripts and docs/sandbox.md use it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
import requests
from aiohttp import ClientSession

from sandbox import GROUP_ID, STAFF_CHAT_ID, Sandbox


@pytest.fixture
async def http(sandbox: Sandbox) -> AsyncIterator[ClientSession]:
    async with ClientSession(base_url=sandbox.url) as s:
        yield s



async def test_user_message_then_bot_reply_then_listing(http: ClientSession) -> None:
    async with http.post("/sandbox/users/101/messages", json={"chat_id": GROUP_ID, "text": "@servicebot 公积金怎么提取"}) as r:
        assert r.status == 200
        msg = await r.json()
    assert msg["from"]["username"] == "guochao" and msg["entities"] == [{"offset": 0, "length": 11, "type": "mention"}]
    # the bot answers over the Bot API with a form body, as python-telegram-bot sends it
    async with http.post("/bot123:ANY-TOKEN/sendMessage", data={
            "chat_id": str(GROUP_ID), "text": "<i>已收到</i>", "parse_mode": "HTML",
            "reply_parameters": f'{{"message_id": {msg["message_id"]}}}',
            "reply_markup": '{"inline_keyboard": [[{"text": "好评", "callback_data": "rate:5"}]]}'}) as r:
        body = await r.json()
        assert r.status == 200 and body["ok"] is True
        assert body["result"]["reply_to_message"]["message_id"] == msg["message_id"]
    async with http.get(f"/sandbox/chats/{GROUP_ID}/messages") as r:
        records = await r.json()
    assert [(m["sender_id"], m["text"], m["parse_mode"]) for m in records] == [
        (101, "@servicebot 公积金怎么提取", None), (9000, "<i>已收到</i>", "HTML")]
    assert records[1]["reply_to_message_id"] == msg["message_id"]
    assert records[1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "rate:5"
    async with http.post("/sandbox/users/101/callbacks", json={
            "chat_id": GROUP_ID, "message_id": records[1]["message_id"], "data": "rate:5"}) as r:
        assert r.status == 200 and (await r.json())["callback_query_id"]
    async with http.get("/bot123:T/getUpdates", params={"timeout": "0"}) as r:
        kinds = [next(k for k in u if k != "update_id") for u in (await r.json())["result"]]
    assert kinds == ["message", "callback_query"]


async def test_bot_api_errors_have_telegrams_status_and_shape(http: ClientSession) -> None:
    async with http.get("/bot123:T/sendMessage", params={"chat_id": "-42", "text": "x"}) as r:
        assert r.status == 400
        assert await r.json() == {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
    async with http.post("/sandbox/faults", json={"method": "sendMessage", "error_code": 429, "retry_after": 3}) as r:
        assert r.status == 200
    async with http.post("/bot123:T/sendMessage", json={"chat_id": GROUP_ID, "text": "x"}) as r:
        assert r.status == 429
        assert await r.json() == {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 3",
                                  "parameters": {"retry_after": 3}}
    async with http.get("/sandbox/calls") as r:
        calls = await r.json()
    assert [(c["method"], c["ok"], c.get("error_code")) for c in calls] == [
        ("sendMessage", False, 400), ("sendMessage", False, 429)]


async def test_control_errors_say_what_is_wrong(http: ClientSession) -> None:
    async with http.post("/sandbox/users/999/messages", json={"chat_id": GROUP_ID, "text": "x"}) as r:
        assert r.status == 404 and "unknown user 999" in (await r.json())["error"]
    async with http.post("/sandbox/users/201/messages", json={"chat_id": GROUP_ID, "text": "x"}) as r:
        assert r.status == 400 and "not a member" in (await r.json())["error"]
    async with http.post("/sandbox/users/101/messages", json={"chat_id": "abc", "text": "x"}) as r:
        assert r.status == 400 and "chat_id: expected an integer" in (await r.json())["error"]
    async with http.post("/sandbox/users/101/messages", json={"chat_id": GROUP_ID, "txt": "x"}) as r:
        assert r.status == 400 and "unknown field(s): txt" in (await r.json())["error"]


async def test_chats_reset_and_migrate(http: ClientSession, sandbox: Sandbox) -> None:
    async with http.get("/sandbox/chats") as r:
        chats = {c["id"]: c for c in await r.json()}
    assert chats[GROUP_ID]["title"] == "雄安-疏解之友" and chats[STAFF_CHAT_ID]["title"] == "服务中心·工单"
    assert len(chats[GROUP_ID]["members"]) >= 12
    sandbox.send_user_message(101, GROUP_ID, "hi")
    async with http.post("/sandbox/reset") as r:
        assert r.status == 200
    assert sandbox.messages(GROUP_ID) == []
    async with http.post(f"/sandbox/chats/{GROUP_ID}/migrate") as r:
        assert r.status == 400 and "not a basic group" in (await r.json())["error"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_python_m_sandbox_serves_until_terminated() -> None:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", str(port), "--no-flood"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert f"127.0.0.1:{port}" in line
        me = requests.get(f"http://127.0.0.1:{port}/bot123:X/getMe", timeout=5).json()
        assert me["result"]["username"] == "servicebot"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_python_m_sandbox_reports_a_bad_world(tmp_path: Any) -> None:
    bad = tmp_path / "world.yaml"
    bad.write_text("bot: {id: 1, username: b, first_name: B}\nchats: [{id: -1, type: grup, title: x}]\n")
    done = subprocess.run([sys.executable, "-m", "sandbox", "--world", str(bad)], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 2
    assert "chats[0].type: expected one of private|group|supergroup|channel, got 'grup'" in done.stderr
    assert "Traceback" not in done.stderr




async def test_calls_log_of_an_upload_is_json(http: ClientSession) -> None:
    from aiohttp import FormData
    form = FormData()
    form.add_field("chat_id", str(GROUP_ID))
    form.add_field("photo", b"\x89PNG", filename="w.png", content_type="image/png")
    async with http.post("/bot123:T/sendPhoto", data=form) as r:
        assert r.status == 200 and (await r.json())["result"]["photo"]
    async with http.get("/sandbox/calls") as r:
        assert r.status == 200
        assert (await r.json())[0]["params"]["photo"] == "<4 bytes>"
