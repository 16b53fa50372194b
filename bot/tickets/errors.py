"""Desk errors: each refusal is a typed exception carrying the message to show the user.

::

    DeskError                 base; .code, .zh, .en, .user_message(lang)
     ├── TicketNotFound       no ticket with that number
     ├── NotStaff             a staff action by someone not on the roster
     ├── NotOwner             首问负责: only the owner (or a supervisor) may do this
     ├── AlreadyClaimed       someone else claimed it first
     ├── NotAsker             only the asker may rate / confirm / reopen
     ├── TicketClosed         the ticket is closed; reopen it first
     ├── TakenByStaff         an FAQ offer's button pressed after a person took the ticket
     ├── InvalidAction        the action does not fit the ticket's state (e.g. rating an open ticket)
     └── InvalidInput         empty answer text, missing transfer reason, unknown target, …
"""

from __future__ import annotations

__all__ = [
    "AlreadyClaimed",
    "DeskError",
    "InvalidAction",
    "InvalidInput",
    "NotAsker",
    "NotOwner",
    "NotStaff",
    "TakenByStaff",
    "TicketClosed",
    "TicketNotFound",
]


class DeskError(Exception):
    code = "desk_error"

    def __init__(self, zh: str, en: str, *, number: int | None = None) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en
        self.number = number

    def user_message(self, lang: str = "zh") -> str:
        return self.en if lang.startswith("en") else self.zh


class TicketNotFound(DeskError):
    code = "not_found"

    def __init__(self, number: int) -> None:
        super().__init__(f"未找到工单 #{number}。", f"No ticket #{number}.", number=number)


class NotStaff(DeskError):
    code = "not_staff"

    def __init__(self) -> None:
        super().__init__("抱歉，此操作仅限工作人员。", "Sorry, this is for staff only.")


class NotOwner(DeskError):
    code = "not_owner"

    def __init__(self, number: int, owner_name: str) -> None:
        who = owner_name or "—"
        super().__init__(
            f"工单 #{number} 由 {who} 负责（首问负责），仅负责人或主管可以操作。",
            f"Ticket #{number} belongs to {who}; only the owner or a supervisor can do this.",
            number=number,
        )


class AlreadyClaimed(DeskError):
    code = "already_claimed"

    def __init__(self, number: int, owner_name: str) -> None:
        super().__init__(
            f"工单 #{number} 已由 {owner_name} 认领。",
            f"Ticket #{number} is already claimed by {owner_name}.",
            number=number,
        )


class NotAsker(DeskError):
    code = "not_asker"

    def __init__(self, number: int) -> None:
        super().__init__("仅提问人本人可以操作。", "Only the person who asked can do this.", number=number)


class TicketClosed(DeskError):
    code = "closed"

    def __init__(self, number: int) -> None:
        super().__init__(f"工单 #{number} 已关闭。", f"Ticket #{number} is closed.", number=number)


class TakenByStaff(DeskError):
    """The FAQ offer's 已解决 / 转人工 pressed once a person has the ticket: a person closes it, not the offer."""

    code = "taken_by_staff"

    def __init__(self, number: int, owner_name: str) -> None:
        who = owner_name or "工作人员"
        who_en = owner_name or "a staff member"
        super().__init__(
            f"#{number} 已由 {who} 处理，这个按钮已失效；如问题已解决，请回复答复消息告知。",
            f"#{number} is being handled by {who_en}; this button no longer applies. "
            "If it is solved, reply to the answer to say so.",
            number=number,
        )
        self.owner_name = owner_name


class InvalidAction(DeskError):
    code = "invalid_action"


class InvalidInput(DeskError):
    code = "invalid_input"
