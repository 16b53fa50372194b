from __future__ import annotations

from datetime import timedelta

import pytest

from bot.chat.views.errors import error_text
from bot.tickets.desk import Desk, NoticeKind, TicketRepository
from bot.tickets.errors import (
    AlreadyClaimed,
    InvalidAction,
    InvalidInput,
    NotAsker,
    NotOwner,
    NotStaff,
    TakenByStaff,
    TicketClosed,
)
from bot.tickets.model import Deadline, EventKind, Rating, Status, Ticket

from .conftest import ALICE, ASKER, BOB, BYSTANDER, CAROL, GROUP, SUPER, at

TUE_10 = at(2026, 11, 24, 10, 0)


def ask(desk: Desk, text: str = "孩子上学要什么材料", msg: int = 1, now=TUE_10, asker: int = ASKER):  # type: ignore[no-untyped-def]
    return desk.open_ticket(
        chat_id=GROUP, message_id=msg, asker_id=asker, asker_name="刘女士", text=text, now=now
    )


def kinds(t: Ticket) -> list[str]:
    return [e.kind.value for e in t.events]


def test_open_ticket_promises_topic_due_checklist_and_faq(desk: Desk) -> None:
    intake = ask(desk)
    t = intake.ticket
    assert (t.number, t.topic, t.status) == (1, "education", Status.OPEN)
    assert intake.created and intake.service_open and intake.resumes_at is None
    assert t.first_response_due == at(2026, 11, 24, 11, 0)  # education: 60 service minutes
    assert t.resolution_due == at(2026, 11, 25, 10, 0)  # 420 = one service day
    assert intake.checklist is not None and "户口簿" in intake.checklist.render("子女入学")
    assert intake.faq is not None and intake.faq.entry.id == "education/1" and t.faq_offered == "education/1"
    assert kinds(t) == ["created"]


def test_unknown_topic_is_general_without_faq(desk: Desk) -> None:
    intake = ask(desk, "请问楼下的超市几点关门")
    assert intake.ticket.topic == "general" and intake.topic.name == "综合"
    assert intake.faq is None
    assert intake.ticket.first_response_due == at(2026, 11, 24, 12, 0)  # default 120 minutes


def test_outside_hours_promise_says_when_service_resumes(desk: Desk) -> None:
    intake = ask(desk, now=at(2026, 11, 27, 18, 30))  # Friday evening
    assert not intake.service_open
    assert intake.resumes_at == at(2026, 11, 30, 9, 0)
    assert intake.due == at(2026, 11, 30, 10, 0)  # the promise's words: bot/chat/promise.py (tests/desk_chat)


def test_redelivered_message_never_creates_a_duplicate(desk: Desk, repo: TicketRepository) -> None:
    first = ask(desk)
    again = ask(desk, now=TUE_10 + timedelta(minutes=5))
    assert not again.created and again.ticket.number == first.ticket.number == 1
    assert len(repo) == 1  # type: ignore[arg-type]
    assert ask(desk, msg=2).ticket.number == 2


def test_empty_question_is_refused(desk: Desk) -> None:
    with pytest.raises(InvalidInput) as exc:
        ask(desk, "   ")
    assert error_text("zh", exc.value) == "问题内容不能为空。"


def test_first_claimer_owns_it_and_others_cannot_act(desk: Desk) -> None:
    n = ask(desk).ticket.number
    t = desk.claim(n, by=ALICE, now=TUE_10)
    assert (t.owner_id, t.owner_name, t.status) == (ALICE, "张老师", Status.CLAIMED)
    assert desk.claim(n, by=ALICE, now=TUE_10).owner_id == ALICE  # claiming twice is harmless
    with pytest.raises(AlreadyClaimed) as exc:
        desk.claim(n, by=BOB, now=TUE_10)
    assert "张老师" in error_text("zh", exc.value)
    with pytest.raises(NotOwner) as exc2:
        desk.answer(n, by=BOB, text="我来答", now=TUE_10)
    assert "首问负责" in error_text("zh", exc2.value)
    with pytest.raises(NotOwner):
        desk.close(n, by=BOB, now=TUE_10)
    with pytest.raises(NotOwner):
        desk.transfer(n, by=BOB, to=BOB, reason="我熟悉", now=TUE_10)
    with pytest.raises(NotStaff):
        desk.claim(n, by=BYSTANDER, now=TUE_10)
    assert desk.get(n).owner_id == ALICE


def test_transfer_by_owner_or_supervisor_records_reason(desk: Desk) -> None:
    n = ask(desk).ticket.number
    desk.claim(n, by=ALICE, now=TUE_10)
    t = desk.transfer(n, by=ALICE, to=BOB, reason="李老师负责转学", now=TUE_10)
    assert t.owner_id == BOB
    ev = t.events[-1]
    assert ev.kind is EventKind.TRANSFERRED and ev.details == {
        "from_id": ALICE,
        "to_id": BOB,
        "reason": "李老师负责转学",
    }
    assert desk.transfer(n, by=SUPER, to=ALICE, reason="回给张老师", now=TUE_10).owner_id == ALICE
    with pytest.raises(InvalidInput):
        desk.transfer(n, by=ALICE, to=BYSTANDER, reason="x", now=TUE_10)
    with pytest.raises(InvalidInput):
        desk.transfer(n, by=ALICE, to=BOB, reason=" ", now=TUE_10)
    with pytest.raises(InvalidInput):
        desk.transfer(n, by=ALICE, to=ALICE, reason="x", now=TUE_10)


def test_transfer_of_unclaimed_ticket_needs_a_claim(desk: Desk) -> None:
    n = ask(desk).ticket.number
    with pytest.raises(InvalidAction):
        desk.transfer(n, by=ALICE, to=BOB, reason="x", now=TUE_10)


def test_answers_first_response_and_notes(desk: Desk) -> None:
    n = ask(desk).ticket.number
    t, a = desk.answer(n, by=ALICE, text="请准备户口簿和居住证明", now=TUE_10 + timedelta(minutes=20))
    assert t.owner_id == ALICE and t.status is Status.ANSWERED  # answering unclaimed claims it
    assert t.first_response_at == TUE_10 + timedelta(minutes=20)
    assert a.staff_name == "张老师"
    t, _ = desk.answer(n, by=SUPER, text="补充：学籍号也要", now=TUE_10 + timedelta(minutes=40))
    assert len(t.answers) == 2 and t.first_response_at == TUE_10 + timedelta(minutes=20)
    t = desk.note(n, by=BOB, text="家长之前来过电话", now=TUE_10 + timedelta(minutes=41))
    assert t.notes[0].text == "家长之前来过电话" and t.notes[0].staff_name == "李老师"
    assert kinds(t) == ["created", "claimed", "answered", "answered", "noted"]
    with pytest.raises(InvalidInput):
        desk.answer(n, by=ALICE, text="", now=TUE_10)
    with pytest.raises(NotStaff):
        desk.note(n, by=ASKER, text="hi", now=TUE_10)
    assert desk.set_answer_message(n, 0, 777).answers[0].message_id == 777
    assert desk.set_card(n, 55).card_message_id == 55


def test_close_and_rating_loop(desk: Desk) -> None:
    n = ask(desk).ticket.number
    desk.answer(n, by=ALICE, text="答复", now=TUE_10)
    t = desk.close(n, by=ALICE, now=TUE_10 + timedelta(minutes=1))
    assert t.status is Status.CLOSED and t.closed_at is not None
    with pytest.raises(TicketClosed):
        desk.answer(n, by=ALICE, text="再答", now=TUE_10)
    with pytest.raises(NotAsker) as exc:
        desk.rate(n, by=BYSTANDER, rating=Rating.UNSATISFIED, now=TUE_10)
    assert error_text("zh", exc.value) == "仅提问人本人可以操作。"
    assert desk.get(n).status is Status.CLOSED
    later = TUE_10 + timedelta(minutes=5)
    t = desk.rate(n, by=ASKER, rating=Rating.UNSATISFIED, now=later)
    assert t.status is Status.CLAIMED and t.owner_id == ALICE and t.reopened == 1 and t.closed_at is None
    assert t.resolution_due == desk.hours.add_service_minutes(later, 420)
    assert kinds(t)[-3:] == ["rated", "reopened", "escalated"]
    assert t.events[-1].details["to"] == [SUPER]
    desk.close(n, by=ALICE, now=later)
    t = desk.rate(n, by=ASKER, rating=Rating.SATISFIED, now=later)
    assert t.status is Status.CLOSED and t.rating is Rating.SATISFIED
    with pytest.raises(InvalidAction):
        desk.rate(n, by=ASKER, rating=Rating.BASIC, now=later)


def test_rating_an_open_ticket_is_refused(desk: Desk) -> None:
    n = ask(desk).ticket.number
    with pytest.raises(InvalidAction):
        desk.rate(n, by=ASKER, rating=Rating.SATISFIED, now=TUE_10)


def test_unclaimed_close_needs_supervisor(desk: Desk) -> None:
    n = ask(desk).ticket.number
    with pytest.raises(NotOwner):
        desk.close(n, by=ALICE, now=TUE_10)
    assert desk.close(n, by=SUPER, now=TUE_10).status is Status.CLOSED


def test_asker_reply_and_explicit_reopen(desk: Desk) -> None:
    n = ask(desk).ticket.number
    desk.answer(n, by=ALICE, text="答复", now=TUE_10)
    assert desk.asker_reply(n, by=BYSTANDER, now=TUE_10) is None
    t = desk.asker_reply(n, by=ASKER, now=TUE_10)
    assert t is not None and t.status is Status.CLAIMED and t.reopened == 1
    with pytest.raises(InvalidAction):
        desk.reopen(n, by=ASKER, now=TUE_10)  # still being handled
    desk.close(n, by=ALICE, now=TUE_10)
    with pytest.raises(NotOwner):
        desk.reopen(n, by=BOB, now=TUE_10)
    assert desk.reopen(n, by=ASKER, now=TUE_10, reason="还有问题").status is Status.CLAIMED


def test_faq_resolved_by_asker_only(desk: Desk) -> None:
    n = ask(desk).ticket.number
    with pytest.raises(NotAsker):
        desk.resolve_by_faq(n, by=BYSTANDER, now=TUE_10)
    t = desk.resolve_by_faq(n, by=ASKER, now=TUE_10)
    assert t.status is Status.CLOSED and kinds(t)[-1] == "faq_resolved"


def test_the_faq_offer_buttons_are_refused_once_a_person_has_the_ticket(desk: Desk) -> None:
    """已解决 / 转人工 belong to the offer: once staff claimed the question, the person decides, and a
    closed ticket is not closed again by the asker's old button."""
    n = ask(desk).ticket.number
    desk.claim(n, by=ALICE, now=TUE_10)
    with pytest.raises(TakenByStaff):
        desk.resolve_by_faq(n, by=ASKER, now=TUE_10)
    with pytest.raises(TakenByStaff):
        desk.request_human(n, by=ASKER, now=TUE_10)
    assert desk.get(n).status is Status.CLAIMED
    m = ask(desk, msg=2).ticket.number
    with pytest.raises(NotAsker):
        desk.request_human(m, by=BYSTANDER, now=TUE_10)
    desk.resolve_by_faq(m, by=ASKER, now=TUE_10)
    with pytest.raises(TicketClosed):
        desk.request_human(m, by=ASKER, now=TUE_10)


def test_auto_assign_picks_on_duty_topic_staff_with_fewest_open(desk: Desk) -> None:
    a = ask(desk, msg=1).ticket.number
    b = ask(desk, msg=2).ticket.number
    desk.claim(b, by=ALICE, now=TUE_10)  # Alice has one open ticket
    assert desk.auto_assign(TUE_10 + timedelta(minutes=14)) == []
    [t] = desk.auto_assign(TUE_10 + timedelta(minutes=15))
    assert t.number == a and t.owner_id == BOB and t.auto_assigned and t.status is Status.CLAIMED
    assert t.events[-1].kind is EventKind.ASSIGNED and t.events[-1].actor_id is None
    assert desk.auto_assign(TUE_10 + timedelta(minutes=30)) == []


def test_auto_assign_respects_duty_hours_and_topics(desk: Desk) -> None:
    n = ask(desk, "公积金怎么从北京转过来").ticket.number
    assert desk.get(n).topic == "housing-fund"
    assert desk.auto_assign(at(2026, 11, 24, 11, 0)) == []  # Carol is on duty only in the afternoon
    [t] = desk.auto_assign(at(2026, 11, 24, 14, 0))
    assert t.owner_id == CAROL


def test_auto_assign_counts_service_minutes_not_wall_clock(desk: Desk) -> None:
    ask(desk, now=at(2026, 11, 24, 11, 55))
    assert desk.auto_assign(at(2026, 11, 24, 13, 35)) == []  # 5 + 5 service minutes
    assert len(desk.auto_assign(at(2026, 11, 24, 13, 40))) == 1


def test_sla_warn_then_escalate_each_once(desk: Desk) -> None:
    n = ask(desk).ticket.number  # first response due 11:00
    desk.claim(n, by=ALICE, now=TUE_10)
    assert desk.sla_due(at(2026, 11, 24, 10, 29)) == []
    [w] = desk.sla_due(at(2026, 11, 24, 10, 30))
    assert (w.kind, w.deadline, w.recipients) == (NoticeKind.WARN, Deadline.FIRST_RESPONSE, (ALICE,))
    desk.mark_sent(w, at(2026, 11, 24, 10, 30))
    assert desk.sla_due(at(2026, 11, 24, 10, 45)) == []
    [e] = desk.sla_due(at(2026, 11, 24, 11, 0))
    assert (e.kind, e.recipients) == (NoticeKind.ESCALATE, (SUPER,))
    desk.mark_sent(e, at(2026, 11, 24, 11, 0))
    assert desk.sla_due(at(2026, 11, 24, 11, 30)) == []
    t = desk.get(n)
    assert t.warned_first_response and t.escalated_first_response
    assert kinds(t)[-2:] == ["warned", "escalated"]


def test_sla_notices_survive_a_restart(desk: Desk, repo: TicketRepository) -> None:
    n = ask(desk).ticket.number
    [e] = desk.sla_due(at(2026, 11, 24, 11, 5))  # late sweep: straight to escalation, no warning
    assert e.kind == NoticeKind.ESCALATE
    desk.mark_sent(e, at(2026, 11, 24, 11, 5))
    restarted = Desk(repo, desk.roster, desk.hours, desk.policy, desk.library, desk.matcher)
    assert restarted.sla_due(at(2026, 11, 24, 11, 6)) == []
    assert restarted.get(n).escalated_first_response


def test_sla_resolution_deadline_and_answered_tickets(desk: Desk) -> None:
    n = ask(desk).ticket.number
    desk.answer(n, by=ALICE, text="答复", now=TUE_10)
    notices = desk.sla_due(at(2026, 11, 25, 9, 45))  # resolution due Wed 10:00
    assert [(x.kind, x.deadline) for x in notices] == [(NoticeKind.WARN, Deadline.RESOLUTION)]
    desk.close(n, by=ALICE, now=at(2026, 11, 25, 9, 50))
    assert desk.sla_due(at(2026, 11, 25, 12, 0)) == []


def test_sla_clock_stops_over_national_day(desk: Desk) -> None:
    ask(desk, now=at(2026, 9, 30, 17, 0))  # due 08 Oct 09:30
    assert desk.sla_due(at(2026, 10, 5, 12, 0)) == []
    assert [x.kind for x in desk.sla_due(at(2026, 10, 8, 9, 0))] == [NoticeKind.WARN]


def test_auto_close_after_idle_days(desk: Desk) -> None:
    n = ask(desk).ticket.number
    desk.answer(n, by=ALICE, text="答复", now=TUE_10)
    assert desk.auto_close(TUE_10 + timedelta(days=2, hours=23)) == []
    [t] = desk.auto_close(TUE_10 + timedelta(days=3))
    assert t.number == n and t.status is Status.CLOSED and kinds(t)[-1] == "auto_closed"
    assert desk.asker_reply(n, by=ASKER, now=TUE_10 + timedelta(days=4)) is not None  # the asker can reopen


def test_queue_and_mine_by_deadline(desk: Desk) -> None:
    a = ask(desk, "户口怎么迁到雄安", msg=1).ticket.number  # due 12:00
    b = ask(desk, msg=2).ticket.number  # education due 11:00
    desk.claim(a, by=ALICE, now=TUE_10)
    assert [t.number for t in desk.queue()] == [b, a]
    assert [t.number for t in desk.mine(ALICE)] == [a]
    with pytest.raises(NotStaff):
        desk.mine(ASKER)


def test_stats_over_seven_days(desk: Desk) -> None:
    a = ask(desk, msg=1).ticket.number
    b = ask(desk, "户口怎么迁到雄安", msg=2).ticket.number
    ask(desk, msg=3, now=at(2026, 11, 10, 10, 0))  # older than 7 days
    desk.answer(a, by=ALICE, text="x", now=at(2026, 11, 24, 10, 30))  # 30 min, met
    desk.answer(b, by=ALICE, text="y", now=at(2026, 11, 24, 14, 0))  # 150 service minutes, missed
    desk.close(a, by=ALICE, now=at(2026, 11, 24, 10, 40))
    desk.rate(a, by=ASKER, rating=Rating.SATISFIED, now=at(2026, 11, 24, 10, 41))
    s = desk.stats(at(2026, 11, 24, 15, 0))
    assert s.count == 2 and s.closed == 1 and s.open == 1
    assert s.median_first_response_minutes == 90.0
    assert s.first_response_met_percent == 50.0
    assert s.resolution_met_percent == 100.0  # b's resolution deadline has not passed yet
    assert {x.topic: (x.count, x.sla_met_percent) for x in s.by_topic} == {
        "education": (1, 100.0),
        "household": (1, 0.0),
    }
    assert s.ratings == {"satisfied": 1}


def test_weekly_report_top_questions(desk: Desk) -> None:
    texts = [
        "孩子上学要什么材料",
        "子女入学需要准备哪些材料",
        "娃上小学要带哪些证件",
        "公积金怎么从北京转过来",
        "公积金怎么转过来",
        "楼下快递柜坏了找谁修",
    ]
    for i, text in enumerate(texts, 1):
        ask(desk, text, msg=i)
    report = desk.weekly_report(at(2026, 11, 30, 9, 0))
    top = report.top_questions
    assert [(q.count, q.faq_entry) for q in top] == [(3, "education/1"), (2, "housing-fund/1"), (1, None)]
    assert top[0].numbers == (1, 2, 3)
    assert top[2].text == "楼下快递柜坏了找谁修"
    assert report.stats.count == 6


def test_weekly_report_groups_the_issue_s_pair(desk: Desk) -> None:
    """Issue 14: "请问雄安消费券怎么领取" and "消费券怎么领" were two questions in the weekly top-5."""
    for i, text in enumerate(["请问雄安消费券怎么领取", "孩子上学要什么材料", "消费券怎么领", "雄安发的消费券在哪里领啊"], 1):
        ask(desk, text, msg=i)
    top = desk.weekly_report(at(2026, 11, 30, 9, 0)).top_questions
    assert [(q.count, q.numbers) for q in top] == [(3, (1, 3, 4)), (1, (2,))]


def test_export_and_forget(desk: Desk) -> None:
    n = ask(desk).ticket.number
    ask(desk, msg=2, asker=BYSTANDER)
    exported = desk.export_user(ASKER)
    assert [d["number"] for d in exported] == [n] and exported[0]["text"] == "孩子上学要什么材料"
    assert desk.forget_user(ASKER, now=TUE_10, by=SUPER) == 1
    t = desk.get(n)
    assert t.text == "（已删除）" and t.asker_name == "" and t.asker_id == 0
    assert all(e.actor_id != ASKER for e in t.events)
    assert desk.export_user(ASKER) == []
    assert desk.stats(at(2026, 11, 24, 15, 0)).count == 2  # counts kept


def test_ticket_round_trips_through_dict(desk: Desk) -> None:
    n = ask(desk).ticket.number
    desk.answer(n, by=ALICE, text="答复", now=TUE_10)
    desk.note(n, by=BOB, text="备注", now=TUE_10)
    desk.close(n, by=ALICE, now=TUE_10)
    desk.rate(n, by=ASKER, rating=Rating.BASIC, now=TUE_10)
    t = desk.get(n)
    assert Ticket.from_dict(t.to_dict()) == t


def test_error_messages_have_english_too(desk: Desk) -> None:
    with pytest.raises(NotStaff) as exc:
        desk.claim(999, by=BYSTANDER, now=TUE_10)
    assert error_text("en", exc.value) == "Sorry, this is for staff only."
    from bot.tickets.errors import TicketNotFound

    with pytest.raises(TicketNotFound) as exc2:
        desk.get(999)
    assert error_text("zh", exc2.value) == "未找到工单 #999。"
