"""Everything the bot says in chats, in Chinese (default) and English.

One reviewable catalogue instead of gettext: no compile step, the editors can read it, and a test
checks that both languages have the same keys and the same placeholders. Digest texts (titles,
headings) live in content/templates/ as data.
"""

from __future__ import annotations

from typing import Final

Lang = str

TEXTS: Final[dict[str, dict[str, str]]] = {
    "zh": {
        "start": (
            "您好，我是{bot_name}，雄安疏解服务群的服务助手。\n"
            "• 每天早上推送「服务早知道」，下午推送「生活下午茶」\n"
            "• 有问题：在群里 @我 或发送 /ask 您的问题，工作人员会在承诺时限内答复\n"
            "• /mytickets 查看我的问题进度\n"
            "自动答复不会代替人工：任何时候都可以点「转人工」找到工作人员。"
        ),
        "help": (
            "使用说明\n"
            "/ask 问题 — 提问（也可以在群里 @我）\n"
            "/mytickets — 我的问题及进度\n"
            "/help — 本说明\n"
            "工作人员命令：/queue /mine /ticket 编号 /reply 编号 内容 /stats\n"
            "编辑命令：/new /queue /item /approve /withdraw /preview"
        ),
        "ask_empty": "请在 /ask 后面写上您的问题，例如：/ask 孩子转学需要哪些材料？",
        "refused_staff": "抱歉，这是工作人员专用的操作。",
        "refused_editor": "抱歉，这是编辑专用的命令。",
        "ops_forbidden": "⚠️ 无法向聊天 {chat_id} 发送消息：{reason}",
        "no_tickets": "您目前没有提交过问题。",
        "error_generic": "抱歉，处理时出了点问题，工作人员已收到通知。",
    },
    "en": {
        "start": (
            "Hello, I am {bot_name}, the service assistant of this resident group.\n"
            "• Every morning the service brief, every afternoon the afternoon tea\n"
            "• Questions: @mention me in the group or send /ask your question; staff answer within the promised time\n"
            "• /mytickets shows the progress of your questions\n"
            "Automatic answers never replace a person: you can always tap 'Talk to staff'."
        ),
        "help": (
            "How to use\n"
            "/ask question — ask (or @mention me in the group)\n"
            "/mytickets — my questions and their progress\n"
            "/help — this text\n"
            "Staff: /queue /mine /ticket N /reply N text /stats\n"
            "Editors: /new /queue /item /approve /withdraw /preview"
        ),
        "ask_empty": "Please write your question after /ask, e.g. /ask Which documents does a school transfer need?",
        "refused_staff": "Sorry, this is for service staff only.",
        "refused_editor": "Sorry, this command is for editors only.",
        "ops_forbidden": "⚠️ Cannot send to chat {chat_id}: {reason}",
        "no_tickets": "You have not asked any questions yet.",
        "error_generic": "Sorry, something went wrong; the staff have been told.",
    },
}


def t(lang: Lang, key: str, **values: object) -> str:
    """The text ``key`` in ``lang`` (falling back to Chinese), with ``values`` filled in."""
    table = TEXTS.get(lang, TEXTS["zh"])
    template = table.get(key) or TEXTS["zh"][key]
    return template.format(**values) if values else template
