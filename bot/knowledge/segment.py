"""Chinese word segmentation for retrieval: jieba 0.42.1's precise mode without HMM and its search mode,
over jieba's own dictionary kept as a memory-mapped trie instead of jieba's Python dict.

Why not jieba's Tokenizer itself: it holds its dictionary (349k words and every prefix of each, about
880k str keys with int values) as one Python dict, some 70 MB resident for as long as the bot runs. Here
the same words are a MARISA trie (marisa-trie: the C++ library's own Python binding, manylinux wheels,
maintained since 2012) of about 4 MB and their frequencies an array of 4-byte integers indexed by the
trie's key ids; both are files in the cache, memory-mapped, so only the pages a question touches are
resident (and shared by every bot process on the machine).

API::

    seg = load()                     # the cache's files, built from jieba's dict.txt when missing
    seg.lcut("孩子转学需要什么材料")  -> ["孩子", "转学", "需要", "什么", "材料"]    # jieba.lcut(s, HMM=False)
    seg.lcut_for_search("中华人民共和国")                                          # jieba.lcut_for_search(s, HMM=False)
    seg.add_word("雄才卡")           # jieba's add_word: frequency from suggest_freq, total grows

The cache (:func:`cache_dir`: ``$XDG_CACHE_HOME/servicebot``, else ``~/.cache/servicebot``) holds
``jieba-<sha256 of dict.txt>-v<FORMAT>.trie`` and ``.freq``; the ``.freq`` header names the trie's
sha256, so a torn, corrupt or foreign file is rebuilt, never trusted. The build (about a second of CPU,
once per machine and dictionary) runs in a child process, so the bot keeps none of its transient
memory; each file is written to a temporary name and renamed into place. When the cache cannot be
written (read-only home, no child process), the trie is built in memory: slower to start, same words.

Words added with :meth:`Segmenter.add_word` live in a small overlay dict in front of the trie (the
FAQ's synonyms and the colloquial table: a few hundred). The tests hold the output to jieba's own
Tokenizer's on every FAQ text and the evaluation sets, with the same words added.
"""

from __future__ import annotations

import array
import contextlib
import hashlib
import importlib.util
import logging
import mmap
import os
import re
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from math import log
from pathlib import Path
from typing import Any

__all__ = ["FORMAT", "Segmenter", "build_files", "cache_dir", "jieba_dictionary", "load"]

log_ = logging.getLogger(__name__)

#: the cache files' format; part of their names, so a new format never reads an old file
FORMAT = 1
_MAGIC = b"SBSEG\x00" + (b"L" if sys.byteorder == "little" else b"B") + b"\x00"
_HEADER = struct.Struct("<8sIIQ32s32s")  # magic, format, n keys, total, dict sha256, trie sha256

# jieba 0.42.1's own patterns (jieba/__init__.py): what a block to segment is, what is skipped, what is
# a latin/digit character (buffered: "a1b" stays one token in precise mode)
_RE_HAN = re.compile("([\u4e00-\u9fd5a-zA-Z0-9+#&\\._%\\-]+)", re.U)
_RE_SKIP = re.compile("(\r\n|\\s)", re.U)
_RE_ENG = re.compile("[a-zA-Z0-9]", re.U)


def jieba_dictionary() -> Path:
    """jieba's dict.txt, found without importing jieba (its import loads its HMM tables)."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        raise RuntimeError("jieba is not installed: its dict.txt is the segmenter's dictionary")
    return Path(spec.origin).parent / "dict.txt"


def cache_dir() -> Path:
    """Where the built dictionary is kept: systemd's ``$CACHE_DIRECTORY`` (set by the unit's
    ``CacheDirectory=servicebot``, systemd.exec(5); the first when it lists several), else
    ``$XDG_CACHE_HOME/servicebot`` (XDG Base Directory), else ``~/.cache/servicebot``."""
    systemd = os.environ.get("CACHE_DIRECTORY", "").split(":")[0]
    if systemd:
        return Path(systemd)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "servicebot"


def _sha256(path: Path) -> bytes:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.digest()


def _entries(dictionary: Path) -> Iterator[tuple[str, int]]:
    """(word, frequency) per line, parsed as jieba's gen_pfdict does (a bad line: ValueError, file:line)."""
    with open(dictionary, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.strip().decode("utf-8")
            try:
                word, freq = line.split(" ")[:2]
                yield word, int(freq)
            except ValueError:
                raise ValueError(f"invalid dictionary entry in {dictionary} at line {lineno}: {line}") from None


def _build(dictionary: Path) -> tuple[Any, array.array[int], int]:
    """The trie, the frequencies by key id and the total, streamed from the file twice (no word list
    is held in Python: the trie's builder keeps the keys). A word listed twice keeps its last frequency
    and counts both in the total, as in jieba."""
    import marisa_trie

    trie = marisa_trie.Trie(word for word, _ in _entries(dictionary))
    freq = array.array("I", bytes(4 * len(trie)))
    total = 0
    for word, f in _entries(dictionary):
        freq[trie[word]] = f
        total += f
    return trie, freq, total


def _paths(directory: Path, digest: bytes) -> tuple[Path, Path]:
    stem = f"jieba-{digest.hex()[:16]}-v{FORMAT}"
    return directory / f"{stem}.trie", directory / f"{stem}.freq"


def build_files(dictionary: Path, directory: Path) -> tuple[Path, Path]:
    """Build the trie and frequency files for ``dictionary`` into ``directory``, each written to a
    temporary file and renamed into place (a reader sees the old file or the whole new one); files of
    an older format are removed."""
    digest = _sha256(dictionary)
    trie_path, freq_path = _paths(directory, digest)
    directory.mkdir(parents=True, exist_ok=True)
    trie, freq, total = _build(dictionary)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".seg-", suffix=".tmp")
    os.close(fd)
    try:
        trie.save(tmp)
        trie_sha = _sha256(Path(tmp))
        os.replace(tmp, trie_path)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".seg-", suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(_HEADER.pack(_MAGIC, FORMAT, len(trie), total, digest, trie_sha))
            out.write(freq.tobytes())
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, freq_path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    for old in directory.glob("jieba-*"):  # our older formats' files; another dictionary's stay (a second
        if not old.stem.endswith(f"-v{FORMAT}"):  # install with another jieba must not rebuild at every start)
            with contextlib.suppress(OSError):
                old.unlink()
    return trie_path, freq_path


def _open_files(dictionary: Path, directory: Path, digest: bytes) -> Segmenter | None:
    """The segmenter over the cache's files, or None when they are missing, torn or not ours."""
    import marisa_trie

    trie_path, freq_path = _paths(directory, digest)
    try:
        with open(freq_path, "rb") as f:
            header = f.read(_HEADER.size)
            if len(header) != _HEADER.size:
                return None
            magic, fmt, n, total, dict_sha, trie_sha = _HEADER.unpack(header)
            if magic != _MAGIC or fmt != FORMAT or dict_sha != digest:
                return None
            if os.fstat(f.fileno()).st_size != _HEADER.size + 4 * n or _sha256(trie_path) != trie_sha:
                return None
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        trie = marisa_trie.Trie()
        trie.mmap(str(trie_path))
        if len(trie) != n:
            return None
    except (OSError, ValueError, RuntimeError) as exc:
        log_.debug("segmenter cache %s unusable: %s", freq_path, exc)
        return None
    freq = memoryview(mapped)[_HEADER.size :].cast("I")
    return Segmenter(trie, freq, total)


def load(dictionary: Path | None = None, directory: Path | None = None) -> Segmenter:
    """The segmenter over ``dictionary`` (jieba's dict.txt), memory-mapped from ``directory`` (the
    cache), building the files there first (in a child process) when they are missing or unusable;
    built in memory when the directory cannot be written."""
    dictionary = dictionary or jieba_dictionary()
    directory = directory or cache_dir()
    digest = _sha256(dictionary)
    seg = _open_files(dictionary, directory, digest)
    if seg is not None:
        return seg
    code = "import sys; from pathlib import Path; from bot.knowledge.segment import build_files; "
    code += "build_files(Path(sys.argv[1]), Path(sys.argv[2]))"
    env = dict(os.environ)  # the child imports this package from where we did
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    try:
        subprocess.run([sys.executable, "-c", code, str(dictionary), str(directory)], check=True,
                       capture_output=True, timeout=600, env=env)
        seg = _open_files(dictionary, directory, digest)
    except (OSError, subprocess.SubprocessError) as exc:
        err = getattr(exc, "stderr", None) or b""
        why = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [str(exc)]
        log_.warning("segmenter cache not built in %s (%s); building it in memory", directory, why[0])
    if seg is not None:
        return seg
    trie, freq, total = _build(dictionary)
    return Segmenter(trie, freq, total)


class Segmenter:
    """jieba 0.42.1's Tokenizer.cut(HMM=False) and cut_for_search(HMM=False) over a trie of its words
    (``trie``: marisa_trie.Trie, ``freq[key id]``: the word's frequency, ``total``: their sum), with
    :meth:`add_word` words in an overlay. Where jieba reads ``FREQ`` (words and every prefix of one,
    prefixes at 0), :meth:`_get` answers the same from the trie and the overlay."""

    def __init__(self, trie: Any, freq: Sequence[int], total: int) -> None:
        self._trie = trie
        self._freq = freq
        self.total = total
        self._added: dict[str, int] = {}
        self._added_prefixes: set[str] = set()

    def __len__(self) -> int:
        return len(self._trie) + sum(1 for w in self._added if w not in self._trie)

    def _base(self, word: str) -> int | None:
        kid = self._trie.get(word)
        return None if kid is None else int(self._freq[kid])

    def _get(self, word: str, default: int) -> int:
        """``jieba FREQ.get(word, default)``: a word's frequency, 0 for a prefix of a word, else default."""
        f = self._added.get(word)
        if f is not None:
            return f
        f = self._base(word)
        if f is not None:
            return f
        if default == 0 or word in self._added_prefixes:
            return 0
        return 0 if next(self._trie.iterkeys(word), None) is not None else default

    def add_word(self, word: str, freq: int | None = None) -> None:
        """jieba's add_word: ``freq`` defaults to :meth:`suggest_freq` (high enough that the word is cut
        out whole); the total grows by it."""
        f = int(freq) if freq is not None else self.suggest_freq(word)
        self._added[word] = f
        self.total += f
        for i in range(1, len(word)):
            self._added_prefixes.add(word[:i])

    def suggest_freq(self, word: str) -> int:
        """jieba's suggest_freq(word, tune=False): the frequency that keeps ``word`` in one piece."""
        ftotal = float(self.total)
        freq = 1.0
        for seg in self.cut(word):
            freq *= self._get(seg, 1) / ftotal
        return max(int(freq * self.total) + 1, self._get(word, 1))

    def _dag(self, sentence: str) -> list[list[tuple[int, int]]]:
        """For each position, the (end index, frequency) of the words starting there (jieba's get_DAG,
        with the frequency calc reads); a lone character when none does."""
        added, prefixes, freq, trie = self._added, self._added_prefixes, self._freq, self._trie
        dag = []
        n = len(sentence)
        for k in range(n):
            ends = [(k + len(word) - 1, int(freq[kid])) for word, kid in trie.iter_prefixes_with_ids(sentence[k:])
                    if freq[kid] and word not in added]
            frag = sentence[k]
            if frag in prefixes or frag in added:  # words of the overlay start here
                more = dict(ends)
                i = k
                while i < n and (frag in prefixes or frag in added):
                    f = added.get(frag)
                    if f:
                        more[i] = f
                    i += 1
                    frag = sentence[k : i + 1]
                ends = sorted(more.items())
            dag.append(ends or [(k, 1)])
        return dag

    def _cut_block(self, sentence: str) -> Iterator[str]:
        """jieba's __cut_DAG_NO_HMM: the most probable route, single latin/digit characters joined."""
        dag = self._dag(sentence)
        n = len(sentence)
        logtotal = log(self.total)
        route: list[tuple[float, int]] = [(0.0, 0)] * (n + 1)
        for idx in range(n - 1, -1, -1):
            route[idx] = max((log(f) - logtotal + route[x + 1][0], x) for x, f in dag[idx])
        x = 0
        buf = ""
        while x < n:
            y = route[x][1] + 1
            word = sentence[x:y]
            if len(word) == 1 and _RE_ENG.match(word):
                buf += word
            else:
                if buf:
                    yield buf
                    buf = ""
                yield word
            x = y
        if buf:
            yield buf

    def cut(self, sentence: str) -> Iterator[str]:
        """jieba's Tokenizer.cut(sentence, HMM=False): precise mode, an unknown word falls apart."""
        for blk in _RE_HAN.split(sentence):
            if not blk:
                continue
            if _RE_HAN.match(blk):
                yield from self._cut_block(blk)
            else:
                for x in _RE_SKIP.split(blk):
                    if _RE_SKIP.match(x):
                        yield x
                    else:
                        yield from x

    def cut_for_search(self, sentence: str) -> Iterator[str]:
        """jieba's cut_for_search(sentence, HMM=False): each word's 2- and 3-grams that are words, then it."""
        for w in self.cut(sentence):
            if len(w) > 2:
                for i in range(len(w) - 1):
                    if self._get(w[i : i + 2], 0):
                        yield w[i : i + 2]
            if len(w) > 3:
                for i in range(len(w) - 2):
                    if self._get(w[i : i + 3], 0):
                        yield w[i : i + 3]
            yield w

    def lcut(self, sentence: str) -> list[str]:
        return list(self.cut(sentence))

    def lcut_for_search(self, sentence: str) -> list[str]:
        return list(self.cut_for_search(sentence))
