"""One exception tree. The CLI and the API turn these into one clear line / one JSON shape."""

from __future__ import annotations


class StorylineError(Exception):
    """Base of every error storyline raises on purpose."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class ConfigError(StorylineError):
    """A setting, flag or config file has a value storyline cannot use."""


class InputError(StorylineError):
    """One input (file, record, URL) cannot be turned into an article.

    ``origin`` names the input (``path`` or ``path:line``); ``reason`` is a short machine-readable
    code (``undecodable``, ``bad_record``, ``unsupported``, ``too_short``, ...)."""

    def __init__(self, origin: str, reason: str, detail: str, *, hint: str | None = None):
        super().__init__(f"{origin}: {reason}: {detail}", hint=hint)
        self.origin = origin
        self.reason = reason
        self.detail = detail


class StoreError(StorylineError):
    """The store cannot be opened, migrated, read or written."""


class NotFound(StorylineError):
    """An id asked for does not exist in the store."""


class InvalidQuery(StorylineError):
    """A search cannot run as asked: a blank query, a limit or offset out of range, bad dates."""
