"""build_application(config, store): every handler and job of the bot, in one readable block."""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.chat import (
    assist,
    burst,
    callbacks,
    complaints,
    desk_jobs,
    editor_jobs,
    editors,
    jobs,
    members,
    questions,
    staff,
    subscribe,
)
from bot.chat.commands import set_menus
from bot.chat.context import SERVICES_KEY, BotContext, Services, build_services, services_of
from bot.chat.inbox import InboxApplication, InboxBot, InboxProcessor, replay_pending
from bot.chat.liveness import schedule_heartbeat
from bot.chat.outbox import Outbox
from bot.chat.store_report import report_store
from bot.clock import Clock
from bot.config import Config
from bot.store import Store, StoreError
from bot.store.inbox import Inbox
from bot.texts import plain

log = logging.getLogger(__name__)

BotApp = Application[Any, Any, Any, Any, Any, Any]

# APScheduler drops a run that starts more than misfire_grace_time late (default 1 s): a busy event
# loop would silently skip a digest. Missed runs coalesce into one and may start up to 10 minutes late;
# anything later is the catch-up logic's business (bot/delivery/schedule.py). One scheduler
# configuration for every job, those added later (a digest retry, a posted slot) included.
JOB_DEFAULTS = {"misfire_grace_time": 600, "coalesce": True}
# what a question can be: text, or a photo or document (a screenshot, a scanned form) with its caption
QUESTION_CONTENT = filters.TEXT | filters.PHOTO | filters.Document.ALL


def build_application(
    config: Config, token: str, *, store: Store, clock: Clock | None = None, standby: bool = False
) -> BotApp:
    """The whole surface of the bot: handlers, jobs and start-up work.

    ``standby``: for a standby's webhook endpoint only (bot/chat/webhook.py, StandbyEndpoint), never
    started: nothing is written while building (the content files are read by the active process)."""
    # python-telegram-bot 22.2+ turns durations such as RetryAfter.retry_after into timedeltas in its next
    # major version and warns until one opts in; we opt in now.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    clock = clock or Clock(config.tz, allow_advance=config.demo)
    # The bot is built here rather than by the builder so its getUpdates can keep fetched questions on disk
    # before the Updater confirms them to Telegram (bot/chat/inbox.py): a kill then loses no question. The
    # window that remains is webhook mode, where PTB answers Telegram 200 before handling the update.
    inbox = Inbox(store)
    bot = InboxBot(
        token,
        inbox=inbox,
        base_url=config.telegram.base_url,
        defaults=Defaults(
            parse_mode=ParseMode.HTML,
            tzinfo=config.tz,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            # A reply's target may be gone by the time we answer (the member deleted their message, an
            # admin removed it, a card was deleted): Telegram then refuses with "Bad Request: message to
            # be replied not found" unless allow_sending_without_reply is set, when it sends the message
            # without the reply (https://core.telegram.org/bots/api#replyparameters). Every reply_text
            # and every ReplyParameters without its own value takes this default.
            allow_sending_without_reply=True,
        ),
        # Telegram: about 30 messages/s in bulk, 20/minute per group
        # (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
        # aiolimiter is a leaky bucket: AsyncLimiter(30, 1) lets 30 through at once and 30 more
        # in the same second. One token every 1/29 s never exceeds 30 in any one-second window.
        # It is also the one layer that retries a RetryAfter (up to 3 times, for every call): the outbox
        # does not wait one out again (bot/chat/outbox.py).
        rate_limiter=AIORateLimiter(overall_max_rate=1, overall_time_period=1 / 29, max_retries=3),
        # what ApplicationBuilder would build: a pool of 256 for calls, one connection for getUpdates
        request=HTTPXRequest(connection_pool_size=256),
        get_updates_request=HTTPXRequest(connection_pool_size=1, read_timeout=35),
        **({"base_file_url": config.telegram.base_file_url} if config.telegram.base_file_url else {}),
    )
    # health.json (`servicebot health`) goes in the data directory; with PostgreSQL that directory holds
    # only this machine's files (health, the control socket), not the store
    bot.liveness.health_dir = config.data_dir if config.store.kind == "postgres" else store.directory
    bot.liveness.store = store  # its writes failing shows in health.json and /healthz
    builder = (
        ApplicationBuilder()
        .context_types(ContextTypes(context=BotContext))  # context.svc, typed (bot/chat/context.py)
        .application_class(InboxApplication)  # a stop leaves the backlog to the inbox (bot/chat/inbox.py)
        .bot(bot)
        .concurrent_updates(InboxProcessor(inbox, bot.liveness))  # one at a time, as before; marks kept ones done
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    app: BotApp = builder.build()
    # PTB's documented way to set job defaults: configure the scheduler with PTB's own
    # scheduler_configuration (its executor and time zone) plus ours; configure() without it would
    # replace PTB's executor (python-telegram-bot issue #4479).
    assert app.job_queue is not None
    app.job_queue.scheduler.configure(job_defaults=JOB_DEFAULTS, **app.job_queue.scheduler_configuration)
    bot.on_fatal(app.stop_running)  # a revoked token: stop, and `servicebot run` exits 1
    outbox = Outbox(app.bot, ops_chat_id=config.chats.ops, lang=config.language)
    svc = build_services(config, store, outbox, clock)
    assist.install(svc)  # drafts, canned replies (content/replies: problems in bot/checks.py), 一类事
    app.bot_data[SERVICES_KEY] = svc

    def identity() -> tuple[str | None, str | None]:
        """How members reach the bot: its @username and display name from getMe (Application.initialize)."""
        try:
            return bot.username, bot.first_name
        except RuntimeError:  # not initialised yet
            return config.telegram.bot_username, None

    svc.publisher.identity = identity
    svc.inbox = inbox
    # A group upgraded to a supergroup gets a new id (ChatMigrated); the mapping is kept in the store so a
    # restart sends to the new id at once and still takes questions there, until config.yaml is updated.
    migrations = {int(old): int(new) for old, new in svc.meta.get("migrations", {}).items()}
    outbox.migrated.update(migrations)

    # --- every update, first: staff members' current @usernames (so "@wangmin_edu …" is a question) ---
    app.add_handler(TypeHandler(Update, questions.on_any_update), group=-2)

    # --- editors: the queue (bot/chat/editors.py) ------------------------------------------------
    # first in group 0: within a group only the first handler that takes an update runs, so an editor's
    # reply inside /new never becomes a ticket and an editor's /queue is the editors' queue
    ed = editors.EditorFilters.of(config)
    app.add_handler(editors.conversation(ed))  # /new, forwards, /announce, /edit
    app.add_handler(CommandHandler("queue", editors.on_queue, filters=ed.queue))
    app.add_handler(CommandHandler("item", editors.on_item, filters=ed.desk))
    app.add_handler(CommandHandler("approve", editors.on_approve, filters=ed.desk))
    app.add_handler(CommandHandler("withdraw", editors.on_withdraw, filters=ed.desk))
    app.add_handler(CommandHandler("preview", editors.on_preview, filters=ed.desk))
    app.add_handler(CommandHandler("reload", editors.on_reload, filters=ed.desk))

    # --- members ---------------------------------------------------------------------------------
    # /start subscribe: the deep link a group's /subscribe points to (bot/chat/subscribe.py)
    app.add_handler(CommandHandler("start", subscribe.on_subscribe, filters=filters.ChatType.PRIVATE & filters.Regex(r"^/start(@\w+)? subscribe$")))
    app.add_handler(CommandHandler("start", members.on_start))
    app.add_handler(CommandHandler("help", members.on_help))

    # --- questions -> tickets (bot/chat/questions.py) --------------------------------------------
    member_groups = filters.Chat(chat_id=[g.id for g in config.chats.groups] + list(migrations.values()))

    def remember_migration(old: int, new: int) -> None:
        svc.meta.set("migrations", {**svc.meta.get("migrations", {}), str(old): new})
        member_groups.add_chat_ids(new)

    outbox.on_migrate = remember_migration
    editor_users = filters.User(user_id=config.editor_ids)  # the one list of editors (config.editor_ids)
    asking = questions.QuestionHandlers(
        ask=CommandHandler("ask", questions.on_ask, filters=member_groups | filters.ChatType.PRIVATE),
        in_group=MessageHandler(member_groups & QUESTION_CONTENT & ~filters.COMMAND, questions.on_group_message),
        in_private=MessageHandler(  # editors' private messages belong to the editors' queue, not the desk
            filters.ChatType.PRIVATE & QUESTION_CONTENT & ~filters.COMMAND & ~editor_users,
            questions.on_private_message,
        ),
    )
    bot.keep_when(  # the durable inbox keeps exactly what these handlers take as questions (they are asked)
        lambda update: questions.is_desk_question(svc, update, bot.bot, asking),
        # and, at a stop, what is left unhandled except members' group chatter (bot/chat/inbox.py)
        at_stop=lambda update: not (update.message is not None and update.message.chat_id in member_groups.chat_ids),
    )
    app.add_handler(asking.ask)
    app.add_handler(CommandHandler("mytickets", members.on_mytickets))
    app.add_handler(
        CommandHandler("complain", complaints.on_complain, filters=member_groups | filters.ChatType.PRIVATE)
    )
    app.add_handler(asking.in_group)
    app.add_handler(asking.in_private)
    app.add_handler(CallbackQueryHandler(questions.on_faq_button, pattern=r"^faq:"))
    app.add_handler(CallbackQueryHandler(members.on_rate, pattern=r"^rate:"))
    app.add_handler(CallbackQueryHandler(complaints.on_complain_button, pattern=r"^cp:"))
    # --- members' private copies of the digests (bot/chat/subscribe.py, delivery in bot/chat/copies.py) ---
    app.add_handler(CommandHandler("subscribe", subscribe.on_subscribe))
    app.add_handler(CommandHandler("unsubscribe", subscribe.on_unsubscribe, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(subscribe.on_button, pattern=r"^sub:"))

    # --- staff: cards, buttons, replies, commands (bot/chat/staff.py) -----------------------------
    staff_chat = filters.Chat(chat_id=config.chats.staff)
    not_editors_chat = ~filters.Chat(chat_id=config.chats.editors)
    # one handler per card button, each format declared once (bot/chat/callbacks.py)
    app.add_handler(CallbackQueryHandler(staff.on_claim, pattern=callbacks.CARD_CLAIM.pattern))
    app.add_handler(CallbackQueryHandler(staff.on_pick, pattern=callbacks.CARD_PICK.pattern))
    app.add_handler(CallbackQueryHandler(staff.on_pick_to, pattern=callbacks.CARD_TO.pattern))
    app.add_handler(CallbackQueryHandler(staff.on_note, pattern=callbacks.CARD_NOTE.pattern))
    app.add_handler(CallbackQueryHandler(staff.on_close, pattern=callbacks.CARD_CLOSE.pattern))
    app.add_handler(CallbackQueryHandler(staff.on_back, pattern=callbacks.CARD_BACK.pattern))
    app.add_handler(CallbackQueryHandler(staff.on_unknown_button, pattern=r"^tk:"))  # an old or forged button
    # 智能帮办 (bot/chat/assist.py): draft send/edit, canned replies, 一类事, 存为问答 and its review
    app.add_handler(CallbackQueryHandler(assist.on_button, pattern=r"^as:"))
    app.add_handler(CommandHandler("canned", assist.on_canned, filters=not_editors_chat))
    app.add_handler(CommandHandler("classes", assist.on_classes, filters=not_editors_chat))
    app.add_handler(MessageHandler(staff_chat & filters.REPLY & filters.TEXT & ~filters.COMMAND, staff.on_staff_reply))
    # /queue: the editors' queue in the editors chat and for editors in private; tickets otherwise
    app.add_handler(
        CommandHandler("queue", staff.on_queue, filters=not_editors_chat & ~(filters.ChatType.PRIVATE & editor_users))
    )
    app.add_handler(CommandHandler("mine", staff.on_mine, filters=not_editors_chat))
    app.add_handler(CommandHandler("ticket", staff.on_ticket, filters=not_editors_chat))
    app.add_handler(CommandHandler("stats", staff.on_stats, filters=not_editors_chat))
    app.add_handler(CommandHandler("reply", staff.on_reply, filters=not_editors_chat))
    app.add_handler(CommandHandler("reopen", staff.on_reopen, filters=not_editors_chat))
    app.add_handler(CommandHandler("resolve", complaints.on_resolve, filters=not_editors_chat))
    desk_jobs.schedule(app)  # the SLA sweep (every minute), weekly report, calendar check

    # --- editors (the queue's handlers are registered first, above) ------------------------------
    # the editors' commands anywhere else (a member group, the staff chat): a polite refusal, as /reply gets
    app.add_handler(CommandHandler(editors.COMMANDS, members.on_editor_command_elsewhere, filters=~ed.desk))
    if not standby:
        editor_jobs.schedule(app)  # content files now + on change, announcements, daily expiry

    # --- ops: the source board (bot/sourceboard.py) -----------------------------------------------
    app.add_handler(CommandHandler("health", jobs.on_health, filters=filters.Chat(chat_id=config.chats.ops)))

    # --- jobs ------------------------------------------------------------------------------------
    jobs.schedule_digests(app)
    schedule_heartbeat(app)  # systemd watchdog, health.json (bot/chat/liveness.py)

    app.add_error_handler(_on_error)
    return app


async def _post_init(app: BotApp) -> None:
    """Start-up work: unhandled questions replayed, the command menu, content problems, missed digests."""
    svc = services_of(app)
    await report_store(app)  # what store recovery did at open, in the ops chat; later store alerts too
    await replay_pending(app)  # questions fetched before a kill but never handled: first, in order
    burst.resume_unacknowledged(svc)  # askers whose batched promise a kill cut off (bot/chat/burst.py)
    await set_menus(app.bot, svc)  # each role's "/" menu, a scope per chat (bot/chat/commands.py)
    _warm_up_retrieval(svc)
    # Missed digests are sent by a job rather than here: python-telegram-bot turns a stop signal into an
    # exception inside post_init, which could cut a send that Telegram already accepted before the ledger
    # records it; a running job is waited for when the application stops.
    assert app.job_queue is not None
    app.job_queue.run_once(jobs.on_catch_up, when=0, name="digest:catch-up")
    if svc.config.metrics.port:  # opt-in Prometheus metrics (bot/chat/metrics.py)
        from bot.chat.metrics import MetricsServer

        server = MetricsServer(svc, getattr(app.bot, "liveness", None), listen=svc.config.metrics.listen,
                               port=svc.config.metrics.port)
        await server.start()
        svc.metrics = server


def _warm_up_retrieval(svc: Services) -> None:
    """The FAQ retrieval's dictionary and index are loaded in a worker thread now, not on the event loop
    by the first question (which would hold every update up meanwhile). A question that comes during the
    load waits for it; a failure here is logged and the first question tries again."""
    matcher = svc.desk.matcher
    if matcher is None:
        return

    def load() -> None:
        started = time.monotonic()
        try:
            matcher.warm_up()
            log.info("FAQ retrieval ready in %.1f s", time.monotonic() - started)
        except Exception:  # a warm-up never stops the bot; the question path reports its own errors
            log.exception("warming up the FAQ retrieval failed; the first question will load it")

    threading.Thread(target=load, name="faq-warm-up", daemon=True).start()


async def _post_shutdown(app: BotApp) -> None:
    """Release what post_init started."""
    svc = services_of(app)
    server, svc.metrics = svc.metrics, None
    if server is not None:
        await server.stop()


def _store_failure(error: BaseException | None) -> bool:
    """Whether ``error`` is (or was caused by) the store refusing a write."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, StoreError):
            return True
        error, seen = error.__cause__, seen + 1
    return False


async def _on_error(update: object, context: BotContext) -> None:
    """Log every unhandled error with its traceback and tell the ops chat in one line."""
    # The update itself is not logged: it may be group chatter we must not keep (privacy).
    svc = context.svc
    where = ""
    if isinstance(update, Update) and update.effective_chat is not None:
        where = f" (chat {update.effective_chat.id})"  # for the log; the alert names the chat in its words
    update_id = update.update_id if isinstance(update, Update) else "-"
    log.error("unhandled error while processing update %s%s", update_id, where, exc_info=context.error)
    if _store_failure(context.error) and getattr(svc.store, "write_error", None) is not None:
        return  # the store cannot write: ops was told once (bot/chat/store_report.py), not once per update
    chat = (
        update.effective_chat.id if isinstance(update, Update) and update.effective_chat is not None else None
    )
    error = f"{type(context.error).__name__}: {context.error}"
    key = "alert_handler_error_in" if chat is not None else "alert_handler_error"
    await svc.outbox.alert(plain(svc.lang, key, chat=chat, error=error))
