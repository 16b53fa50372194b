"""The editors' rules: four-eyes, running until a date then expiring, running once, withdrawing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.chat.views.errors import error_text
from bot.editorial.model import QueueItem
from bot.editorial.rules import (
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

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=TZ)
MON = date(2026, 11, 30)
A, B, OUTSIDER = 301, 302, 999
SECTIONS = {"morning": frozenset({"services", "traffic"}), "tea": frozenset({"events", "life"})}
POLICY = EditorialPolicy(editors=frozenset({A, B}), sections=SECTIONS)
FOUR_EYES = EditorialPolicy(editors=frozenset({A, B}), four_eyes=True, sections=SECTIONS)


def new(policy: EditorialPolicy = POLICY, **kw: object) -> QueueItem:
    args: dict[str, object] = dict(
        number=1,
        actor=A,
        digest="morning",
        section="services",
        html="<b>公积金</b>新政",
        first_date=MON,
        now=NOW,
    )
    args.update(kw)
    return create_item(policy, **args)  # type: ignore[arg-type]


def test_created_item_is_a_draft_with_history() -> None:
    item = new()
    assert item.status == "draft" and item.author_id == A
    assert [(h.who, h.action) for h in item.history] == [(A, "created")]
    assert due_items([item], "morning", MON) == []


def test_non_editor_is_refused_in_chinese_everywhere() -> None:
    with pytest.raises(NotEditor) as e:
        new(actor=OUTSIDER)
    assert "编辑" in error_text("zh", e.value) and "editor" in error_text("en", e.value)
    item = new()
    for action in (
        lambda: approve(POLICY, item, OUTSIDER, NOW),
        lambda: withdraw(POLICY, item, OUTSIDER, "重复", NOW),
        lambda: edit(POLICY, item, OUTSIDER, NOW, html="x"),
    ):
        with pytest.raises(NotEditor):
            action()


def test_self_approval_allowed_by_default() -> None:
    item = approve(POLICY, new(), A, NOW)
    assert item.status == "approved" and item.approver_id == A


def test_four_eyes_requires_a_second_editor() -> None:
    item = new(FOUR_EYES)
    with pytest.raises(FourEyesRequired) as e:
        approve(FOUR_EYES, item, A, NOW)
    assert "四眼" in error_text("zh", e.value)
    ok = approve(FOUR_EYES, item, B, NOW)
    assert ok.status == "approved" and ok.approver_id == B
    assert [h.action for h in ok.history] == ["created", "approved"]


def test_approving_twice_is_an_invalid_transition() -> None:
    item = approve(POLICY, new(), A, NOW)
    with pytest.raises(InvalidTransition):
        approve(POLICY, item, B, NOW)


def test_edit_of_approved_item_returns_to_draft_under_four_eyes() -> None:
    item = approve(FOUR_EYES, new(FOUR_EYES), B, NOW)
    edited = edit(FOUR_EYES, item, A, NOW, html="改过的文字")
    assert edited.status == "draft" and edited.approver_id is None and edited.html == "改过的文字"
    assert edited.history[-1].action == "edited" and "html" in edited.history[-1].detail


def test_edit_of_approved_item_stays_approved_without_four_eyes() -> None:
    item = approve(POLICY, new(), A, NOW)
    edited = edit(POLICY, item, B, NOW, until=MON + timedelta(days=2))
    assert edited.status == "approved" and edited.approver_id == B and edited.until == MON + timedelta(days=2)


def test_edit_without_changes_returns_the_same_item() -> None:
    item = new()
    assert edit(POLICY, item, A, NOW, html=item.html) is item


def test_edit_validates() -> None:
    with pytest.raises(InvalidItem) as e:
        edit(POLICY, new(), A, NOW, until=MON - timedelta(days=1))
    assert e.value.field == "until"


def test_unknown_section_and_until_before_first_date_are_refused() -> None:
    with pytest.raises(InvalidItem) as e:
        new(section="weather-nope")
    assert e.value.field == "section" and "services" in error_text("zh", e.value)
    with pytest.raises(InvalidItem):
        new(section="events")  # a tea section, not a morning one
    with pytest.raises(InvalidItem):
        new(until=MON - timedelta(days=1))
    with pytest.raises(InvalidItem):
        new(html="   ")


def test_item_with_end_date_runs_every_day_until_then_expires() -> None:
    fri = MON + timedelta(days=4)
    item = approve(POLICY, new(until=fri), A, NOW)
    for offset in range(5):
        day = MON + timedelta(days=offset)
        assert due_items([item], "morning", day) == [item], day
        item = mark_published(item, day, NOW)
        assert item.status == "approved"
    assert item.published_on == tuple(MON + timedelta(days=i) for i in range(5))
    sat = fri + timedelta(days=1)
    assert due_items([item], "morning", sat) == []
    assert expire([item], fri, NOW) == []
    (expired,) = expire([item], sat, NOW)
    assert expired.status == "expired" and expired.history[-1].action == "expired"
    assert due_items([expired], "morning", sat) == []


def test_item_with_end_date_runs_only_in_its_slot() -> None:
    item = approve(POLICY, new(until=MON + timedelta(days=3)), A, NOW)
    assert due_items([item], "tea", MON) == []


def test_item_without_end_date_runs_once() -> None:
    item = approve(POLICY, new(), A, NOW)
    assert due_items([item], "morning", MON - timedelta(days=1)) == []  # not before its first date
    assert due_items([item], "morning", MON) == [item]
    assert due_items([item], "morning", MON) == [item]  # previewing does not consume it
    done = mark_published(item, MON, NOW)
    assert done.status == "published" and done.published_on == (MON,)
    assert mark_published(done, MON, NOW) is done  # a retried post records once
    assert due_items([done], "morning", MON + timedelta(days=1)) == []


def test_run_once_item_approved_late_runs_at_the_next_digest() -> None:
    item = approve(POLICY, new(), A, NOW)
    assert due_items([item], "morning", MON + timedelta(days=3)) == [item]


def test_withdrawn_item_is_never_due() -> None:
    item = approve(POLICY, new(until=MON + timedelta(days=6)), A, NOW)
    gone = withdraw(POLICY, item, B, "政策口径有变，待重新核实", NOW)
    assert gone.status == "withdrawn"
    assert gone.history[-1].detail == "政策口径有变，待重新核实" and gone.history[-1].who == B
    for offset in range(8):
        assert due_items([gone], "morning", MON + timedelta(days=offset)) == []
    assert expire([gone], MON + timedelta(days=30), NOW) == []
    with pytest.raises(InvalidTransition):
        approve(POLICY, gone, A, NOW)
    with pytest.raises(InvalidItem):
        withdraw(POLICY, item, B, "  ", NOW)


def test_published_item_cannot_be_withdrawn_or_edited() -> None:
    done = mark_published(approve(POLICY, new(), A, NOW), MON, NOW)
    with pytest.raises(InvalidTransition):
        withdraw(POLICY, done, A, "晚了", NOW)
    with pytest.raises(InvalidTransition):
        edit(POLICY, done, A, NOW, html="x")


def test_draft_past_its_end_date_expires() -> None:
    item = new(until=MON)
    (gone,) = expire([item], MON + timedelta(days=1), NOW)
    assert gone.status == "expired"


def test_due_items_sorted_by_section_and_number() -> None:
    a = approve(POLICY, new(number=2, section="traffic"), A, NOW)
    b = approve(POLICY, new(number=3), A, NOW)
    c = approve(POLICY, new(number=1), A, NOW)
    assert [i.number for i in due_items([a, b, c], "morning", MON)] == [1, 3, 2]


def test_announcement_is_due_at_its_time_once() -> None:
    at = datetime(2026, 12, 1, 10, 30, tzinfo=TZ)
    item = approve(
        POLICY, new(digest="announcement", section=None, first_date=at.date(), announce_at=at), A, NOW
    )
    assert item.section is None
    assert due_items([item], "morning", at.date()) == []
    assert due_announcements([item], at - timedelta(minutes=1)) == []
    assert due_announcements([item], at) == [item]
    sent = mark_published(item, at.date(), at)
    assert due_announcements([sent], at + timedelta(hours=1)) == []


def test_announcement_needs_an_aware_time() -> None:
    with pytest.raises(InvalidItem):
        new(digest="announcement", section=None)
    with pytest.raises(InvalidItem):
        new(digest="announcement", section=None, announce_at=datetime(2026, 12, 1, 10, 0))


def test_to_queued_maps_to_the_digest_input() -> None:
    item = approve(POLICY, new(number=12, link="https://example.org/a"), A, NOW)
    q = to_queued(item)
    assert (q.item_id, q.section, q.html, q.link) == ("12", "services", item.html, "https://example.org/a")


def test_a_multi_day_item_is_a_first_run_only_until_it_went_out_on_an_earlier_day() -> None:
    # issue 15: the 公积金 notice ran its full body every day 12-01…12-07
    item = approve(POLICY, new(until=MON + timedelta(days=6)), A, NOW)
    assert to_queued(item, MON).first_run
    sent = mark_published(item, MON, NOW)
    assert to_queued(sent, MON).first_run  # a retried post of the same day is still the first run
    assert not to_queued(sent, MON + timedelta(days=1)).first_run


def test_round_trip_through_dict() -> None:
    item = mark_published(approve(POLICY, new(until=MON + timedelta(days=2)), A, NOW), MON, NOW)
    assert QueueItem.from_dict(item.to_dict()) == item


def _file_item(**kw: object) -> QueueItem:
    args: dict[str, object] = dict(
        number=0,
        digest="morning",
        section="services",
        html="文件内容",
        first_date=MON,
        status="approved",
        origin="file",
        path="content/queue/a.md",
    )
    args.update(kw)
    return QueueItem(**args)  # type: ignore[arg-type]


def test_merge_file_item_updates_instead_of_duplicating() -> None:
    first = merge_file_item(None, _file_item(), NOW)
    assert first is not None and first.history[-1].action == "loaded"
    stored = QueueItem.from_dict({**first.to_dict(), "number": 7})
    assert merge_file_item(stored, _file_item(), NOW) is None  # unchanged file: no write
    changed = merge_file_item(stored, _file_item(html="改过"), NOW)
    assert changed is not None and changed.number == 7 and changed.html == "改过"
    assert changed.history[-1].action == "reloaded"


def test_merge_keeps_published_state_when_dates_unchanged() -> None:
    stored = mark_published(QueueItem.from_dict({**_file_item().to_dict(), "number": 7}), MON, NOW)
    fixed = merge_file_item(stored, _file_item(html="修正错别字"), NOW)
    assert fixed is not None and fixed.status == "published" and fixed.published_on == (MON,)
    rerun = merge_file_item(stored, _file_item(first_date=MON + timedelta(days=7)), NOW)
    assert rerun is not None and rerun.status == "approved"
    assert merge_file_item(stored, _file_item(status="withdrawn"), NOW) is None  # finished stays finished


def test_merge_withdraws_a_running_item_from_its_file() -> None:
    week = MON + timedelta(days=6)
    stored = mark_published(QueueItem.from_dict({**_file_item(until=week).to_dict(), "number": 7}), MON, NOW)
    pulled = merge_file_item(stored, _file_item(until=week, status="withdrawn"), NOW)
    assert pulled is not None and pulled.status == "withdrawn"
    assert due_items([pulled], "morning", MON + timedelta(days=1)) == []


def test_policy_from_config_includes_admins() -> None:
    from bot.config import load_config

    config = load_config("config.yaml")
    policy = EditorialPolicy.from_config(config, four_eyes=True)
    assert {301, 302, 204} <= policy.editors and policy.four_eyes
    assert policy.sections is not None and "services" in policy.sections["morning"]


def test_reload_keeps_a_chat_approval_of_a_draft_file() -> None:
    stored = QueueItem.from_dict({**_file_item(status="draft").to_dict(), "number": 7})
    approved = approve(FOUR_EYES, stored, B, NOW)
    assert merge_file_item(approved, _file_item(status="draft"), NOW) is None
    promoted = merge_file_item(stored, _file_item(status="approved"), NOW)
    assert promoted is not None and promoted.status == "approved"
    rewritten = merge_file_item(approved, _file_item(status="draft", html="新文字"), NOW)
    assert rewritten is not None and rewritten.status == "draft"
