"""Turn the bytes of one input into text, telling binary and legacy Cyrillic encodings apart."""

from __future__ import annotations

import codecs
import re

from storyline.errors import InputError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Single-byte Cyrillic code pages seen in scraped Ukrainian and Russian news.
_CYRILLIC_CODEPAGES = ("cp1251", "koi8-u", "koi8-r", "cp866", "iso8859-5")
_CYRILLIC_LOWER = re.compile(r"[а-яёіїєґў]")
_CYRILLIC_UPPER = re.compile(r"[А-ЯЁІЇЄҐЎ]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def decode(data: bytes, origin: str) -> tuple[str, str]:
    """Return (text, encoding name). Raises InputError('undecodable') for binary or hopeless input."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return _strict(data, name, origin), name
    order = _utf16_order(data)
    if order:
        name = f"utf-16-{order}"
        return _strict(data, name, origin), name
    if b"\x00" in data:
        raise InputError(origin, "undecodable", "binary data (NUL bytes), not text",
                         hint="give storyline .txt, .html or .jsonl files")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text, name = _best_codepage(data, origin)
    else:
        name = "utf-8"
    _reject_binary_like(text, origin)
    return text, name


def _strict(data: bytes, name: str, origin: str) -> str:
    try:
        text = data.decode(name)
    except UnicodeDecodeError as exc:
        raise InputError(origin, "undecodable",
                         f"declared {name} by its byte order mark but byte {exc.start} is invalid") from None
    return text.lstrip("\ufeff")


def _utf16_order(data: bytes) -> str | None:
    """UTF-16 without a BOM: the high byte of Latin (0x00) and Cyrillic (0x04) letters stands on
    every other byte. Returns 'le', 'be' or None."""
    sample = data[:4096]
    if len(sample) < 8 or len(sample) % 2:
        return None
    half = len(sample) / 2
    even = (sample[0::2].count(0) + sample[0::2].count(4)) / half
    odd = (sample[1::2].count(0) + sample[1::2].count(4)) / half
    if max(even, odd) < 0.6 or abs(even - odd) < 0.4:
        return None
    return "le" if odd > even else "be"


def _best_codepage(data: bytes, origin: str) -> tuple[str, str]:
    """Pick the Cyrillic code page under which the text reads most like ordinary prose:
    mostly lower-case letters (koi8 read as cp1251 turns into mostly capitals, and back)."""
    best: tuple[float, str, str] | None = None
    for name in _CYRILLIC_CODEPAGES:
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            continue
        lower = len(_CYRILLIC_LOWER.findall(text))
        upper = len(_CYRILLIC_UPPER.findall(text))
        if not lower + upper:
            continue
        # Share of the text that is lower-case Cyrillic: koi8-r misreads Ukrainian і/ї/є as box
        # drawing, which lowers it, and so does every wrong code page.
        score = (lower - len(_CONTROL.findall(text))) / len(text) * 2
        if best is None or score > best[0]:
            best = (score, text, name)
    if best is not None and best[0] > 0.5:
        return best[1], best[2]
    from charset_normalizer import from_bytes

    match = from_bytes(data).best()
    if match is None:
        raise InputError(origin, "undecodable", "not UTF-8 and no known encoding fits",
                         hint="save the file as UTF-8")
    return str(match), match.encoding


def _reject_binary_like(text: str, origin: str) -> None:
    sample = text[:20000]
    if sample and len(_CONTROL.findall(sample)) / len(sample) > 0.05:
        raise InputError(origin, "undecodable", "too many control characters for text")
