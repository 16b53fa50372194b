"""A member's data: export it and forget it (personal fields erased, anonymous counts kept). Part of
:class:`bot.tickets.desk.Desk`.
"""

from __future__ import annotations

from datetime import datetime

from bot.tickets.desk_core import DeskCore
from bot.tickets.model import EventKind


class DeskPrivacy(DeskCore):
    """export_user and forget_user."""

    # -- privacy -----------------------------------------------------------------------------------

    def export_user(self, user_id: int) -> list[dict[str, object]]:
        """Everything stored about a member as plain dicts (for ``servicebot export``)."""
        return [t.to_dict() for t in self.repo.by_asker(user_id)]

    def forget_user(self, user_id: int, *, now: datetime, by: int | None = None) -> int:
        """Erase a member's personal data (question text, name) but keep anonymous counts."""
        n = 0
        for t in self.repo.by_asker(user_id):
            t.text = "（已删除）"
            t.asker_name = ""
            t.asker_id = 0
            if t.chat_id == user_id:  # asked in the private chat, whose id is the member's own id
                t.chat_id = 0
            for e in t.events:
                if e.actor_id == user_id:
                    e.actor_id = None
            t.record(EventKind.FORGOTTEN, now, by)
            self.repo.save(t)
            n += 1
        return n
