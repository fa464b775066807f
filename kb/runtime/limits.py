"""Limits that keep one source from taking a run down: pages, bytes, time, memory.

A source over a limit is failed with a reason that names the limit; the rest of
the run goes on. Defaults are below; each can be set in the environment (read
when `current_limits()` is called, i.e. at the start of each extraction) or for
the current process with `set_limits` (what the CLI's options do):

    KB_MAX_PDF_PAGES       pages per PDF                              (1500)
    KB_MAX_FILE_MB         MB per file or web response, read at all   (100)
    KB_MAX_TEXT_MB         MB per HTML or text source                 (10)
    KB_EXTRACT_TIMEOUT_S   seconds per extraction, 0 = no limit       (300)
    KB_EXTRACT_MEMORY_MB   MB of memory per extraction, 0 = no limit  (2048)
    KB_OCR                 "auto": read scanned PDFs with ocrmypdf when it is installed;
                           "off": never                               (auto)

HTML and text get a lower byte limit than PDFs because their bytes are their
text: 10 MB of text is some 1,700 sections to tag and index, while a PDF's bytes
are mostly pictures. With a time or memory limit on, extraction runs in worker
processes that can be stopped (`kb.extract.worker`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace

from kb.errors import KBError

MB = 1_000_000


class LimitsError(KBError):
    """A limit set to something that is not a usable number."""


@dataclass(frozen=True)
class Limits:
    max_pdf_pages: int = 1500
    max_file_mb: float = 100.0
    max_text_mb: float = 10.0
    extract_timeout_s: float = 300.0
    extract_memory_mb: int = 2048
    ocr: bool = True

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * MB)

    @property
    def max_text_bytes(self) -> int:
        return int(self.max_text_mb * MB)

    @property
    def isolated(self) -> bool:
        """Extraction needs a process that can be stopped: a time or memory limit is on."""
        return self.extract_timeout_s > 0 or self.extract_memory_mb > 0

    def cache_token(self, ocr_installed: bool) -> str:
        """What extraction results depend on besides the bytes and the extractor's code.

        Part of the extraction cache key, so that raising a limit or installing OCR
        retries the sources that failed on it. Whether OCR is installed is the caller's
        to say (`kb.extract.ocr.ocr_available()`): the limits sit below the extractors.
        """
        ocr = "ocr" if self.ocr and ocr_installed else "no-ocr"
        return (
            f"pages={self.max_pdf_pages};file={self.max_file_mb:g};text={self.max_text_mb:g};"
            f"time={self.extract_timeout_s:g};mem={self.extract_memory_mb};{ocr}"
        )

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


ENV_VARS: dict[str, str] = {
    "max_pdf_pages": "KB_MAX_PDF_PAGES",
    "max_file_mb": "KB_MAX_FILE_MB",
    "max_text_mb": "KB_MAX_TEXT_MB",
    "extract_timeout_s": "KB_EXTRACT_TIMEOUT_S",
    "extract_memory_mb": "KB_EXTRACT_MEMORY_MB",
    "ocr": "KB_OCR",
}

_override: Limits | None = None


def limits_from_env(environ: Mapping[str, str] | None = None, base: Limits | None = None) -> Limits:
    """`base` (the defaults) with whatever the environment sets."""
    environ = os.environ if environ is None else environ
    limits = base or Limits()
    changes: dict[str, object] = {}
    for f in fields(Limits):
        name = ENV_VARS[f.name]
        raw = environ.get(name, "").strip()
        if not raw:
            continue
        if f.name == "ocr":
            if raw.lower() not in ("auto", "on", "1", "yes", "off", "0", "no"):
                raise LimitsError(f"{name}={raw!r}: use auto or off")
            changes["ocr"] = raw.lower() in ("auto", "on", "1", "yes")
            continue
        changes[f.name] = _number(name, raw, integer=f.type in ("int", int))
    return replace(limits, **changes)  # type: ignore[arg-type]


def _number(name: str, raw: str, *, integer: bool) -> float | int:
    try:
        value = float(raw)
    except ValueError:
        raise LimitsError(f"{name}={raw!r} is not a number") from None
    if value < 0 or value != value:
        raise LimitsError(f"{name}={raw!r}: a limit cannot be negative")
    if integer:
        if value != int(value):
            raise LimitsError(f"{name}={raw!r}: give a whole number")
        return int(value)
    return value


def current_limits() -> Limits:
    """The limits in force: those `set_limits` gave, else the defaults with the environment's."""
    return _override if _override is not None else limits_from_env()


def set_limits(limits: Limits | None) -> None:
    """Fix the limits for this process (None: back to defaults + environment)."""
    global _override
    _override = limits


def limits_with(**overrides: float | int | bool | None) -> Limits:
    """The current limits with some replaced; None values are left as they are (CLI options)."""
    given = {name: value for name, value in overrides.items() if value is not None}
    unknown = set(given) - set(ENV_VARS)
    if unknown:
        raise TypeError(f"unknown limits: {', '.join(sorted(unknown))}")
    for name, value in given.items():
        if name != "ocr" and isinstance(value, int | float) and value < 0:
            raise LimitsError(f"--{name.replace('_', '-')} {value}: a limit cannot be negative")
    return replace(current_limits(), **given)  # type: ignore[arg-type]
