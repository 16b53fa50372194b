"""Desk errors: each refusal is a typed exception carrying a code and its parameters, not rendered text.

The Telegram edge renders them in the configured language (``error_<code>`` in bot/texts, by
``bot.chat.views.errors.error_text``), as httpx's exceptions carry context and leave the words to
the caller. ``str(exc)`` is for logs only.

::

    DeskError                 base; .code, .number, .params
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
    """A refusal: ``code`` names it (the catalogue's ``error_<code>``), ``params`` fill the text.

    ``number`` is the ticket concerned (also passed to the text as ``n``). A parameter that is None
    is a person nobody named (rendered as 工作人员 / a staff member)."""

    code = "desk_error"

    def __init__(self, code: str | None = None, *, number: int | None = None, **params: object) -> None:
        if code is not None:
            self.code = code
        self.number = number
        self.params: dict[str, object] = {"n": number, **params} if number is not None else dict(params)
        super().__init__(f"{self.code} {self.params}")


class TicketNotFound(DeskError):
    code = "not_found"

    def __init__(self, number: int) -> None:
        super().__init__(number=number)


class NotStaff(DeskError):
    code = "not_staff"

    def __init__(self) -> None:
        super().__init__()


class NotOwner(DeskError):
    code = "not_owner"

    def __init__(self, number: int, owner_name: str) -> None:
        super().__init__(number=number, who=owner_name or "—")


class AlreadyClaimed(DeskError):
    code = "already_claimed"

    def __init__(self, number: int, owner_name: str) -> None:
        super().__init__(number=number, who=owner_name)


class NotAsker(DeskError):
    code = "not_asker"

    def __init__(self, number: int) -> None:
        super().__init__(number=number)


class TicketClosed(DeskError):
    code = "closed"

    def __init__(self, number: int) -> None:
        super().__init__(number=number)


class TakenByStaff(DeskError):
    """The FAQ offer's 已解决 / 转人工 pressed once a person has the ticket: a person closes it, not the offer."""

    code = "taken_by_staff"

    def __init__(self, number: int, owner_name: str) -> None:
        super().__init__(number=number, who=owner_name or None)
        self.owner_name = owner_name


class InvalidAction(DeskError):
    """The action does not fit the ticket's state; ``code`` says which rule (e.g. ``rate_not_closed``)."""

    code = "invalid_action"


class InvalidInput(DeskError):
    """Bad input; ``code`` says what (e.g. ``empty_answer``, ``transfer_not_staff``)."""

    code = "invalid_input"
