"""Invisible and reordering characters out of derived text; only web links kept as links.

What a user gave stays as given in the raw input; the title, outlet and paragraphs storyline
derives from it carry no control characters, no bidirectional embeddings, overrides, isolates or
marks (which can make text display in another order than it is stored and searched), and no
zero-width characters that split words invisibly. Letters of right-to-left scripts are ordinary
text and stay; so do the zero-width (non-)joiners that Persian spelling and emoji need."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Terminal escape sequences (colours, cursor moves): the whole sequence goes, not only the ESC.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_INVISIBLE = re.compile(
    "["
    "\x00-\x08\x0e-\x1f\x7f"  # C0 controls but tab and line ends
    "\x80-\x84\x86-\x9f"  # C1 controls but NEL
    "\u00ad"  # soft hyphen: splits a word for search without showing
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidi marks, embeddings, overrides, isolates
    "\u180e\u200b\u2060-\u2064\ufeff"  # zero-width space, word joiner, invisible operators, BOM
    "\U000e0000-\U000e007f"  # tag characters (invisible text smuggled into a string)
    "]"
)
_LINE_BREAKS = re.compile("[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_SPACES = re.compile(r"\s+")
SAFE_URL_SCHEMES = ("http", "https")


def sanitise_text(text: str) -> str:
    """``text`` without invisible and reordering characters; line breaks of any kind become
    ``\\n`` so that line-based cleaning sees them."""
    if text.isascii() and text.isprintable():
        return text
    text = _ANSI.sub("", text) if "\x1b" in text else text
    return _LINE_BREAKS.sub("\n", _INVISIBLE.sub("", text))


def sanitise_line(text: str | None) -> str | None:
    """One line (a title, an outlet name): sanitised, white space folded; None when nothing is left."""
    if text is None:
        return None
    line = _SPACES.sub(" ", sanitise_text(text)).strip()
    return line or None


def safe_url(url: str | None) -> str | None:
    """``url`` when it is a web link (http, https); None for javascript:, data:, file: and the
    like, which must never become a link on a page."""
    if not url:
        return None
    url = _SPACES.sub("", sanitise_text(url))
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in SAFE_URL_SCHEMES else None
