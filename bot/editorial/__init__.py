"""The editors' queue: queue items and their rules, content/queue/*.md loading and validation.

No Telegram and no I/O beyond reading content files; the chat handlers (bot/chat/editors.py) call in,
the store (bot/store/queue.py) persists. See docs/content.md.
"""

from bot.editorial.check import check_content
from bot.editorial.content import ContentWatcher, Problem, load_queue_dir, parse_queue_file, present_keys
from bot.editorial.markup import markdown_to_telegram_html
from bot.editorial.model import HistoryEntry, QueueItem
from bot.editorial.rules import (
    KEEP,
    EditorialError,
    EditorialPolicy,
    FourEyesRequired,
    InvalidItem,
    InvalidTransition,
    NotEditor,
    approve,
    create_item,
    due_announcements,
    due_items,
    edit,
    expire,
    mark_published,
    merge_file_item,
    to_queued,
    withdraw,
)

__all__ = [
    "KEEP",
    "ContentWatcher",
    "EditorialError",
    "EditorialPolicy",
    "FourEyesRequired",
    "HistoryEntry",
    "InvalidItem",
    "InvalidTransition",
    "NotEditor",
    "Problem",
    "QueueItem",
    "approve",
    "check_content",
    "create_item",
    "due_announcements",
    "due_items",
    "edit",
    "expire",
    "load_queue_dir",
    "mark_published",
    "markdown_to_telegram_html",
    "merge_file_item",
    "parse_queue_file",
    "present_keys",
    "to_queued",
    "withdraw",
]
