"""The `servicebot` commands: parse arguments, load config, call in. A leaf: nothing imports it."""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from bot.config import Config, ConfigError, GroupConfig, bot_token, load_config, store_dsn


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="servicebot", description="The service desk and morning paper of a resident service group."
    )
    parser.add_argument("--config", default="config.yaml", help="path to config.yaml (default: %(default)s)")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default: %(default)s)")
    # The same global options after the subcommand (`servicebot check --config x.yaml`), as users type them.
    # SUPPRESS: a subcommand that is not given one leaves the value parsed before it (or the default) alone.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS, help="path to config.yaml (default: config.yaml)")
    common.add_argument("--log-level", default=argparse.SUPPRESS, help="DEBUG, INFO, WARNING (default: INFO)")
    sub = _Subcommands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"), common)
    sub.add_parser("check", help="validate config and content; print chats, people and sources")
    sub.add_parser("init", help="start a new, empty store in data_dir (refused if it holds one already)")
    run = sub.add_parser("run", help="run the bot (long polling, or webhook by config or --webhook)")
    run.add_argument("--webhook", action="store_true", help="webhook mode regardless of telegram.mode")
    demo = sub.add_parser("demo", help="the sandbox + sample feeds + the bot wired to them, offline")
    demo.add_argument("--port", type=int, default=8080, help="sandbox port (default: %(default)s)")
    sbx = sub.add_parser("sandbox", help="serve only the offline Telegram (Bot API, control API, web chat)")
    sbx.add_argument("--port", type=int, default=8081, help="port on 127.0.0.1 (default: %(default)s)")
    sbx.add_argument("--world", default=None, help="world YAML (default: the demo world)")
    sbx.add_argument("--no-flood", action="store_true", help="turn flood control off")
    for name, what in (("preview", "print a digest exactly as it would be sent, without sending"),
                       ("post", "send a digest now, through the delivery ledger")):
        p = sub.add_parser(name, help=what)
        p.add_argument("slot", choices=["morning", "tea"])
        p.add_argument("--group", default=None, help="a member group's name (default: the first / all)")
        if name == "preview":
            p.add_argument("--date", default=None, help="YYYY-MM-DD (default: today)")
        else:
            p.add_argument("--force", action="store_true", help="send again even if already sent today")
    tk = sub.add_parser("tickets", help="list tickets (the bot must be stopped: one process per data dir)")
    tk.add_argument("--status", choices=["open", "closed", "all"], default="open")
    tk.add_argument("--json", action="store_true", help="JSON instead of one line per ticket")
    st = sub.add_parser("stats", help="the desk's figures for a period, as /stats gives them (also while the bot runs)")
    st.add_argument("--days", type=int, default=None, help="the last N days up to now (default: 7, as /stats)")
    st.add_argument("--from", dest="date_from", default=None, metavar="D", help="first day, YYYY-MM-DD")
    st.add_argument("--to", dest="date_to", default=None, metavar="D", help="last day, YYYY-MM-DD (default: today)")
    ex = sub.add_parser("export", help="write everything stored about a member as JSON")
    ex.add_argument("--user", type=int, required=True, help="the member's Telegram user id")
    ex.add_argument("--out", default="-", help="file to write (default: standard output)")
    fg = sub.add_parser("forget", help="erase a member's personal data, keeping anonymous counts")
    fg.add_argument("--user", type=int, required=True, help="the member's Telegram user id")
    sub.add_parser("health", help="is the running bot alive and working? exit 0 (ok) or 1 (what is wrong)")
    disc = sub.add_parser("discover", help="print the ids of chats and users that message the bot")
    disc.add_argument("--seconds", type=float, default=120, help="how long to listen (default: %(default)s)")
    from bot.sources_cmd import add_sources_parser
    from bot.store_cmd import add_store_parser

    add_sources_parser(sub)
    add_store_parser(sub)
    return parser


class _Subcommands:
    """``add_subparsers()`` whose every subcommand also takes the global options."""

    def __init__(self, action: Any, common: argparse.ArgumentParser) -> None:
        self._action = action
        self._common = common

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = self._action.add_parser(name, parents=[self._common], **kwargs)
        return parser


def _print_table(title: str, rows: list[tuple[str, ...]]) -> None:
    print(f"\n{title}")
    if not rows:
        print("  (none)")
        return
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def cmd_check(config: Config, args: argparse.Namespace) -> int:
    """Validate config (already done by loading it) and print what the bot will work with."""
    chats: list[tuple[str, ...]] = [("role", "id", "name")]
    for g in config.chats.groups:
        chats.append(("member group", str(g.id), f"{g.name} {g.title}".strip()))
    chats += [
        ("staff chat", str(config.chats.staff), ""),
        ("editors chat", str(config.chats.editors), ""),
        ("ops chat", str(config.chats.ops), ""),
    ]
    _print_table("Chats", chats)
    people: list[tuple[str, ...]] = [("role", "id", "name", "topics")]
    for s in config.people.staff:
        people.append(("supervisor" if s.supervisor else "staff", str(s.id), s.name, ",".join(s.topics)))
    for e in config.people.editors:
        people.append(("editor", str(e.id), e.name, ""))
    for a in config.people.admins:
        people.append(("admin", str(a), "", ""))
    _print_table("People", people)
    health = _source_health(config)
    sources: list[tuple[str, ...]] = [("name", "kind", "last ok", "last failure", "failures", "url")]
    for src in config.sources:
        st = health.get(src.name)
        sources.append(
            (
                src.name,
                src.kind,
                (st.last_ok_at or "-")[:16] if st else "never fetched",
                f"{(st.last_fail_at or '')[:16]} {st.last_error or ''}".strip() or "-" if st else "-",
                str(st.consecutive_failures) if st else "0",
                src.url,
            )
        )
    _print_table("Sources", sources)
    if health:
        from bot.sourceboard import board_lines

        print()
        for line in board_lines(config, health, datetime.now(config.tz)):
            print(f"  {line}")
    from bot.checks import content_problems

    problems = content_problems(config)
    warnings = _calendar_warnings(config)
    print(f"\nContent ({config.content_dir})")
    for line in problems:
        print(f"  {line}")
    if not problems:
        print("  all files OK")
    for line in warnings:
        print(f"  warning: {line}")
    _print_marks(config)
    if problems:
        print(f"\nconfig OK; {len(problems)} content problem(s): those files are skipped when the bot runs")
        return 1
    print(f"\nconfig OK{f' ({len(warnings)} warning(s))' if warnings else ''}")
    return 0


def _print_marks(config: Config) -> None:
    """Editorial marks per file ("（待本地核实）"): hidden from members, listed here for the service team."""
    from bot.editorial.check import editorial_marks

    found = editorial_marks(config.content_dir)
    if not found:
        return
    print(f"\nEditorial marks (待本地核实 etc.: never shown to members; {sum(n for _, n in found)} to clear)")
    for path, n in found:
        print(f"  {path}: {n}")


def _calendar_warnings(config: Config) -> list[str]:
    """A year without its official make-up days skips nothing (statutory holidays by rule): a warning."""
    from bot.workcal import WorkCalendar

    if config.service.calendar != "chinese":
        return []
    calendar, _problems = WorkCalendar.from_dir(config.content_dir / "calendar")  # problems: bot.checks
    return [
        f"{config.content_dir / 'calendar'}: {calendar.coverage(year).describe()}"
        for year in calendar.missing_years(datetime.now(config.tz).date())
    ]


def _source_health(config: Config) -> dict[str, Any]:
    """Each source's last fetch and status from the store, read-only (also while the bot runs), if it has run."""
    from bot.store import StoreError
    from bot.store.configured import has_store, open_store
    from bot.store.health import SourceHealth

    if not has_store(config):
        return {}
    try:
        with open_store(config, read_only=True) as store:
            return {st.source: st for st in SourceHealth(store).all()}
    except StoreError as exc:
        print(f"(source health not shown: {exc})")
        return {}


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    """Run the bot until SIGINT/SIGTERM; exit 1 with one line on what retrying cannot heal (a rejected token)."""
    from bot.chat import control
    from bot.chat.app import build_application
    from bot.logs import add_secret, setup_logging
    from bot.store import StoreError
    from bot.store.configured import open_store, where

    token = bot_token(config)
    setup_logging(args.log_level, token)
    webhook = args.webhook or config.telegram.mode == "webhook"
    hook = config.telegram.webhook
    if webhook:
        # aiohttp (~8 MB) only for webhook mode: a polling bot never loads it
        from bot.chat.webhook import WebhookSecretError, serve_webhook, webhook_secret

        if not hook.public_url:
            print("config.yaml: telegram.webhook.public_url: expected the HTTPS URL Telegram posts to", file=sys.stderr)
            return 2
        configured = os.environ.get(hook.secret_token_env, "").strip() or None
        if configured is None and config.store.kind == "postgres":
            # every process on the database takes webhook requests (a standby too, bot/chat/standby.py), and
            # Telegram sends the active one's secret to whichever the load balancer picks: one secret for all
            print(f"environment: {hook.secret_token_env}: not set; in webhook mode on PostgreSQL every process "
                  "behind the load balancer checks Telegram's requests, so they must share one secret: set the "
                  f"same {hook.secret_token_env} (1-256 characters from A-Z a-z 0-9 _ -, e.g. the output of "
                  "`openssl rand -hex 32`) for every servicebot on this database", file=sys.stderr)
            return 2
        try:  # there is no unauthenticated webhook mode: without a configured secret, a random one
            secret, generated = webhook_secret(configured)
        except WebhookSecretError as exc:
            print(f"environment: {hook.secret_token_env}: {exc}", file=sys.stderr)
            return 2
        add_secret(secret)
        if generated:
            import logging

            logging.getLogger("bot.cli").info(
                "webhook: %s is not set; a random secret was made for this run and given to setWebhook",
                hook.secret_token_env,
            )
    def serve(app: Any, on_listening: Any = None) -> None:
        control.install(app, config.data_dir)  # `servicebot post` hands its post to this process
        if webhook:
            asyncio.run(serve_webhook(app, listen=hook.listen, port=hook.port, url_path=hook.url_path,
                                      public_url=hook.public_url or "", secret=secret,
                                      reuse_port=config.store.kind == "postgres", on_listening=on_listening))
        else:
            _run_polling(app)

    if config.store.kind == "postgres":  # a hot standby until this process holds the lease (bot/chat/standby.py)
        from bot.chat.standby import run_on_postgres

        dsn = store_dsn(config)  # ConfigError (exit 2, one line) when the variable is not set
        add_secret(dsn)
        endpoint = ({"listen": hook.listen, "port": hook.port, "url_path": hook.url_path, "secret": secret}
                    if webhook else None)
        return run_on_postgres(config, token, dsn, serve, webhook=endpoint)
    try:
        store = open_store(config)  # store.kind: the journal in data_dir, or PostgreSQL (bot/store/configured.py)
    except StoreError as exc:
        print(f"{where(config)}: {exc}", file=sys.stderr)
        return 2
    with store:
        for line in store.recovery:
            print(f"store: {line}", file=sys.stderr)
        app = build_application(config, token, store=store)
        serve(app)
        fatal = getattr(app.bot, "fatal", None)
        if fatal:
            print(f"servicebot run: {fatal}", file=sys.stderr)
            return 1
    return 0


#: seconds from a stop signal to a hard exit when the stop has not ended the process by then (issue 11:
#: SIGTERM ends within 10 s whatever the backlog; the inbox's own grace for a handler in progress is 4 s)
STOP_DEADLINE = 8.0


def _run_polling(app: Any) -> None:
    """``app.run_polling()`` with our own stop signals, so that a stop asked for stays a stop.

    python-telegram-bot's handler raises SystemExit in the event loop (``Application._raise_system_exit``);
    when that cuts off a request of the start (the updater's deleteWebhook while Telegram is slow), the
    request's task fails on its way out with a NetworkError that ``run_polling`` raises: the run would end
    with status 1 and "cannot reach Telegram" after systemd asked it to stop. The same SystemExit here,
    and an error after a stop signal is logged as what the stop cut off, not reported as a failure.

    A stop that cuts the start short can also leave python-telegram-bot's shutdown half done (seen once
    under load: a RuntimeError out of run_polling, then the process still up 20 s later). So the first
    signal also arms :data:`STOP_DEADLINE`: if the process is still there then, it logs which threads
    hold it and exits at once, status 0 — no worse for the data than the SIGKILL systemd would send at
    TimeoutStopSec (every acknowledged write is on disk; the inbox keeps what was not handled)."""
    import asyncio
    import logging
    import signal
    import threading

    loop = asyncio.new_event_loop()  # run_polling runs on the current event loop: this one
    asyncio.set_event_loop(loop)
    asked: list[signal.Signals] = []

    def stop(sig: signal.Signals) -> None:
        if not asked:
            timer = threading.Timer(STOP_DEADLINE, _stop_hangs, args=(sig.name,))
            timer.daemon = True
            timer.start()
        asked.append(sig)
        raise SystemExit

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGABRT):
        loop.add_signal_handler(sig, stop, sig)
    try:
        app.run_polling(stop_signals=None)
    except Exception as exc:
        if not asked:
            raise
        logging.getLogger("bot.cli").info("stopped by %s; it cut off %s: %s", asked[0].name, type(exc).__name__,
                                          exc)


def _stop_hangs(signame: str) -> None:
    import logging
    import threading

    held = sorted(t.name for t in threading.enumerate()
                  if t not in (threading.current_thread(), threading.main_thread()) and not t.daemon)
    logging.getLogger("bot.cli").error("stop (%s) not done after %.0f s; exiting now (threads still running: %s)",
                                       signame, STOP_DEADLINE, ", ".join(held) or "none")
    logging.shutdown()
    sys.stderr.flush()
    os._exit(0)


def _failure_line(command: str, exc: BaseException) -> str | None:
    """One line for a failure that needs a person, not a traceback (None: not one of those)."""
    from telegram.error import Forbidden, InvalidToken, NetworkError

    from bot.logs import redact

    if isinstance(exc, InvalidToken):
        return (f"servicebot {command}: Telegram rejected the bot token (wrong, revoked or malformed); "
                "put the one from @BotFather in the environment")
    if isinstance(exc, Forbidden):
        return f"servicebot {command}: Telegram refused: {redact(str(exc))}"
    if isinstance(exc, NetworkError):
        return f"servicebot {command}: cannot reach Telegram ({redact(str(exc))}); exiting so the supervisor retries"
    return None


def cmd_demo(config: Config, args: argparse.Namespace) -> int:
    """Everything offline: sandbox, sample feeds, the bot; prints the URL; Ctrl-C stops."""
    from bot.chat.demo import run_demo
    from bot.logs import setup_logging
    from digests import safe_yaml

    setup_logging(args.log_level)
    base = safe_yaml.load(Path(args.config).read_text(encoding="utf-8"))  # load_config has checked it
    try:
        asyncio.run(run_demo(base, root=Path(args.config).resolve().parent, port=args.port))
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        print(f"port {args.port} is in use; use --port N or make demo PORT=N", file=sys.stderr)
        return 2
    return 0


def cmd_sandbox(config: Config | None, args: argparse.Namespace) -> int:
    """Only the sandbox (it imports nothing of the bot)."""
    from sandbox import serve

    try:
        serve(args.port, args.world, not args.no_flood)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        print(f"port {args.port} is in use; use --port N", file=sys.stderr)
        return 2
    return 0


def _group(config: Config, name: str | None) -> list[GroupConfig]:
    if name is None:
        return list(config.chats.groups)
    found = [g for g in config.chats.groups if g.name == name]
    if not found:
        known = ", ".join(g.name for g in config.chats.groups)
        raise ConfigError([f"--group: no member group named {name!r} (known: {known})"])
    return found


def cmd_preview(config: Config, args: argparse.Namespace) -> int:
    """Print the digest as it would be sent to the first (or named) group; sends nothing, stores nothing."""
    from bot.clock import Clock
    from bot.wiring import wire

    try:
        day = date.fromisoformat(args.date) if args.date else datetime.now(config.tz).date()
    except ValueError:
        raise ConfigError([f"--date: expected YYYY-MM-DD, got {args.date!r}"]) from None
    group = _group(config, args.group)[0]
    with _preview_store(config) as store:
        publisher = wire(config, store, Clock(config.tz)).publisher
        fetched = publisher.fetch(args.slot)
        now = datetime.now(config.tz)
        plan = publisher.plan(group, day, args.slot, fetched.results, now)
        for name, reason in plan.digest.failed_sources.items():
            print(f"source {name}: {reason}", file=sys.stderr)
        if plan.parts is None:
            print("(nothing new: no post, digests.when_empty is skip)")
        for i, part in enumerate(plan.parts or []):
            print(f"----- part {i + 1}/{len(plan.parts or [])} ({len(part)} chars, Telegram HTML) -----")
            print(part)
    return 0


def _preview_store(config: Config) -> Any:
    """What the bot would build from: its store, read-only (the bot may be running: it keeps the lock).

    Before the bot's first run there is no store: the queue is then content/queue, read as the bot
    reads it at its first start. A store that cannot be read is an error (exit 2), never an empty
    preview that looks like a day with nothing queued.
    """
    from bot.store import Store, StoreError
    from bot.store.configured import has_store, open_store

    if not has_store(config):
        print(f"(no data directory at {config.data_dir} yet: queued items from {config.content_dir / 'queue'} only)",
              file=sys.stderr)
        store = Store.in_memory()
        _load_queue_files(config, store)
        return store
    try:
        store = open_store(config, read_only=True)
    except StoreError as exc:
        raise ConfigError([f"preview: cannot read the store ({exc}); nothing previewed"]) from None
    for line in store.recovery:
        print(f"store (read as it is; the bot repairs it when it next starts): {line}", file=sys.stderr)
    return store


def _load_queue_files(config: Config, store: Any) -> None:
    from bot.editorial.content import load_queue_dir, present_keys
    from bot.editorial.queue import EditorialQueue
    from bot.editorial.rules import EditorialPolicy
    from bot.store.queue import QueueRepository

    directory = config.content_dir / "queue"
    now = datetime.now(config.tz)
    sections = EditorialPolicy.from_config(config).sections
    items, problems = load_queue_dir(directory, sections, tz=config.tz, loaded_at=now)
    for problem in problems:
        print(f"content: {problem}", file=sys.stderr)
    EditorialQueue(QueueRepository(store)).sync_files(items, now, present_keys(directory))


def cmd_post(config: Config, args: argparse.Namespace) -> int:
    """Send a slot now through the ledger (refused if already sent today, unless --force).

    While the bot runs it owns the data directory: the post is handed to it (bot/chat/control.py) and
    runs there as one of its jobs. If no bot listens, the post is refused (exit 2) and nothing is sent.
    """
    from bot.chat.app import build_application
    from bot.chat.jobs import deliver_slot
    from bot.logs import setup_logging
    from bot.store import Store, StoreLockedError
    from bot.store.configured import is_postgres, open_store

    groups = _group(config, args.group)
    if is_postgres(config):
        # no lock to tell a running bot by: hand the post to the one on this machine if it listens
        from bot.chat.control import hand_post, socket_path

        if socket_path(config.data_dir).exists():
            setup_logging(args.log_level)
            try:
                answer = hand_post(config.data_dir, args.slot, [args.group] if args.group else None, args.force)
            except TimeoutError:
                print("post: the running bot has not answered yet; it goes on posting (see the group)",
                      file=sys.stderr)
                return 1
            if answer is not None:
                return _handed(answer, None)
    try:
        store = open_store(config) if is_postgres(config) else Store.open(config.data_dir)
    except StoreLockedError as exc:
        setup_logging(args.log_level)
        return _hand_post(config, args, exc)
    with store:
        token = bot_token(config)
        setup_logging(args.log_level, token)

        async def post() -> list[tuple[str, str]]:
            app = build_application(config, token, store=store)
            async with app:
                outcomes = await deliver_slot(app, args.slot, groups=groups, force=args.force)
            return [(o.group, o.outcome) for o in outcomes]

        return _print_outcomes(asyncio.run(post()))


def _hand_post(config: Config, args: argparse.Namespace, locked: Exception) -> int:
    from bot.chat.control import hand_post

    try:
        answer = hand_post(config.data_dir, args.slot, [args.group] if args.group else None, args.force)
    except TimeoutError:
        print("post: the running bot has not answered yet; it goes on posting (see the group)", file=sys.stderr)
        return 1
    if answer is None:
        raise ConfigError([f"{locked} — stop the bot first (one process owns a data directory)"])
    return _handed(answer, getattr(locked, "owner_pid", None))


def _handed(answer: dict[str, Any], owner: int | None) -> int:
    """Report what the running bot answered to a post handed to it."""
    if "error" in answer:
        print(f"post: {answer['error']}", file=sys.stderr)
        return 1
    print(f"(posted by the running bot{f', process {owner}' if owner else ''})", file=sys.stderr)
    return _print_outcomes([(str(o["group"]), str(o["outcome"])) for o in answer["outcomes"]])


def _print_outcomes(outcomes: list[tuple[str, str]]) -> int:
    bad = 0
    for group, outcome in outcomes:
        note = " (already sent today; --force sends again)" if outcome == "skipped" else ""
        print(f"{group}: {outcome}{note}")
        bad += outcome in ("failed", "skipped")
    return 1 if bad else 0


def _open_store(config: Config) -> Any:
    from bot.store import StoreError, StoreLockedError
    from bot.store.configured import open_store

    try:
        return open_store(config)
    except StoreLockedError as exc:
        raise ConfigError([f"{exc} — stop the bot first (one process owns a data directory)"]) from None
    except StoreError as exc:
        raise ConfigError([str(exc)]) from None


def cmd_init(config: Config, args: argparse.Namespace) -> int:
    """Start a new store in data_dir: the explicit step for a directory that exists (Store.open refuses an empty one)."""
    from bot.store import Store, StoreError
    from bot.store.configured import is_postgres, open_store, where

    if is_postgres(config):  # the database exists already (its owner made it): bring its schema up to date
        try:
            open_store(config).close()
        except StoreError as exc:
            print(exc, file=sys.stderr)
            return 2
        print(f"{where(config)}: schema up to date (the bot also does this when it starts)")
        return 0
    try:
        Store.init(config.data_dir)
    except StoreError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"started a new, empty store in {config.data_dir}")
    return 0


def cmd_tickets(config: Config, args: argparse.Namespace) -> int:
    """List tickets by status, as text or JSON."""
    from bot.admin import tickets_report
    from bot.wiring import desk_for

    with _open_store(config) as store:
        desk = desk_for(config, store)
        print(tickets_report(desk, args.status, as_json=args.json, tz=config.tz))
    return 0


def cmd_stats(config: Config, args: argparse.Namespace) -> int:
    """/stats for the last N days or for --from/--to, from the store read-only (the bot may be running)."""
    from bot.chat.views.stats import format_stats
    from bot.store import Store, StoreError
    from bot.wiring import desk_for

    now = datetime.now(config.tz)
    if args.date_from is None and args.date_to is None:
        days = 7 if args.days is None else args.days
        if days < 1:
            raise ConfigError([f"--days: expected a number of days >= 1, got {days}"])
        since, until = None, now
    else:
        if args.days is not None:
            raise ConfigError(["--days: give either --days or --from/--to, not both"])
        if args.date_from is None:
            raise ConfigError(["--from: required with --to (the first day of the period, YYYY-MM-DD)"])
        first, last = _day("--from", args.date_from), _day("--to", args.date_to) if args.date_to else now.date()
        if last < first:
            raise ConfigError([f"--to: expected a day on or after --from ({first}), got {last}"])
        if first > now.date():
            raise ConfigError([f"--from: expected a day up to today ({now.date()}), got {first}"])
        days = None
        since = datetime.combine(first, time(0), config.tz)
        # figures as of now for a period that has not ended yet (a deadline still ahead is not missed)
        until = min(datetime.combine(last + timedelta(days=1), time(0), config.tz), now)
    from bot.store.configured import has_store, open_store

    if not has_store(config):
        store = Store.in_memory()  # the bot has not run: no tickets yet
    else:
        try:
            store = open_store(config, read_only=True)
        except StoreError as exc:
            raise ConfigError([f"stats: cannot read the store ({exc})"]) from None
    with store:
        for line in store.recovery:
            print(f"store (read as it is; the bot repairs it when it next starts): {line}", file=sys.stderr)
        desk = desk_for(config, store)
        figures = desk.stats(until, since=since) if since is not None else desk.stats(until, days or 7)
        print(format_stats(config.language, desk.library, figures, days=days))
    return 0


def _day(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError([f"{option}: expected YYYY-MM-DD, got {value!r}"]) from None


def cmd_export(config: Config, args: argparse.Namespace) -> int:
    """Everything stored about one member, as JSON (the export itself is recorded)."""
    import json

    from bot.admin import export_user
    from bot.wiring import desk_for

    with _open_store(config) as store:
        desk = desk_for(config, store)
        data = export_user(desk, store, args.user, datetime.now(config.tz))
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if args.out == "-":
        print(text)
    else:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        print(f"wrote {len(data['tickets'])} ticket(s) of user {args.user} to {args.out}", file=sys.stderr)
    return 0


def cmd_forget(config: Config, args: argparse.Namespace) -> int:
    """Erase a member's text, name and id from their tickets; counts stay (the erasure is recorded)."""
    from bot.admin import forget_user
    from bot.wiring import desk_for

    with _open_store(config) as store:
        desk = desk_for(config, store)
        n = forget_user(desk, store, args.user, datetime.now(config.tz))
    print(f"forgot user {args.user}: {n} ticket(s) anonymised")
    return 0


def cmd_discover(config: Config, args: argparse.Namespace) -> int:
    """Print chats and users as they message the bot, to paste into config.yaml."""
    from bot.chat.discover import discover

    token = bot_token(config)
    asyncio.run(discover(token, config.telegram.base_url, args.seconds))
    return 0


def cmd_health(config: Config, args: argparse.Namespace) -> int:
    """Read the running bot's heartbeat (data/health.json): one line; 0 if healthy, 1 if not."""
    from bot.chat.liveness import read_health

    healthy, line = read_health(config.data_dir)
    print(line, file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


COMMANDS: dict[str, Callable[[Config, argparse.Namespace], int]] = {
    "check": cmd_check,
    "init": cmd_init,
    "run": cmd_run,
    "demo": cmd_demo,
    "preview": cmd_preview,
    "post": cmd_post,
    "tickets": cmd_tickets,
    "stats": cmd_stats,
    "export": cmd_export,
    "forget": cmd_forget,
    "discover": cmd_discover,
    "health": cmd_health,
    "sources": lambda config, args: _sources(config, args),
    "store": lambda config, args: _store(config, args),
}


def _store(config: Config, args: argparse.Namespace) -> int:
    from bot.store_cmd import cmd_store  # migrate a journal store to PostgreSQL (bot/store_cmd.py)

    return cmd_store(config, args)


def _sources(config: Config, args: argparse.Namespace) -> int:
    from bot.sources_cmd import cmd_sources  # OPML export/import (bot/sources_cmd.py)

    return cmd_sources(config, args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "sandbox":
        return cmd_sandbox(None, args)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return 2
    try:
        return COMMANDS[args.command](config, args)
    except ConfigError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        import traceback

        from bot.logs import redact

        found = _failure_line(args.command, exc)
        line = found or ""
        if found is None:  # a bug: its traceback (redacted: an exception may quote the token) and one line
            print(redact(traceback.format_exc()), file=sys.stderr, end="")
            line = f"servicebot {args.command}: {type(exc).__name__}: {redact(str(exc))}"
        print(line, file=sys.stderr)
        return 1
