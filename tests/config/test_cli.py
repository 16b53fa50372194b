"""The `servicebot` command line as users type it: real subprocesses on a real data directory."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bot.chat.views.stats import format_stats
from bot.config import parse_config
from bot.editorial.queue import EditorialQueue
from bot.editorial.rules import EditorialPolicy, approve, create_item
from bot.store import Store
from bot.store.queue import QueueRepository
from bot.wiring import desk_for
from tests.chat.harness import FeedServer, config_data

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


def test_post_on_a_locked_data_directory_with_no_bot_listening_is_refused_cleanly(tmp_path: Path) -> None:
    config = shipped_config(tmp_path)
    env = {**os.environ, "BOT_TOKEN": "123456:TEST-token"}
    with Store.open(tmp_path / "data"):  # the lock of a bot that does not listen (bot/chat/control.py)
        post = subprocess.run(
            [sys.executable, "-m", "bot", "post", "morning", "--config", str(config)],
            capture_output=True, text=True, cwd=ROOT, timeout=60, env=env,
        )
    assert post.returncode == 2, post.stderr
    assert "Traceback" not in post.stderr
    assert f"in use by process {os.getpid()}" in post.stderr
    assert "stop the bot first" in post.stderr
    assert len(post.stderr.strip().splitlines()) == 1


def test_preview_shows_the_running_bots_approved_items_reading_its_store_read_only(tmp_path: Path) -> None:
    day = date(2027, 3, 10)  # no file in content/queue is due then: what shows comes from the store
    now = datetime(2027, 3, 9, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with FeedServer(day) as feeds:
        data = config_data(tmp_path / "data", "http://127.0.0.1:9/bot", feeds.url)
        path = tmp_path / "config.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        config = parse_config(data)
        policy = EditorialPolicy.from_config(config)
        editor = config.people.editors[0].id
        with Store.open(config.data_dir) as store:  # the running bot: it holds the lock throughout
            repo = EditorialQueue(QueueRepository(store))
            for html in ("<b>雄安图书馆寒假开放时间调整</b>", "<b>容东片区供暖报修电话</b>", "<b>草稿不发</b>"):
                item = repo.add(lambda n, html=html: create_item(
                    policy, number=n, actor=editor, digest="morning", section="services", html=html,
                    first_date=day, now=now))
                if "草稿" not in html:
                    repo.save(approve(policy, item, editor, now))
            before = {p.name: p.read_bytes() for p in config.data_dir.iterdir()}
            preview = servicebot("preview", "morning", "--date", day.isoformat(), "--config", str(path))
            after = {p.name: p.read_bytes() for p in config.data_dir.iterdir()}
    assert preview.returncode == 0, preview.stderr
    assert "雄安图书馆寒假开放时间调整" in preview.stdout and "容东片区供暖报修电话" in preview.stdout
    assert "草稿不发" not in preview.stdout, "a draft is not in a digest"
    assert "今日无更新" not in preview.stdout
    assert after == before, "preview wrote to the bot's data directory"


def test_preview_says_what_it_could_not_read_instead_of_previewing_an_empty_store(tmp_path: Path) -> None:
    config = shipped_config(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "journal-000000000001.log").write_bytes(b"")  # nothing intact in it
    preview = servicebot("preview", "morning", "--config", str(config))
    assert preview.returncode == 2
    assert "preview: cannot read the store" in preview.stderr and str(tmp_path / "data") in preview.stderr
    assert "----- part" not in preview.stdout


def check_on(day: str, config: Path) -> subprocess.CompletedProcess[str]:
    """`servicebot check` in a process whose clock says ``day`` (the calendar warning depends on it)."""
    code = (
        "import sys, datetime as dt\n"
        "import bot.cli as cli\n"
        "class Fixed(dt.datetime):\n"
        "    @classmethod\n"
        "    def now(cls, tz=None):\n"
        f"        return dt.datetime.fromisoformat({day!r}).replace(tzinfo=tz)\n"
        "cli.datetime = Fixed\n"
        "sys.exit(cli.main(sys.argv[1:]))\n"
    )
    return subprocess.run([sys.executable, "-c", code, "check", "--config", str(config)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_check_in_december_warns_about_next_years_holiday_schedule_and_exits_0(tmp_path: Path) -> None:
    config = shipped_config(tmp_path)
    december = check_on("2026-12-15T10:00", config)  # the shipped config on the day the issue saw exit 1
    assert december.returncode == 0, december.stdout + december.stderr
    assert "content problem" not in december.stdout
    assert december.stdout.rstrip().splitlines()[-1].startswith("config OK")
    later = check_on("2040-12-15T10:00", config)  # no calendar knows 2040 and 2041: the warning is shown
    assert later.returncode == 0, later.stdout + later.stderr
    warned = [line for line in later.stdout.splitlines() if "2041" in line]
    assert warned and all(line.strip().startswith("warning:") for line in warned)
    assert "all files OK" in later.stdout and "config OK (2 warning(s))" in later.stdout


def test_rules_run_enforces_at_start_are_checks_first_with_the_key_path(tmp_path: Path) -> None:
    env = {**os.environ, "BOT_TOKEN": "123456:TEST-token"}
    overlap = shipped_config(tmp_path, **{"service.hours": ["09:00-12:00", "11:30-13:00"],
                                          "telegram.base_url": "http://127.0.0.1:9/bot"})
    line = f"{overlap}: service.hours: expected periods that do not overlap, got 09:00-12:00 and 11:30-13:00\n"
    checked = servicebot("check", "--config", str(overlap))
    assert (checked.returncode, checked.stderr) == (2, line)
    assert "config OK" not in checked.stdout
    ran = subprocess.run([sys.executable, "-m", "bot", "run", "--config", str(overlap)],
                         capture_output=True, text=True, cwd=ROOT, timeout=60, env=env)
    assert (ran.returncode, ran.stderr) == (2, line), "run refuses it the same way, before starting"
    (tmp_path / "config.yaml").unlink()
    empty = shipped_config(tmp_path, **{"service.hours": []})
    checked = servicebot("check", "--config", str(empty))
    assert checked.returncode == 2 and f"{empty}: service.hours: expected at least one period" in checked.stderr
    (tmp_path / "config.yaml").unlink()
    hook = shipped_config(tmp_path, **{"telegram.mode": "webhook"})
    checked = servicebot("check", "--config", str(hook))
    assert checked.returncode == 2
    assert checked.stderr.startswith(f"{hook}: telegram.webhook.public_url: expected the HTTPS URL")


def test_stats_prints_the_desks_figures_for_a_period_as_slash_stats_does_while_the_bot_runs(
    tmp_path: Path,
) -> None:
    tz = ZoneInfo("Asia/Shanghai")
    path = shipped_config(tmp_path)
    config = parse_config(yaml.safe_load(path.read_text(encoding="utf-8")))
    staff = config.people.staff[0].id
    with Store.open(config.data_dir) as store:  # the running bot: it holds the lock throughout
        desk = desk_for(config, store)
        at = datetime(2026, 11, 24, 10, 0, tzinfo=tz)  # a Tuesday, in service hours
        answered = desk.open_ticket(chat_id=-1001001, message_id=1, asker_id=105, asker_name="周小满",
                                    text="孩子转学到雄安需要哪些材料？", now=at).ticket
        desk.claim(answered.number, by=staff, now=at + timedelta(minutes=5))
        desk.answer(answered.number, by=staff, text="请带户口本和学籍证明。", now=at + timedelta(minutes=20))
        desk.close(answered.number, by=staff, now=at + timedelta(minutes=30))
        desk.open_ticket(chat_id=-1001001, message_id=2, asker_id=106, asker_name="吴大伟",
                         text="公积金怎么提取？", now=at + timedelta(days=1))
        desk.open_ticket(chat_id=-1001001, message_id=3, asker_id=107, asker_name="郑一",  # before the period
                         text="社保卡在哪里办？", now=datetime(2026, 11, 20, 10, 0, tzinfo=tz))
        recent = datetime.now(tz) - timedelta(hours=1)
        desk.open_ticket(chat_id=-1001001, message_id=4, asker_id=108, asker_name="王二",
                         text="幼儿园怎么报名？", now=recent)

        period = servicebot("stats", "--from", "2026-11-23", "--to", "2026-11-27", "--config", str(path))
        last_days = servicebot("stats", "--days", "2", "--config", str(path))
        expected_period = format_stats(config.language, desk.library, desk.stats(
            datetime(2026, 11, 28, tzinfo=tz), since=datetime(2026, 11, 23, tzinfo=tz)))
        bad = servicebot("stats", "--to", "2026-11-27", "--config", str(path))
    assert period.returncode == 0, period.stderr
    assert period.stdout.splitlines()[0] == "2026-11-23 至 2026-11-27：共 2 件（未结 1 · 已结 1）"
    assert "首次答复中位数 20 分钟 · 办结中位数 30 分钟（服务时间）" in period.stdout
    assert period.stdout == expected_period + "\n", "the same text /stats builds from the same figures"
    assert last_days.returncode == 0, last_days.stderr
    assert last_days.stdout.startswith("近 2 天：共 1 件（未结 1 · 已结 0）")
    assert (bad.returncode, bad.stderr) == (2, "--from: required with --to (the first day of the period, YYYY-MM-DD)\n")


def test_check_shows_each_sources_health_while_the_bot_runs(tmp_path: Path) -> None:
    from bot.store.health import SourceHealth

    config = shipped_config(tmp_path)
    at = datetime(2026, 11, 30, 7, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    with Store.open(tmp_path / "data") as store:  # the running bot: it holds the lock throughout
        SourceHealth(store).record_failure("jobs-api", "HTTP 503", at=at)
        before = {p.name: p.read_bytes() for p in (tmp_path / "data").iterdir()}
        checked = servicebot("check", "--config", str(config))
        after = {p.name: p.read_bytes() for p in (tmp_path / "data").iterdir()}
    assert checked.returncode in (0, 1), checked.stderr
    assert "source health not shown" not in checked.stdout
    jobs = next(line for line in checked.stdout.splitlines() if line.strip().startswith("jobs-api "))
    assert "2026-11-30T07:30 HTTP 503" in jobs
    assert after == before, "check wrote to the bot's data directory"
    # the board, as /health shows it in the ops chat: failing since when and why, never fetched
    # (the year is shown only when it is not the current one)
    assert re.search(r"❌ 雄安人才网 \(jobs-api\)：失败 1 次，自 (2026-)?11-30 07:30 起：HTTP 503", checked.stdout)
    assert "… weather：尚未获取" in checked.stdout


def test_check_lists_the_editorial_marks_per_file_and_still_exits_0(tmp_path: Path) -> None:
    """Issue 14 item 2: members never see "（待本地核实）"; `check` tells the service team where they are."""
    checked = servicebot("check", "--config", str(shipped_config(tmp_path)))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    out = checked.stdout
    assert "Editorial marks (待本地核实 etc.: never shown to members; 42 to clear)" in out
    assert f"  {ROOT / 'content' / 'faq' / 'education.md'}: 5" in out
    assert f"  {ROOT / 'content' / 'faq' / 'talent-card.md'}: 4" in out
