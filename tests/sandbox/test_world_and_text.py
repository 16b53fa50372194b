"""World files, the default world, the HTML parser (TDLib's own cases), user-text entities, flood control."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox import (
    DEFAULT_WORLD,
    DEFAULT_WORLD_FILE,
    EntityParseError,
    World,
    WorldError,
    compute_entities,
    dump_world,
    load_world,
    parse_html,
    utf16_len,
)
from sandbox.flood import FloodControl, FloodLimits


def test_default_world_matches_the_demo_and_its_yaml_export() -> None:
    w = DEFAULT_WORLD
    assert (w.bot.id, w.bot.username, w.bot.first_name) == (9000, "servicebot", "服务助手")
    group = w.chat(-1001001)
    assert group is not None and group.title == "雄安-疏解之友" and group.type == "supergroup"
    assert sum(1 for m in group.members if 101 <= m <= 199) == 12
    assert w.user(101) is not None and w.user(101).username == "guochao"  # type: ignore[union-attr]
    staff = w.chat(-1002001)
    assert staff is not None and {201, 202, 203, 204} <= set(staff.members)
    assert w.chat(-1003001) is not None and {301, 302} <= set(w.chat(-1003001).members)  # type: ignore[union-attr]
    assert w.chat(-1004001) is not None
    # the committed YAML is the same world (regenerate: python -m sandbox --export-world sandbox/default_world.yaml)
    assert DEFAULT_WORLD_FILE.read_text(encoding="utf-8") == dump_world(w)
    assert load_world(DEFAULT_WORLD_FILE).to_dict() == w.to_dict()


@pytest.mark.parametrize(("text", "message"), [
    ("bot: {id: 1, username: b}\n", "w.yaml: bot.first_name: missing (expected str)"),
    ("bot: {id: 1, username: b, first_name: B, colour: red}\n", "w.yaml: bot.colour: unknown key"),
    ("bot: {id: 1, username: b, first_name: B}\nusers: [{id: x, first_name: A}]\n",
     "w.yaml: users[0].id: expected int, got 'x'"),
    ("bot: {id: 1, username: b, first_name: B}\nchats: [{id: -5, type: group, title: G, members: [7]}]\n",
     "w.yaml: chats[0].members: unknown user id 7"),
    ("bot: {id: 1, username: b, first_name: B}\nchats: [{id: 5, type: group, title: G}]\n",
     "w.yaml: chats[0].id: expected a negative id"),
    ("bot: {id: 1\n", "w.yaml:2:1: YAML syntax error"),
])
def test_world_errors_name_the_key_path(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(WorldError) as err:
        load_world(path)
    assert message in str(err.value).replace(str(tmp_path) + "/", "")


def test_a_world_file_with_forum_topics(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("bot: {id: 1, username: b_bot, first_name: B}\n"
                    "users: [{id: 5, first_name: 甲, username: jia}]\n"
                    "chats: [{id: -10, type: supergroup, title: 论坛, members: [5, 1], admins: [1],"
                    " is_forum: true, topics: [{id: 2, name: 入学}]}]\n", encoding="utf-8")
    w: World = load_world(path)
    chat = w.chat(-10)
    assert chat is not None and chat.is_forum and chat.topics[0].name == "入学"


# TDLib test/message_entities.cpp, check_parse_html: exact error texts with UTF-8 byte offsets
@pytest.mark.parametrize(("html", "error"), [
    ("🏟 🏟&lt;<abacaba", "Unclosed start tag at byte offset 13"),
    ("🏟 🏟&lt;<abac aba>", 'Unsupported start tag "abac" at byte offset 13'),
    ("🏟 🏟&lt;<i   =aba>", 'Empty attribute name in the tag "i" at byte offset 13'),
    ("🏟 🏟&lt;<i    aba>", 'Can\'t find end tag corresponding to start tag "i"'),
    ("🏟 🏟&lt;<i    aba  =  ", 'Unclosed start tag "i" at byte offset 13'),
    ("🏟 🏟&lt;<i    aba  =  190azAz-.,", "Unexpected end of name token at byte offset 27"),
    ("🏟 🏟&lt;</", "Unexpected end tag at byte offset 13"),
    ("🏟 🏟&lt;<b></b></", "Unexpected end tag at byte offset 20"),
    ("🏟 🏟&lt;<i>a</i   ", "Unclosed end tag at byte offset 17"),
    ("🏟 🏟&lt;<i>a</em   >", 'Unmatched end tag at byte offset 17, expected "</i>", found "</em>"'),
])
def test_html_errors_as_tdlib(html: str, error: str) -> None:
    with pytest.raises(EntityParseError) as err:
        parse_html(html)
    assert str(err.value) == error


@pytest.mark.parametrize(("html", "text", "entities"), [
    ("&ge;&lt;&gt;&amp;&quot;&laquo;&raquo;&#12345678;", '&ge;<>&"&laquo;&raquo;&#12345678;', []),
    ("🏟 🏟<i>🏟 &gt;<b aba   =   caba>&lt🏟</b></i>", "🏟 🏟🏟 ><🏟",
     [("italic", 5, 7), ("bold", 9, 3)]),
    ("<a href=telegram.org> </a>", " ", [("text_link", 0, 1)]),
    ('🏟 🏟&lt;<pre><code class="language-fift">🏟 🏟&lt;</></>', "🏟 🏟<🏟 🏟<", [("pre", 6, 6)]),
    ("<blockquote expandable>引用</blockquote><tg-spoiler>剧透</tg-spoiler>", "引用剧透",
     [("expandable_blockquote", 0, 2), ("spoiler", 2, 2)]),
    ("<s>删</s><u>下</u><code>c</code>", "删下c", [("strikethrough", 0, 1), ("underline", 1, 1), ("code", 2, 1)]),
])
def test_html_parsing_as_tdlib(html: str, text: str, entities: list[tuple[str, int, int]]) -> None:
    plain, ents = parse_html(html)
    assert plain == text
    assert [(e["type"], e["offset"], e["length"]) for e in ents] == entities


def test_user_text_entities_with_chinese_and_utf16_offsets() -> None:
    text = "🏟 请 @guochao 帮忙 /ask@servicebot 入学 见 https://www.xiongan.gov.cn/zwgk 谢谢"
    ents = compute_entities(text)
    got = [(e["type"], text.encode("utf-16-le")[e["offset"] * 2:(e["offset"] + e["length"]) * 2]
            .decode("utf-16-le")) for e in ents]
    assert got == [("mention", "@guochao"), ("bot_command", "/ask@servicebot"),
                   ("url", "https://www.xiongan.gov.cn/zwgk")]
    assert ents[0]["offset"] == 5  # 🏟 counts 2 UTF-16 units
    # as in Telegram, a mention glued to Chinese characters is not a mention (they are word characters)
    assert compute_entities("请问@guochao老师") == []
    assert compute_entities("你好 /start") == [{"offset": 3, "length": 6, "type": "bot_command"}]
    assert compute_entities("email a@b 和 @x") == []  # too short / inside a word
    assert utf16_len("字🏟") == 3


def test_flood_control_per_chat_burst_group_minute_and_global() -> None:
    now = [1000.0]
    fc = FloodControl(FloodLimits(per_chat_rate=1.0, per_chat_burst=3, per_group_per_minute=20,
                                  global_per_second=30), clock=lambda: now[0])
    assert [fc.check(1, False) for _ in range(3)] == [None, None, None]
    assert fc.check(1, False) == 1          # burst spent: wait a second
    now[0] += 1.0
    assert fc.check(1, False) is None       # one token back after one second
    # a group: 20 per minute even when paced at 1/s
    for _ in range(20):
        assert fc.check(-5, True) is None
        now[0] += 1.0
    retry = fc.check(-5, True)
    assert retry is not None and 30 <= retry <= 41
    now[0] += 60
    assert fc.check(-5, True) is None
    # global: 30 per second across chats
    now[0] += 100
    results = [fc.check(cid, False) for cid in range(100, 131)]
    assert results[:30] == [None] * 30 and results[30] == 1
