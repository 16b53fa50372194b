"""build_application(config, store): every handler and job of the bot, in one readable block."""

from __future__ import annotations

import logging
from typing import Any

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CommandHandler,
    ContextTypes,
    Defaults,
)

from bot.chat import jobs, members
from bot.chat.context import SERVICES_KEY, build_services, services_of
from bot.chat.outbox import Outbox
from bot.clock import Clock
from bot.config import Config
from bot.store import Store

log = logging.getLogger(__name__)

BotApp = Application[Any, Any, Any, Any, Any, Any]

# APScheduler drops a run that starts more than misfire_grace_time late (default 1 s): a busy event
# loop would silently skip a digest. Missed runs coalesce into one and may start up to 10 minutes late;
# anything later is the catch-up logic's business (see jobs.py).
JOB_KWARGS = {"misfire_grace_time": 600, "coalesce": True}


def build_application(config: Config, token: str, *, store: Store, clock: Clock | None = None) -> BotApp:
    """The whole surface of the bot: handlers, jobs and start-up work."""
    clock = clock or Clock(config.tz, allow_advance=config.demo)
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(config.telegram.base_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=config.tz,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .rate_limiter(
            # Telegram: about 30 messages/s in bulk, 20/minute per group
            # (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
            # aiolimiter is a leaky bucket: AsyncLimiter(30, 1) lets 30 through at once and 30 more
            # in the same second. One token every 1/29 s never exceeds 30 in any one-second window.
            AIORateLimiter(overall_max_rate=1, overall_time_period=1 / 29, max_retries=3)
        )
        .post_init(_post_init)
        .get_updates_read_timeout(35)
    )
    if config.telegram.base_file_url:
        builder = builder.base_file_url(config.telegram.base_file_url)
    app: BotApp = builder.build()
    outbox = Outbox(app.bot, ops_chat_id=config.chats.ops)
    app.bot_data[SERVICES_KEY] = build_services(config, store, outbox, clock)

    # --- members ---------------------------------------------------------------------------------
    app.add_handler(CommandHandler("start", members.on_start))
    app.add_handler(CommandHandler("help", members.on_help))

    # --- questions -> tickets (bot/chat/questions.py) --------------------------------------------

    # --- staff: cards, buttons, replies, commands (bot/chat/staff.py) -----------------------------

    # --- editors: the queue (bot/chat/editors.py) ------------------------------------------------

    # --- jobs ------------------------------------------------------------------------------------
    # (scheduler.configure() would replace PTB's executor: python-telegram-bot issue #4479, so every
    # job passes JOB_KWARGS itself.)
    jobs.schedule_digests(app, JOB_KWARGS)

    app.add_error_handler(_on_error)
    return app


COMMANDS = [
    BotCommand("ask", "提问 / ask a question"),
    BotCommand("mytickets", "我的问题 / my questions"),
    BotCommand("help", "使用说明 / help"),
]


async def _post_init(app: BotApp) -> None:
    """Start-up work that needs the network: the command menu, content problems, missed digests."""
    svc = services_of(app)
    await app.bot.set_my_commands(COMMANDS)
    if svc.content_problems:
        shown = "\n".join(svc.content_problems[:20])
        await svc.outbox.alert(f"⚠️ 内容文件有 {len(svc.content_problems)} 处问题（已跳过）：\n{shown}")
    await jobs.catch_up(app)


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log every unhandled error with its traceback and tell the ops chat in one line."""
    log.error("unhandled error while processing %r", update, exc_info=context.error)
    svc = services_of(context.application)
    where = ""
    if isinstance(update, Update) and update.effective_chat is not None:
        where = f" (chat {update.effective_chat.id})"
    await svc.outbox.alert(f"⚠️ 处理消息出错{where}：{type(context.error).__name__}: {context.error}")

