"""Worlds and configs for the faults suite: the default world plus N more groups the bot is in."""

from __future__ import annotations

from typing import Any

import yaml

from sandbox import DEFAULT_WORLD, GROUP_ID
from sandbox.world import World, dump_world, parse_world

BIG_SECTIONS = [  # enough items for a digest of several parts
    {"key": "policy", "sources": ["xinhua-politics", "xinhua-finance"], "limit": 50, "max_age_hours": 87600},
    {"key": "jobs", "sources": ["jobs"], "limit": 50, "max_age_hours": 87600},
]


def group_ids(n: int) -> list[int]:
    return [GROUP_ID] + [-1001100 - i for i in range(1, n)]


def world_with_groups(n: int, *, basic_group: int | None = None) -> World:
    """The default world and groups -1001101.. (n in all with the main group); ``basic_group``: a
    ``type: group`` chat (to be migrated to a supergroup)."""
    raw = yaml.safe_load(dump_world(DEFAULT_WORLD))
    for gid in group_ids(n)[1:]:
        raw["chats"].append({"id": gid, "type": "supergroup", "title": f"测试群{-gid}",
                             "members": [101, 9000], "admins": [9000]})
    if basic_group is not None:
        raw["chats"].append({"id": basic_group, "type": "group", "title": "老群",
                             "members": [101, 9000], "admins": [9000]})
    return parse_world(raw, "faults world")


def groups_config(ids: list[int]) -> list[dict[str, Any]]:
    return [{"id": gid, "name": f"g{i}", "title": f"群{i}"} for i, gid in enumerate(ids)]
