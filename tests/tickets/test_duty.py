"""Duty days follow the working calendar; supervisors get escalations, not routine tickets (issue 13, item 4)."""

from __future__ import annotations

from datetime import time

from bot.config import DEFAULT_TZ as SHANGHAI
from bot.tickets.desk import Desk, DeskPolicy, NoticeKind, SlaTarget, TicketRepository
from bot.tickets.roster import DutyPeriod, Roster, StaffMember
from bot.tickets.sla import ServiceHours
from bot.tickets.topics import FaqLibrary
from bot.workcal import WorkCalendar

from .conftest import ASKER, GROUP, at

WANG, LI, WEEKEND, ZHAO = 201, 202, 203, 204
CAL = WorkCalendar()
POLICY = DeskPolicy(
    default=SlaTarget(120, 960),
    topics={},
    warn_before_minutes=30,
    auto_assign_after_minutes=15,
    auto_close_after_days=3,
)


def desk_with(repo: TicketRepository, library: FaqLibrary, *staff: StaffMember) -> Desk:
    return Desk(repo, Roster(staff), ServiceHours(CAL), POLICY, library)


def ask(desk: Desk, now, text: str = "公积金怎么提取", msg: int = 1):  # type: ignore[no-untyped-def]
    return desk.open_ticket(chat_id=GROUP, message_id=msg, asker_id=ASKER, asker_name="刘女士", text=text, now=now)


def test_duty_days_on_the_working_calendar() -> None:
    weekdays = StaffMember(WANG, "王敏")  # the default: mon-fri
    weekend = StaffMember(WEEKEND, "周末值班", duty_days=frozenset({5, 6}))
    make_up_saturday, national_day, golden_week_saturday = at(2026, 10, 10, 10), at(2026, 10, 1, 10), at(2026, 10, 3, 10)
    ordinary_saturday, ordinary_monday = at(2026, 11, 28, 10), at(2026, 11, 30, 10)
    assert weekdays.on_duty(make_up_saturday, SHANGHAI, CAL)
    assert not weekdays.on_duty(national_day, SHANGHAI, CAL)
    assert not weekdays.on_duty(golden_week_saturday, SHANGHAI, CAL)
    assert weekdays.on_duty(ordinary_monday, SHANGHAI, CAL)
    assert not weekdays.on_duty(ordinary_saturday, SHANGHAI, CAL)
    assert weekend.on_duty(ordinary_saturday, SHANGHAI, CAL) and weekend.on_duty(make_up_saturday, SHANGHAI, CAL)
    assert not weekend.on_duty(national_day, SHANGHAI, CAL)  # a holiday is nobody's duty day
    assert not weekend.on_duty(ordinary_monday, SHANGHAI, CAL)
    # 2027 by the statutory rules: 元旦 (Friday) is not a duty day
    assert not weekdays.on_duty(at(2027, 1, 1, 10), SHANGHAI, CAL)
    # without a calendar, the plain weekday list (what the old roster did)
    assert weekdays.on_duty(national_day, SHANGHAI) and not weekdays.on_duty(make_up_saturday, SHANGHAI)


def test_a_make_up_saturday_ticket_is_auto_assigned(repo: TicketRepository, library: FaqLibrary) -> None:
    desk = desk_with(repo, library, StaffMember(WANG, "王敏", frozenset({"housing-fund"})))
    t = ask(desk, at(2026, 10, 10, 9, 0)).ticket  # Sat 10 Oct 2026: 调休上班
    assert desk.auto_assign(at(2026, 10, 10, 9, 10)) == []  # 10 service minutes: not yet
    assigned = desk.auto_assign(at(2026, 10, 10, 9, 20))
    assert [a.number for a in assigned] == [t.number] and desk.get(t.number).owner_id == WANG


def test_nobody_is_assigned_on_a_holiday(repo: TicketRepository, library: FaqLibrary) -> None:
    desk = desk_with(repo, library, StaffMember(WANG, "王敏", frozenset({"housing-fund"})))
    t = ask(desk, at(2026, 9, 30, 17, 0)).ticket  # Wed before National Day, 30 service minutes left
    assert desk.auto_assign(at(2026, 10, 2, 10, 0)) == []  # waited 30 service minutes, but Oct 2 is off
    assert desk.on_duty_for("housing-fund", at(2026, 10, 2, 10, 0)) == []
    assert desk.get(t.number).owner_id is None
    assert [a.owner_id for a in desk.auto_assign(at(2026, 10, 8, 9, 0))] == [WANG]


def test_a_supervisor_without_topics_gets_escalations_not_routine_tickets(
    repo: TicketRepository, library: FaqLibrary
) -> None:
    afternoon = (DutyPeriod(time(13, 30), time(17, 30)),)
    li = StaffMember(LI, "李强", frozenset({"housing-fund"}), duty_hours=afternoon)
    zhao = StaffMember(ZHAO, "赵刚", supervisor=True)  # topics: [] as in config.yaml, on duty mon-fri
    desk = desk_with(repo, library, zhao, li)
    t = ask(desk, at(2026, 11, 24, 9, 0)).ticket
    assert desk.auto_assign(at(2026, 11, 24, 10, 0)) == []  # only the supervisor is on duty: not his
    assert desk.on_duty_for("housing-fund", at(2026, 11, 24, 10, 0)) == []
    assert [a.owner_id for a in desk.auto_assign(at(2026, 11, 24, 13, 30))] == [LI]
    assert desk.get(t.number).owner_id == LI
    # the escalation still goes to him
    escalations = [n for n in desk.sla_due(at(2026, 11, 24, 15, 0)) if n.kind == NoticeKind.ESCALATE]
    assert [(n.number, n.recipients) for n in escalations] == [(t.number, (ZHAO,))]


def test_a_supervisor_who_lists_topics_takes_them(repo: TicketRepository, library: FaqLibrary) -> None:
    zhao = StaffMember(ZHAO, "赵刚", frozenset({"housing-fund"}), supervisor=True)
    desk = desk_with(repo, library, zhao)
    ask(desk, at(2026, 11, 24, 9, 0))
    assert [a.owner_id for a in desk.auto_assign(at(2026, 11, 24, 9, 30))] == [ZHAO]
