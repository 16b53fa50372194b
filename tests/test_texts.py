"""The one text catalogue (bot/texts/zh.yaml, en.yaml): both languages say the same things with the same
placeholders, every text is used somewhere, and parameters are escaped on the way in."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bot.texts import Markup, catalogue, plain, tr

ROOT = Path(__file__).resolve().parents[1]
SOURCES = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "bot").rglob("*.py"))
# families of keys built at run time: f"status_{status.value}", f"error_{exc.code}", f"item_{code}" …
FAMILIES = set(re.findall(r"""f["']([a-z][a-z_]*_)\{""", SOURCES))


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def _used(key: str) -> bool:
    if re.search(rf"""["']{re.escape(key)}["']""", SOURCES):
        return True
    if any(key.startswith(prefix) and len(key) > len(prefix) for prefix in FAMILIES):
        return True
    # a refusal's text is error_<code>: the code is a literal (or a family) in the domain
    return key.startswith("error_") and _used(key.removeprefix("error_"))


def test_both_languages_have_the_same_keys() -> None:
    zh, en = catalogue("zh"), catalogue("en")
    assert sorted(set(zh) - set(en)) == [], "missing in en.yaml"
    assert sorted(set(en) - set(zh)) == [], "missing in zh.yaml"


def test_both_languages_have_the_same_placeholders() -> None:
    zh, en = catalogue("zh"), catalogue("en")
    differ = {k: (_fields(zh[k]), _fields(en[k])) for k in zh if _fields(zh[k]) != _fields(en[k])}
    assert differ == {}


def test_english_has_no_chinese() -> None:
    chinese = {k: v for k, v in catalogue("en").items() if re.search(r"[\u4e00-\u9fff]", v)}
    assert chinese == {}


def test_every_text_is_used() -> None:
    unused = sorted(k for k in catalogue("zh") if not _used(k))
    assert unused == []


def test_a_missing_key_fails_loudly() -> None:
    with pytest.raises(KeyError):
        tr("zh", "no_such_text")


def test_parameters_are_escaped_on_the_way_in_and_markup_is_kept() -> None:
    name = "<b>Tom & Jerry</b>"
    out = tr("zh", "transferred", n=3, by=name, to=Markup('<a href="tg://user?id=1">A</a>'), reason="a<b")
    assert "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;" in out
    assert '<a href="tg://user?id=1">A</a>' in out and "a&lt;b" in out
    assert isinstance(out, Markup)
    # a text built from texts is not escaped twice
    assert tr("zh", "promise_rated", rating=tr("zh", "rating_basic")) == tr("zh", "promise_rated", rating="基本满意")
    # plain text places (buttons, alerts) get the characters back
    assert plain("en", "alert_source_recovered", source="A & B <x>") == "✅ Source A & B <x> works again"


def test_english_is_chosen_by_config_language() -> None:
    assert tr("en", "claimed_ok", n=3) == "Claimed #3" and tr("zh", "claimed_ok", n=3) == "已认领 #3"
    assert tr("en-GB", "claimed_ok", n=3) == "Claimed #3"


def test_no_handler_escapes_by_hand() -> None:
    """The escaping rule has one place: bot/texts (Markup.format). No module calls html.escape, except
    the Markdown renderer of queue files, which writes HTML from a parse tree (bot/editorial/markup.py)."""
    allowed = {ROOT / "bot/editorial/markup.py"}
    offenders = sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "bot").rglob("*.py")
        if "html.escape(" in p.read_text(encoding="utf-8") and p not in allowed
    )
    assert offenders == []
