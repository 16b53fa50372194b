"""The segmenter (bot/knowledge/segment.py) against jieba 0.42.1 itself: the same words for every text the
bot reads (the FAQ, the evaluation sets, generated strings), with the same words added; and its cache of
the built dictionary (missing, corrupt, stale, not writable)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.knowledge import segment
from bot.knowledge.retrieval import _CJK, _WORDISH, COLLOQUIAL, _terms, fold_table, normalise
from bot.tickets.topics import load_faq

ROOT = Path(__file__).resolve().parents[2]


def _added_words() -> list[str]:
    """The words retrieval adds, in its order: the colloquial table, then the FAQ's synonyms' terms."""
    library, _ = load_faq(ROOT / "content" / "faq")
    words = [w for canon, variants in COLLOQUIAL.items() for w in (canon, *variants) if len(w) > 1]
    words += [w for w in _terms(fold_table(library.synonyms())) if len(w) > 1]
    return list(dict.fromkeys(words))


@pytest.fixture(scope="module")
def pair() -> tuple[Any, segment.Segmenter]:
    """jieba's own Tokenizer and ours, each with the words retrieval adds."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    seg = segment.load()
    for w in _added_words():
        tok.add_word(w)
        seg.add_word(w)
    return tok, seg


def _texts() -> Iterator[str]:
    """Every FAQ file's lines, every question of the retrieval evaluation set and of the 一类事 classes."""
    for path in sorted((ROOT / "content" / "faq").glob("*.md")):
        yield from path.read_text(encoding="utf-8").splitlines()
    ev = yaml.safe_load((ROOT / "tests" / "data" / "retrieval" / "faq_eval.yaml").read_text(encoding="utf-8"))
    for questions in ev["in_scope"].values():
        yield from questions
    yield from ev["out_of_scope"]
    classes = yaml.safe_load((ROOT / "tests" / "data" / "assist" / "classes.yaml").read_text(encoding="utf-8"))
    for questions in classes.values():
        yield from questions


def _same(tok: Any, seg: segment.Segmenter, text: str) -> None:
    assert seg.lcut(text) == tok.lcut(text, HMM=False), text
    assert seg.lcut_for_search(text) == tok.lcut_for_search(text, HMM=False), text


def test_the_same_words_as_jieba_for_every_text_the_bot_reads(pair: tuple[Any, segment.Segmenter]) -> None:
    tok, seg = pair
    texts = list(_texts())
    assert len(texts) > 900  # the corpora were found
    for text in texts:
        _same(tok, seg, text)  # as written: punctuation, latin, digits, spaces
        for chunk in _WORDISH.findall(normalise(text)):  # as retrieval.features passes them
            if _CJK.match(chunk):
                _same(tok, seg, chunk)
                for w in seg.lcut(chunk):
                    _same(tok, seg, w)


def test_added_words_weigh_as_in_jieba(pair: tuple[Any, segment.Segmenter]) -> None:
    tok, seg = pair
    assert seg.total == tok.total
    # S and 犰 are no words, only prefixes of some (jieba counts them 0 there, 1 when unknown)
    for w in ("雄才卡", "俺家娃", "个转企", "子女入学", "公积金", "x", "S", "犰", "甘淡"):
        assert seg.suggest_freq(w) == tok.suggest_freq(w, False), w
    assert "俺家娃" in seg.lcut("俺家娃上学")  # an added word is cut out whole


EDGE = ["", "孩", "a", "1", " ", "\r\n", "a1b 雄安c", "iPhone13怎么样", "3岁娃能上幼儿园吗？", "x-ray和C++",
        "㐀㐁孩子", "鿰鿱转学", "豈更", "𠀀𠀁公积金", "100%报销", "A4纸", "，。！", "12345热线", "雄安 新区\t社保"]


@pytest.mark.parametrize("text", EDGE)
def test_edge_cases_as_in_jieba(pair: tuple[Any, segment.Segmenter], text: str) -> None:
    tok, seg = pair
    _same(tok, seg, text)


_ALPHABET = "的了孩子转学公积金社保雄安新区人民共和国中华北京上海天津学生入学材料证明卡才提取办理流程" \
    "aZ09+#&._%-， 。\r\n\t㐀鿰豈𠀀"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=30))
def test_generated_strings_as_in_jieba(text: str) -> None:
    tok, seg = _PAIR.get("pair") or _PAIR.setdefault("pair", _pair_for_hypothesis())
    _same(tok, seg, text)


_PAIR: dict[str, tuple[Any, segment.Segmenter]] = {}


def _pair_for_hypothesis() -> tuple[Any, segment.Segmenter]:
    import jieba

    tok = jieba.Tokenizer()
    tok.initialize()
    seg = segment.load()
    for w in ("雄安新区", "才卡", "转学材料", "a1"):  # overlays over, inside and across dictionary words
        tok.add_word(w)
        seg.add_word(w)
    tok.add_word("学生", 0)
    seg.add_word("学生", 0)  # del_word: a dictionary word taken out
    return tok, seg


def test_a_removed_word_is_cut_apart() -> None:
    tok, seg = _PAIR.get("pair") or _PAIR.setdefault("pair", _pair_for_hypothesis())
    assert seg.lcut("学生入学") == tok.lcut("学生入学", HMM=False) == ["学", "生", "入学"]


# the cache, with a small dictionary (jieba's first 3000 lines and a few words of ours) so each build is quick

@pytest.fixture
def small_dict(tmp_path: Path) -> Path:
    lines = segment.jieba_dictionary().read_text(encoding="utf-8").splitlines()[:3000]
    path = tmp_path / "dict.txt"
    path.write_text("\n".join([*lines, "雄安 500 ns", "雄安新区 300 ns", "公积金 800 n", "提取 600 v"]) + "\n",
                    encoding="utf-8")
    return path


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.name.startswith("jieba-"))


def test_the_cache_is_built_once_and_then_mapped(small_dict: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    seg = segment.load(small_dict, cache)
    assert seg.lcut("雄安新区公积金提取") == ["雄安新区", "公积金", "提取"]
    files = _files(cache)
    assert [p.suffix for p in files] == [".freq", ".trie"]
    stamps = [(p.stat().st_ino, p.stat().st_mtime_ns) for p in files]
    again = segment.load(small_dict, cache)
    assert again.lcut("雄安新区公积金提取") == ["雄安新区", "公积金", "提取"]
    assert [(p.stat().st_ino, p.stat().st_mtime_ns) for p in _files(cache)] == stamps  # read, not rebuilt
    assert not [p for p in cache.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("damage", ["trie-bytes", "trie-truncated", "freq-header", "freq-truncated", "trie-gone"])
def test_a_damaged_cache_is_rebuilt(small_dict: Path, tmp_path: Path, damage: str) -> None:
    cache = tmp_path / "cache"
    segment.load(small_dict, cache)
    freq, trie = _files(cache)
    if damage == "trie-bytes":
        data = bytearray(trie.read_bytes())
        data[len(data) // 2] ^= 0xFF
        trie.write_bytes(bytes(data))
    elif damage == "trie-truncated":
        trie.write_bytes(trie.read_bytes()[:100])
    elif damage == "freq-header":
        freq.write_bytes(b"garbage" + freq.read_bytes()[7:])
    elif damage == "freq-truncated":
        freq.write_bytes(freq.read_bytes()[:-4])
    else:
        trie.unlink()
    seg = segment.load(small_dict, cache)
    assert seg.lcut("雄安新区公积金提取") == ["雄安新区", "公积金", "提取"]
    assert segment._open_files(small_dict, cache, segment._sha256(small_dict)) is not None  # whole again


def test_a_changed_dictionary_is_not_read_from_the_old_build(small_dict: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert segment.load(small_dict, cache).lcut("雄安新区") == ["雄安新区"]
    old = _files(cache)
    small_dict.write_text(small_dict.read_text(encoding="utf-8").replace("雄安新区 300 ns\n", ""), encoding="utf-8")
    assert segment.load(small_dict, cache).lcut("雄安新区") == ["雄安", "新", "区"]
    assert len(_files(cache)) == 4 and set(old) < set(_files(cache))  # a build of its own, the other kept


def test_an_older_formats_files_are_removed(small_dict: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    older = [cache / f"jieba-0123456789abcdef-v{segment.FORMAT - 1}{ext}" for ext in (".trie", ".freq")]
    for path in older:
        path.write_bytes(b"old")
    segment.load(small_dict, cache)
    assert [p.name.endswith(f"-v{segment.FORMAT}.freq") for p in _files(cache)] == [True, False]
    assert not any(p.exists() for p in older)


def test_an_unwritable_cache_builds_in_memory(small_dict: Path, tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    with caplog.at_level(logging.WARNING, logger="bot.knowledge.segment"):
        seg = segment.load(small_dict, blocker / "cache")
    assert seg.lcut("雄安新区公积金提取") == ["雄安新区", "公积金", "提取"]
    assert "building it in memory" in caplog.text and str(blocker / "cache") in caplog.text


def test_the_cache_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CACHE_DIRECTORY", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert segment.cache_dir() == tmp_path / "servicebot"
    monkeypatch.setenv("CACHE_DIRECTORY", f"{tmp_path}/unit:{tmp_path}/other")  # systemd's CacheDirectory=
    assert segment.cache_dir() == tmp_path / "unit"
    monkeypatch.delenv("CACHE_DIRECTORY")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert segment.cache_dir() == Path(os.path.expanduser("~")) / ".cache" / "servicebot"


def test_a_bad_dictionary_line_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "dict.txt"
    bad.write_text("雄安 500 ns\n雄安新区\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"dict\.txt at line 2: 雄安新区"):
        segment._build(bad)
