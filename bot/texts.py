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
            "• 有问题：在群里发送 @{username} 加上您的问题，或发送 /ask 您的问题，工作人员会在承诺时限内答复\n"
            "• /mytickets 查看我的问题进度\n"
            "自动答复不会代替人工：任何时候都可以点「转人工」找到工作人员。"
        ),
        "help": (
            "使用说明\n"
            "/ask 问题 — 提问（也可以在群里发送 @{username} 加上问题）\n"
            "/mytickets — 我的问题及进度（请私聊我发送）\n"
            "/complain 内容 — 投诉（由主管处理）\n"
            "/subscribe — 私信订阅摘要，按钮选栏目（请私聊我发送；/unsubscribe 退订）\n"
            "/help — 本说明"
        ),
        "help_hotline": "人工热线：{hotline}",
        "help_staff": (
            "工作人员命令（在工作人员群或私聊中使用）\n"
            "回复工单卡片 — 答复该工单\n"
            "/queue — 待办工单（按时限排序）\n"
            "/mine — 我负责的工单\n"
            "/ticket 编号 — 工单的办理记录\n"
            "/reply 编号 内容 — 答复工单\n"
            "/reopen 编号 — 重新打开已答复或已办结的工单\n"
            "/resolve 编号 结果 — 主管办结投诉\n"
            "/stats — 近 7 天统计"
        ),
        "help_editors": (
            "编辑命令（在编辑群或私聊中使用）\n"
            "/new — 新建稿件（也可以把消息转发给我）\n"
            "/queue — 稿件队列\n"
            "/item 编号 — 查看稿件\n"
            "/approve 编号 — 审核通过\n"
            "/withdraw 编号 原因 — 撤回稿件\n"
            "/edit 编号 — 修改稿件\n"
            "/announce — 定时公告\n"
            "/preview 早知道|下午茶 [日期] — 预览\n"
            "/reload — 重新读取内容文件"
        ),
        "cmd_ask": "提问",
        "cmd_mytickets": "我的问题及进度",
        "cmd_help": "使用说明",
        "cmd_queue": "待办工单",
        "cmd_mine": "我负责的工单",
        "cmd_ticket": "工单办理记录：/ticket 编号",
        "cmd_reopen": "重新打开工单：/reopen 编号",
        "cmd_complain": "投诉（由主管处理）",
        "cmd_subscribe": "私信订阅摘要（选择栏目）",
        "cmd_unsubscribe": "退订私信摘要",
        "cmd_resolve": "主管办结投诉：/resolve 编号 结果",
        "cmd_reply": "答复工单：/reply 编号 内容",
        "cmd_stats": "近 7 天统计",
        "cmd_canned": "常用回复：/canned 编号",
        "cmd_classes": "一类事：多人在问的同类问题",
        "cmd_new": "新建稿件",
        "cmd_queue_editors": "稿件队列",
        "cmd_item": "查看稿件：/item 编号",
        "cmd_approve": "审核通过：/approve 编号",
        "cmd_withdraw": "撤回稿件：/withdraw 编号 原因",
        "cmd_edit": "修改稿件：/edit 编号",
        "cmd_announce": "定时公告",
        "cmd_preview": "预览：/preview 早知道|下午茶",
        "cmd_reload": "重新读取内容文件",
        "ask_empty": "请在 /ask 后面写上您的问题，例如：/ask 孩子转学需要哪些材料？",
        "refused_staff": "抱歉，这是工作人员专用的操作。",
        "refused_editor": "抱歉，这是编辑专用的命令。",
        "editors_only_here": "请在编辑群或与我的私聊中使用此命令。",
        "ops_forbidden": "⚠️ 无法向聊天 {chat_id} 发送消息：{reason}",
        "no_tickets": "您目前没有提交过问题。",
        "error_generic": "抱歉，处理时出了点问题，工作人员已收到通知。",
    },
    "en": {
        "start": (
            "Hello, I am {bot_name}, the service assistant of this resident group.\n"
            "• Every morning the service brief, every afternoon the afternoon tea\n"
            "• Questions: send @{username} with your question in the group, or send /ask your question; staff answer within the promised time\n"
            "• /mytickets shows the progress of your questions\n"
            "Automatic answers never replace a person: you can always tap 'Talk to staff'."
        ),
        "help": (
            "How to use\n"
            "/ask question — ask (or send @{username} with your question in the group)\n"
            "/mytickets — my questions and their progress (send it to me privately)\n"
            "/complain text — make a complaint (handled by a supervisor)\n"
            "/subscribe — the digests privately, sections picked with buttons (in a private chat; /unsubscribe stops them)\n"
            "/help — this text"
        ),
        "help_hotline": "Hotline: {hotline}",
        "help_staff": (
            "Staff commands (in the staff chat or privately)\n"
            "reply to a ticket card — answer that ticket\n"
            "/queue — open tickets by deadline\n"
            "/mine — the tickets I own\n"
            "/ticket N — a ticket's history\n"
            "/reply N text — answer a ticket\n"
            "/reopen N — reopen an answered or closed ticket\n"
            "/resolve N outcome — a supervisor closes a complaint\n"
            "/stats — the last 7 days"
        ),
        "help_editors": (
            "Editors' commands (in the editors chat or privately)\n"
            "/new — a new item (or forward a message to me)\n"
            "/queue — the editors' queue\n"
            "/item N — show an item\n"
            "/approve N — approve an item\n"
            "/withdraw N reason — withdraw an item\n"
            "/edit N — edit an item\n"
            "/announce — a timed announcement\n"
            "/preview morning|tea [date] — preview a digest\n"
            "/reload — read the content files again"
        ),
        "cmd_ask": "ask a question",
        "cmd_mytickets": "my questions and their progress",
        "cmd_help": "help",
        "cmd_queue": "open tickets",
        "cmd_mine": "the tickets I own",
        "cmd_ticket": "a ticket's history: /ticket N",
        "cmd_reopen": "reopen a ticket: /reopen N",
        "cmd_complain": "make a complaint (a supervisor handles it)",
        "cmd_subscribe": "the digests privately (pick the sections)",
        "cmd_unsubscribe": "stop the private digests",
        "cmd_resolve": "close a complaint: /resolve N outcome",
        "cmd_reply": "answer a ticket: /reply N text",
        "cmd_stats": "the last 7 days",
        "cmd_canned": "canned replies: /canned N",
        "cmd_classes": "questions several people ask",
        "cmd_new": "a new item",
        "cmd_queue_editors": "the editors' queue",
        "cmd_item": "show an item: /item N",
        "cmd_approve": "approve an item: /approve N",
        "cmd_withdraw": "withdraw an item: /withdraw N reason",
        "cmd_edit": "edit an item: /edit N",
        "cmd_announce": "a timed announcement",
        "cmd_preview": "preview a digest: /preview morning|tea",
        "cmd_reload": "read the content files again",
        "ask_empty": "Please write your question after /ask, e.g. /ask Which documents does a school transfer need?",
        "refused_staff": "Sorry, this is for service staff only.",
        "refused_editor": "Sorry, this command is for editors only.",
        "editors_only_here": "Please use this command in the editors chat or in a private chat with me.",
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
