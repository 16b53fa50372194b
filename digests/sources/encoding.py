"""Bytes -> text for Chinese sources as small government servers really serve them.

The order of evidence, first that holds wins:

1. a byte-order mark;
2. the charset in the HTTP ``Content-Type`` header;
3. the document's own declaration (``<?xml encoding=…?>``, ``<meta charset=…>``);
4. strict UTF-8;
5. detection with charset_normalizer (GB2312 with no charset anywhere; GBK served as
   ``charset=utf-8``, which strict UTF-8 refuses).

A declaration (2, 3) is believed only if the bytes decode strictly under it *and* the result does
not look like mojibake: GBK labelled ``ISO-8859-1`` decodes without error into ``¹ØÓÚ2026Äê``, so a
clean decode alone proves nothing. GB2312 and GBK labels are read as GB18030, their superset (a
GB2312 label on GBK bytes is the common case). When nothing decodes strictly the best guess is
decoded with U+FFFD replacements, and :func:`looks_like_mojibake` then drops the titles that carry
them; the caller reports the drop.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

__all__ = ["Decoded", "decode", "looks_like_mojibake", "normalise_encoding"]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# superset promotions: what a Chinese server labels gb2312 is GBK or GB18030 in practice
_PROMOTE = {"gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030", "big5": "big5hkscs",
            "latin-1": "cp1252", "iso8859-1": "cp1252", "ascii": "utf-8"}
_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""", re.IGNORECASE)
_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_HIGH_LATIN_PAIR = re.compile(r"[\u0080-\u00ff]{2}")
_C1_CONTROLS = re.compile(r"[\u0080-\u009f]")
# (the codec it was wrongly read with, the codec it really was): Chinese as Latin, UTF-8 as GBK
_MISREADS = tuple((wrong, right) for wrong in ("cp1252", "latin-1") for right in ("utf-8", "gb18030", "big5hkscs"))
_MISREADS += (("gb18030", "utf-8"),)


@dataclass(frozen=True, slots=True)
class Decoded:
    """The text, the codec that produced it, and which evidence chose it (for reports and tests)."""

    text: str
    encoding: str
    how: str  # bom | header | declared | utf-8 | detected | replaced


def normalise_encoding(label: str | None) -> str | None:
    """A charset label -> the Python codec we decode it with (None when unknown)."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("'\"")).name
    except LookupError:
        return None
    return _PROMOTE.get(name, name)


def header_charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header value."""
    match = _CHARSET_PARAM.search(content_type or "")
    return match[1] if match else None


def declared_charset(data: bytes) -> str | None:
    """The encoding the document declares in its first 4 KB (XML declaration or HTML meta)."""
    head = data[:4096]
    match = _XML_DECL.search(head) or _META.search(head)
    return match[1].decode("ascii") if match else None


def _cjk_count(text: str) -> int:
    return len(_CJK.findall(text))


def _ascii_count(text: str) -> int:
    return sum(1 for ch in text if ch < "\x80")


def _repairs_to_chinese(text: str) -> bool:
    """True when ``text`` is Chinese read with the wrong codec: re-reading it gives more hanzi."""
    have = _cjk_count(text)
    latin_pairs = _HIGH_LATIN_PAIR.search(text) is not None
    for wrong, right in _MISREADS:
        if wrong != "gb18030" and not latin_pairs:
            continue  # GBK/UTF-8 read as Latin shows pairs of accented letters: ¹Ø ÓÚ
        try:
            fixed = text.encode(wrong).decode(right)
        except UnicodeError:
            continue
        gained = _cjk_count(fixed)
        # a wrong reading keeps the ASCII (both GBK and UTF-8 are ASCII-transparent): repairs that
        # swallow letters ("Üb" -> one hanzi) are coincidences of Latin text, not mojibake
        lost_ascii = _ascii_count(text) - _ascii_count(fixed)
        # Chinese read as Latin gains hanzi; UTF-8 read as GBK has 1.5 of them per real one
        better = gained > have if wrong != "gb18030" else len(fixed) < len(text)
        if fixed != text and gained >= 2 and better and lost_ascii <= gained // 3:
            return True
    return False


def looks_like_mojibake(text: str) -> bool:
    """Replacement characters (two or more), 锟斤拷, C1 controls, or Chinese that another reading repairs.

    ``¹ØÓÚ2026Äê¶¬¼¾`` (GBK read as Latin-1) and ``鍏充簬`` (UTF-8 read as GBK) both repair into
    关于…; a French title with single accents (``Crème brûlée``) and real Chinese do not.
    """
    # one U+FFFD is also what html.unescape makes of "&#0;"; a mis-decoded title has several.
    # 锟斤拷 is U+FFFD U+FFFD stored as UTF-8 and read back as GBK, the classic of Chinese sites
    if text.count("\ufffd") >= 2 or "锟斤拷" in text or _C1_CONTROLS.search(text):
        return True
    return _repairs_to_chinese(text)


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _believable(text: str | None) -> bool:
    return text is not None and not looks_like_mojibake(text)


def decode(data: bytes, content_type: str | None = None) -> Decoded:
    """Decode a fetched body; never raises (the last resort replaces undecodable bytes)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return Decoded(data[len(bom):].decode(encoding, errors="replace"), encoding, "bom")
    candidates: list[tuple[str, str]] = []
    from_header = normalise_encoding(header_charset(content_type))
    if from_header:
        candidates.append((from_header, "header"))
    from_document = normalise_encoding(declared_charset(data))
    if from_document and from_document != from_header:
        candidates.append((from_document, "declared"))
    for encoding, how in candidates:
        text = _strict(data, encoding)
        if text is not None and _believable(text):
            return Decoded(text, encoding, how)
    text = _strict(data, "utf-8")
    if text is not None:
        return Decoded(text, "utf-8", "utf-8")
    import charset_normalizer  # only for a body nothing else decodes (footprint: not at start-up)

    best = charset_normalizer.from_bytes(data).best()
    if best is not None:
        encoding = normalise_encoding(best.encoding) or "gb18030"
        text = _strict(data, encoding)
        if text is not None:
            return Decoded(text, encoding, "detected")
    # nothing decodes cleanly: the likeliest reading for a Chinese source, holes marked U+FFFD
    fallback = next((e for e, _ in candidates), "gb18030")
    return Decoded(data.decode(fallback, errors="replace"), fallback, "replaced")


def as_utf8_xml(decoded: Decoded) -> bytes:
    """The decoded document as UTF-8 bytes whose XML declaration (if any) says so."""
    body = decoded.text.encode("utf-8")
    return re.sub(rb"""^(\s*<\?xml[^>]*?\bencoding\s*=\s*)(["'])[A-Za-z0-9._:-]+\2""", rb"\1\2utf-8\2", body, count=1)
