"""Sign-up lists (bot/editorial/signups.py): which messages take them, once per reply, export and forget."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.editorial.signups import Signup, SignupBook, signup_item
from bot.store import Store

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_the_item_is_the_first_line_of_the_block_that_asks_for_replies() -> None:
    digest = "服务早知道\n\n社区读书会\n本周六 14:00。报名：回复本条\n\n停水通知\n明天停水"
    assert signup_item(digest) == "社区读书会"
    assert signup_item("新邻居见面会\n免费参加，无需报名") is None
    assert signup_item("Book club\nTo sign up, reply to this message") == "Book club"


def test_a_reply_is_recorded_once_and_a_member_can_be_exported_and_forgotten() -> None:
    book = SignupBook(Store.in_memory())
    a = Signup(11, 101, "郭超", "我报名，2个人", NOW)
    listing, new = book.add(chat_id=-1, message_id=5, item="读书会", signup=a)
    assert new and [e.text for e in listing.entries] == ["我报名，2个人"]
    _, again = book.add(chat_id=-1, message_id=5, item="读书会", signup=a)  # a redelivered update
    assert not again
    book.add(chat_id=-1, message_id=5, item="读书会", signup=Signup(12, 102, "王芳", "算我一个", NOW))
    book.set_list_message(-1, 5, 77)
    got = book.get(-1, 5)
    assert got is not None and got.list_message_id == 77 and [e.user_id for e in got.entries] == [101, 102]
    assert [e["text"] for e in book.export_user(101)] == ["我报名，2个人"]
    assert book.forget_user(101) == 1
    got = book.get(-1, 5)
    assert got is not None and [e.name for e in got.entries] == ["王芳"]
    assert book.export_user(101) == []
