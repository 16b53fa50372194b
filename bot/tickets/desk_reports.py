"""The desk's views and figures: /queue, /mine, /stats and Monday's weekly report. Part of
:class:`bot.tickets.desk.Desk`.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.tickets.desk_core import DeskCore
from bot.tickets.faq import FaqMatcher
from bot.tickets.model import EventKind, Status, Ticket


@dataclass(frozen=True)
class TopicStats:
    topic: str
    count: int
    sla_met_percent: float | None


@dataclass(frozen=True)
class Stats:
    """The last N days: counts, first-response times (service minutes) and SLA met percentages."""

    since: datetime
    until: datetime
    count: int
    open: int
    closed: int
    median_first_response_minutes: float | None
    median_resolution_minutes: float | None
    first_response_met_percent: float | None
    resolution_met_percent: float | None
    by_topic: tuple[TopicStats, ...]
    ratings: Mapping[str, int]
    complaints: int = 0  # complaints opened in the period (not in the question figures above)
    complaints_closed: int = 0  # of those, closed with an outcome
    complaints_met_percent: float | None = None  # closed within the complaint deadline
    faq_offered: int = 0  # questions that got an FAQ answer at intake
    self_served: int = (
        0  # of those, closed by the asker's 已解决 (no staff work; not in the first-response SLA)
    )
    human_requested: int = 0  # of those, the asker pressed 转人工


@dataclass(frozen=True)
class QuestionCount:
    text: str  # a representative question
    count: int
    numbers: tuple[int, ...]
    faq_entry: str | None  # the FAQ entry they match, None = a candidate for a new entry


@dataclass(frozen=True)
class WeeklyReport:
    stats: Stats
    top_questions: tuple[QuestionCount, ...]


def _pct(hits: int, total: int) -> float | None:
    return None if total == 0 else round(100.0 * hits / total, 1)


class DeskReports(DeskCore):
    """queue, mine, stats and weekly_report."""

    # -- views -------------------------------------------------------------------------------------

    def queue(self) -> list[Ticket]:
        """/queue: tickets not closed, the most urgent deadline first."""

        def urgency(t: Ticket) -> datetime:
            return t.resolution_due if t.first_response_at is not None else t.first_response_due

        return sorted(self.repo.active(), key=lambda t: (urgency(t), t.number))

    def mine(self, staff_id: int) -> list[Ticket]:
        """/mine: the staff member's tickets not closed, by deadline."""
        self._staff(staff_id)
        return [t for t in self.queue() if t.owner_id == staff_id]

    def stats(self, now: datetime, days: int = 7, *, since: datetime | None = None) -> Stats:
        """/stats: tickets created in the last ``days`` days (or from ``since``) until ``now``."""
        since = now - timedelta(days=days) if since is None else since
        period = [t for t in self.repo.created_since(since) if t.created_at <= now]
        tickets = [t for t in period if not t.is_complaint]
        complaints = [t for t in period if t.is_complaint]
        c_due = [t for t in complaints if t.closed_at is not None or now >= t.resolution_due]
        c_met = sum(1 for t in c_due if t.closed_at is not None and t.closed_at <= t.resolution_due)
        first_times: list[float] = []
        res_times: list[float] = []
        fr_hits = fr_total = res_hits = res_total = 0
        per_topic: dict[str, list[bool]] = {}
        topic_count: Counter[str] = Counter()
        ratings: Counter[str] = Counter()
        self_served = {t.number for t in tickets if any(e.kind is EventKind.FAQ_RESOLVED for e in t.events)}
        for t in tickets:
            topic_count[t.topic] += 1
            # solved by the member with the FAQ answer: no staff response was owed (resolution still counts,
            # from the question)
            served = t.number in self_served and t.first_response_at is None
            if t.first_response_at is not None:
                first_times.append(self.hours.service_minutes_between(t.created_at, t.first_response_at))
            if not served and (t.first_response_at is not None or now >= t.first_response_due):
                fr_total += 1
                met = t.first_response_at is not None and t.first_response_at <= t.first_response_due
                fr_hits += met
                per_topic.setdefault(t.topic, []).append(met)
            if t.closed_at is not None:
                res_times.append(self.hours.service_minutes_between(t.created_at, t.closed_at))
            if t.closed_at is not None or now >= t.resolution_due:
                res_total += 1
                res_hits += t.closed_at is not None and t.closed_at <= t.resolution_due
            for e in t.events:
                if e.kind is EventKind.RATED and since <= e.at <= now:
                    ratings[str(e.details.get("rating"))] += 1
        by_topic = tuple(
            TopicStats(k, c, _pct(sum(per_topic.get(k, [])), len(per_topic.get(k, []))))
            for k, c in sorted(topic_count.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        return Stats(
            since=since,
            until=now,
            count=len(tickets),
            open=sum(1 for t in tickets if t.status is not Status.CLOSED),
            closed=sum(1 for t in tickets if t.status is Status.CLOSED),
            median_first_response_minutes=round(statistics.median(first_times), 1) if first_times else None,
            median_resolution_minutes=round(statistics.median(res_times), 1) if res_times else None,
            first_response_met_percent=_pct(fr_hits, fr_total),
            resolution_met_percent=_pct(res_hits, res_total),
            by_topic=by_topic,
            ratings=dict(ratings),
            complaints=len(complaints),
            complaints_closed=sum(1 for t in complaints if t.status is Status.CLOSED),
            complaints_met_percent=_pct(c_met, len(c_due)),
            faq_offered=sum(1 for t in tickets if t.faq_offered),
            self_served=len(self_served),
            human_requested=sum(
                1 for t in tickets if any(e.kind is EventKind.HUMAN_REQUESTED for e in t.events)
            ),
        )

    def weekly_report(self, now: datetime, *, top: int = 5) -> WeeklyReport:
        """Monday's report: the week's stats and the most asked questions (near-duplicates grouped)."""
        stats = self.stats(now, 7)
        tickets = sorted(
            (t for t in self.repo.created_since(stats.since) if t.created_at <= now and not t.is_complaint),
            key=lambda t: t.number,
        )
        # 一类事, as the desk groups them (bot/assist/classes.py): average linkage over the retrieval features
        from bot.assist.classes import group
        from bot.assist.similar import MatcherRetrieval

        by_number = {t.number: t for t in tickets}
        retrieval = MatcherRetrieval(self.matcher or FaqMatcher(self.library))
        classes = group([(t.number, t.text) for t in tickets], retrieval)
        top_q = []
        for g in classes[:top]:
            members = [by_number[int(str(n))] for n in sorted(int(str(k)) for k in g.keys)]
            offered = Counter(t.faq_offered for t in members if t.faq_offered)
            entry = offered.most_common(1)[0][0] if offered else None
            top_q.append(
                QuestionCount(members[0].text, len(members), tuple(t.number for t in members), entry)
            )
        return WeeklyReport(stats, tuple(top_q))
