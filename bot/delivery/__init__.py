"""Delivery, without Telegram: when slots run, what a missed one becomes, and the exactly-once walk.

* :mod:`~bot.delivery.schedule` — slot times, service days, next run, the one catch-up/expiry decision;
* :mod:`~bot.delivery.deliver` — the ledger walk over a send function (any sender: groups, private copies);
* :mod:`~bot.delivery.publisher` — fetch -> build -> parts, keeping no state between calls;
* :mod:`~bot.delivery.slots` — a digest slot for every group; :mod:`~bot.delivery.announcements` — the
  editors' announcements.

The Telegram edge (bot/chat/jobs.py, bot/chat/editor_jobs.py) runs them as jobs and words their notices.
"""

from bot.delivery.deliver import Failure, LedgerWalk, SendPart, WalkResult
from bot.delivery.schedule import SLOTS, Decision, Schedule

__all__ = ["SLOTS", "Decision", "Failure", "LedgerWalk", "Schedule", "SendPart", "WalkResult"]
