"""select(): freshness, keywords, dedupe against seen, updated titles, limits, order."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from digests.model import SHANGHAI, Item, SectionSpec
from digests.select import content_key, select

NOW = datetime(2026, 4, 15, 8, 0, tzinfo=SHANGHAI)


def item(n: int, hours_ago: float | None = 1, title: str | None = None, summary: str = "") -> Item:
    published = None if hours_ago is None else NOW - timedelta(hours=hours_ago)
    return Item(id=f"id{n}", title=title or f"标题{n}", link=f"https://x.org/{n}", summary=summary, published=published)


def test_freshness_window_and_undated_items() -> None:
    # issue 15: an item older than its window never appears, and an undated one cannot prove it is not
    items = [item(1, 2), item(2, 80), item(3, None), item(4, 72.01)]
    chosen = select(items, SectionSpec("policy", max_age_hours=72), {}, NOW).items
    assert [i.id for i in chosen] == ["id1"]


def test_freshness_is_per_section() -> None:
    items = [item(1, 2), item(2, 30)]
    assert [i.id for i in select(items, SectionSpec("policy", max_age_hours=24), {}, NOW).items] == ["id1"]
    assert [i.id for i in select(items, SectionSpec("jobs", max_age_hours=24 * 7), {}, NOW).items] == ["id1", "id2"]


def test_seen_same_title_is_dropped_changed_title_is_updated() -> None:
    items = [item(1), item(2, title="新标题"), item(3)]
    result = select(items, SectionSpec("policy"), {"id1": "标题1", "id2": "旧标题"}, NOW)
    assert [(i.id, i.updated) for i in result.items] == [("id2", True), ("id3", False)]
    assert dict(result.seen_updates) == {"id2": "新标题", "id3": "标题3"}


def test_changed_summary_with_same_id_and_title_is_an_update() -> None:
    # issue 15: "updated" notices only saw a changed title; a changed summary was ignored
    old = item(1, summary="12月1日起办理")
    new = item(1, summary="12月3日起办理（时间调整）")
    seen = {"id1": content_key(old)}
    assert select([old], SectionSpec("services"), seen, NOW).items == ()
    result = select([new], SectionSpec("services"), seen, NOW)
    assert [(i.id, i.updated) for i in result.items] == [("id1", True)]
    assert result.seen_updates["id1"] == content_key(new) != content_key(old)


def test_a_record_from_before_content_hashes_is_not_an_update() -> None:
    # seen records written before the hash hold the bare title: the same title is still "seen"
    assert select([item(1, summary="摘要")], SectionSpec("policy"), {"id1": "标题1"}, NOW).items == ()


def test_keywords_include_and_exclude_case_insensitive() -> None:
    items = [item(1, title="公积金提取"), item(2, title="医保报销", summary="Shebao 新规"), item(3, title="体育新闻")]
    spec = SectionSpec("services", include=("公积金", "SHEBAO"), exclude=("提取",))
    assert [i.id for i in select(items, spec, {}, NOW).items] == ["id2"]


def test_limit_newest_first_and_ids_taken_by_earlier_sections() -> None:
    items = [item(1, 5), item(2, 1), item(3, 3), item(4, 2)]
    result = select(items, SectionSpec("policy", limit=2), {}, NOW, exclude_ids={"id2"})
    assert [i.id for i in result.items] == ["id4", "id3"]
    assert set(result.seen_updates) == {"id4", "id3"}


def test_duplicate_ids_in_one_batch_are_shown_once() -> None:
    assert len(select([item(1), item(1)], SectionSpec("policy"), {}, NOW).items) == 1


@given(
    st.lists(st.tuples(st.integers(0, 20), st.one_of(st.none(), st.floats(0, 200))), max_size=40),
    st.integers(1, 10),
)
def test_never_more_than_limit_never_a_seen_unchanged_item(rows: list[tuple[int, float | None]], limit: int) -> None:
    items = [item(n, h) for n, h in rows]
    seen = {f"id{n}": f"标题{n}" for n in range(0, 21, 3)}
    result = select(items, SectionSpec("policy", limit=limit), seen, NOW)
    assert len(result.items) <= limit
    assert all(i.id not in seen for i in result.items)
    assert len({i.id for i in result.items}) == len(result.items)
