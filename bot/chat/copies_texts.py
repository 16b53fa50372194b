"""What members read about their private copies (/subscribe, /unsubscribe, the buttons), zh and en.

Kept apart from bot/texts.py while the text catalogue is being reshaped; the same rule holds: both
languages have the same keys and placeholders (tests/chat/test_private_copies.py checks it).
"""

from __future__ import annotations

from typing import Final

COPY_TEXTS: Final[dict[str, dict[str, str]]] = {
    "zh": {
        "menu_title": "📬 私信订阅：每期摘要按您选的栏目私信发给您（点按栏目切换）",
        "menu_slot": "{icon} {title}：{sections}",
        "menu_none": "未订阅",
        "menu_separator": "、",
        "menu_footer": "随时发送 /unsubscribe 或点「退订」即可停止。",
        "subscribed": "✅ 已订阅私信副本：两期摘要的全部栏目。可在下面调整。",
        "nothing_chosen": "您现在没有选择任何栏目，不会收到私信副本。",
        "done": "✅ 已保存。",
        "unsubscribed": "已退订，不会再收到私信副本。发送 /subscribe 可重新订阅。",
        "not_subscribed": "您没有订阅私信副本。发送 /subscribe 订阅。",
        "private_only": "私信订阅请在与我的私聊中发送 /subscribe：{link}",
        "button_done": "完成",
        "button_off": "退订",
        "button_sections": "调整栏目",
        "toast_off": "已退订",
        "toast_saved": "已保存",
    },
    "en": {
        "menu_title": "📬 Private copies: each digest sent to you privately, with the sections you pick (tap to switch)",
        "menu_slot": "{icon} {title}: {sections}",
        "menu_none": "not subscribed",
        "menu_separator": ", ",
        "menu_footer": "Send /unsubscribe or tap “Unsubscribe” to stop at any time.",
        "subscribed": "✅ Subscribed to private copies: every section of both digests. Adjust below.",
        "nothing_chosen": "No section is chosen now, so no private copies will be sent.",
        "done": "✅ Saved.",
        "unsubscribed": "Unsubscribed: no more private copies. Send /subscribe to subscribe again.",
        "not_subscribed": "You have no private copies. Send /subscribe to subscribe.",
        "private_only": "To get private copies, send /subscribe in a private chat with me: {link}",
        "button_done": "Done",
        "button_off": "Unsubscribe",
        "button_sections": "Sections",
        "toast_off": "Unsubscribed",
        "toast_saved": "Saved",
    },
}


def ct(lang: str, key: str, **params: object) -> str:
    """The text ``key`` in ``lang`` (Chinese for any language we do not have), with ``params``."""
    texts = COPY_TEXTS.get(lang, COPY_TEXTS["zh"])
    return texts[key].format(**params) if params else texts[key]
