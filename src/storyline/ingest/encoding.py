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
_CYRILLIC_ANY = re.compile(r"[\u0400-\u04ff]")
# Cyrillic letters the UTF-8 lines of a mixed file must hold before the file counts as mixed.
_MIXED_MIN_LETTERS = 20
_SAMPLE = 64 * 1024


def decode(data: bytes, origin: str) -> tuple[str, str]:
    """Return (text, encoding name). Raises InputError('undecodable') for binary or hopeless input.

    UTF-8 cut inside its last character loses only that character; a file of UTF-8 lines with
    some lines in a Cyrillic code page (pages pasted together) is read line by line."""
    name = bom_encoding(data)
    if name:
        return _strict(data, name, origin), name
    order = utf16_order(data)
    if order:
        name = f"utf-16-{order}"
        return _strict(data, name, origin), name
    if looks_binary(data):
        raise InputError(origin, "undecodable", "binary data (NUL bytes), not text",
                         hint="give storyline .txt, .html or .jsonl files")
    try:
        text, name = data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.end == len(data):
            text, name = data[: exc.start].decode("utf-8"), "utf-8"
        else:
            text, name = _mixed(data, origin) or _best_codepage(data, origin)
    _reject_binary_like(text, origin)
    return drop_nul(text), name


def drop_nul(text: str) -> str:
    """NUL is never text, and PostgreSQL cannot store it in a text column: a few stray NULs
    (scrapers leave them) are dropped when bytes become text, even from the raw input."""
    return text.replace("\x00", "") if "\x00" in text else text


def bom_encoding(data: bytes) -> str | None:
    """The encoding a byte order mark at the start of ``data`` declares, if any."""
    return next((name for bom, name in _BOMS if data.startswith(bom)), None)


def looks_binary(data: bytes) -> bool:
    """NUL bytes in more than 1% of the head: an image, archive or program. A few stray NULs
    in a scraped page are not enough (they are removed with the other control characters)."""
    sample = data[:_SAMPLE]
    return bool(sample) and sample.count(0) > max(len(sample) // 100, 3) and \
        bom_encoding(sample) is None and utf16_order(sample) is None


def _mixed(data: bytes, origin: str) -> tuple[str, str] | None:
    """UTF-8 lines beside lines that are not UTF-8: the others share one code page. Only when
    the UTF-8 lines carry real non-ASCII text (a code-page file has no valid UTF-8 Cyrillic)."""
    lines = data.split(b"\n")
    decoded: list[str | None] = []
    evidence = 0
    for line in lines:
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            decoded.append(None)
        else:
            decoded.append(text)
            evidence += len(_CYRILLIC_ANY.findall(text))
    if evidence < _MIXED_MIN_LETTERS:
        return None
    others = b"\n".join(line for line, text in zip(lines, decoded, strict=True) if text is None)
    _, codepage = _best_codepage(others, origin)
    text = "\n".join(text if text is not None else line.decode(codepage, "replace")
                      for line, text in zip(lines, decoded, strict=True))
    return text, f"utf-8+{codepage}"


def _strict(data: bytes, name: str, origin: str) -> str:
    try:
        text = data.decode(name)
    except UnicodeDecodeError as exc:
        raise InputError(origin, "undecodable",
                         f"declared {name} by its byte order mark but byte {exc.start} is invalid") from None
    return drop_nul(text.lstrip("\ufeff"))


def utf16_order(data: bytes) -> str | None:
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
