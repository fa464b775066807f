"""Errors a user can cause. Each carries a one-line message that says what and where."""

from __future__ import annotations


class KBError(Exception):
    """Base of every error the user can cause; the CLI prints its message, no traceback."""


class SourceError(KBError):
    """A source could not be read, fetched or extracted.

    `stage` says where it failed (discover, fetch, extract, segment, tag, store);
    the message is written for a person: "encrypted PDF: a password is required".
    """

    def __init__(self, reason: str, *, stage: str = "extract", source: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.stage = stage
        self.source = source


class ManifestError(KBError):
    pass


class QueryError(KBError):
    """A query that cannot be run: malformed, too long, or unbounded."""


class NotFoundError(KBError):
    pass


class IndexMissingError(KBError):
    pass
