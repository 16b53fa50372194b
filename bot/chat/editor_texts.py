"""What the bot says to editors: one catalogue, Chinese and English, same keys (pinned by a test).

Texts are HTML templates: every ``{placeholder}`` that carries user or content text must be passed
already escaped (``html.escape``) by the caller, or be HTML the domain produced (an item's ``html``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["TEXTS", "et"]

TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "not_editor": "抱歉，只有值班编辑可以管理发布队列。如需发布内容，请联系编辑组。",
        "pick_digest": "📝 新建队列条目：发到哪一期？\n（随时发送 /cancel 取消）",
        "pick_section": "发到「{digest}」的哪个栏目？",
        "ask_text": "请发送正文（可用粗体、斜体、链接等格式，格式会保留）。",
        "got_text": "已收到正文：\n\n{html}",
        "ask_link": "附加链接？发送 http(s) 网址，或 /skip 不附链接。",
        "bad_link": "链接需以 http:// 或 https:// 开头，请重新发送，或 /skip 跳过。",
        "ask_first": (
            "首发日期？发送 YYYY-MM-DD、今天、明天、后天，或 /skip 表示下一期（{next}）。"
        ),
        "ask_until": (
            "截止日期？在此之前每期都会发布（例如整周有效的通知）；发送日期，或 /skip 表示只发一次。"
        ),
        "bad_date": "无法识别日期「{text}」：请用 YYYY-MM-DD（如 2026-12-01）、今天、明天或后天。",
        "date_past": "日期 {day} 已经过去，请发送今天或以后的日期。",
        "created": "✅ 已加入队列：第 {number} 条（{status}）\n{summary}\n审核：/approve {number}　查看：/item {number}",
        "cancelled": "已取消，未保存任何内容。",
        "nothing_to_cancel": "当前没有进行中的操作。",
        "usage_number": "用法：/{command} 编号，例如 /{command} 12",
        "usage_withdraw": "用法：/withdraw 编号 原因，例如 /withdraw 12 信息有误",
        "no_item": "没有第 {number} 条。",
        "approved": "✅ 第 {number} 条已审核，将进入 {when} 的「{digest}」。",
        "approved_announcement": "✅ 第 {number} 条公告已审核，将于 {when} 发布。",
        "withdrawn": "🗑 第 {number} 条已撤回（原因：{reason}），不会再发布。",
        "ask_edit": "请发送第 {number} 条的新正文（/cancel 取消）。当前正文：\n\n{html}",
        "edited": "✏️ 第 {number} 条已修改（{status}）。",
        "queue_empty": "队列中没有待发布的条目。",
        "queue_title": "📋 发布队列（待发布 {count} 条）",
        "queue_line": "#{number} {state} {dates} {section}{snippet}",
        "queue_from": "{day} 起",
        "queue_range": "{first} ~ {until}",
        "queue_at": "{when}",
        "item_title": "📄 第 {number} 条 · {digest}{section} · {state}",
        "item_dates_once": "日期：{first} 起的第一期（只发一次）",
        "item_dates_range": "日期：{first} ~ {until} 每期",
        "item_at": "发布时间：{when}",
        "item_link": "链接：{link}",
        "item_source": "来源：{source}",
        "item_source_file": "文件 content/queue/{path}",
        "item_source_chat": "聊天（作者 {author}）",
        "item_approver": "审核：{approver}",
        "item_published": "已发布：{days}",
        "item_history": "记录：",
        "history_line": "· {when} {who} {action}{detail}",
        "bot": "系统",
        "usage_preview": "用法：/preview morning|tea [YYYY-MM-DD]（也可写 早知道 / 下午茶）",
        "preview_head": "【预览】{digest} · {day}（仅供编辑查看，不会发到群里）",
        "preview_queued": "【预览】本期包含队列条目：{numbers}",
        "preview_no_queue": "【预览】本期没有队列条目。",
        "preview_empty": "【预览】{digest} · {day}：没有新内容，按设置（when_empty: skip）不会发布。",
        "preview_no_group": "没有接收「{digest}」的群，无法预览。",
        "preview_working": "正在获取信息源，生成预览…",
        "ask_announce_when": (
            "📢 新建公告：何时发布？发送 “YYYY-MM-DD HH:MM”、“明天 09:30” 或 “HH:MM”（今天）。"
            "\n（/cancel 取消）"
        ),
        "bad_when": "无法识别时间「{text}」：请用 “2026-12-01 09:30”、“明天 09:30” 或 “09:30”。",
        "when_past": "时间 {when} 已经过去，请发送以后的时间。",
        "ask_announce_text": "公告将于 {when} 发布。请发送公告正文。",
        "reload_ok": "🔄 已重新读取内容文件：新增 {added}，更新 {updated}，移除 {removed}。",
        "reload_problems": "⚠️ 以下 {count} 处问题，相关文件已跳过：\n{lines}",
        "ops_problems": "⚠️ 内容文件有 {count} 处问题（已跳过，其余照常加载）：\n{lines}",
        "announce_failed": "⚠️ 公告第 {number} 条发送到 {group} 失败，将在下一分钟重试。",
        "expired_note": "⌛ {count} 条队列条目已过截止日期，自动过期：{numbers}",
        "status_draft_hint": "草稿，待审核",
        "four_eyes_hint": "需另一位编辑审核（四眼原则）",
    },
    "en": {
        "not_editor": "Sorry, only rostered editors can manage the queue. Please contact the editors.",
        "pick_digest": "📝 New queue item: which digest?\n(send /cancel at any time to stop)",
        "pick_section": "Which section of the {digest}?",
        "ask_text": "Send the text (bold, italic, links and other formatting are kept).",
        "got_text": "Text received:\n\n{html}",
        "ask_link": "A link? Send an http(s) URL, or /skip for none.",
        "bad_link": "A link must start with http:// or https://; send it again, or /skip.",
        "ask_first": "First date? Send YYYY-MM-DD, today, tomorrow, or /skip for the next issue ({next}).",
        "ask_until": (
            "End date? It runs in every issue up to that day (e.g. a notice valid all week); send a date, "
            "or /skip to run once."
        ),
        "bad_date": "Cannot read the date “{text}”: use YYYY-MM-DD (e.g. 2026-12-01), today or tomorrow.",
        "date_past": "{day} has passed; send today or a later date.",
        "created": "✅ Queued as item {number} ({status})\n{summary}\nApprove: /approve {number}  Show: /item {number}",
        "cancelled": "Cancelled; nothing was saved.",
        "nothing_to_cancel": "Nothing to cancel.",
        "usage_number": "Usage: /{command} number, e.g. /{command} 12",
        "usage_withdraw": "Usage: /withdraw number reason, e.g. /withdraw 12 wrong date",
        "no_item": "There is no item {number}.",
        "approved": "✅ Item {number} approved; it goes into the {digest} of {when}.",
        "approved_announcement": "✅ Announcement {number} approved; it goes out at {when}.",
        "withdrawn": "🗑 Item {number} withdrawn (reason: {reason}); it will not run.",
        "ask_edit": "Send the new text of item {number} (/cancel to stop). Current text:\n\n{html}",
        "edited": "✏️ Item {number} edited ({status}).",
        "queue_empty": "Nothing is waiting in the queue.",
        "queue_title": "📋 The queue ({count} waiting)",
        "queue_line": "#{number} {state} {dates} {section}{snippet}",
        "queue_from": "from {day}",
        "queue_range": "{first} to {until}",
        "queue_at": "{when}",
        "item_title": "📄 Item {number} · {digest}{section} · {state}",
        "item_dates_once": "Dates: the first issue from {first} (runs once)",
        "item_dates_range": "Dates: every issue from {first} to {until}",
        "item_at": "Goes out at: {when}",
        "item_link": "Link: {link}",
        "item_source": "Source: {source}",
        "item_source_file": "file content/queue/{path}",
        "item_source_chat": "chat (author {author})",
        "item_approver": "Approved by: {approver}",
        "item_published": "Published: {days}",
        "item_history": "History:",
        "history_line": "· {when} {who} {action}{detail}",
        "bot": "system",
        "usage_preview": "Usage: /preview morning|tea [YYYY-MM-DD]",
        "preview_head": "【PREVIEW】{digest} · {day} (for editors only; not sent to the group)",
        "preview_queued": "【PREVIEW】queue items in this issue: {numbers}",
        "preview_no_queue": "【PREVIEW】no queue items in this issue.",
        "preview_empty": "【PREVIEW】{digest} · {day}: nothing new; with when_empty: skip nothing is posted.",
        "preview_no_group": "No group takes the {digest}; nothing to preview.",
        "preview_working": "Fetching the sources for the preview…",
        "ask_announce_when": (
            "📢 New announcement: when? Send “YYYY-MM-DD HH:MM”, “tomorrow 09:30” or “HH:MM” (today).\n"
            "(/cancel to stop)"
        ),
        "bad_when": "Cannot read the time “{text}”: use “2026-12-01 09:30”, “tomorrow 09:30” or “09:30”.",
        "when_past": "{when} has passed; send a later time.",
        "ask_announce_text": "The announcement goes out at {when}. Send its text.",
        "reload_ok": "🔄 Content files re-read: {added} added, {updated} updated, {removed} removed.",
        "reload_problems": "⚠️ {count} problems; those files were skipped:\n{lines}",
        "ops_problems": "⚠️ {count} problems in content files (skipped; the rest loaded):\n{lines}",
        "announce_failed": "⚠️ Announcement {number} could not be sent to {group}; retrying next minute.",
        "expired_note": "⌛ {count} queue items passed their end date and expired: {numbers}",
        "status_draft_hint": "draft, needs approval",
        "four_eyes_hint": "needs a second editor's approval (four-eyes)",
    },
}


def et(lang: str, key: str, **kw: Any) -> str:
    """The editors' text ``key`` in ``lang`` (Chinese unless ``lang`` is ``en``), formatted with ``kw``."""
    table = TEXTS["en"] if lang == "en" else TEXTS["zh"]
    return table[key].format(**kw) if kw else table[key]
