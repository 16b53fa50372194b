"""A reply to a message sent with ForceReply: Message.reply_markup carries inline keyboards only.

Reported by a colleague: the sandbox echoed ``{"force_reply": true}`` inside
``reply_to_message.reply_markup``, and python-telegram-bot failed in get_updates (KeyError
'inline_keyboard'). Real Telegram never returns a ForceReply or reply keyboard in a Message.
"""

from __future__ import annotations

from telegram import Bot, ForceReply, InlineKeyboardButton, InlineKeyboardMarkup

from sandbox import GROUP_ID, Sandbox


async def test_reply_to_a_force_reply_prompt_parses_and_has_no_markup(bot: Bot, sandbox: Sandbox) -> None:
    prompt = await bot.send_message(GROUP_ID, "请输入转交原因", reply_markup=ForceReply(selective=True))
    assert prompt.reply_markup is None  # the sent message itself carries no inline keyboard
    sandbox.send_user_message(101, GROUP_ID, "因为休假", reply_to_message_id=prompt.message_id)
    updates = await bot.get_updates()  # used to raise KeyError('inline_keyboard') inside PTB
    msg = updates[-1].message
    assert msg is not None and msg.text == "因为休假"
    assert msg.reply_to_message is not None
    assert msg.reply_to_message.message_id == prompt.message_id
    assert msg.reply_to_message.reply_markup is None


async def test_inline_keyboard_is_still_echoed_in_reply_to_message(bot: Bot, sandbox: Sandbox) -> None:
    card = InlineKeyboardMarkup([[InlineKeyboardButton("认领", callback_data="claim:7")]])
    sent = await bot.send_message(GROUP_ID, "工单 #7", reply_markup=card)
    assert sent.reply_markup == card
    sandbox.send_user_message(101, GROUP_ID, "好的", reply_to_message_id=sent.message_id)
    updates = await bot.get_updates()
    reply_to = updates[-1].message.reply_to_message
    assert reply_to is not None and reply_to.reply_markup == card
