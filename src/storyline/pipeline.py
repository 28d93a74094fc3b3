"""The per-article stages, in order: clean -> metadata -> language -> analysis (lemmas, entities,
quotes). Each input becomes an Article or a Rejection with a typed reason."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import cached_property

from storyline.clean.boilerplate import strip_boilerplate
from storyline.clean.dates import parse_date_line
from storyline.clean.sanitise import safe_url, sanitise_line, sanitise_text
from storyline.clean.text import clean_page
from storyline.errors import InputError
from storyline.model import Article, Paragraph, RawDocument, Rejection
from storyline.settings import Settings


class Pipeline:
    """Turns RawDocuments into Articles. Pure per article, so it maps over a process pool or a
    Dask bag; heavy models are built once per process on first use."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()

    @cached_property
    def analyser(self):
        from storyline.nlp.analyse import Analyser

        return Analyser()

    @cached_property
    def languages(self):
        from storyline.nlp.language import LanguageIdentifier

        return LanguageIdentifier(self.settings.languages)

    def run(self, items: Iterable[RawDocument | Rejection]) -> Iterator[Article | Rejection]:
        for item in items:
            yield item if isinstance(item, Rejection) else self.process(item)

    def process(self, raw: RawDocument) -> Article | Rejection:
        stage = "clean"
        try:
            article = self._clean(raw)
            self._sanitise(article)
            self._check_length(article)
            stage = "language"
            self._detect_language(article)
            stage = "analysis"
            self.analyser.analyse(article)
        except InputError as exc:
            return Rejection(exc.origin, exc.reason, exc.detail, raw=raw)
        except Exception as exc:  # noqa: BLE001
            # A bug or a library's limit met by one input must not cost the rest of the batch
            # (nor this input: its raw content is kept with the rejection).
            return Rejection(raw.origin, "failed",
                             f"{type(exc).__name__} in the {stage} stage: {str(exc)[:200]} "
                             "(a storyline bug: please report it with this input)", raw=raw)
        return article

    def _clean(self, raw: RawDocument) -> Article:
        fields = raw.fields
        # The raw input stays as given; what is derived from it is read without control,
        # bidi and zero-width characters, so that boilerplate rules and titles see plain text.
        content = sanitise_text(raw.content)
        if raw.format == "html":
            from storyline.clean.html import extract_html

            page = extract_html(content, url=safe_url(fields.get("url")))
            article = Article(id=raw.id, raw=raw, title=page.title, source=page.source,
                              url=page.url, published=page.published,
                              paragraphs=[Paragraph(p) for p in page.paragraphs],
                              removed=list(page.removed))
        elif raw.format == "text":
            page = clean_page(content, crawled_at=raw.crawled_at,
                              timezone=self.settings.timezone)
            article = Article(id=raw.id, raw=raw, title=page.title, source=page.source,
                              published=page.published,
                              paragraphs=[Paragraph(p) for p in page.paragraphs],
                              removed=page.removed)
        else:  # a record's text is a body already; only stray boilerplate lines go
            kept, removed = strip_boilerplate(content.split("\n\n"),
                                              title=sanitise_line(_clean_str(fields.get("title"))))
            article = Article(id=raw.id, raw=raw, paragraphs=[Paragraph(p) for p in kept],
                              removed=removed)
        self._apply_record_fields(article, raw)
        return article

    def _apply_record_fields(self, article: Article, raw: RawDocument) -> None:
        """What a record states about itself wins over what was guessed from its text."""
        fields = raw.fields
        article.title = _clean_str(fields.get("title")) or article.title
        article.source = _clean_str(fields.get("source")) or article.source
        article.url = _clean_str(fields.get("url")) or article.url
        if fields.get("published"):
            article.published = self._record_date(fields["published"], raw)
        self._apply_fallbacks(article, raw)

    def _sanitise(self, article: Article) -> None:
        """Titles, outlets and paragraphs from any path (an HTML entity can spell a control
        character) without invisible characters; a URL only when it is a web link."""
        article.title = sanitise_line(article.title)
        article.source = sanitise_line(article.source)
        paragraphs = []
        for paragraph in article.paragraphs:
            paragraph.text = sanitise_text(paragraph.text).strip()
            if paragraph.text:
                paragraphs.append(paragraph)
        article.paragraphs = paragraphs
        if article.url and safe_url(article.url) is None:
            article.removed.append((article.url, "unsafe_url"))
            article.url = None
        elif article.url:
            article.url = safe_url(article.url)
        if article.title is None and article.paragraphs:
            article.title = article.paragraphs[0].text[:200]

    def _apply_fallbacks(self, article: Article, raw: RawDocument) -> None:
        """What a wrapper knows (a feed entry's title, date, channel) fills only what the page
        itself did not say: the page is the better witness of its own metadata."""
        fallback = raw.fields.get("fallback")
        if not isinstance(fallback, dict):
            return
        article.title = article.title or _clean_str(fallback.get("title"))
        article.source = article.source or _clean_str(fallback.get("source"))
        article.url = article.url or _clean_str(fallback.get("url"))
        if article.published is None and _clean_str(fallback.get("published")):
            try:
                article.published = self._record_date(fallback["published"], raw)
            except InputError:
                pass  # a wrong date from a wrapper is no reason to lose the article

    def _record_date(self, value: str, raw: RawDocument) -> datetime:
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            moment = parse_date_line(value, raw.crawled_at, self.settings.timezone)
        if moment is None:
            raise InputError(raw.origin, "bad_record", f'"published" is not a date: {value!r}')
        if moment.tzinfo is None:
            from zoneinfo import ZoneInfo

            moment = moment.replace(tzinfo=ZoneInfo(self.settings.timezone))
        return moment

    def _check_length(self, article: Article) -> None:
        size = sum(len(p.text) for p in article.paragraphs)
        if size == 0:
            raise InputError(article.raw.origin, "no_content",
                             "no article text left after boilerplate removal")
        if size < self.settings.min_chars:
            raise InputError(article.raw.origin, "too_short",
                             f"{size} characters of article text, fewer than {self.settings.min_chars}",
                             hint="lower --min-chars to keep short items")

    def _detect_language(self, article: Article) -> None:
        texts = [p.text for p in article.paragraphs]
        langs = self.languages.detect_paragraphs(texts)
        for paragraph, lang in zip(article.paragraphs, langs, strict=True):
            paragraph.lang = lang
        given = _clean_str(article.raw.fields.get("lang"))
        article.lang = given.lower() if given else self.languages.article_language(texts, langs)


def _clean_str(value) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None
