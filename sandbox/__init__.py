"""The sandbox: an offline Telegram Bot API, control API and web chat. Imports nothing of the bot.

Public face (everything else is internal)::

    from sandbox import Sandbox, SandboxThread, serve, World, load_world, DEFAULT_WORLD
"""

from sandbox.core import ApiError, ControlError
from sandbox.flood import FloodLimits
from sandbox.markup import EntityParseError, compute_entities, parse_html, utf16_len
from sandbox.server import Sandbox, SandboxThread, serve
from sandbox.world import (
    BOT_ID,
    DEFAULT_WORLD,
    DEFAULT_WORLD_FILE,
    EDITORS_CHAT_ID,
    GROUP_ID,
    OPS_CHAT_ID,
    STAFF_CHAT_ID,
    Chat,
    User,
    World,
    WorldError,
    dump_world,
    load_world,
    parse_world,
)

__all__ = [
    "BOT_ID", "DEFAULT_WORLD", "DEFAULT_WORLD_FILE", "EDITORS_CHAT_ID", "GROUP_ID", "OPS_CHAT_ID",
    "STAFF_CHAT_ID", "ApiError", "Chat", "ControlError", "EntityParseError", "FloodLimits", "Sandbox",
    "SandboxThread", "User", "World", "WorldError", "compute_entities", "dump_world", "load_world",
    "parse_html", "parse_world", "serve", "utf16_len",
]
